// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The crafted frames the parser and proto-stats are tested on, each with
 * what the parser must make of it (a whole struct ps_pkt) and what
 * proto-stats must count for it; see frame_cases.h.  tests/bpf/test_parse.c
 * checks the parse of every case, tests/bpf/test_proto_stats.c the counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include "frame_cases.h"

#define IPPROTO_MH_	135

static struct parse_dump *pd;

int frame_cases_load(void)
{
	pd = parse_dump__open_and_load();
	return harness_loaded(pd, "parse_dump.bpf.o");
}

void frame_cases_unload(void)
{
	parse_dump__destroy(pd);
	pd = NULL;
}

int frame_cases_dump_fd(enum hook h)
{
	return hook_prog_fd(h, pd->progs.dump_xdp, pd->progs.dump_tc);
}

/*
 * Whether the kernel may refuse to test_run len bytes of f: every program
 * type below ETH_HLEN, and (6.18, measured) TC when the EtherType is IPv4
 * or IPv6 but the frame is shorter than Ethernet + the fixed IP header.
 */
int may_be_refused(enum hook h, const struct frame *f, size_t len)
{
	uint16_t proto = f->buf[12] << 8 | f->buf[13];

	if (len < 14)
		return 1;
	if (h != TC)
		return 0;
	return (proto == ETH_P_IP && len < 14 + 20) ||
	       (proto == ETH_P_IPV6 && len < 14 + 40);
}

/* Parse f (or its first len bytes) with the dump program. */
struct ps_pkt parse_len(enum hook h, const struct frame *f, size_t len)
{
	struct ps_pkt pkt;
	__s32 status;

	run_pass(h, hook_prog_fd(h, pd->progs.dump_xdp, pd->progs.dump_tc),
		 f->buf, len, 1);
	array_get(pd->maps.out, &pkt);
	array_get(pd->maps.ret, &status);
	assert_int_equal(status, pkt.status);
	return pkt;
}

struct ps_pkt parse(enum hook h, const struct frame *f)
{
	return parse_len(h, f, f->len);
}

/* the whole struct, field by field, so a failure says which */
void expect_pkt(const struct ps_pkt *got, const struct ps_pkt *want)
{
	int bad = 0;

#define CMP(f)	(bad += field_differs("ps_pkt." #f, got->f, want->f))
	CMP(len); CMP(eth_proto); CMP(vlan_id); CMP(vlan_count);
	CMP(status); CMP(l3); CMP(l4); CMP(family); CMP(ip_proto);
	CMP(frag); CMP(ttl); CMP(tcp_flags); CMP(icmp_type); CMP(icmp_code);
	CMP(ext_count); CMP(sport); CMP(dport); CMP(l3_off); CMP(l4_off);
	CMP(gre_flags); CMP(gre_proto); CMP(arp_op); CMP(wire_packets);
	CMP(wire_len); CMP(wire_seg_len); CMP(pad);
#undef CMP
	bad += bytes_differ("ps_pkt.saddr", got->saddr, want->saddr, 16);
	bad += bytes_differ("ps_pkt.daddr", got->daddr, want->daddr, 16);
	if (bad)
		fail_msg("%d ps_pkt field(s) wrong", bad);
}

/* Expected parse of a frame up to (not into) its L3 header. */
struct ps_pkt want_l2(const struct frame *f, uint16_t eth_proto,
			     uint8_t l3)
{
	const struct frame_hdr *vlan = NULL;
	struct ps_pkt w;
	size_t off = 14;
	int i;

	memset(&w, 0, sizeof(w));
	w.len = f->len;
	w.wire_packets = 1;
	w.wire_len = f->len;
	w.eth_proto = eth_proto;
	w.l3 = l3;
	for (i = 0; i < f->nhdrs; i++)
		if (f->hdr[i].kind == FH_VLAN && w.vlan_count < 2) {
			if (!vlan)
				vlan = &f->hdr[i];
			w.vlan_count++;
			off += 4;
		}
	if (vlan)
		w.vlan_id = (f->buf[vlan->off] << 8 | f->buf[vlan->off + 1]) &
			    0x0fff;
	w.l3_off = off;
	return w;
}

void want_ip4(struct ps_pkt *w, uint8_t proto, uint8_t l4)
{
	w->family = PS_AF_INET;
	w->ip_proto = proto;
	w->l4 = l4;
	w->ttl = 64;
	memcpy(w->saddr, frame_ip4_src, 4);
	memcpy(w->daddr, frame_ip4_dst, 4);
}

void want_ip6(struct ps_pkt *w, uint8_t proto, uint8_t l4)
{
	w->family = PS_AF_INET6;
	w->ip_proto = proto;
	w->l4 = l4;
	w->ttl = 64;
	memcpy(w->saddr, frame_ip6_src, 16);
	memcpy(w->daddr, frame_ip6_dst, 16);
}

/* ---- frames ---- */

void udp4(struct frame *f, size_t pad)
{
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(f, 40000, 53);
	frame_pad(f, pad);
	frame_finish(f);
}

void tcp4(struct frame *f, uint8_t flags)
{
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 40000, 443, flags, 0);
	frame_pad(f, 60);
	frame_finish(f);
}

/* ---- tests: protocols ---- */

void t_ipv4_udp(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	udp4(&f, 64);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.sport = 40000;
	w.dport = 53;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP), 1, 1);
}

void t_ipv4_options_tcp_options(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	/* the longest header there is: ihl 15 */
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP,
					     .opt_len = 40 });
	frame_tcp(&f, 1234, 22, 0x18, 15);
	frame_payload(&f, 10);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
	w.sport = 1234;
	w.dport = 22;
	w.tcp_flags = 0x18;
	w.l4_off = 14 + 60;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_TCP,
					PSTAT_TCP_ACK), 1, 1);
}

/* flags -> the one TCP_* counter it must land in (proto_stats.h) */
void t_tcp_flag_classes(void **state)
{
	static const struct {
		uint8_t flags;
		int idx;
	} c[] = {
		{ PS_TCP_SYN, PSTAT_TCP_SYN },
		{ PS_TCP_SYN | PS_TCP_ECE | PS_TCP_CWR, PSTAT_TCP_SYN },
		{ PS_TCP_SYN | PS_TCP_ACK, PSTAT_TCP_SYNACK },
		{ PS_TCP_RST, PSTAT_TCP_RST },
		{ PS_TCP_RST | PS_TCP_ACK, PSTAT_TCP_RST },
		{ PS_TCP_RST | PS_TCP_FIN, PSTAT_TCP_RST },
		{ PS_TCP_FIN, PSTAT_TCP_FIN },
		{ PS_TCP_FIN | PS_TCP_ACK, PSTAT_TCP_FIN },
		{ PS_TCP_FIN | PS_TCP_PSH | PS_TCP_URG, PSTAT_TCP_FIN },
		{ PS_TCP_ACK, PSTAT_TCP_ACK },
		{ PS_TCP_ACK | PS_TCP_PSH, PSTAT_TCP_ACK },
		{ PS_TCP_ACK | PS_TCP_URG | PS_TCP_ECE, PSTAT_TCP_ACK },
		{ 0, PSTAT_TCP_OTHER },
		{ PS_TCP_PSH, PSTAT_TCP_OTHER },
		{ PS_TCP_URG, PSTAT_TCP_OTHER },
		{ PS_TCP_SYN | PS_TCP_FIN, PSTAT_TCP_OTHER },
		{ PS_TCP_SYN | PS_TCP_RST, PSTAT_TCP_OTHER },
		{ PS_TCP_SYN | PS_TCP_ACK | PS_TCP_FIN, PSTAT_TCP_OTHER },
		{ 0xff, PSTAT_TCP_OTHER },
	};
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;
	size_t i;

	need_bpf();
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		note("%s: flags 0x%02x", hook_name(h), c[i].flags);
		tcp4(&f, c[i].flags);
		w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
		want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
		w.sport = 40000;
		w.dport = 443;
		w.tcp_flags = c[i].flags;
		w.l4_off = 34;
		check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_TCP,
						c[i].idx), 1, 1);
	}
}

void t_ipv4_icmp(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_ICMP });
	frame_icmp(&f, 3, 4);	/* fragmentation needed */
	frame_payload(&f, 28);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_ICMP, PS_L4_ICMP);
	w.icmp_type = 3;
	w.icmp_code = 4;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_ICMP), 1, 0);
}

void t_ipv4_sctp(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_SCTP });
	frame_sctp(&f, 5000, 3868);
	frame_payload(&f, 16);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_SCTP, PS_L4_SCTP);
	w.sport = 5000;
	w.dport = 3868;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_SCTP), 1, 1);
}

void t_ipv4_gre(void **state)
{
	static const uint16_t flags[] = {
		0x0000,		/* RFC 2784 plain */
		0x8000,		/* checksum */
		0x3000,		/* key and sequence */
		0xb000,		/* all three */
		0x2081,		/* PPTP: version 1, key, ack */
		0x3081,		/* PPTP: version 1, key, sequence, ack */
		0x0080,		/* version 0: that bit is no ack */
		0x4000,		/* RFC 1701 routing: offset word */
	};
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;
	size_t i;

	need_bpf();
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint16_t proto = (flags[i] & 7) ? 0x880b : ETH_P_IP;

		note("%s: gre flags 0x%04x", hook_name(h), flags[i]);
		frame_init(&f);
		frame_eth(&f, ETH_P_IP);
		frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_GRE });
		/* no payload: a header read too long shows as truncated */
		frame_gre(&f, flags[i], proto);
		frame_finish(&f);
		w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
		want_ip4(&w, IPPROTO_GRE, PS_L4_GRE);
		w.gre_flags = flags[i];
		w.gre_proto = proto;
		w.l4_off = 34;
		check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_GRE),
			    1, 0);
	}
}

void t_ipv4_other_proto(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = 50 });	/* ESP */
	frame_payload(&f, 40);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, 50, PS_L4_OTHER);
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_OTHER), 1, 0);
}

void t_arp(void **state)
{
	static const uint8_t sip[4] = { 10, 0, 0, 1 }, tip[4] = { 10, 0, 0, 2 };
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;
	uint16_t op;

	need_bpf();
	for (op = 1; op <= 2; op++) {
		frame_init(&f);
		frame_eth(&f, ETH_P_ARP);
		frame_arp(&f, op, sip, tip);
		frame_pad(&f, 60);
		frame_finish(&f);
		w = want_l2(&f, ETH_P_ARP, PS_L3_ARP);
		w.arp_op = op;
		w.family = PS_AF_INET;
		memcpy(w.saddr, sip, 4);
		memcpy(w.daddr, tip, 4);
		/* ARP senders are not "sources": those are IP sources */
		check_frame(h, &f, &w, COUNTERS(PSTAT_L3_ARP), 0, 0);
	}

	/* not Ethernet/IPv4 ARP: counted, opcode read, nothing else */
	frame_init(&f);
	frame_eth(&f, ETH_P_ARP);
	frame_arp_raw(&f, 6, ETH_P_IP, 6, 4, 1);
	frame_pad(&f, 60);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_ARP, PS_L3_ARP);
	w.arp_op = 1;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_ARP), 0, 0);
}

void t_other_ethertype(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, 0x88cc);		/* LLDP */
	frame_payload(&f, 46);
	frame_finish(&f);
	w = want_l2(&f, 0x88cc, PS_L3_OTHER);
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_OTHER), 0, 0);
}

/* ---- tests: VLAN ---- */

void t_vlan_8021q(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 0xb064, ETH_P_IP);	/* priority 5, DEI, id 100 */
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(&f, 40000, 53);
	frame_pad(&f, 64);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	assert_int_equal(w.vlan_id, 100);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.sport = 40000;
	w.dport = 53;
	w.l4_off = 38;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP,
					PSTAT_VLAN), 1, 1);
}

void t_vlan_qinq(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 0xfbb8, ETH_P_8021Q);	/* priority 7, DEI, 3000 */
	frame_vlan(&f, 0x2007, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_TCP });
	frame_tcp(&f, 50000, 80, PS_TCP_SYN, 0);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	assert_int_equal(w.vlan_id, 3000);
	assert_int_equal(w.vlan_count, 2);
	want_ip6(&w, IPPROTO_TCP, PS_L4_TCP);
	w.sport = 50000;
	w.dport = 80;
	w.tcp_flags = PS_TCP_SYN;
	w.l4_off = 22 + 40;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_TCP,
					PSTAT_TCP_SYN, PSTAT_VLAN), 1, 1);
}

/* a third tag is not parsed: the frame is "other" behind two tags */
void t_vlan_three_tags(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 1, ETH_P_8021Q);
	frame_vlan(&f, 2, ETH_P_8021Q);
	frame_vlan(&f, 3, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(&f, 1, 2);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_8021Q, PS_L3_OTHER);
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_OTHER, PSTAT_VLAN), 0, 0);
}

/* ---- tests: IPv6 ---- */

void t_ipv6_udp(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP,
					     .hop_limit = 255 });
	frame_udp(&f, 546, 547);
	frame_payload(&f, 30);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_UDP, PS_L4_UDP);
	w.ttl = 255;
	w.sport = 546;
	w.dport = 547;
	w.l4_off = 54;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_UDP), 1, 1);
}

void t_ipv6_icmpv6(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_ICMPV6 });
	frame_icmpv6(&f, 135, 0);	/* neighbour solicitation */
	frame_payload(&f, 16);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_ICMPV6, PS_L4_ICMPV6);
	w.icmp_type = 135;
	w.l4_off = 54;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_ICMPV6), 1, 0);
}

void t_ipv6_sctp_gre(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_SCTP });
	frame_sctp(&f, 2905, 2905);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_SCTP, PS_L4_SCTP);
	w.sport = 2905;
	w.dport = 2905;
	w.l4_off = 54;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_SCTP), 1, 1);

	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_GRE });
	frame_gre(&f, 0x2000, ETH_P_IPV6);
	frame_payload(&f, 40);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_GRE, PS_L4_GRE);
	w.gre_flags = 0x2000;
	w.gre_proto = ETH_P_IPV6;
	w.l4_off = 54;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_GRE), 1, 0);
}

/* hop-by-hop, routing, destination options, AH, mobility: one chain */
void t_ipv6_ext_chain(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_HOPOPTS });
	frame_ipv6_opt(&f, IPPROTO_ROUTING, 8);
	frame_ipv6_opt(&f, IPPROTO_DSTOPTS, 24);
	frame_ipv6_opt(&f, IPPROTO_AH, 16);
	frame_ipv6_ah(&f, IPPROTO_MH_, 24);
	frame_ipv6_opt(&f, IPPROTO_TCP, 8);
	frame_tcp(&f, 179, 33000, PS_TCP_ACK | PS_TCP_PSH, 0);
	frame_payload(&f, 19);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_TCP, PS_L4_TCP);
	w.ext_count = 5;
	w.sport = 179;
	w.dport = 33000;
	w.tcp_flags = PS_TCP_ACK | PS_TCP_PSH;
	w.l4_off = 54 + 8 + 24 + 16 + 24 + 8;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_TCP,
					PSTAT_TCP_ACK), 1, 1);
}

/* PS_MAX_EXTHDR headers parse; one more is malformed */
void t_ipv6_ext_limit(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;
	int n, i;

	need_bpf();
	for (n = PS_MAX_EXTHDR; n <= PS_MAX_EXTHDR + 1; n++) {
		note("%s: %d destination options headers", hook_name(h), n);
		frame_init(&f);
		frame_eth(&f, ETH_P_IPV6);
		frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_DSTOPTS });
		for (i = 0; i < n; i++)
			frame_ipv6_opt(&f, i < n - 1 ? IPPROTO_DSTOPTS :
						      IPPROTO_UDP, 8);
		frame_udp(&f, 1000, 2000);
		frame_finish(&f);
		w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
		if (n == PS_MAX_EXTHDR) {
			want_ip6(&w, IPPROTO_UDP, PS_L4_UDP);
			w.ext_count = n;
			w.sport = 1000;
			w.dport = 2000;
			w.l4_off = 54 + 8 * n;
			check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6,
							PSTAT_L4_UDP), 1, 1);
		} else {
			want_ip6(&w, 0, PS_L4_NONE);
			w.ext_count = PS_MAX_EXTHDR;
			w.status = PS_PKT_MALFORMED;
			check_frame(h, &f, &w, COUNTERS(PSTAT_MALFORMED), 1, 0);
		}
	}
}

void t_ipv6_no_next_header(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_DSTOPTS });
	frame_ipv6_opt(&f, 59, 8);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, 59, PS_L4_OTHER);
	w.ext_count = 1;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_OTHER), 1, 0);
}

/* ---- tests: fragments ---- */

void t_ipv4_fragments(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	/* first: offset 0, more fragments; the only one with ports */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 0x2000 });
	frame_udp(&f, 40000, 4789);
	frame_payload(&f, 64);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.frag = PS_FRAG_FIRST;
	w.sport = 40000;
	w.dport = 4789;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP,
					PSTAT_FRAG), 1, 1);

	/* middle and last: the protocol's class, no L4 header, no port */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 0x2000 | 9 });
	frame_payload(&f, 72);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.frag = PS_FRAG_LATER;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP,
					PSTAT_FRAG, PSTAT_FRAG_LATER), 1, 0);

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP,
					     .frag = 18 });
	frame_payload(&f, 20);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
	w.frag = PS_FRAG_LATER;
	/* a TCP packet without a TCP header: flag class "other" */
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_TCP,
					PSTAT_TCP_OTHER, PSTAT_FRAG,
					PSTAT_FRAG_LATER), 1, 0);

	/* DF alone is not a fragment */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 0x4000 });
	frame_udp(&f, 1, 2);
	frame_pad(&f, 60);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.sport = 1;
	w.dport = 2;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP), 1, 1);
}

void t_ipv6_fragments(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	/* first fragment, behind hop-by-hop: parsing goes on to UDP */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_HOPOPTS });
	frame_ipv6_opt(&f, IPPROTO_FRAGMENT, 8);
	frame_ipv6_frag(&f, IPPROTO_UDP, 0, 1);
	frame_udp(&f, 53, 40000);
	frame_payload(&f, 100);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_UDP, PS_L4_UDP);
	w.frag = PS_FRAG_FIRST;
	w.ext_count = 2;
	w.sport = 53;
	w.dport = 40000;
	w.l4_off = 54 + 16;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_UDP,
					PSTAT_FRAG), 1, 1);

	/* later fragment: stops at the fragment header */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_FRAGMENT });
	frame_ipv6_frag(&f, IPPROTO_UDP, 14, 0);
	frame_payload(&f, 50);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_UDP, PS_L4_UDP);
	w.frag = PS_FRAG_LATER;
	w.ext_count = 1;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_UDP,
					PSTAT_FRAG, PSTAT_FRAG_LATER), 1, 0);

	/* atomic fragment (offset 0, no more): RFC 6946, not fragmented */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_FRAGMENT });
	frame_ipv6_frag(&f, IPPROTO_ICMPV6, 0, 0);
	frame_icmpv6(&f, 129, 0);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_ICMPV6, PS_L4_ICMPV6);
	w.ext_count = 1;
	w.icmp_type = 129;
	w.l4_off = 62;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV6, PSTAT_L4_ICMPV6), 1, 0);
}

/* ---- tests: malformed ---- */

struct bad_case {
	const char *what;
	struct frame f;
	struct ps_pkt w;
	int has_src;
};

void t_malformed(void **state)
{
	enum hook h = *(enum hook *)*state;
	static struct bad_case c[12];
	struct frame *f;
	struct ps_pkt *w;
	int n = 0, i;

	need_bpf();

	c[n].what = "ipv4 ihl 4";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP, .ihl = 4 });
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	n++;

	c[n].what = "ipv4 header with version 6";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					    .version = 6 });
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	n++;

	c[n].what = "ipv4 tot_len 16 < ihl * 4";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					    .tot_len = 16 });
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	n++;

	c[n].what = "tcp doff 4";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 1, 2, PS_TCP_SYN, 4);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&c[n].w, IPPROTO_TCP, PS_L4_TCP);
	c[n].has_src = 1;	/* the IP header was fine */
	n++;

	c[n].what = "ipv6 header with version 4";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP,
					    .version = 4 });
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IPV6, PS_L3_IPV6);
	n++;

	c[n].what = "hop-by-hop after routing";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = IPPROTO_ROUTING });
	frame_ipv6_opt(f, IPPROTO_HOPOPTS, 8);
	frame_ipv6_opt(f, IPPROTO_UDP, 8);
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&c[n].w, 0, PS_L4_NONE);
	c[n].w.ext_count = 1;
	c[n].has_src = 1;
	n++;

	c[n].what = "ipv6 AH of 12 bytes (not a multiple of 8)";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = IPPROTO_AH });
	frame_ipv6_ah(f, IPPROTO_UDP, 12);
	frame_udp(f, 1, 2);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&c[n].w, 0, PS_L4_NONE);
	c[n].has_src = 1;
	n++;

	c[n].what = "gre version 2";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_GRE });
	frame_gre(f, 0x0002, ETH_P_IP);
	frame_payload(f, 20);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&c[n].w, IPPROTO_GRE, PS_L4_GRE);
	c[n].has_src = 1;
	n++;

	c[n].what = "ethernet/ipv4 arp with hln 8";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_ARP);
	frame_arp_raw(f, 1, ETH_P_IP, 8, 4, 1);
	frame_pad(f, 60);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_ARP, PS_L3_ARP);
	n++;

	c[n].what = "ethernet/ipv4 arp with pln 16";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_ARP);
	frame_arp_raw(f, 1, ETH_P_IP, 6, 16, 2);
	frame_pad(f, 60);
	frame_finish(f);
	c[n].w = want_l2(f, ETH_P_ARP, PS_L3_ARP);
	n++;

	c[n].what = "ipv4 tot_len 0 on a small frame (BIG TCP needs > 64K)";
	f = &c[n].f;
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(f, 1, 2);
	frame_finish(f);
	f->buf[14 + 2] = f->buf[14 + 3] = 0;
	c[n].w = want_l2(f, ETH_P_IP, PS_L3_IPV4);
	n++;

	for (i = 0; i < n; i++) {
		note("%s: %s", hook_name(h), c[i].what);
		w = &c[i].w;
		w->status = PS_PKT_MALFORMED;
		check_frame(h, &c[i].f, w, COUNTERS(PSTAT_MALFORMED),
			    c[i].has_src, 0);
	}
}

/* ---- tests: lengths and padding ---- */

/* an IP packet shorter than its frame: the rest is padding, never a header */
void t_ethernet_padding(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;

	need_bpf();
	/* UDP with 4 bytes of data in a 60-byte frame: fine */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .tot_len = 32 });
	frame_udp(&f, 7, 7);
	frame_pad(&f, 60);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
	w.sport = 7;
	w.dport = 7;
	w.l4_off = 34;
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP), 1, 1);

	/* IPv4 says "20 bytes, TCP": the TCP header would be padding */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP,
					     .tot_len = 20 });
	frame_tcp(&f, 1, 2, PS_TCP_SYN, 0);
	frame_pad(&f, 60);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
	w.status = PS_PKT_TRUNCATED;
	check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED), 1, 0);

	/* ... also when the padding is zeros (doff 0 is not "malformed") */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_pad(&f, 60);
	frame_finish(&f);
	f.buf[14 + 2] = 0;
	f.buf[14 + 3] = 20;
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
	w.status = PS_PKT_TRUNCATED;
	check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED), 1, 0);

	/* the same for IPv6: payload_len 4 < a UDP header */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP,
					     .payload_len = 4 });
	frame_udp(&f, 1, 2);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, IPPROTO_UDP, PS_L4_UDP);
	w.status = PS_PKT_TRUNCATED;
	check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED), 1, 0);

	/* an AH in the padding: truncated, whatever the padding says */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_AH,
					     .payload_len = 4 });
	frame_payload(&f, 8);
	frame_finish(&f);
	memset(f.buf + 54, 1, 8);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, 0, PS_L4_NONE);
	w.status = PS_PKT_TRUNCATED;
	check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED), 1, 0);

	/* an extension header longer than payload_len */
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_DSTOPTS,
					     .payload_len = 8 });
	frame_ipv6_opt(&f, IPPROTO_UDP, 16);
	frame_udp(&f, 1, 2);
	frame_finish(&f);
	w = want_l2(&f, ETH_P_IPV6, PS_L3_IPV6);
	want_ip6(&w, 0, PS_L4_NONE);
	w.status = PS_PKT_TRUNCATED;
	check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED), 1, 0);
}

void t_size_buckets(void **state)
{
	static const size_t sizes[] = {
		60, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024, 1518,
		1519, 2000,
	};
	enum hook h = *(enum hook *)*state;
	struct frame f;
	struct ps_pkt w;
	size_t i;

	need_bpf();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		note("%s: %zu bytes", hook_name(h), sizes[i]);
		udp4(&f, sizes[i]);
		assert_int_equal(f.len, sizes[i]);
		w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
		want_ip4(&w, IPPROTO_UDP, PS_L4_UDP);
		w.sport = 40000;
		w.dport = 53;
		w.l4_off = 34;
		check_frame(h, &f, &w, COUNTERS(PSTAT_L3_IPV4, PSTAT_L4_UDP),
			    1, 1);
	}
}

/* ---- tests: truncation at every header boundary ---- */

/*
 * What the parser must report for f cut to `cut` bytes, the cut falling
 * in header hi (or exactly at its start).  full is the parse of the whole
 * frame.  raw: only the frame was cut, the IP length fields still claim the
 * whole packet, so the IP header itself fails; otherwise the lengths were
 * recomputed for the cut frame and the cut header fails.
 */
static struct ps_pkt want_cut(const struct frame *f, const struct ps_pkt *full,
			      int hi, size_t cut, int raw)
{
	const struct frame_hdr *hd = &f->hdr[hi];
	enum frame_hdr_kind k = hd->kind;
	struct ps_pkt w = *full;
	int i, ext = 0, vlans = 0, frag = 0;

	w.len = w.wire_len = cut;
	w.status = PS_PKT_TRUNCATED;
	for (i = 0; i < hi; i++) {
		if (f->hdr[i].kind == FH_VLAN)
			vlans++;
		if (f->hdr[i].kind == FH_IPV6_EXT) {
			ext++;
			if (!strcmp(f->hdr[i].name, "ipv6-frag"))
				frag = full->frag;
		}
	}
	if (raw && k != FH_VLAN && k != FH_ARP)
		k = frame_find(f, FH_IPV4) ? FH_IPV4 : FH_IPV6;

	switch (k) {
	case FH_VLAN:
		memset(&w, 0, sizeof(w));
		w.len = w.wire_len = cut;
		w.wire_packets = 1;
		w.status = PS_PKT_TRUNCATED;
		w.vlan_count = vlans;
		if (vlans)
			w.vlan_id = full->vlan_id;
		return w;
	case FH_ARP:
		w.arp_op = 0;
		w.family = 0;
		memset(w.saddr, 0, 16);
		memset(w.daddr, 0, 16);
		return w;
	case FH_IPV4:
	case FH_IPV6:
		w.family = 0;
		w.ttl = 0;
		memset(w.saddr, 0, 16);
		memset(w.daddr, 0, 16);
		/* fallthrough */
	case FH_IPV6_EXT:
		w.ip_proto = 0;
		w.l4 = PS_L4_NONE;
		w.frag = k == FH_IPV6_EXT ? frag : 0;
		w.ext_count = k == FH_IPV6_EXT ? ext : 0;
		/* fallthrough */
	default:
		w.sport = w.dport = 0;
		w.tcp_flags = w.icmp_type = w.icmp_code = 0;
		w.gre_flags = w.gre_proto = 0;
		w.l4_off = 0;
		return w;
	}
}

static void cut_all(enum hook h, const struct frame *orig)
{
	struct ps_pkt full, w;
	struct frame f;
	int hi, raw, j;

	full = parse(h, orig);
	assert_int_equal(full.status, PS_PKT_OK);
	for (hi = 1; hi < orig->nhdrs; hi++) {
		const struct frame_hdr *hd = &orig->hdr[hi];
		size_t cuts[3] = { hd->off, hd->off + 1, hd->off + hd->len - 1 };

		if (hd->kind == FH_PAYLOAD)
			continue;
		for (j = 0; j < 3; j++)
			for (raw = 0; raw <= 1; raw++) {
				size_t cut = cuts[j];

				if (cut < 14 || cut >= hd->off + hd->len)
					continue;
				note("%s: cut in %s (header %d at %zu) at %zu, %s",
				     hook_name(h), hd->name, hi, hd->off, cut,
				     raw ? "raw" : "lengths fixed");
				f = *orig;
				f.len = cut;
				if (!raw)
					frame_finish(&f);
				if (may_be_refused(h, &f, cut)) {
					int ret, err;

					err = test_run(case_prog_fd(h), f.buf,
						       cut, 1, &ret);
					if (err == -EINVAL) {
						note("%s: kernel refuses %zu bytes",
						     hook_name(h), cut);
						continue;
					}
					assert_int_equal(err, 0);
				}
				w = want_cut(&f, &full, hi, cut, raw);
				/* a source only when its IP header parsed */
				check_frame(h, &f, &w, COUNTERS(PSTAT_TRUNCATED),
					    w.family && w.l3 != PS_L3_ARP, 0);
			}
	}
}

void t_truncated_ipv4(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	udp4(&f, 0);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP,
					     .opt_len = 12 });
	frame_tcp(&f, 1, 2, PS_TCP_SYN, 8);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_ICMP });
	frame_icmp(&f, 8, 0);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_SCTP });
	frame_sctp(&f, 1, 2);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_GRE });
	frame_gre(&f, 0xb000, ETH_P_IP);
	frame_finish(&f);
	cut_all(h, &f);
}

void t_truncated_ipv6(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_HOPOPTS });
	frame_ipv6_opt(&f, IPPROTO_ROUTING, 16);
	frame_ipv6_opt(&f, IPPROTO_FRAGMENT, 24);
	frame_ipv6_frag(&f, IPPROTO_DSTOPTS, 0, 1);
	frame_ipv6_opt(&f, IPPROTO_AH, 8);
	frame_ipv6_ah(&f, IPPROTO_TCP, 16);
	frame_tcp(&f, 1, 2, PS_TCP_ACK, 6);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_ICMPV6 });
	frame_icmpv6(&f, 128, 0);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP });
	frame_udp(&f, 1, 2);
	frame_finish(&f);
	cut_all(h, &f);
}

void t_truncated_l2(void **state)
{
	static const uint8_t sip[4] = { 10, 0, 0, 1 }, tip[4] = { 10, 0, 0, 2 };
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 10, ETH_P_8021Q);
	frame_vlan(&f, 20, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(&f, 1, 2, PS_TCP_SYN, 0);
	frame_finish(&f);
	cut_all(h, &f);

	frame_init(&f);
	frame_eth(&f, ETH_P_ARP);
	frame_arp(&f, 1, sip, tip);
	frame_finish(&f);
	cut_all(h, &f);
}

/*
 * BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header (EINVAL,
 * both program types), so a cut inside the Ethernet header cannot be fed.
 * For TC, 6.18 also refuses an IPv4 (IPv6) EtherType with less than 20 (40)
 * bytes after it; such cuts are covered by XDP, and by TC behind a VLAN
 * tag.  Where the kernel takes the frame, it must parse as truncated.
 */
void t_shortest_frames(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f, v6;
	struct ps_pkt w;
	size_t len;
	int ret, err, i;

	need_bpf();
	udp4(&f, 0);
	for (len = 0; len < 14; len++)
		assert_int_equal(test_run(case_prog_fd(h), f.buf, len, 1, &ret),
				 -EINVAL);

	frame_init(&v6);
	frame_eth(&v6, ETH_P_IPV6);
	frame_ipv6(&v6, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP });
	frame_udp(&v6, 1, 2);
	frame_finish(&v6);
	for (len = 14; len < 14 + 40; len++)
		for (i = 0; i < 2; i++) {
			struct frame c = i ? v6 : f;
			uint16_t proto = i ? ETH_P_IPV6 : ETH_P_IP;

			if (!i && len >= 14 + 20)
				continue;	/* a whole IPv4 header */
			c.len = len;
			err = test_run(case_prog_fd(h), c.buf, len, 1, &ret);
			if (err == -EINVAL && may_be_refused(h, &c, len))
				continue;
			assert_int_equal(err, 0);
			w = want_l2(&c, proto, i ? PS_L3_IPV6 : PS_L3_IPV4);
			w.status = PS_PKT_TRUNCATED;
			check_frame(h, &c, &w, COUNTERS(PSTAT_TRUNCATED), 0, 0);
		}

	/* 14 bytes of an EtherType with nothing behind it: well-formed */
	frame_init(&f);
	frame_eth(&f, 0x88b5);		/* local experimental */
	frame_finish(&f);
	w = want_l2(&f, 0x88b5, PS_L3_OTHER);
	check_frame(h, &f, &w, COUNTERS(PSTAT_L3_OTHER), 0, 0);
}
