/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one packet parser every pktscope BPF program uses.
 *
 * ps_parse() walks Ethernet, up to two VLAN tags (802.1Q and 802.1ad), ARP,
 * IPv4 (options, fragments), IPv6 (up to PS_MAX_EXTHDR extension headers)
 * and the TCP, UDP, ICMP, ICMPv6, SCTP and GRE headers, and fills a
 * struct ps_pkt.  It only needs the packet bounds, so the same code serves
 * XDP (ps_parse_xdp) and TC (ps_parse_skb).
 *
 * Rules every user can rely on:
 *
 * - status is PS_PKT_OK, PS_PKT_TRUNCATED (a header, or the IP payload its
 *   header announces, is cut short) or PS_PKT_MALFORMED (a header is present
 *   but impossible: IPv4 version or ihl < 5, tot_len < ihl * 4, IPv6
 *   version, hop-by-hop not first, more than PS_MAX_EXTHDR extension
 *   headers, TCP doff < 5, GRE version > 1, Ethernet ARP with wrong
 *   address lengths).
 * - A header's fields are written only once that header has been checked in
 *   full, so on failure the failing header's fields and everything after it
 *   stay zero.  l3 is set from the EtherType before the L3 header is read,
 *   and l4 from the IP protocol before the L4 header is read; they say what
 *   the packet claims to be.
 * - l4 is the class of the IP protocol of every IP packet (the last IPv6
 *   next-header), fragments included.  Only unfragmented packets and first
 *   fragments carry an L4 header: for a later fragment (frag ==
 *   PS_FRAG_LATER) ports, flags and types stay zero.  l4_off != 0 says that
 *   an L4 header was parsed.
 * - An IP header's length field bounds what follows it: an L4 header that
 *   lies in the Ethernet padding after the IP packet is truncated, not read.
 * - Nothing is checksummed.
 *
 * The types below are plain <linux/types.h> so that user space can include
 * this header to read a struct ps_pkt (e.g. from a ring buffer); the parser
 * itself is only compiled for the BPF target.
 */
#ifndef PKTSCOPE_BPF_PARSE_H
#define PKTSCOPE_BPF_PARSE_H

#include <linux/types.h>

enum ps_pkt_status {
	PS_PKT_OK = 0,
	PS_PKT_TRUNCATED,
	PS_PKT_MALFORMED,
};

enum ps_l3 {
	PS_L3_NONE = 0,		/* frame shorter than an Ethernet header */
	PS_L3_IPV4,
	PS_L3_IPV6,
	PS_L3_ARP,
	PS_L3_OTHER,		/* any other EtherType, or a third VLAN tag */
};

enum ps_l4 {
	PS_L4_NONE = 0,		/* not IP, or the IP header(s) did not parse */
	PS_L4_TCP,
	PS_L4_UDP,
	PS_L4_ICMP,
	PS_L4_ICMPV6,
	PS_L4_SCTP,
	PS_L4_GRE,
	PS_L4_OTHER,
};

enum ps_frag {
	PS_FRAG_NONE = 0,
	PS_FRAG_FIRST,		/* offset 0 with more fragments to come */
	PS_FRAG_LATER,		/* offset != 0: no L4 header */
};

/* Linux AF_ values, spelled out so BPF code needs no libc header. */
#define PS_AF_INET	2
#define PS_AF_INET6	10

#define PS_MAX_VLAN	2
#ifndef PS_MAX_EXTHDR
#define PS_MAX_EXTHDR	6
#endif

struct ps_pkt {
	__u32 len;		/* frame length at the hook, Ethernet included */
	__u16 eth_proto;	/* EtherType after the VLAN tags, host order */
	__u16 vlan_id;		/* outer VLAN id (12 bits) */
	__u8 vlan_count;	/* VLAN tags seen (offloaded one included) */
	__u8 status;		/* enum ps_pkt_status */
	__u8 l3;		/* enum ps_l3 */
	__u8 l4;		/* enum ps_l4 */
	__u8 family;		/* PS_AF_INET or PS_AF_INET6 once addresses are set */
	__u8 ip_proto;		/* IPv4 protocol or last IPv6 next-header */
	__u8 frag;		/* enum ps_frag */
	__u8 ttl;		/* IPv4 TTL or IPv6 hop limit */
	__u8 tcp_flags;		/* TCP header byte 13: CWR ECE URG ACK PSH RST SYN FIN */
	__u8 icmp_type;		/* ICMP or ICMPv6 */
	__u8 icmp_code;
	__u8 ext_count;		/* IPv6 extension headers walked */
	__u16 sport;		/* TCP, UDP, SCTP; host order */
	__u16 dport;
	__u16 l3_off;		/* offsets from the start of the frame */
	__u16 l4_off;		/* 0 when no L4 header was parsed */
	__u16 gre_flags;	/* GRE flags and version word, host order */
	__u16 gre_proto;	/* GRE protocol type, host order */
	__u16 arp_op;		/* ARP opcode, host order */
	__u16 wire_packets;	/* frames on the wire: > 1 for a GRO aggregate */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes; network order */
	__u8 daddr[16];		/* (for Ethernet/IPv4 ARP: sender and target) */
	__u32 wire_len;		/* their bytes, offloaded VLAN tags included */
	__u32 wire_seg_len;	/* each but the last, when wire_packets > 1 */
	__u32 pad;
} __attribute__((aligned(8)));	/* 80 bytes: cleared with 10 stores, not 20 */

#define PS_TCP_FIN	0x01
#define PS_TCP_SYN	0x02
#define PS_TCP_RST	0x04
#define PS_TCP_PSH	0x08
#define PS_TCP_ACK	0x10
#define PS_TCP_URG	0x20
#define PS_TCP_ECE	0x40
#define PS_TCP_CWR	0x80

#ifdef __bpf__

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * Headers the uapi set lacks or hides, and ICMP: <linux/icmp.h> reaches
 * <sys/socket.h> through <linux/if.h>, and no BPF object may include a libc
 * header (glibc's gnu/stubs.h then asks for the 32-bit stubs, see
 * Makefile.am).  Only the fields we read.
 */
struct ps_icmp_hdr {		/* ICMP and ICMPv6 alike */
	__u8 type;
	__u8 code;
	__be16 csum;
	__be32 rest;
};

struct ps_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ps_arp_hdr {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
};

struct ps_sctp_hdr {
	__be16 sport;
	__be16 dport;
	__be32 vtag;
	__be32 csum;
};

struct ps_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset in 8-byte units << 3, bit 0: more */
	__be32 id;
};

struct ps_gre_hdr {
	__be16 flags;
	__be16 proto;
};

#define PS_ETH_P_8021Q	0x8100
#define PS_ETH_P_8021AD	0x88A8
#define PS_IP_MF	0x2000
#define PS_IP_OFFSET	0x1FFF
#define PS_IPPROTO_MH	135
#define PS_GRE_CSUM	0x8000
#define PS_GRE_ROUTING	0x4000
#define PS_GRE_KEY	0x2000
#define PS_GRE_SEQ	0x1000
#define PS_GRE_ACK	0x0080
#define PS_GRE_VER	0x0007

/*
 * How much of a non-linear skb ps_parse_skb() pulls into the linear area
 * when the headers are not all there: room for two VLAN tags, IPv6 and a
 * few extension headers.
 */
#define PS_PULL_LEN	256

static __always_inline __u8 ps_l4_class(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return PS_L4_TCP;
	case IPPROTO_UDP:
		return PS_L4_UDP;
	case IPPROTO_ICMP:
		return PS_L4_ICMP;
	case IPPROTO_ICMPV6:
		return PS_L4_ICMPV6;
	case IPPROTO_SCTP:
		return PS_L4_SCTP;
	case IPPROTO_GRE:
		return PS_L4_GRE;
	default:
		return PS_L4_OTHER;
	}
}

/*
 * cur is the L4 header, left the bytes the IP header says follow it.  Each
 * header is checked against both: data_end for the verifier and for real
 * truncation, left so that Ethernet padding is never read as a header.
 */
static __always_inline int ps_parse_l4(void *data, void *cur, void *data_end,
				       __u32 left, struct ps_pkt *pkt)
{
	switch (pkt->l4) {
	case PS_L4_TCP: {
		struct tcphdr *th = cur;
		__u32 hlen;

		if ((void *)(th + 1) > data_end || left < sizeof(*th))
			return PS_PKT_TRUNCATED;
		hlen = th->doff * 4;
		if (hlen < sizeof(*th))
			return PS_PKT_MALFORMED;
		if (cur + hlen > data_end || hlen > left)
			return PS_PKT_TRUNCATED;
		pkt->sport = bpf_ntohs(th->source);
		pkt->dport = bpf_ntohs(th->dest);
		pkt->tcp_flags = ((__u8 *)th)[13];
		break;
	}
	case PS_L4_UDP: {
		struct udphdr *uh = cur;

		if ((void *)(uh + 1) > data_end || left < sizeof(*uh))
			return PS_PKT_TRUNCATED;
		pkt->sport = bpf_ntohs(uh->source);
		pkt->dport = bpf_ntohs(uh->dest);
		break;
	}
	case PS_L4_ICMP:
	case PS_L4_ICMPV6: {
		struct ps_icmp_hdr *ih = cur;

		if ((void *)(ih + 1) > data_end || left < sizeof(*ih))
			return PS_PKT_TRUNCATED;
		pkt->icmp_type = ih->type;
		pkt->icmp_code = ih->code;
		break;
	}
	case PS_L4_SCTP: {
		struct ps_sctp_hdr *sh = cur;

		if ((void *)(sh + 1) > data_end || left < sizeof(*sh))
			return PS_PKT_TRUNCATED;
		pkt->sport = bpf_ntohs(sh->sport);
		pkt->dport = bpf_ntohs(sh->dport);
		break;
	}
	case PS_L4_GRE: {
		struct ps_gre_hdr *gh = cur;
		__u16 flags;
		__u32 hlen;

		if ((void *)(gh + 1) > data_end || left < sizeof(*gh))
			return PS_PKT_TRUNCATED;
		flags = bpf_ntohs(gh->flags);
		if ((flags & PS_GRE_VER) > 1)
			return PS_PKT_MALFORMED;
		/* RFC 1701/2784 optional words, and the PPTP ack (RFC 2637) */
		hlen = sizeof(*gh);
		if (flags & (PS_GRE_CSUM | PS_GRE_ROUTING))
			hlen += 4;
		if (flags & PS_GRE_KEY)
			hlen += 4;
		if (flags & PS_GRE_SEQ)
			hlen += 4;
		if ((flags & PS_GRE_VER) == 1 && (flags & PS_GRE_ACK))
			hlen += 4;
		if (cur + hlen > data_end || hlen > left)
			return PS_PKT_TRUNCATED;
		pkt->gre_flags = flags;
		pkt->gre_proto = bpf_ntohs(gh->proto);
		break;
	}
	default:
		return PS_PKT_OK;
	}
	pkt->l4_off = cur - data;
	return PS_PKT_OK;
}

static __always_inline int ps_parse_ipv4(void *data, void *cur, void *data_end,
					 struct ps_pkt *pkt)
{
	struct iphdr *iph = cur;
	__u32 hlen, tot, rem;
	__u16 frag;

	if ((void *)(iph + 1) > data_end)
		return PS_PKT_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return PS_PKT_MALFORMED;
	hlen = iph->ihl * 4;
	if (cur + hlen > data_end)
		return PS_PKT_TRUNCATED;
	/* pkt->len, not data_end: a TC skb may carry payload past its head */
	rem = pkt->len - (cur - data);
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen) {
		/* BIG TCP (6.3+) GRO packets over 64 KiB carry tot_len 0 */
		if (tot || rem <= 0xffff)
			return PS_PKT_MALFORMED;
		tot = rem;
	}
	if (tot > rem)
		return PS_PKT_TRUNCATED;

	pkt->family = PS_AF_INET;
	pkt->ip_proto = iph->protocol;
	pkt->ttl = iph->ttl;
	__builtin_memcpy(pkt->saddr, &iph->saddr, 4);
	__builtin_memcpy(pkt->daddr, &iph->daddr, 4);
	pkt->l4 = ps_l4_class(iph->protocol);

	frag = bpf_ntohs(iph->frag_off);
	if (frag & (PS_IP_MF | PS_IP_OFFSET)) {
		if (frag & PS_IP_OFFSET) {
			pkt->frag = PS_FRAG_LATER;
			return PS_PKT_OK;
		}
		pkt->frag = PS_FRAG_FIRST;
	}
	return ps_parse_l4(data, cur + hlen, data_end, tot - hlen, pkt);
}

static __always_inline int ps_ipv6_is_ext(__u8 nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
	case PS_IPPROTO_MH:
		return 1;
	default:
		return 0;
	}
}

static __always_inline int ps_parse_ipv6(void *data, void *cur, void *data_end,
					 struct ps_pkt *pkt)
{
	struct ipv6hdr *ip6 = cur;
	__u32 rem, left, hlen;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PS_PKT_TRUNCATED;
	if (ip6->version != 6)
		return PS_PKT_MALFORMED;
	rem = pkt->len - (cur - data) - sizeof(*ip6);
	left = bpf_ntohs(ip6->payload_len);
	/* jumbograms and BIG TCP GRO packets carry payload_len 0 */
	if (left == 0 && rem > 0xffff)
		left = rem;
	if (left > rem)
		return PS_PKT_TRUNCATED;

	pkt->family = PS_AF_INET6;
	pkt->ttl = ip6->hop_limit;
	/* saddr and daddr are adjacent in both structs: one 32-byte copy */
	__builtin_memcpy(pkt->saddr, &ip6->saddr, 32);

	nh = ip6->nexthdr;
	cur += sizeof(*ip6);
	/*
	 * One code path for every extension header, on purpose: the verifier
	 * then sees each length as a subset of the widest one and prunes, so
	 * its work grows linearly with PS_MAX_EXTHDR instead of doubling.
	 */
#pragma unroll
	for (i = 0; i < PS_MAX_EXTHDR; i++) {
		__u32 units;

		if (!ps_ipv6_is_ext(nh))
			goto upper;
		/* every extension header is at least 8 bytes */
		if (cur + 8 > data_end || left < 8)
			return PS_PKT_TRUNCATED;
		/* RFC 8200 4.1: hop-by-hop only right after the IPv6 header */
		if (nh == IPPROTO_HOPOPTS && i)
			return PS_PKT_MALFORMED;
		units = ((__u8 *)cur)[1];
		if (nh == IPPROTO_FRAGMENT) {
			__u16 off = bpf_ntohs(((struct ps_frag_hdr *)cur)->frag_off);

			if (off & ~7) {
				/* what follows is payload, not a header */
				pkt->ext_count++;
				pkt->frag = PS_FRAG_LATER;
				pkt->ip_proto = ((__u8 *)cur)[0];
				pkt->l4 = ps_l4_class(pkt->ip_proto);
				return PS_PKT_OK;
			}
			/* an atomic fragment (RFC 6946) is not fragmented */
			if (off & 1)
				pkt->frag = PS_FRAG_FIRST;
			/* fixed 8 bytes; its second byte is reserved */
			units = 0;
		} else if (nh == IPPROTO_AH) {
			/*
			 * RFC 4302: 4-byte units minus 2, and a multiple of 8
			 * bytes in IPv6, so (units + 2) * 4 == (units / 2 + 1) * 8
			 */
			if (units & 1)
				return PS_PKT_MALFORMED;
			units >>= 1;
		}
		hlen = (units + 1) * 8;
		if (cur + hlen > data_end || hlen > left)
			return PS_PKT_TRUNCATED;
		nh = ((__u8 *)cur)[0];
		cur += hlen;
		left -= hlen;
		pkt->ext_count++;
	}
	if (ps_ipv6_is_ext(nh))
		return PS_PKT_MALFORMED;
upper:
	pkt->ip_proto = nh;
	pkt->l4 = ps_l4_class(nh);
	return ps_parse_l4(data, cur, data_end, left, pkt);
}

static __always_inline int ps_parse_arp(void *cur, void *data_end,
					struct ps_pkt *pkt)
{
	struct ps_arp_hdr *ah = cur;

	/* the fixed part: hardware and protocol types, lengths, opcode */
	if (cur + 8 > data_end)
		return PS_PKT_TRUNCATED;
	if (ah->hrd != bpf_htons(1) || ah->pro != bpf_htons(ETH_P_IP)) {
		pkt->arp_op = bpf_ntohs(ah->op);
		return PS_PKT_OK;
	}
	if (ah->hln != 6 || ah->pln != 4)
		return PS_PKT_MALFORMED;
	if ((void *)(ah + 1) > data_end)
		return PS_PKT_TRUNCATED;
	pkt->arp_op = bpf_ntohs(ah->op);
	pkt->family = PS_AF_INET;
	__builtin_memcpy(pkt->saddr, ah->sip, 4);
	__builtin_memcpy(pkt->daddr, ah->tip, 4);
	return PS_PKT_OK;
}

/*
 * Parse the frame [data, data_end).  len is the frame length at the hook:
 * data_end - data for XDP, skb->len for TC (which may be longer than the
 * linear part); it bounds IP lengths and is what callers count as bytes.
 */
static __always_inline void ps_parse(void *data, void *data_end, __u32 len,
				     struct ps_pkt *pkt)
{
	struct ethhdr *eth = data;
	void *cur;
	__be16 proto;
	int i, ret;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->len = len;
	pkt->wire_packets = 1;
	pkt->wire_len = len;
	if ((void *)(eth + 1) > data_end) {
		pkt->status = PS_PKT_TRUNCATED;
		return;
	}
	/* struct ethhdr is packed: that would be two byte loads */
	proto = *(__be16 *)(data + 12);
	cur = eth + 1;
#pragma unroll
	for (i = 0; i < PS_MAX_VLAN; i++) {
		struct ps_vlan_hdr *vh = cur;

		if (proto != bpf_htons(PS_ETH_P_8021Q) &&
		    proto != bpf_htons(PS_ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end) {
			pkt->status = PS_PKT_TRUNCATED;
			return;
		}
		if (!i)
			pkt->vlan_id = bpf_ntohs(vh->tci) & 0x0fff;
		pkt->vlan_count++;
		proto = vh->proto;
		cur = vh + 1;
	}
	pkt->eth_proto = bpf_ntohs(proto);
	pkt->l3_off = cur - data;

	switch (proto) {
	case bpf_htons(ETH_P_IP):
		pkt->l3 = PS_L3_IPV4;
		ret = ps_parse_ipv4(data, cur, data_end, pkt);
		break;
	case bpf_htons(ETH_P_IPV6):
		pkt->l3 = PS_L3_IPV6;
		ret = ps_parse_ipv6(data, cur, data_end, pkt);
		break;
	case bpf_htons(ETH_P_ARP):
		pkt->l3 = PS_L3_ARP;
		ret = ps_parse_arp(cur, data_end, pkt);
		break;
	default:
		/* includes a third VLAN tag: we do not look further */
		pkt->l3 = PS_L3_OTHER;
		ret = PS_PKT_OK;
		break;
	}
	pkt->status = ret;
}

/*
 * The two entry points are global functions, not inlined, on purpose: the
 * verifier checks a global function once, on its own, and the caller then
 * knows nothing about what it wrote into *pkt.  So a plugin's code after the
 * parse is verified once instead of once per way through the parser (with
 * everything inlined, proto-stats did not even load: the verifier walked
 * over a million instructions).  The price is one call, about a
 * nanosecond.  Both return pkt->status (or -1 when pkt is NULL, which the
 * verifier makes us handle).
 *
 * They are weak definitions, so that every .bpf.c of an object may include
 * this header: `bpftool gen object out.o a.bpf.o b.bpf.o` keeps one copy
 * of each (libbpf's linker takes the first of equal weak symbols), and an
 * object made of one file loads as before.  Do not define functions of
 * these names yourself: a strong definition would replace the parser.
 *
 * Pass a zeroed struct (struct ps_pkt pkt = {};): the verifier takes
 * uninitialised stack as the argument of a global function only from
 * CAP_PERFMON, and zeroing costs under a nanosecond.
 * (Loading needs CAP_PERFMON anyway, for the packet pointer arithmetic:
 * CAP_BPF and CAP_NET_ADMIN alone are refused.  Root has all three.)
 */
__weak __noinline int ps_parse_xdp(struct xdp_md *ctx, struct ps_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!pkt)
		return -1;
	ps_parse(data, data_end, data_end - data, pkt);
	return pkt->status;
}

/*
 * What the wire carried for a GRO aggregate (or a GSO packet looped back):
 * gso_segs frames, each with a copy of the headers and gso_size payload
 * bytes but the last.  The headers are everything up to the payload: up
 * to the end of the TCP header (its doff), of the UDP header, or the L4
 * offset for other protocols (counted as headers only), as the stack's
 * own qdisc_pkt_len_init() does.  An offloaded VLAN tag is in every one.
 */
static __always_inline void ps_wire_segments(struct __sk_buff *skb,
					     struct ps_pkt *pkt)
{
	__u32 segs = skb->gso_segs, size = skb->gso_size, hdr, tag;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *doff;

	if (segs <= 1 || !size || segs > 0xffff)
		return;
	hdr = pkt->l4_off ? pkt->l4_off : pkt->l3_off;
	if (pkt->l4_off && pkt->l4 == PS_L4_TCP) {
		/* ps_parse checked the header; the mask bounds the offset for
		 * the verifier, which may not see the compare */
		if (hdr > PS_PULL_LEN)
			return;
		doff = (__u8 *)(long)skb->data + (hdr & 0x1ff) + 12;
		/*
		 * One register for the check and the load: without this the
		 * compiler may check one copy of the pointer and load through
		 * another, which the verifier refuses (it did at -mcpu=v3).
		 */
		asm volatile("" : "+r"(doff));
		if ((void *)(doff + 1) > data_end)
			return;
		hdr += (*doff >> 4) * 4;
	} else if (pkt->l4_off && pkt->l4 == PS_L4_UDP) {
		hdr += 8;
	}
	if (hdr + (segs - 1) * size >= pkt->len)
		return;		/* not what the kernel would build: one frame */
	tag = skb->vlan_present ? 4 : 0;
	pkt->wire_packets = segs;
	pkt->wire_seg_len = tag + hdr + size;
	pkt->wire_len += (segs - 1) * (tag + hdr);
}

/*
 * At TC the headers may not all be in the linear area (GRO, some drivers).
 * Pulling first, and only when the linear area is short of both the packet
 * and PS_PULL_LEN, costs nothing for linear packets and keeps one copy of
 * the parser in the program (half the verifier work of parse, pull and
 * parse again).  Headers beyond PS_PULL_LEN in a non-linear skb read as
 * truncated.  The stack also takes the outer VLAN tag out of the frame
 * before TC ingress; it is reported here as the outer tag, and its 4 bytes
 * are in wire_len (not in len).  (At XDP a tag the NIC strips is not in the
 * frame and not seen.)  GRO has merged frames by then: wire_packets and
 * wire_len say how many the wire carried (ps_wire_segments()); at XDP,
 * before GRO, every frame is one.
 */
__weak __noinline int ps_parse_skb(struct __sk_buff *skb, struct ps_pkt *pkt)
{
	__u32 len = skb->len, head = skb->data_end - skb->data;

	if (!pkt)
		return -1;
	if (head < len && head < PS_PULL_LEN)
		bpf_skb_pull_data(skb, len < PS_PULL_LEN ? len : PS_PULL_LEN);
	ps_parse((void *)(long)skb->data, (void *)(long)skb->data_end, len,
		 pkt);
	if (skb->vlan_present) {
		pkt->vlan_id = skb->vlan_tci & 0x0fff;
		pkt->vlan_count++;
		pkt->wire_len += 4;
	}
	ps_wire_segments(skb, pkt);
	return pkt->status;
}

#endif /* __bpf__ */

#endif /* PKTSCOPE_BPF_PARSE_H */
