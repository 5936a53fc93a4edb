/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small builder for crafted Ethernet frames, for BPF_PROG_TEST_RUN tests
 * and benchmarks.
 *
 * Headers are appended in order; each one records where it starts and how
 * long it is, so a test can cut a frame at every header boundary.  The
 * caller names every "next protocol" field itself (a test must be able to
 * build wrong frames); lengths the caller leaves at 0 (IPv4 tot_len, IPv6
 * payload_len, UDP length) and the checksums are filled in by frame_finish().
 *
 *	struct frame f;
 *
 *	frame_init(&f);
 *	frame_eth(&f, ETH_P_IP);
 *	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
 *	frame_udp(&f, 1234, 53);
 *	frame_pad(&f, 64);
 *	frame_finish(&f);
 *
 * All multi-byte arguments are in host order; addresses are byte arrays in
 * network order.
 */
#ifndef PKTSCOPE_TESTS_FRAMES_H
#define PKTSCOPE_TESTS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX	4096
#define FRAME_MAX_HDRS	16

enum frame_hdr_kind {
	FH_ETH, FH_VLAN, FH_ARP, FH_IPV4, FH_IPV6, FH_IPV6_EXT, FH_TCP,
	FH_UDP, FH_ICMP, FH_ICMPV6, FH_SCTP, FH_GRE, FH_PAYLOAD,
};

struct frame_hdr {
	enum frame_hdr_kind kind;
	const char *name;
	size_t off;
	size_t len;
	int auto_len;		/* length field to fill in at frame_finish() */
};

struct frame {
	uint8_t buf[FRAME_MAX];
	size_t len;
	int nhdrs;
	struct frame_hdr hdr[FRAME_MAX_HDRS];
	int error;		/* set when a header did not fit */
};

/* Defaults used when the caller leaves an address zero. */
extern const uint8_t frame_ip4_src[4], frame_ip4_dst[4];
extern const uint8_t frame_ip6_src[16], frame_ip6_dst[16];

struct frame_ipv4 {
	uint8_t proto;
	uint8_t ttl;		/* 0: 64 */
	uint8_t src[4];		/* all zero: frame_ip4_src */
	uint8_t dst[4];		/* all zero: frame_ip4_dst */
	uint16_t frag;		/* flags (DF 0x4000, MF 0x2000) | offset / 8 */
	uint8_t opt_len;	/* bytes of options, a multiple of 4, NOPs */
	uint8_t ihl;		/* 0: from opt_len; else written as is */
	uint8_t version;	/* 0: 4 */
	uint16_t tot_len;	/* 0: up to the end of the frame at finish */
};

struct frame_ipv6 {
	uint8_t nexthdr;
	uint8_t hop_limit;	/* 0: 64 */
	uint8_t src[16];	/* all zero: frame_ip6_src */
	uint8_t dst[16];	/* all zero: frame_ip6_dst */
	uint8_t version;	/* 0: 6 */
	uint16_t payload_len;	/* 0: up to the end of the frame at finish */
};

void frame_init(struct frame *f);
void frame_eth(struct frame *f, uint16_t proto);
/* tci: priority (3 bits), DEI, VLAN id (12 bits) */
void frame_vlan(struct frame *f, uint16_t tci, uint16_t proto);
void frame_arp(struct frame *f, uint16_t op, const uint8_t sip[4],
	       const uint8_t tip[4]);
/* an ARP header with other hardware/protocol types and lengths */
void frame_arp_raw(struct frame *f, uint16_t hrd, uint16_t pro, uint8_t hln,
		   uint8_t pln, uint16_t op);
void frame_ipv4(struct frame *f, const struct frame_ipv4 *ip);
void frame_ipv6(struct frame *f, const struct frame_ipv6 *ip);
/* hop-by-hop, routing, destination options or mobility: len bytes, >= 8 */
void frame_ipv6_opt(struct frame *f, uint8_t nexthdr, size_t len);
void frame_ipv6_frag(struct frame *f, uint8_t nexthdr, uint16_t offset8,
		     int more);
/* AH: len bytes (>= 12, multiple of 8 for a valid IPv6 AH) */
void frame_ipv6_ah(struct frame *f, uint8_t nexthdr, size_t len);
void frame_tcp(struct frame *f, uint16_t sport, uint16_t dport,
	       uint8_t flags, uint8_t doff);
void frame_udp(struct frame *f, uint16_t sport, uint16_t dport);
void frame_icmp(struct frame *f, uint8_t type, uint8_t code);
void frame_icmpv6(struct frame *f, uint8_t type, uint8_t code);
void frame_sctp(struct frame *f, uint16_t sport, uint16_t dport);
/* GRE with the optional words its flags ask for (zero-filled) */
void frame_gre(struct frame *f, uint16_t flags, uint16_t proto);
void frame_payload(struct frame *f, size_t len);
/* append zero payload (not a header) until the frame is len bytes */
void frame_pad(struct frame *f, size_t len);
/* fill in automatic lengths and checksums; call once, after the last header */
void frame_finish(struct frame *f);

/* the last header of a kind, or NULL */
const struct frame_hdr *frame_find(const struct frame *f,
				   enum frame_hdr_kind kind);

#endif /* PKTSCOPE_TESTS_FRAMES_H */
