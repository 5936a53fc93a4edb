// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the shared parser (include/pktscope/bpf/parse.h, through
 * tests/bpf/parse_dump.bpf.c) and of proto-stats (bpf/proto_stats.bpf.c),
 * every case once through the XDP and once through the TC entry point.
 *
 * Every proto-stats check compares all counters, not just the expected
 * ones, so a packet counted twice or in the wrong place fails; the parser
 * checks compare the whole struct ps_pkt.
 *
 * Needs root and BPF.  Without them each test is skipped, unless
 * PKTSCOPE_REQUIRE_BPF=1, when each one fails instead (CI sets it, so that
 * a broken environment cannot pass as a skipped one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include <pktscope/bpf/parse.h>
#include "proto_stats.h"
#include "proto_stats.skel.h"
#include "parse_dump.skel.h"

#define IPPROTO_MH_	135

static const char *const counter_name[PSTAT__MAX] = PSTAT_NAMES;

static struct {
	struct proto_stats *ps;
	struct parse_dump *pd;
} env;

static int probe_test_run(void)
{
	uint8_t frame[60] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = sizeof(frame),
	);

	return bpf_prog_test_run_opts(bpf_program__fd(env.pd->progs.dump_xdp),
				      &opts) ||
	       bpf_prog_test_run_opts(bpf_program__fd(env.pd->progs.dump_tc),
				      &opts);
}

static void load_bpf(void)
{
	if (!harness_setup())
		return;
	env.ps = proto_stats__open_and_load();
	if (!harness_loaded(env.ps, "proto_stats.bpf.o"))
		return;
	env.pd = parse_dump__open_and_load();
	if (!harness_loaded(env.pd, "parse_dump.bpf.o"))
		return;
	if (probe_test_run())
		harness_unusable("BPF_PROG_TEST_RUN: %s", strerror(errno));
}

static int group_teardown(void **state)
{
	(void)state;
	parse_dump__destroy(env.pd);
	proto_stats__destroy(env.ps);
	return 0;
}

/* ---- map access ---- */

static void set_config(__u32 sample_src, __u32 sample_port)
{
	struct pstat_config cfg = { sample_src, sample_port };

	array_set(env.ps->maps.config, &cfg);
}

/* Fresh maps; every key admitted, so that the top maps count exactly. */
static void reset(void)
{
	percpu_zero(env.ps->maps.counters);
	percpu_zero(env.ps->maps.cache);
	clear_map(env.ps->maps.top_src);
	clear_map(env.ps->maps.top_port);
	set_config(1, 1);
}

static void read_counters(struct pstat_val out[PSTAT__MAX])
{
	__u32 zero = 0;

	assert_int_equal(percpu_sum(env.ps->maps.counters, &zero, out), 0);
}

/* sum over CPUs of one LRU per-CPU value; zero when the key is absent */
static struct pstat_val top_get(struct bpf_map *m, const void *key)
{
	struct pstat_val sum;

	percpu_sum(m, key, &sum);
	return sum;
}

static void val_add(struct pstat_val *sum, const struct pstat_val *v)
{
	sum->packets += v->packets;
	sum->bytes += v->bytes;
}

struct top_sum {
	struct bpf_map *m;
	struct pstat_val sum;
};

static void top_add(const void *key, void *ctx)
{
	struct top_sum *t = ctx;
	struct pstat_val v = top_get(t->m, key);

	val_add(&t->sum, &v);
}

static struct pstat_val top_sum(struct bpf_map *m)
{
	struct top_sum t = { m, { 0, 0 } };

	for_each_key(m, top_add, &t);
	return t.sum;
}

/* A key's count as the plugin computes it: LRU map plus every CPU's cache. */
static struct pstat_val src_count(const struct pstat_src_key *k)
{
	struct pstat_val sum = top_get(env.ps->maps.top_src, k);
	struct pstat_cache *c = percpu_get(env.ps->maps.cache);
	int cpu, i;

	for (cpu = 0; cpu < harness.ncpus; cpu++)
		for (i = 0; i < 1 << PSTAT_SRC_SLOTS_BITS; i++) {
			struct pstat_src_slot *s = &c[cpu].src[i];

			if (s->val.packets && !memcmp(&s->key, k, sizeof(*k)))
				val_add(&sum, &s->val);
		}
	free(c);
	return sum;
}

static struct pstat_val port_count(const struct pstat_port_key *k)
{
	struct pstat_val sum = top_get(env.ps->maps.top_port, k);
	struct pstat_cache *c = percpu_get(env.ps->maps.cache);
	int cpu, i;

	for (cpu = 0; cpu < harness.ncpus; cpu++)
		for (i = 0; i < 1 << PSTAT_PORT_SLOTS_BITS; i++) {
			struct pstat_port_slot *s = &c[cpu].port[i];

			if (s->val.packets && !memcmp(&s->key, k, sizeof(*k)))
				val_add(&sum, &s->val);
		}
	free(c);
	return sum;
}

/* all sources (or ports) counted anywhere */
static struct pstat_val all_count(int ports)
{
	struct pstat_val sum = top_sum(ports ? env.ps->maps.top_port :
					       env.ps->maps.top_src);
	struct pstat_cache *c = percpu_get(env.ps->maps.cache);
	int cpu, i;

	for (cpu = 0; cpu < harness.ncpus; cpu++)
		for (i = 0; i < 1 << 8; i++)
			val_add(&sum, ports ? &c[cpu].port[i].val :
					      &c[cpu].src[i].val);
	free(c);
	return sum;
}

static struct pstat_src_key src_key4(const uint8_t a[4])
{
	struct pstat_src_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, a, 4);
	k.family = PS_AF_INET;
	return k;
}

static struct pstat_src_key src_key6(const uint8_t a[16])
{
	struct pstat_src_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, a, 16);
	k.family = PS_AF_INET6;
	return k;
}

static struct pstat_port_key port_key(uint8_t proto, uint16_t port)
{
	struct pstat_port_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.port = port;
	return k;
}

/* the cache set a key lands in, as bpf/proto_stats.bpf.c computes it */
#define WAYS	(1U << PSTAT_CACHE_WAYS_BITS)

static unsigned int src_set(const struct pstat_src_key *k)
{
	__u32 x = k->addr32[0] ^ k->addr32[1] ^ k->addr32[2] ^ k->addr32[3];

	return (x * 0x9e3779b1U) >>
	       (32 - (PSTAT_SRC_SLOTS_BITS - PSTAT_CACHE_WAYS_BITS));
}

static unsigned int port_set(const struct pstat_port_key *k)
{
	__u32 x = (__u32)k->proto << 16 | k->port;

	return (x * 0x9e3779b1U) >>
	       (32 - (PSTAT_PORT_SLOTS_BITS - PSTAT_CACHE_WAYS_BITS));
}

/* ---- running programs ---- */

static int prog_fd(int dump, enum hook h)
{
	if (dump)
		return hook_prog_fd(h, env.pd->progs.dump_xdp,
				    env.pd->progs.dump_tc);
	return hook_prog_fd(h, env.ps->progs.ps_xdp, env.ps->progs.ps_tc);
}

static void run_prog(int dump, enum hook h, const uint8_t *data, size_t len)
{
	run_pass(h, prog_fd(dump, h), data, len, 1);
}

/*
 * Whether the kernel may refuse to test_run len bytes of f: every program
 * type below ETH_HLEN, and (6.18, measured) TC when the EtherType is IPv4
 * or IPv6 but the frame is shorter than Ethernet + the fixed IP header.
 */
static int may_be_refused(enum hook h, const struct frame *f, size_t len)
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
static struct ps_pkt parse_len(enum hook h, const struct frame *f, size_t len)
{
	struct ps_pkt pkt;
	__s32 status;

	run_prog(1, h, f->buf, len);
	array_get(env.pd->maps.out, &pkt);
	array_get(env.pd->maps.ret, &status);
	assert_int_equal(status, pkt.status);
	return pkt;
}

static struct ps_pkt parse(enum hook h, const struct frame *f)
{
	return parse_len(h, f, f->len);
}

/* ---- expectations ---- */

static int size_idx(size_t len)
{
	static const struct {
		size_t max;
		int idx;
	} b[] = {
		{ 64, PSTAT_SIZE_64 }, { 127, PSTAT_SIZE_127 },
		{ 255, PSTAT_SIZE_255 }, { 511, PSTAT_SIZE_511 },
		{ 1023, PSTAT_SIZE_1023 }, { 1518, PSTAT_SIZE_1518 },
	};
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (len <= b[i].max)
			return b[i].idx;
	return PSTAT_SIZE_JUMBO;
}

/* Sums the counting rules in proto_stats.h promise. */
static void check_invariants(const struct pstat_val *c)
{
	__u64 l3 = 0, l4 = 0, tcp = 0, size = 0;
	int i;

	for (i = PSTAT_L3_IPV4; i <= PSTAT_L3_OTHER; i++)
		l3 += c[i].packets;
	for (i = PSTAT_L4_TCP; i <= PSTAT_L4_OTHER; i++)
		l4 += c[i].packets;
	for (i = PSTAT_TCP_SYN; i <= PSTAT_TCP_OTHER; i++)
		tcp += c[i].packets;
	for (i = PSTAT_SIZE_64; i <= PSTAT_SIZE_JUMBO; i++)
		size += c[i].packets;
	assert_int_equal(size, c[PSTAT_TOTAL].packets);
	assert_int_equal(l3 + c[PSTAT_TRUNCATED].packets +
			 c[PSTAT_MALFORMED].packets, c[PSTAT_TOTAL].packets);
	assert_int_equal(l4, c[PSTAT_L3_IPV4].packets + c[PSTAT_L3_IPV6].packets);
	assert_int_equal(tcp, c[PSTAT_L4_TCP].packets);
}

/*
 * After `n` runs of frames of `len` bytes each, the counters listed in idx
 * (terminated by -1; TOTAL and the size bucket are implied) hold n packets
 * and n * len bytes, and every other counter is zero.
 */
static void expect_counters_n(const int *idx, size_t len, unsigned int n)
{
	struct pstat_val got[PSTAT__MAX], want[PSTAT__MAX];
	int i, bad = 0;

	memset(want, 0, sizeof(want));
	want[PSTAT_TOTAL].packets = n;
	want[size_idx(len)].packets = n;
	for (; *idx >= 0; idx++)
		want[*idx].packets += n;
	for (i = 0; i < PSTAT__MAX; i++)
		want[i].bytes = want[i].packets * len;
	read_counters(got);
	for (i = 0; i < PSTAT__MAX; i++)
		if (got[i].packets != want[i].packets ||
		    got[i].bytes != want[i].bytes) {
			note("counter %s: got %llu packets %llu bytes, want %llu %llu",
			     counter_name[i], (unsigned long long)got[i].packets,
			     (unsigned long long)got[i].bytes,
			     (unsigned long long)want[i].packets,
			     (unsigned long long)want[i].bytes);
			bad++;
		}
	if (bad)
		fail_msg("%d counter(s) wrong", bad);
	check_invariants(got);
}

#define COUNTERS(...)	((const int[]){ __VA_ARGS__, -1 })
#define NONE		(-1)

/* the whole struct, field by field, so a failure says which */
static void expect_pkt(const struct ps_pkt *got, const struct ps_pkt *want)
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
static struct ps_pkt want_l2(const struct frame *f, uint16_t eth_proto,
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

static void want_ip4(struct ps_pkt *w, uint8_t proto, uint8_t l4)
{
	w->family = PS_AF_INET;
	w->ip_proto = proto;
	w->l4 = l4;
	w->ttl = 64;
	memcpy(w->saddr, frame_ip4_src, 4);
	memcpy(w->daddr, frame_ip4_dst, 4);
}

static void want_ip6(struct ps_pkt *w, uint8_t proto, uint8_t l4)
{
	w->family = PS_AF_INET6;
	w->ip_proto = proto;
	w->l4 = l4;
	w->ttl = 64;
	memcpy(w->saddr, frame_ip6_src, 16);
	memcpy(w->daddr, frame_ip6_dst, 16);
}

/*
 * Run f through both programs on a clean slate and check the parse, all
 * counters (idx as in expect_counters_n) and the top maps: the frame's
 * source and destination port are counted exactly when has_src / has_port.
 */
static void check_frame(enum hook h, const struct frame *f,
			const struct ps_pkt *want, const int *idx,
			int has_src, int has_port)
{
	struct ps_pkt got;
	struct pstat_val v;

	assert_false(f->error);
	got = parse(h, f);
	expect_pkt(&got, want);

	reset();
	run_prog(0, h, f->buf, f->len);
	expect_counters_n(idx, f->len, 1);

	v = all_count(0);
	assert_int_equal(v.packets, !!has_src);
	assert_int_equal(v.bytes, has_src ? f->len : 0);
	if (has_src) {
		struct pstat_src_key k;

		memset(&k, 0, sizeof(k));
		memcpy(k.addr, got.saddr, 16);
		k.family = got.family;
		v = src_count(&k);
		assert_int_equal(v.packets, 1);
	}
	v = all_count(1);
	assert_int_equal(v.packets, !!has_port);
	if (has_port) {
		struct pstat_port_key k = port_key(got.ip_proto, got.dport);

		v = port_count(&k);
		assert_int_equal(v.packets, 1);
		assert_int_equal(v.bytes, f->len);
	}
}

/* ---- frames ---- */

static void udp4(struct frame *f, size_t pad)
{
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(f, 40000, 53);
	frame_pad(f, pad);
	frame_finish(f);
}

static void tcp4(struct frame *f, uint8_t flags)
{
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 40000, 443, flags, 0);
	frame_pad(f, 60);
	frame_finish(f);
}

/* ---- tests: protocols ---- */

static void t_ipv4_udp(void **state)
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

static void t_ipv4_options_tcp_options(void **state)
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
static void t_tcp_flag_classes(void **state)
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

static void t_ipv4_icmp(void **state)
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

static void t_ipv4_sctp(void **state)
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

static void t_ipv4_gre(void **state)
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

static void t_ipv4_other_proto(void **state)
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

static void t_arp(void **state)
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

static void t_other_ethertype(void **state)
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

static void t_vlan_8021q(void **state)
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

static void t_vlan_qinq(void **state)
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
static void t_vlan_three_tags(void **state)
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

static void t_ipv6_udp(void **state)
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

static void t_ipv6_icmpv6(void **state)
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

static void t_ipv6_sctp_gre(void **state)
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
static void t_ipv6_ext_chain(void **state)
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
static void t_ipv6_ext_limit(void **state)
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

static void t_ipv6_no_next_header(void **state)
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

static void t_ipv4_fragments(void **state)
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

static void t_ipv6_fragments(void **state)
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

static void t_malformed(void **state)
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
static void t_ethernet_padding(void **state)
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

static void t_size_buckets(void **state)
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
	struct ps_pkt full, got, w;
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

					err = test_run(prog_fd(0, h), f.buf,
						       cut, 1, &ret);
					if (err == -EINVAL) {
						note("%s: kernel refuses %zu bytes",
						     hook_name(h), cut);
						continue;
					}
					assert_int_equal(err, 0);
				}
				w = want_cut(&f, &full, hi, cut, raw);
				got = parse(h, &f);
				expect_pkt(&got, &w);

				reset();
				run_prog(0, h, f.buf, f.len);
				expect_counters_n(COUNTERS(PSTAT_TRUNCATED), cut, 1);
				/* a source only when its IP header parsed */
				assert_int_equal(all_count(0).packets,
						 w.family && w.l3 != PS_L3_ARP);
				assert_int_equal(all_count(1).packets, 0);
			}
	}
}

static void t_truncated_ipv4(void **state)
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

static void t_truncated_ipv6(void **state)
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

static void t_truncated_l2(void **state)
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
static void t_shortest_frames(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f, v6;
	struct ps_pkt w;
	size_t len;
	int ret, err, i;

	need_bpf();
	udp4(&f, 0);
	for (len = 0; len < 14; len++)
		assert_int_equal(test_run(prog_fd(0, h), f.buf, len, 1, &ret),
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
			err = test_run(prog_fd(0, h), c.buf, len, 1, &ret);
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

/* ---- tests: top sources and ports ---- */

/* counts accumulate per key, across IPv4 and IPv6, sources and ports */
static void t_top_counts(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_src_key k4 = src_key4(frame_ip4_src);
	struct pstat_src_key k6 = src_key6(frame_ip6_src);
	struct pstat_port_key p;
	struct frame a, b;
	struct pstat_val v;
	int i;

	need_bpf();
	reset();
	udp4(&a, 100);
	frame_init(&b);
	frame_eth(&b, ETH_P_IPV6);
	frame_ipv6(&b, &(struct frame_ipv6){ .nexthdr = IPPROTO_TCP });
	frame_tcp(&b, 1, 53, PS_TCP_ACK, 0);
	frame_pad(&b, 90);
	frame_finish(&b);
	for (i = 0; i < 3; i++)
		run_prog(0, h, a.buf, a.len);
	for (i = 0; i < 2; i++)
		run_prog(0, h, b.buf, b.len);

	v = src_count(&k4);
	assert_int_equal(v.packets, 3);
	assert_int_equal(v.bytes, 300);
	v = src_count(&k6);
	assert_int_equal(v.packets, 2);
	assert_int_equal(v.bytes, 180);
	/* UDP 53 and TCP 53 are different ports */
	p = port_key(IPPROTO_UDP, 53);
	v = port_count(&p);
	assert_int_equal(v.packets, 3);
	p = port_key(IPPROTO_TCP, 53);
	v = port_count(&p);
	assert_int_equal(v.packets, 2);
	assert_int_equal(v.bytes, 180);
	assert_int_equal(all_count(0).packets, 5);
	assert_int_equal(all_count(1).packets, 5);
}

/* k[0] given, k[1..n-1] become IPv4 sources in k[0]'s cache set */
static void same_set_src4(struct pstat_src_key *k, unsigned int n)
{
	unsigned int i, found = 1;

	for (i = 1; found < n && i < 1u << 24; i++) {
		uint8_t a[4] = { 203, i >> 16, i >> 8, i };

		k[found] = src_key4(a);
		if (src_set(&k[found]) == src_set(&k[0]))
			found++;
	}
	if (found < n)
		fail_msg("no %u addresses in one set", n);
}

/* the same for ports: k[1..n-1] are UDP ports in k[0]'s set */
static void same_set_ports(struct pstat_port_key *k, unsigned int n)
{
	unsigned int port, found = 1;

	for (port = 1; found < n && port < 65536; port++) {
		k[found] = port_key(IPPROTO_UDP, port);
		if (port_set(&k[found]) == port_set(&k[0]) &&
		    memcmp(&k[found], &k[0], sizeof(k[0])))
			found++;
	}
	if (found < n)
		fail_msg("no %u ports in one set", n);
}

static void send_from(enum hook h, const uint8_t src[4], unsigned int n)
{
	struct frame f;

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .src = { src[0], src[1], src[2],
						      src[3] } });
	frame_udp(&f, 1, 2);
	frame_pad(&f, 64);
	frame_finish(&f);
	while (n--)
		run_prog(0, h, f.buf, f.len);
}

/* n 64-byte frames from frame_ip4_src to port k (TCP: ACKs) */
static void send_to(enum hook h, const struct pstat_port_key *k,
		    unsigned int n)
{
	struct frame f;

	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = k->proto });
	if (k->proto == IPPROTO_TCP)
		frame_tcp(&f, 40000, k->port, PS_TCP_ACK, 0);
	else
		frame_udp(&f, 40000, k->port);
	frame_pad(&f, 64);
	frame_finish(&f);
	while (n--)
		run_prog(0, h, f.buf, f.len);
}

static __u64 skipped(int idx)
{
	struct pstat_val c[PSTAT__MAX];

	read_counters(c);
	return c[idx].packets;
}

/*
 * WAYS sources in one set, sent in turn, all keep their ways: with
 * admission off, one evicted would have gone to SRC_SKIP.
 */
static void t_top_src_set_holds_ways(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_src_key k[WAYS];
	unsigned int i, round;

	need_bpf();
	k[0] = src_key4(frame_ip4_src);
	same_set_src4(k, WAYS);
	reset();
	set_config(PSTAT_SAMPLE_OFF, 1);
	for (round = 0; round < 3; round++)
		for (i = 0; i < WAYS; i++)
			send_from(h, k[i].addr, 1);
	assert_int_equal(skipped(PSTAT_SRC_SKIP), 0);
	assert_int_equal(count_keys(env.ps->maps.top_src), 0);
	for (i = 0; i < WAYS; i++) {
		struct pstat_val v = src_count(&k[i]);

		assert_int_equal(v.packets, 3);
		assert_int_equal(v.bytes, 3 * 64);
	}
}

/*
 * A key new to a full set takes the way with the fewest packets: all ways
 * got packets since the set's previous miss, so none is idle.  The key
 * evicted goes through admission: into top_src (sample 1), or SRC_SKIP
 * (admission off).
 */
static void t_top_src_evicts_fewest(void **state)
{
	/* packets after the first, all different (up to 8 ways) */
	static const unsigned int extra[8] = { 4, 2, 1, 3, 5, 7, 6, 8 };
	enum hook h = *(enum hook *)*state;
	struct pstat_src_key k[WAYS + 1];
	unsigned int i, victim = 0, off;

	_Static_assert(WAYS <= 8, "extra[] has 8 ways");
	need_bpf();
	k[0] = src_key4(frame_ip4_src);
	same_set_src4(k, WAYS + 1);
	for (i = 1; i < WAYS; i++)
		if (extra[i] < extra[victim])
			victim = i;
	for (off = 0; off < 2; off++) {
		unsigned int gone = 1 + extra[victim];
		struct pstat_val c[PSTAT__MAX], v;

		reset();
		set_config(off ? PSTAT_SAMPLE_OFF : 1, 1);
		for (i = 0; i < WAYS; i++)
			send_from(h, k[i].addr, 1);
		for (i = 0; i < WAYS; i++)
			send_from(h, k[i].addr, extra[i]);
		send_from(h, k[WAYS].addr, 1);

		v = top_get(env.ps->maps.top_src, &k[victim]);
		assert_int_equal(v.packets, off ? 0 : gone);
		assert_int_equal(v.bytes, off ? 0 : gone * 64);
		assert_int_equal(count_keys(env.ps->maps.top_src), off ? 0 : 1);
		read_counters(c);
		assert_int_equal(c[PSTAT_SRC_SKIP].packets, off ? gone : 0);
		assert_int_equal(c[PSTAT_SRC_SKIP].bytes, off ? gone * 64 : 0);
		for (i = 0; i <= WAYS; i++) {
			unsigned int want = i == WAYS ? 1 : 1 + extra[i];

			if (i == victim && off)
				want = 0;
			assert_int_equal(src_count(&k[i]).packets, want);
		}
		/* nothing lost: counted + skipped == packets with a source */
		assert_int_equal(all_count(0).packets +
				 c[PSTAT_SRC_SKIP].packets,
				 c[PSTAT_TOTAL].packets);
	}
}

/*
 * A key with `sample` packets that got none since its set's previous miss
 * goes before a smaller key still short of `sample`: its write-back is
 * admitted for certain, so nothing is lost, and the smaller key keeps
 * piling up.  So keys that were big once do not clog a set: WAYS - 1 of
 * them, then two new sources sent in turn, 16 packets each -- the two keep
 * two ways and are counted exactly (with the fewest packets evicted, they
 * would take turns in one way, evicted after 1 packet each, 1/16 admitted).
 */
static void t_top_src_idle_goes_first(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_src_key k[WAYS + 2];
	struct pstat_val c[PSTAT__MAX], v;
	unsigned int i, n = PSTAT_SAMPLE_DEFAULT, total = 0;

	need_bpf();
	k[0] = src_key4(frame_ip4_src);
	same_set_src4(k, WAYS + 2);
	reset();
	set_config(0, 0);
	for (i = 0; i < WAYS - 1; i++) {
		send_from(h, k[i].addr, n + 4);
		total += n + 4;
	}
	for (i = 0; i < n; i++) {
		send_from(h, k[WAYS].addr, 1);
		send_from(h, k[WAYS + 1].addr, 1);
	}
	total += 2 * n;

	read_counters(c);
	assert_int_equal(c[PSTAT_SRC_SKIP].packets, 0);
	assert_int_equal(src_count(&k[WAYS]).packets, n);
	assert_int_equal(src_count(&k[WAYS + 1]).packets, n);
	/* the first big key made room, written back whole */
	v = top_get(env.ps->maps.top_src, &k[0]);
	assert_int_equal(v.packets, n + 4);
	assert_int_equal(v.bytes, (n + 4) * 64);
	for (i = 1; i < WAYS - 1; i++)
		assert_int_equal(src_count(&k[i]).packets, n + 4);
	assert_int_equal(all_count(0).packets, total);
}

/*
 * The ports of the default lab mix that share a set, TCP 443 and UDP 9,
 * and more ports of that set up to WAYS, sent in turn `sample` times each
 * (default sampling): all exact in the cache, none skipped.  Then WAYS new
 * ports of the set, one packet each, evict them one by one: each is
 * written back with `sample` packets, so admitted for certain, and exact.
 */
static void t_top_port_alternating(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_port_key k[2 * WAYS];
	unsigned int i, round, n = PSTAT_SAMPLE_DEFAULT;

	need_bpf();
	k[0] = port_key(IPPROTO_TCP, 443);
	k[1] = port_key(IPPROTO_UDP, 9);
	assert_int_equal(port_set(&k[0]), port_set(&k[1]));
	same_set_ports(&k[1], 2 * WAYS - 1);
	reset();
	set_config(0, 0);
	for (round = 0; round < n; round++)
		for (i = 0; i < WAYS; i++)
			send_to(h, &k[i], 1);
	assert_int_equal(skipped(PSTAT_PORT_SKIP), 0);
	for (i = 0; i < WAYS; i++)
		assert_int_equal(port_count(&k[i]).packets, n);

	for (i = WAYS; i < 2 * WAYS; i++)
		send_to(h, &k[i], 1);
	assert_int_equal(skipped(PSTAT_PORT_SKIP), 0);
	for (i = 0; i < WAYS; i++) {
		struct pstat_val v = top_get(env.ps->maps.top_port, &k[i]);

		assert_int_equal(v.packets, n);
		assert_int_equal(v.bytes, n * 64);
	}
	for (i = WAYS; i < 2 * WAYS; i++)
		assert_int_equal(port_count(&k[i]).packets, 1);
}

/*
 * Ports take the way with the fewest packets too, when every way got
 * packets since the set's previous miss (k[1] has 2, the others 3).
 */
static void t_top_port_evicts_fewest(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_port_key k[WAYS + 1];
	unsigned int i, off;

	need_bpf();
	k[0] = port_key(IPPROTO_UDP, 53);
	same_set_ports(k, WAYS + 1);
	for (off = 0; off < 2; off++) {
		reset();
		set_config(1, off ? PSTAT_SAMPLE_OFF : 1);
		for (i = 0; i < WAYS; i++)
			send_to(h, &k[i], 1);
		for (i = 0; i < WAYS; i++)
			send_to(h, &k[i], i == 1 ? 1 : 2);
		send_to(h, &k[WAYS], 1);

		assert_int_equal(skipped(PSTAT_PORT_SKIP), off ? 2 : 0);
		assert_int_equal(top_get(env.ps->maps.top_port, &k[1]).packets,
				 off ? 0 : 2);
		assert_int_equal(count_keys(env.ps->maps.top_port),
				 off ? 0 : 1);
		assert_int_equal(port_count(&k[1]).packets, off ? 0 : 2);
		for (i = 0; i <= WAYS; i++)
			if (i != 1)
				assert_int_equal(port_count(&k[i]).packets,
						 i == WAYS ? 1 : 3);
	}
}

/*
 * Fixed memory: 10 x as many sources as top_src holds, all admitted; the
 * map never holds more than its entries, and nothing is counted twice.
 */
static void t_top_src_flood(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct pstat_val c[PSTAT__MAX], v;
	unsigned int i, n = 10 * PSTAT_TOP_SRC_MAX, keys;
	struct frame f;

	need_bpf();
	reset();
	udp4(&f, 64);
	for (i = 0; i < n; i++) {
		/* 10.x.y.z: distinct sources */
		f.buf[26] = 10;
		f.buf[27] = i >> 16;
		f.buf[28] = i >> 8;
		f.buf[29] = i;
		run_prog(0, h, f.buf, f.len);
	}
	keys = count_keys(env.ps->maps.top_src);
	assert_true(keys <= PSTAT_TOP_SRC_MAX);
	assert_true(keys > 0);
	read_counters(c);
	assert_int_equal(c[PSTAT_TOTAL].packets, n);
	assert_int_equal(c[PSTAT_SRC_SKIP].packets, 0);
	v = all_count(0);
	/* evicted keys are gone, never duplicated */
	assert_true(v.packets <= n);
}

/* ---- tests: GRO aggregates (TC only: XDP runs before GRO) ---- */

/* run f through a TC program as an skb carrying gso_segs and gso_size */
static void run_tc_gso(int fd, const struct frame *f, __u32 segs,
		       __u32 size)
{
	struct __sk_buff ctx = { .gso_segs = segs, .gso_size = size };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->buf,
		.data_size_in = f->len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
	);

	if (bpf_prog_test_run_opts(fd, &opts))
		fail_msg("tc test_run with gso_segs %u: %s", segs,
			 strerror(errno));
	assert_int_equal((int)opts.retval, hook_pass_ret(TC));
}

/*
 * An aggregate of 3 TCP segments of 1000 payload bytes but the last (500),
 * 66 header bytes each: the wire saw 1066 + 1066 + 566 bytes, not one
 * frame of 2566.  Every counter holds 3 packets and 2698 bytes; the size
 * histogram buckets
 * the segments (2 in 1024-1518, 1 in 512-1023), not the aggregate (jumbo).
 */
static void t_gro_aggregate(void **state)
{
	const __u32 hdr = 14 + 20 + 32, wire = hdr + 2500 + 2 * hdr;
	struct pstat_val c[PSTAT__MAX];
	struct pstat_src_key sk;
	struct pstat_val v;
	struct ps_pkt got, w;
	struct frame f;
	int i;

	(void)state;
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(&f, 40000, 443, PS_TCP_ACK, 8);	/* timestamps */
	frame_payload(&f, 2500);
	frame_finish(&f);
	assert_false(f.error);
	assert_int_equal(f.len, hdr + 2500);

	run_tc_gso(prog_fd(1, TC), &f, 3, 1000);
	array_get(env.pd->maps.out, &got);
	w = want_l2(&f, ETH_P_IP, PS_L3_IPV4);
	want_ip4(&w, IPPROTO_TCP, PS_L4_TCP);
	w.tcp_flags = PS_TCP_ACK;
	w.sport = 40000;
	w.dport = 443;
	w.l4_off = 34;
	w.wire_packets = 3;
	w.wire_len = wire;
	w.wire_seg_len = hdr + 1000;
	expect_pkt(&got, &w);

	reset();
	run_tc_gso(prog_fd(0, TC), &f, 3, 1000);
	read_counters(c);
	for (i = 0; i < PSTAT__MAX; i++) {
		struct pstat_val want = { 0, 0 };

		switch (i) {
		case PSTAT_TOTAL: case PSTAT_L3_IPV4: case PSTAT_L4_TCP:
		case PSTAT_TCP_ACK:
			want.packets = 3;
			want.bytes = wire;
			break;
		case PSTAT_SIZE_1518:
			want.packets = 2;
			want.bytes = 2 * (hdr + 1000);
			break;
		case PSTAT_SIZE_1023:
			want.packets = 1;
			want.bytes = hdr + 500;
			break;
		}
		if (c[i].packets != want.packets || c[i].bytes != want.bytes)
			fail_msg("counter %s: got %llu packets %llu bytes, want %llu %llu",
				 counter_name[i],
				 (unsigned long long)c[i].packets,
				 (unsigned long long)c[i].bytes,
				 (unsigned long long)want.packets,
				 (unsigned long long)want.bytes);
	}
	check_invariants(c);
	sk = src_key4(frame_ip4_src);
	v = src_count(&sk);
	assert_int_equal(v.packets, 3);
	assert_int_equal(v.bytes, wire);
	v = port_count(&(struct pstat_port_key){ .proto = IPPROTO_TCP,
						 .port = 443 });
	assert_int_equal(v.packets, 3);
	assert_int_equal(v.bytes, wire);
}

/* gso_segs 0 or 1 (a plain skb): one packet, as at XDP */
static void t_gro_single(void **state)
{
	struct ps_pkt got;
	struct frame f;
	__u32 segs;

	(void)state;
	tcp4(&f, PS_TCP_ACK);
	for (segs = 0; segs <= 1; segs++) {
		run_tc_gso(prog_fd(1, TC), &f, segs, segs ? 1448 : 0);
		array_get(env.pd->maps.out, &got);
		assert_int_equal(got.wire_packets, 1);
		assert_int_equal(got.wire_len, f.len);
		assert_int_equal(got.wire_seg_len, 0);
	}
}

#define T(fn)	HOOK_TESTS(fn, NULL, NULL)
#define T_TC(fn)	{ TC_NAME "/" #fn, fn, NULL, NULL, &harness_hooks[TC] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_ipv4_udp),
		T(t_ipv4_options_tcp_options),
		T(t_tcp_flag_classes),
		T(t_ipv4_icmp),
		T(t_ipv4_sctp),
		T(t_ipv4_gre),
		T(t_ipv4_other_proto),
		T(t_arp),
		T(t_other_ethertype),
		T(t_vlan_8021q),
		T(t_vlan_qinq),
		T(t_vlan_three_tags),
		T(t_ipv6_udp),
		T(t_ipv6_icmpv6),
		T(t_ipv6_sctp_gre),
		T(t_ipv6_ext_chain),
		T(t_ipv6_ext_limit),
		T(t_ipv6_no_next_header),
		T(t_ipv4_fragments),
		T(t_ipv6_fragments),
		T(t_malformed),
		T(t_ethernet_padding),
		T(t_size_buckets),
		T(t_truncated_ipv4),
		T(t_truncated_ipv6),
		T(t_truncated_l2),
		T(t_shortest_frames),
		T(t_top_counts),
		T(t_top_src_set_holds_ways),
		T(t_top_src_evicts_fewest),
		T(t_top_src_idle_goes_first),
		T(t_top_port_alternating),
		T(t_top_port_evicts_fewest),
		T(t_top_src_flood),
		T_TC(t_gro_aggregate),
		T_TC(t_gro_single),
	};

	load_bpf();
	return run_hook_tests("proto_stats", tests, group_teardown);
}
