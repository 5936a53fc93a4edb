/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The frame cases both tests/bpf/test_parse.c and test_proto_stats.c run:
 * each case builds crafted frames and states, for each, the whole
 * struct ps_pkt the parser must fill and what proto-stats must count, then
 * calls check_frame(), which each test program defines for its subject:
 * test_parse.c compares the parse (through parse_dump.bpf.c), and
 * test_proto_stats.c every counter and the top maps.
 *
 * Include after bpf_harness.h and <cmocka.h>.
 */
#ifndef PKTSCOPE_TESTS_FRAME_CASES_H
#define PKTSCOPE_TESTS_FRAME_CASES_H

#include <pktscope/bpf/parse.h>
#include "proto_stats.h"
#include "parse_dump.skel.h"

/* proto-stats counters a frame adds to (TOTAL and its size implied) */
#define COUNTERS(...)	((const int[]){ __VA_ARGS__, -1 })
#define NONE		(-1)

/*
 * Defined by each test program: check what it tests for frame f, whose
 * parse is want; idx, has_src, has_port: what proto-stats counts (the
 * frame's source and destination port go to the top maps, exactly).
 */
void check_frame(enum hook h, const struct frame *f,
		 const struct ps_pkt *want, const int *idx, int has_src,
		 int has_port);
/* the program under test at h, for the cases that test_run it directly */
int case_prog_fd(enum hook h);

/* parse_dump.bpf.o, which reports a whole struct ps_pkt: 0 when unusable */
int frame_cases_load(void);
void frame_cases_unload(void);
int frame_cases_dump_fd(enum hook h);
/* f (or its first len bytes) as the parser sees it */
struct ps_pkt parse_len(enum hook h, const struct frame *f, size_t len);
struct ps_pkt parse(enum hook h, const struct frame *f);
/* whether the kernel may refuse to test_run len bytes of f */
int may_be_refused(enum hook h, const struct frame *f, size_t len);
/* the whole struct, field by field, so a failure says which */
void expect_pkt(const struct ps_pkt *got, const struct ps_pkt *want);

/* expected parses, up to L3, and of the frames' IP headers */
struct ps_pkt want_l2(const struct frame *f, uint16_t eth_proto, uint8_t l3);
void want_ip4(struct ps_pkt *w, uint8_t proto, uint8_t l4);
void want_ip6(struct ps_pkt *w, uint8_t proto, uint8_t l4);
/* UDP 40000 -> 53 padded to pad bytes; TCP 40000 -> 443 with flags */
void udp4(struct frame *f, size_t pad);
void tcp4(struct frame *f, uint8_t flags);

void t_ipv4_udp(void **state);
void t_ipv4_options_tcp_options(void **state);
void t_tcp_flag_classes(void **state);
void t_ipv4_icmp(void **state);
void t_ipv4_sctp(void **state);
void t_ipv4_gre(void **state);
void t_ipv4_other_proto(void **state);
void t_arp(void **state);
void t_other_ethertype(void **state);
void t_vlan_8021q(void **state);
void t_vlan_qinq(void **state);
void t_vlan_three_tags(void **state);
void t_ipv6_udp(void **state);
void t_ipv6_icmpv6(void **state);
void t_ipv6_sctp_gre(void **state);
void t_ipv6_ext_chain(void **state);
void t_ipv6_ext_limit(void **state);
void t_ipv6_no_next_header(void **state);
void t_ipv4_fragments(void **state);
void t_ipv6_fragments(void **state);
void t_malformed(void **state);
void t_ethernet_padding(void **state);
void t_size_buckets(void **state);
void t_truncated_ipv4(void **state);
void t_truncated_ipv6(void **state);
void t_truncated_l2(void **state);
void t_shortest_frames(void **state);

/* the cases, as cmocka entries at both hooks; T(fn) is the caller's */
#define FRAME_CASES							\
	T(t_ipv4_udp),						\
	T(t_ipv4_options_tcp_options),						\
	T(t_tcp_flag_classes),						\
	T(t_ipv4_icmp),						\
	T(t_ipv4_sctp),						\
	T(t_ipv4_gre),						\
	T(t_ipv4_other_proto),						\
	T(t_arp),						\
	T(t_other_ethertype),						\
	T(t_vlan_8021q),						\
	T(t_vlan_qinq),						\
	T(t_vlan_three_tags),						\
	T(t_ipv6_udp),						\
	T(t_ipv6_icmpv6),						\
	T(t_ipv6_sctp_gre),						\
	T(t_ipv6_ext_chain),						\
	T(t_ipv6_ext_limit),						\
	T(t_ipv6_no_next_header),						\
	T(t_ipv4_fragments),						\
	T(t_ipv6_fragments),						\
	T(t_malformed),						\
	T(t_ethernet_padding),						\
	T(t_size_buckets),						\
	T(t_truncated_ipv4),						\
	T(t_truncated_ipv6),						\
	T(t_truncated_l2),						\
	T(t_shortest_frames)

#endif /* PKTSCOPE_TESTS_FRAME_CASES_H */
