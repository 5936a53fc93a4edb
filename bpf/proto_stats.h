/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map layout of the proto-stats BPF object, shared by bpf/proto_stats.bpf.c
 * and the proto-stats plugin.  One object instance is loaded per interface;
 * the core pins its maps as <bpffs>/pktscope/<if>/proto-stats/<map>.
 *
 * Maps (the names are an interface: short and stable):
 *
 *   map       type             key                    value
 *   counters  PERCPU_ARRAY     __u32 0                struct pstat_counters
 *   cache     PERCPU_ARRAY     __u32 0                struct pstat_cache
 *   top_src   LRU_PERCPU_HASH  struct ps_addr_key     struct pstat_val
 *   top_port  LRU_PERCPU_HASH  struct pstat_port_key  struct pstat_val
 *   config    ARRAY            __u32 0                struct pstat_config
 *   reset_at  ARRAY            __u32 0                __u64: seconds since the
 *                                                     epoch of the last reset,
 *                                                     0: none since the attach
 *
 * The arrays have one entry; top_src holds PSTAT_TOP_SRC_MAX keys, top_port
 * PSTAT_TOP_PORT_MAX, preallocated.
 *
 * Every per-CPU value is summed over the CPUs.  All counts are packets and
 * bytes as the wire carried them (ps_pkt.wire_packets, wire_len): the frame,
 * Ethernet header and VLAN tags included, also a tag the stack took out of
 * the frame before TC; a GRO aggregate at TC counts as the frames it was
 * merged from (gso_segs), each with its own copy of the headers.  XDP runs
 * before GRO and sees every frame as it is.
 *
 * Counting rules (a packet is counted in every line that applies):
 *
 *   TOTAL                 every packet.
 *   SIZE_*                every packet, by frame length on the wire (the
 *                         frames of a GRO aggregate each by its own length);
 *                         sum(SIZE_*) == TOTAL.
 *   TRUNCATED, MALFORMED  packets the parser rejected (include/pktscope/bpf/parse.h).
 *   L3_*                  well-formed packets by EtherType after the VLAN
 *                         tags (OTHER also holds frames with a third tag):
 *                         sum(L3_*) + TRUNCATED + MALFORMED == TOTAL.
 *   L4_*                  well-formed IPv4 and IPv6 packets by IP protocol
 *                         (the last IPv6 next-header), fragments included:
 *                         a later fragment's protocol is in its IP header
 *                         and its bytes are that protocol's bytes.
 *                         sum(L4_*) == L3_IPV4 + L3_IPV6.
 *   TCP_*                 L4_TCP packets by flags, exclusive, first match:
 *                           SYN     SYN, no ACK     } neither with FIN/RST
 *                           SYNACK  SYN and ACK     }
 *                           RST     RST (no SYN)
 *                           FIN     FIN (no SYN, no RST)
 *                           ACK     ACK, none of SYN/FIN/RST (others allowed)
 *                           OTHER   the rest: none of SYN/FIN/RST/ACK (null
 *                                   scan, PSH only, ...), SYN with FIN or RST,
 *                                   and later fragments (no TCP header)
 *                         sum(TCP_*) == L4_TCP.
 *   VLAN                  well-formed packets with at least one VLAN tag.
 *   FRAG, FRAG_LATER      well-formed IP fragments; those with offset != 0.
 *   SRC_SKIP, PORT_SKIP   see "Top sources and ports".
 *
 * Top sources and ports.  A source is the IPv4/IPv6 source address of any
 * packet whose IP header parsed, so senders of truncated or malformed L4
 * show up too; a port is the destination port of a TCP, UDP or SCTP header
 * that parsed (never of a later fragment).  Memory is fixed.
 *
 * Each CPU first counts a key in `cache`, a set-associative table: the key
 * hashes to a set of PSTAT_CACHE_WAYS (4) consecutive slots, its ways, and
 * is counted in whichever of them holds it.  A hit costs a few instructions
 * where a hash-map lookup costs ~13 ns.  A key missing from its set takes,
 * in this order of preference,
 *   1. an unused way;
 *   2. a way whose key has >= sample packets (see below) and got none since
 *      the set's previous miss: its write-back loses nothing;
 *   3. the way with the fewest packets;
 * the first such way if several tie.  The key leaving is written back to
 * top_src / top_port: a key that is in the LRU map gets its counts added;
 * a missing key of p packets is inserted with probability p / sample,
 * certainly if p >= sample ("sample and hold", batched: it is at least as
 * likely as sampling each packet with probability 1 / sample, and a
 * sampled key is counted exactly from then on).  Counts not admitted go
 * to SRC_SKIP / PORT_SKIP.  Heavy hitters get in, and a flood of
 * one-packet sources costs a lookup and a random number per packet
 * instead of an LRU eviction each.
 *
 * What is guaranteed, per CPU (a key's packets on different CPUs are
 * separate keys here, summed by user space), until the LRU map evicts:
 *   a. a set that sees at most PSTAT_CACHE_WAYS keys since the reset
 *      evicts none: each of them is counted exactly, whatever the order
 *      of their packets (two keys taking turns no longer evict each other);
 *   b. a key written back with >= sample packets is admitted (unless
 *      admission is off), and counted exactly from then on;
 *   c. a key short of sample packets loses its way only when no way is
 *      unused or as in 2., and none has fewer packets than it;
 *   d. otherwise each write-back of p < sample packets is admitted with
 *      probability p / sample, independently: write-backs of a key that
 *      bring n packets in all are all refused with probability at most
 *      (1 - 1/sample)^n, and the packets a key loses to SKIP (those of
 *      its write-backs before the admitted one) are fewer than sample on
 *      average.
 * Not guaranteed: that every key with >= sample packets on a CPU is in
 * the table.  When more than PSTAT_CACHE_WAYS keys short of sample keep
 * one set busy, those evicted with few packets are left to d.  Making it
 * certain would take a count per key ever seen until it reaches sample
 * (fixed memory cannot hold that: a flood of keys of sample - 1 packets
 * each would have to be remembered), or admitting every key (sample 1:
 * an LRU insert per new source, ~14 x the parser, beyond the 10 x goal).
 *
 * So the count for a key is   sum over CPUs of top_* values
 *                           + sum over CPUs of cache slots holding the key
 * (a slot is in use when val.packets != 0), and until the LRU evicts:
 *   sum(sources) + SRC_SKIP == packets with a source,
 *   sum(ports) + PORT_SKIP == packets with a port.
 * Reset: zero counters and cache, delete all keys of top_src and top_port.
 */
#ifndef PKTSCOPE_BPF_PROTO_STATS_H
#define PKTSCOPE_BPF_PROTO_STATS_H

#include <linux/types.h>
#include <pktscope/bpf/keys.h>

/*
 * The maps' names, spelled once for both sides: the BPF object declares
 * each map by its macro, user space names it with PS_MAP_NAME().
 */
#define PSTAT_MAP_COUNTERS	counters
#define PSTAT_MAP_TOP_SRC	top_src
#define PSTAT_MAP_TOP_PORT	top_port
#define PSTAT_MAP_CACHE		cache
#define PSTAT_MAP_CONFIG	config
#define PSTAT_MAP_RESET_AT	reset_at

enum pstat_counter {
	PSTAT_TOTAL = 0,

	PSTAT_L3_IPV4,
	PSTAT_L3_IPV6,
	PSTAT_L3_ARP,
	PSTAT_L3_OTHER,

	PSTAT_L4_TCP,
	PSTAT_L4_UDP,
	PSTAT_L4_ICMP,
	PSTAT_L4_ICMPV6,
	PSTAT_L4_SCTP,
	PSTAT_L4_GRE,
	PSTAT_L4_OTHER,

	PSTAT_TCP_SYN,
	PSTAT_TCP_SYNACK,
	PSTAT_TCP_RST,
	PSTAT_TCP_FIN,
	PSTAT_TCP_ACK,
	PSTAT_TCP_OTHER,

	PSTAT_SIZE_64,		/*    0 -   64 */
	PSTAT_SIZE_127,		/*   65 -  127 */
	PSTAT_SIZE_255,		/*  128 -  255 */
	PSTAT_SIZE_511,		/*  256 -  511 */
	PSTAT_SIZE_1023,	/*  512 - 1023 */
	PSTAT_SIZE_1518,	/* 1024 - 1518 */
	PSTAT_SIZE_JUMBO,	/* 1519 -      */

	PSTAT_TRUNCATED,
	PSTAT_MALFORMED,

	PSTAT_VLAN,
	PSTAT_FRAG,
	PSTAT_FRAG_LATER,
	PSTAT_SRC_SKIP,
	PSTAT_PORT_SKIP,

	PSTAT__MAX
};


/*
 * Names for user space, in enum order.  A new counter is added before
 * PSTAT__MAX only, so that an old plugin reading a new object stays right.
 */
#define PSTAT_NAMES {							\
	"total",							\
	"ipv4", "ipv6", "arp", "l3_other",				\
	"tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "l4_other",	\
	"tcp_syn", "tcp_synack", "tcp_rst", "tcp_fin", "tcp_ack",	\
	"tcp_other",							\
	"size_64", "size_127", "size_255", "size_511", "size_1023",	\
	"size_1518", "size_jumbo",					\
	"truncated", "malformed",					\
	"vlan", "frag", "frag_later", "src_skip", "port_skip",		\
}

struct pstat_val {
	__u64 packets;
	__u64 bytes;
};

struct pstat_counters {
	struct pstat_val c[PSTAT__MAX];
};

struct pstat_port_key {
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	__u8 pad;		/* zero */
	__u16 port;		/* host order */
};

#define PSTAT_SRC_SLOTS_BITS	8
#define PSTAT_PORT_SLOTS_BITS	8
/*
 * Both caches have sets of PSTAT_CACHE_WAYS slots: set s is slots
 * s * PSTAT_CACHE_WAYS up to (s + 1) * PSTAT_CACHE_WAYS - 1, the set of a
 * key the top bits of a Fibonacci hash (bpf/proto_stats.bpf.c).  Whatever
 * the ways, the slots and their layout stay as they are: user space reads
 * every slot and merges by key.
 */
#define PSTAT_CACHE_WAYS_BITS	2
#define PSTAT_CACHE_WAYS	(1 << PSTAT_CACHE_WAYS_BITS)

/*
 * A cache slot.  pad is the BPF program's: the slot's packets as of its
 * set's previous miss (rule 2. above); user space ignores it.
 */
struct pstat_src_slot {
	struct ps_addr_key key;
	__u32 pad;
	struct pstat_val val;	/* packets == 0: slot unused */
};

struct pstat_port_slot {
	struct pstat_port_key key;
	__u32 pad;
	struct pstat_val val;	/* packets == 0: slot unused */
};

struct pstat_cache {
	struct pstat_src_slot src[1 << PSTAT_SRC_SLOTS_BITS];
	struct pstat_port_slot port[1 << PSTAT_PORT_SLOTS_BITS];
};

/*
 * sample_src, sample_port: admit a missing key with probability 1/N per
 * packet it brings (p/N for a write-back of p packets, certain from N on).
 * 0 means PSTAT_SAMPLE_DEFAULT, so a zeroed map is a sane setting;
 * 1 admits every key (plain LRU, exact until it evicts); PSTAT_SAMPLE_OFF
 * admits none (only keys already in the map keep counting).
 */
struct pstat_config {
	__u32 sample_src;
	__u32 sample_port;
};

#define PSTAT_SAMPLE_DEFAULT	16
#define PSTAT_SAMPLE_OFF	0xffffffffU

#define PSTAT_TOP_SRC_MAX	4096
#define PSTAT_TOP_PORT_MAX	1024

#endif /* PKTSCOPE_BPF_PROTO_STATS_H */
