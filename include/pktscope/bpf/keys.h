/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What a plugin's BPF object and its user side share about its maps: keys
 * for addresses of both families, and the maps' names.  Included by BPF C
 * and by user space (the core's LPM service, ps_lpm_*() in plugin.h,
 * works on the second key).
 *
 *   struct ps_addr_key  one IPv4 or IPv6 address: a key of hash and LRU
 *                       maps of sources.  IPv4 in the first 4 bytes, the
 *                       rest and pad zero, so equal addresses are equal
 *                       keys.
 *   struct ps_lpm_key   a prefix of either family in one LPM trie.  The
 *                       family byte is part of the prefix: prefixlen is
 *                       8 + the CIDR's length, and an IPv4 address never
 *                       matches an IPv6 prefix.  A lookup of an address
 *                       uses PS_LPM_KEY_FULL (the trie compares no more
 *                       bits than the prefix it holds has).
 */
#ifndef PKTSCOPE_BPF_KEYS_H
#define PKTSCOPE_BPF_KEYS_H

#include <linux/types.h>

struct ps_addr_key {
	union {
		__u8 addr[16];
		__u32 addr32[4];
	};
	__u8 family;		/* 2 (AF_INET) or 10 (AF_INET6) */
	__u8 pad[3];
};

struct ps_lpm_key {
	__u32 prefixlen;	/* 8 + the CIDR's length */
	__u8 family;		/* 2 or 10 */
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
};

#define PS_LPM_KEY_FULL	(8 + 128)

/*
 * A map's name spelled once: the plugin's header has
 *	#define MY_MAP_HITS hits
 * the BPF object declares `} MY_MAP_HITS SEC(".maps");` and user space
 * opens it with ps_map_open(ctx, att, PS_MAP_NAME(MY_MAP_HITS)).
 */
#define PS_MAP_NAME_(m)	#m
#define PS_MAP_NAME(m)	PS_MAP_NAME_(m)

#ifndef __bpf__
#include <string.h>

/* The key of an address (addr: 4 or 16 bytes, by family). */
static inline void ps_addr_key_set(struct ps_addr_key *k, int family,
				   const void *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = (__u8)family;
	memcpy(k->addr, addr, family == 2 ? 4 : 16);
}

/* The trie key of family/addr/plen (addr: 4 or 16 bytes). */
static inline void ps_lpm_key_set(struct ps_lpm_key *k, int family,
				  const void *addr, unsigned int plen)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 8 + plen;
	k->family = (__u8)family;
	memcpy(k->addr, addr, family == 2 ? 4 : 16);
}
#endif

#endif /* PKTSCOPE_BPF_KEYS_H */
