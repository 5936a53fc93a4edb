// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the shaping object (bpf/shaping.bpf.c), every
 * case once through the XDP and once through the TC entry point.
 *
 * The time is injected: config.clock_ns, when non-zero, is what the program
 * takes for "now" instead of the hook's coarse clock (shaping.h).  Each case
 * but real_clock sets it, so the bucket arithmetic is exact and the same on every run: a
 * case says how many packets of a burst pass, to the packet, and how many
 * more pass after the clock moves by a given number of nanoseconds.  The
 * slack (one coarse tick added to the tolerance) is 0 here unless a case
 * sets it.
 *
 * Needs root and BPF; skipped without, failed with PKTSCOPE_REQUIRE_BPF=1.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include <pktscope/bpf/parse.h>
#include <pktscope/plugin.h>
#include "shaping.h"
#include "shaping.skel.h"

#define XDP_DROP_RET	1
#define TC_SHOT_RET	2
#define TC_REDIRECT_RET	7
#define T0		(1000ULL * NSEC)	/* the clock at the start */
#define UNMATCHED	SHP_RULES_MAX		/* counters' key for no rule */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static struct {
	struct shaping *sk;
	__u64 now;
} env;

static void env_setup(void)
{
	if (!harness_setup())
		return;
	int r;

	env.sk = shaping__open();
	if (env.sk) {
		/* the core's clock, as every attach has it */
		r = ps_bpf_set_clock(env.sk->obj);
		if (!r)
			r = shaping__load(env.sk);
		if (r) {
			shaping__destroy(env.sk);
			env.sk = NULL;
			errno = r < 0 ? -r : r;
		}
	}
	harness_loaded(env.sk, "shaping.bpf.o");
}

static int group_teardown(void **state)
{
	(void)state;
	shaping__destroy(env.sk);
	return 0;
}

static enum hook hook_of(void **state)
{
	return *(enum hook *)*state;
}

static int prog_fd(enum hook h)
{
	return hook_prog_fd(h, env.sk->progs.shp_xdp, env.sk->progs.shp_tc);
}

/* ---- maps ---- */

static struct shp_config get_config(void)
{
	struct shp_config c;

	array_get(env.sk->maps.config, &c);
	return c;
}

static void set_clock(__u64 now)
{
	struct shp_config c = get_config();

	env.now = now;
	c.clock_ns = now;
	array_set(env.sk->maps.config, &c);
}

static void advance(__u64 ns)
{
	set_clock(env.now + ns);
}

/*
 * The evaluation order, slots as given, with the match tables of the rules
 * in it (put the rules first, as the plugin does).
 */
static void set_order(int n, ...)
{
	static struct shp_rule all[SHP_RULES_MAX];
	static __u32 keys[SHP_PORTS], bits[SHP_PORTS];
	struct shp_config c = get_config();
	__u32 count = SHP_PORTS;
	va_list ap;

	memset(all, 0, sizeof(all));
	for (__u32 s = 0; s < SHP_RULES_MAX; s++)
		shp_config_set_slot(&c, s, NULL);
	va_start(ap, n);
	c.n = n;
	for (int i = 0; i < n; i++) {
		__u32 slot = (__u32)va_arg(ap, int);

		assert_int_equal(bpf_map_lookup_elem(
			bpf_map__fd(env.sk->maps.rules), &slot, &all[slot]), 0);
		c.order[i] = (__u8)slot;
		if (all[slot].id)
			shp_config_set_slot(&c, slot, &all[slot]);
	}
	va_end(ap);
	for (__u32 p = 0; p < SHP_PORTS; p++) {
		keys[p] = p;
		bits[p] = shp_port_bits(all, p);
	}
	assert_int_equal(bpf_map_update_batch(bpf_map__fd(env.sk->maps.ports),
					      keys, bits, &count, NULL), 0);
	array_set(env.sk->maps.config, &c);
}

static void put_rule(__u32 slot, const struct shp_rule *r)
{
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.sk->maps.rules),
					     &slot, r, 0), 0);
}

/* a rule with no match filter and the given limit */
static struct shp_rule rule(__u32 id, __u64 rate, int pps, __u64 burst)
{
	struct shp_rule r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.sport_hi = 0xffff;
	r.dport_hi = 0xffff;
	shp_rule_set_rate(&r, rate, pps, burst, 0);
	shp_rule_set_prefix(&r, 32, 128);
	return r;
}

static struct shp_counters counters(__u32 slot)
{
	struct shp_counters c;

	assert_int_equal(percpu_sum(env.sk->maps.counters, &slot, &c), 0);
	return c;
}

static void zero_all(struct bpf_map *m, size_t vsize, int percpu)
{
	size_t n = percpu ? vsize * harness.ncpus : vsize;
	void *z = calloc(1, n);

	assert_non_null(z);
	for (__u32 k = 0; k < bpf_map__max_entries(m); k++)
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(m), &k, z, 0),
				 0);
	free(z);
}

static int case_setup(void **state)
{
	struct shp_config c;

	(void)state;
	if (harness.why[0])
		return 0;
	zero_all(env.sk->maps.rules, sizeof(struct shp_rule), 0);
	zero_all(env.sk->maps.buckets, sizeof(struct shp_bucket), 0);
	zero_all(env.sk->maps.counters, sizeof(struct shp_counters), 1);
	clear_map(env.sk->maps.sources);
	memset(&c, 0, sizeof(c));
	array_set(env.sk->maps.config, &c);
	set_clock(T0);
	return 0;
}

static int case_teardown(void **state)
{
	(void)state;
	return 0;
}

/* ---- frames ---- */

/*
 * len is the IP packet's length, what the rates and counters count
 * (shaping.h): the frame is an Ethernet header longer.
 */

static void udp4(struct frame *f, const uint8_t src[4], uint16_t dport,
		 size_t len)
{
	struct frame_ipv4 ip = { .proto = IPPROTO_UDP };

	if (src)
		memcpy(ip.src, src, 4);
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &ip);
	frame_udp(f, 40000, dport);
	frame_pad(f, ETH_HLEN + len);
	frame_finish(f);
	assert_false(f->error);
	assert_int_equal(f->len, ETH_HLEN + len);
}

static void udp6(struct frame *f, const uint8_t src[16], size_t len)
{
	struct frame_ipv6 ip = { .nexthdr = IPPROTO_UDP };

	memcpy(ip.src, src, 16);
	frame_init(f);
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, &ip);
	frame_udp(f, 40000, 53);
	frame_pad(f, ETH_HLEN + len);
	frame_finish(f);
	assert_false(f->error);
}

static void tcp4(struct frame *f, uint8_t flags, uint16_t dport)
{
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 40000, dport, flags, 5);
	frame_pad(f, ETH_HLEN + 64);
	frame_finish(f);
	assert_false(f->error);
}

/* ---- running ---- */

enum out { PASS, DROP, REDIRECT };

static enum out run1(enum hook h, const struct frame *f)
{
	int ret = 0, err = test_run(prog_fd(h), f->buf, f->len, 1, &ret);

	if (err)
		fail_msg("%s test_run: %s", hook_name(h), strerror(-err));
	if (ret == hook_pass_ret(h))
		return PASS;
	if (ret == (h == XDP ? XDP_DROP_RET : TC_SHOT_RET))
		return DROP;
	if (h == TC && ret == TC_REDIRECT_RET)
		return REDIRECT;
	fail_msg("%s returned %d", hook_name(h), ret);
	return DROP;
}

/* n runs of f; how many passed */
static unsigned int passes(enum hook h, const struct frame *f, unsigned int n)
{
	unsigned int p = 0;

	for (unsigned int i = 0; i < n; i++)
		p += run1(h, f) == PASS;
	return p;
}

static void expect_counts(__u32 slot, __u64 passed, __u64 dropped,
			  __u64 bytes_each)
{
	struct shp_counters c = counters(slot);
	int bad = 0;

	bad += field_differs("passed_packets", c.passed_packets, passed);
	bad += field_differs("dropped_packets", c.dropped_packets, dropped);
	bad += field_differs("passed_bytes", c.passed_bytes,
			     passed * bytes_each);
	bad += field_differs("dropped_bytes", c.dropped_bytes,
			     dropped * bytes_each);
	if (bad)
		fail_msg("slot %u: %d counter(s) wrong", slot, bad);
}

/* ---- cases ---- */

/*
 * 8 Mbit/s is one byte a microsecond: a 1000-byte frame costs exactly
 * 1 ms, a 10000-byte burst holds ten of them.
 */
static void burst_exact(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 8000000, 0, 10000);
	struct frame f;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, NULL, 53, 1000);
	for (int i = 0; i < 10; i++)
		assert_int_equal(run1(h, &f), PASS);
	for (int i = 0; i < 10; i++)
		assert_int_equal(run1(h, &f), DROP);
	expect_counts(0, 10, 10, 1000);
	expect_counts(UNMATCHED, 0, 0, 0);
}

static void refill_exact(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 8000000, 0, 10000);
	struct frame f;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, NULL, 53, 1000);
	assert_int_equal(passes(h, &f, 20), 10);
	advance(3000000);		/* three frames' worth */
	assert_int_equal(passes(h, &f, 5), 3);
	advance(500000);		/* half a frame: nothing */
	assert_int_equal(passes(h, &f, 2), 0);
	advance(500000);
	assert_int_equal(passes(h, &f, 2), 1);
	/* a smaller frame fits what a bigger one could not */
	advance(400000);
	udp4(&f, NULL, 53, 1000);
	assert_int_equal(passes(h, &f, 1), 0);
	udp4(&f, NULL, 53, 400);
	assert_int_equal(passes(h, &f, 2), 1);
}

/*
 * After any idle time the bucket holds its burst, never more, never a
 * wrapped-around little: Cilium's multiplication overflows after ~15 s
 * at 10 Gbit/s.  Idle times of 20 s, a year and 2^62 ns.
 */
static void long_idle(void **state)
{
	static const __u64 idle[] = {
		20ULL * NSEC, 365ULL * 86400 * NSEC, 1ULL << 62,
	};
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 10000000000ULL, 0, 64 * 1000);
	struct frame f;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, NULL, 53, 1000);
	assert_int_equal(passes(h, &f, 100), 64);
	for (size_t i = 0; i < ARRAY_SIZE(idle); i++) {
		set_clock(T0 + idle[i]);
		assert_int_equal(passes(h, &f, 100), 64);
	}
}

/* 1000 packets/s: one a millisecond, whatever their size */
static void pps_exact(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1000, 1, 5);
	struct frame small, big;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&small, NULL, 53, 64);
	udp4(&big, NULL, 53, 1500);
	assert_int_equal(passes(h, &small, 3) + passes(h, &big, 7), 5);
	advance(1000000);
	assert_int_equal(passes(h, &big, 3), 1);
	advance(999999);
	assert_int_equal(passes(h, &small, 1), 0);
	advance(1);
	assert_int_equal(passes(h, &small, 1), 1);
	advance(100ULL * 1000000);	/* 100 packets' worth: the burst */
	assert_int_equal(passes(h, &small, 20), 5);
}

/* bit/s charge bytes: one burst takes few big frames or many small ones */
static void bits_by_size(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 80000000, 0, 15000); /* 100 ns a byte */
	struct frame small, big;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&small, NULL, 53, 100);
	udp4(&big, NULL, 53, 1500);
	assert_int_equal(passes(h, &big, 20), 10);
	advance(1500ULL * 100);
	assert_int_equal(passes(h, &small, 20), 15);
	/*
	 * A rate that is no whole number of ns a byte, 3 Mbit/s (2666.67 ns
	 * a byte, kept as 2666 + a 32-bit fraction): over one second in 1 ms
	 * steps, 100-byte frames get the burst (30) and 3750 more, exactly.
	 */
	r = rule(2, 3000000, 0, 3000);
	put_rule(0, &r);
	zero_all(env.sk->maps.buckets, sizeof(struct shp_bucket), 0);
	unsigned int got = passes(h, &small, 40);

	assert_int_equal(got, 30);
	for (int ms = 0; ms < 1000; ms++) {
		advance(1000000);
		got += passes(h, &small, 4);
	}
	assert_int_equal(got, 30 + 3750);
}

static const uint8_t A[4] = { 10, 0, 0, 1 }, B[4] = { 10, 0, 0, 2 },
	C[4] = { 10, 0, 1, 1 };

/* each source its own bucket; with prefix 24 one bucket a /24 */
static void per_source(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(7, 1, 1, 2);
	struct frame fa, fb, fc;
	struct shp_src_key k = { .rule_id = 7, .family = 2 };
	struct shp_src s;

	need_bpf();
	r.flags |= SHP_F_PER_SOURCE;
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&fa, A, 53, 64);
	udp4(&fb, B, 53, 64);
	udp4(&fc, C, 53, 64);
	assert_int_equal(passes(h, &fa, 5), 2);
	assert_int_equal(passes(h, &fb, 5), 2);
	assert_int_equal(passes(h, &fa, 5), 0);
	assert_int_equal(count_keys(env.sk->maps.sources), 2);
	memcpy(k.addr, A, 4);
	assert_int_equal(bpf_map_lookup_elem(
		bpf_map__fd(env.sk->maps.sources), &k, &s), 0);
	assert_int_equal(s.passed_packets, 2);
	assert_int_equal(s.passed_bytes, 128);
	expect_counts(0, 4, 11, 64);

	/* a /24 per source: A and B share, C has its own */
	case_setup(NULL);
	shp_rule_set_prefix(&r, 24, 128);
	put_rule(0, &r);
	set_order(1, 0);
	assert_int_equal(passes(h, &fa, 1) + passes(h, &fb, 5), 2);
	assert_int_equal(passes(h, &fc, 5), 2);
	assert_int_equal(count_keys(env.sk->maps.sources), 2);
}

static void per_source_v6(void **state)
{
	static const uint8_t s1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
					0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t s2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
					0, 0, 0, 0, 0, 0, 0, 2 };
	static const uint8_t s3[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2,
					0, 0, 0, 0, 0, 0, 0, 1 };
	enum hook h = hook_of(state);
	struct shp_rule r = rule(3, 10, 1, 3);
	struct frame f1, f2, f3;

	need_bpf();
	r.flags |= SHP_F_PER_SOURCE;
	put_rule(0, &r);
	set_order(1, 0);
	udp6(&f1, s1, 80);
	udp6(&f2, s2, 80);
	udp6(&f3, s3, 80);
	assert_int_equal(passes(h, &f1, 5), 3);
	assert_int_equal(passes(h, &f2, 5), 3);
	case_setup(NULL);
	shp_rule_set_prefix(&r, 32, 64);
	put_rule(0, &r);
	set_order(1, 0);
	assert_int_equal(passes(h, &f1, 5) + passes(h, &f2, 5), 3);
	assert_int_equal(passes(h, &f3, 5), 3);
}

/* the first rule of the order that matches decides; no match passes */
static void first_match(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule web = rule(1, 1, 1, 1), all = rule(2, 1000, 1, 1000);
	struct frame f80, f53;

	need_bpf();
	web.dport_lo = web.dport_hi = 80;
	put_rule(3, &web);
	put_rule(9, &all);
	udp4(&f80, NULL, 80, 64);
	udp4(&f53, NULL, 53, 64);
	/* `all` first: port 80 never reaches the 1-packet rule */
	set_order(2, 9, 3);
	assert_int_equal(passes(h, &f80, 5), 5);
	expect_counts(9, 5, 0, 64);
	expect_counts(3, 0, 0, 64);
	/* `web` first: port 80 stops there, port 53 goes on to `all` */
	set_order(2, 3, 9);
	assert_int_equal(passes(h, &f80, 5), 1);
	assert_int_equal(passes(h, &f53, 2), 2);
	expect_counts(3, 1, 4, 64);
	expect_counts(9, 7, 0, 64);
	/* only `web`: port 53 matches nothing and passes, counted apart */
	set_order(1, 3);
	assert_int_equal(passes(h, &f53, 3), 3);
	expect_counts(UNMATCHED, 3, 0, 64);
	/* a slot in the order that was freed is skipped */
	memset(&web, 0, sizeof(web));
	put_rule(3, &web);
	set_order(2, 3, 9);
	assert_int_equal(passes(h, &f80, 3), 3);
	expect_counts(9, 10, 0, 64);
}

/* syn: TCP SYN without ACK only */
static void syn_match(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 20, 1, 1);
	struct frame syn, synack, ack, udp;

	need_bpf();
	r.flags |= SHP_F_SYN;
	put_rule(0, &r);
	set_order(1, 0);
	tcp4(&syn, PS_TCP_SYN, 443);
	tcp4(&synack, PS_TCP_SYN | PS_TCP_ACK, 443);
	tcp4(&ack, PS_TCP_ACK, 443);
	udp4(&udp, NULL, 443, 64);
	assert_int_equal(passes(h, &syn, 3), 1);
	assert_int_equal(passes(h, &synack, 3), 3);
	assert_int_equal(passes(h, &ack, 3), 3);
	assert_int_equal(passes(h, &udp, 3), 3);
	expect_counts(0, 1, 2, 64);
	expect_counts(UNMATCHED, 9, 0, 64);
	/* 20 a second: the next one 50 ms later */
	advance(50000000 - 1);
	assert_int_equal(passes(h, &syn, 1), 0);
	advance(1);
	assert_int_equal(passes(h, &syn, 1), 1);
}

/*
 * Only IP packets whose IP header parsed go to the rules, even to one that
 * takes every IP packet: not ARP (which sets the addresses too), another
 * EtherType or an IPv4 header cut short.
 */
static void not_ip(void **state)
{
	static const uint8_t sip[4] = { 192, 0, 2, 1 }, tip[4] = { 192, 0, 2, 2 };
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1, 1, 1);
	struct frame arp, other, cut;

	need_bpf();
	put_rule(0, &r);
	set_order(1, 0);
	frame_init(&arp);
	frame_eth(&arp, ETH_P_ARP);
	frame_arp(&arp, 1, sip, tip);
	frame_pad(&arp, ETH_HLEN + 64);
	frame_finish(&arp);
	frame_init(&other);
	frame_eth(&other, 0x88b5);	/* local experimental */
	frame_pad(&other, ETH_HLEN + 64);
	frame_finish(&other);
	frame_init(&cut);
	frame_eth(&cut, ETH_P_IP);
	frame_ipv4(&cut, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					       .tot_len = 200 });
	frame_udp(&cut, 40000, 53);
	frame_pad(&cut, ETH_HLEN + 64);
	frame_finish(&cut);
	assert_false(arp.error || other.error || cut.error);
	assert_int_equal(passes(h, &arp, 3), 3);
	assert_int_equal(passes(h, &other, 3), 3);
	assert_int_equal(passes(h, &cut, 3), 3);
	expect_counts(0, 0, 0, 64);
	expect_counts(UNMATCHED, 9, 0, 64);
}

/* src, not-src, proto and port ranges */
static void match_fields(void **state)
{
	static const uint8_t net[4] = { 10, 0, 0, 0 }, b[4] = { 10, 0, 0, 2 };
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1, 1, 1);
	struct frame fa, fb, fc, tcp, p;

	need_bpf();
	assert_int_equal(shp_rule_add_net(&r, 0, 2, net, 24), 0);
	assert_int_equal(shp_rule_add_net(&r, 1, 2, b, 32), 0);
	r.flags |= SHP_F_PROTO;
	r.proto = IPPROTO_UDP;
	r.dport_lo = 1000;
	r.dport_hi = 2000;
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&fa, A, 1500, 64);		/* matches */
	udp4(&fb, B, 1500, 64);		/* not-src */
	udp4(&fc, C, 1500, 64);		/* outside src */
	tcp4(&tcp, PS_TCP_ACK, 1500);	/* proto */
	udp4(&p, A, 999, 64);		/* port */
	assert_int_equal(passes(h, &fb, 2) + passes(h, &fc, 2) +
			 passes(h, &tcp, 2) + passes(h, &p, 2), 8);
	expect_counts(0, 0, 0, 64);
	assert_int_equal(passes(h, &fa, 3), 1);
	expect_counts(0, 1, 2, 64);
}

/*
 * The match tables decide protocol, destination port and syn without
 * reading a rule: a dport rule never takes a packet without ports (ICMP,
 * a later fragment), whatever its dport field holds; sport, which the
 * tables leave to shp_match(), still decides.
 */
static void match_tables(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule dns = rule(1, 1, 1, 1), zero = rule(2, 1, 1, 1),
		from = rule(3, 1, 1, 1);
	struct frame d53, d54, t53, icmp, later, s1, s2;

	need_bpf();
	dns.flags |= SHP_F_PROTO;
	dns.proto = IPPROTO_UDP;
	dns.dport_lo = dns.dport_hi = 53;
	zero.dport_lo = zero.dport_hi = 0;	/* port 0: not "no port" */
	from.sport_lo = from.sport_hi = 41000;
	put_rule(4, &dns);
	put_rule(1, &zero);
	put_rule(30, &from);
	set_order(3, 4, 1, 30);
	udp4(&d53, NULL, 53, 64);
	udp4(&d54, NULL, 54, 64);
	tcp4(&t53, PS_TCP_ACK, 53);
	frame_init(&icmp);
	frame_eth(&icmp, ETH_P_IP);
	frame_ipv4(&icmp, &(struct frame_ipv4){ .proto = IPPROTO_ICMP });
	frame_icmp(&icmp, 8, 0);
	frame_pad(&icmp, ETH_HLEN + 64);
	frame_finish(&icmp);
	frame_init(&later);
	frame_eth(&later, ETH_P_IP);
	frame_ipv4(&later, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
						 .frag = 100 });
	frame_pad(&later, ETH_HLEN + 64);
	frame_finish(&later);
	assert_false(icmp.error || later.error);
	/* one packet each rule's burst: the second of a kind is dropped */
	assert_int_equal(passes(h, &d53, 2), 1);
	assert_int_equal(passes(h, &d54, 2) + passes(h, &t53, 2) +
			 passes(h, &icmp, 2) + passes(h, &later, 2), 8);
	expect_counts(4, 1, 1, 64);
	expect_counts(1, 0, 0, 64);
	expect_counts(30, 0, 0, 64);
	/* sport 41000 matches `from`; 40000 (the frames' sport) does not */
	frame_init(&s1);
	frame_eth(&s1, ETH_P_IP);
	frame_ipv4(&s1, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(&s1, 41000, 54);
	frame_pad(&s1, ETH_HLEN + 64);
	frame_finish(&s1);
	s2 = s1;
	assert_int_equal(passes(h, &s1, 2), 1);
	expect_counts(30, 1, 1, 64);
	/* and port 0 is a port: `zero` takes a UDP packet to port 0 */
	udp4(&s2, NULL, 0, 64);
	assert_int_equal(passes(h, &s2, 2), 1);
	expect_counts(1, 1, 1, 64);
}

/*
 * The kernel's clock, not an injected one: the core's (ps_bpf_set_clock()).
 * 100 packets/s and a burst of 2: the burst passes, the next is dropped,
 * and 60 ms later (six packets' worth) the bucket has refilled.
 */
static void real_clock(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r;
	struct shp_config c;
	struct frame f;

	need_bpf();
	assert_true(env.sk->rodata_ps_clock->ps_clock.tick_ns ==
		    ps_coarse_tick_ns());
	c = get_config();
	c.clock_ns = 0;
	array_set(env.sk->maps.config, &c);
	r = rule(1, 100, 1, 2);
	shp_rule_set_rate(&r, 100, 1, 2, ps_coarse_tick_ns());
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, NULL, 53, 64);
	/*
	 * The tolerance is the burst and one tick: 2 pass, a third only if
	 * the test run took two ticks (a busy machine)
	 */
	unsigned int first = passes(h, &f, 10), second;

	assert_in_range(first, 2, 3);
	usleep(60000);
	second = passes(h, &f, 10);
	assert_in_range(second, 2, 3);
	expect_counts(0, first + second, 20 - first - second, 64);
}

/* ---- two CPUs on one bucket ---- */

struct cpu_run {
	int cpu, fd;
	const struct frame *f;
	__u32 repeat;
	int err;
};

static void *run_on_cpu(void *arg)
{
	struct cpu_run *c = arg;
	cpu_set_t set;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = c->f->buf,
		    .data_size_in = c->f->len, .repeat = c->repeat);

	CPU_ZERO(&set);
	CPU_SET(c->cpu, &set);
	c->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (!c->err && bpf_prog_test_run_opts(c->fd, &o))
		c->err = errno;
	return NULL;
}

/* f0 run repeat times on CPU 0 and f1 on CPU 1, at once */
static void run_two_cpus2(enum hook h, const struct frame *f0,
			  const struct frame *f1, __u32 repeat)
{
	struct cpu_run c[2];
	pthread_t t[2];

	for (int i = 0; i < 2; i++) {
		c[i] = (struct cpu_run){ i, prog_fd(h), i ? f1 : f0, repeat,
					 0 };
		assert_int_equal(pthread_create(&t[i], NULL, run_on_cpu,
						&c[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].err, 0);
	}
}

/* f on both */
static void run_two_cpus(enum hook h, const struct frame *f, __u32 repeat)
{
	run_two_cpus2(h, f, f, repeat);
}

/*
 * Two CPUs hammer one bucket at a standing clock: exactly the burst gets
 * through, never more (over-admission 0, where the issue allows 1%).
 */
static void two_cpus_one_bucket(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1000, 1, 2000);
	struct frame f;

	need_bpf();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, NULL, 53, 64);
	run_two_cpus(h, &f, 20000);
	expect_counts(0, 2000, 38000, 64);
}

/* the same on one source's entry of a per-source rule (an LRU map) */
static void two_cpus_one_source(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1000, 1, 2000);
	struct shp_src_key k = { .rule_id = 1, .family = 2 };
	struct shp_src src;
	struct frame f;

	need_bpf();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	r.flags |= SHP_F_PER_SOURCE;
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&f, A, 53, 64);
	run_two_cpus(h, &f, 20000);
	expect_counts(0, 2000, 38000, 64);
	memcpy(k.addr, A, 4);
	assert_int_equal(bpf_map_lookup_elem(
		bpf_map__fd(env.sk->maps.sources), &k, &src), 0);
	assert_int_equal(src.passed_packets, 2000);
	assert_int_equal(count_keys(env.sk->maps.sources), 1);
}

/* shape: TC redirects with the class set; XDP cannot and passes */
static void shape_redirect(void **state)
{
	enum hook h = hook_of(state);
	struct shp_rule r = rule(1, 1000000, 0, 100000);
	struct shp_config c;
	struct frame fa, fb, fc;
	struct shp_src_key k = { .rule_id = 1, .family = 2 };
	struct shp_src s;
	int fd = bpf_map__fd(env.sk->maps.sources);

	need_bpf();
	r.action = SHP_ACT_SHAPE;
	r.classid = SHP_CLASSID(SHP_RULE_MINOR(0));
	put_rule(0, &r);
	set_order(1, 0);
	udp4(&fa, A, 53, 64);
	/* no IFB yet: passes */
	assert_int_equal(run1(h, &fa), PASS);
	c = get_config();
	c.ifb_ifindex = 1;
	array_set(env.sk->maps.config, &c);
	assert_int_equal(run1(h, &fa), h == TC ? REDIRECT : PASS);
	/* fair: each new source the next of the rule's classes */
	r.flags |= SHP_F_FAIR;
	put_rule(0, &r);
	udp4(&fb, B, 53, 64);
	udp4(&fc, C, 53, 64);
	run1(h, &fa);
	run1(h, &fb);
	run1(h, &fc);
	run1(h, &fa);
	if (h == XDP) {
		assert_int_equal(count_keys(env.sk->maps.sources), 0);
		expect_counts(0, 6, 0, 64);
		return;
	}
	memcpy(k.addr, A, 4);
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &s), 0);
	assert_int_equal(s.fair_class, 0);
	assert_int_equal(s.passed_packets, 2);
	memcpy(k.addr, C, 4);
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &s), 0);
	assert_int_equal(s.fair_class, 2);
	struct shp_counters n = counters(0);
	assert_int_equal(n.queued_packets, 5);
	assert_int_equal(n.passed_packets, 1);
}

/* ---- fair: which class each source's packets go to ---- */

#define FAIR_SLOT	0
#define FAIR_SOURCES	40

static struct frame fair_src[FAIR_SOURCES];	/* from 10.1.0.i */

/* a fair rule in FAIR_SLOT, an IFB, and the frames of fair_src[] */
static void fair_setup(void)
{
	struct shp_rule r = rule(1, 1000000, 0, 100000);
	struct shp_config c;

	r.action = SHP_ACT_SHAPE;
	r.flags |= SHP_F_FAIR;
	r.classid = SHP_CLASSID(SHP_RULE_MINOR(FAIR_SLOT));
	put_rule(FAIR_SLOT, &r);
	set_order(1, FAIR_SLOT);
	c = get_config();
	c.ifb_ifindex = 1;
	array_set(env.sk->maps.config, &c);
	for (int i = 0; i < FAIR_SOURCES; i++)
		udp4(&fair_src[i], (const uint8_t[4]){ 10, 1, 0, (uint8_t)i },
		     53, 64);
}

/*
 * One packet of source i through the TC entry: it must be redirected,
 * and its class (skb->priority, as the program left it) one of the
 * rule's children; which one, 0 .. SHP_FAIR_CLASSES - 1.
 */
static unsigned int fair_send(int i)
{
	struct __sk_buff ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fair_src[i].buf,
		    .data_size_in = fair_src[i].len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);
	__u32 first = SHP_CLASSID(SHP_FAIR_MINOR(FAIR_SLOT, 0));

	assert_int_equal(bpf_prog_test_run_opts(prog_fd(TC), &o), 0);
	assert_int_equal(o.retval, TC_REDIRECT_RET);
	assert_in_range(ctx.priority, first, first + SHP_FAIR_CLASSES - 1);
	return ctx.priority - first;
}

/* sources from..to-1 send one packet each, 1 ms apart: their classes */
static void fair_round(int from, int to, unsigned int *cls)
{
	for (int i = from; i < to; i++) {
		advance(1000000);
		cls[i] = fair_send(i);
	}
}

/* the sources in idx[0..n-1] were given n different classes */
static void expect_distinct(const unsigned int *cls, const int *idx, int n)
{
	unsigned int seen = 0;

	for (int j = 0; j < n; j++) {
		if (seen & (1U << cls[idx[j]]))
			fail_msg("source %d shares class %u", idx[j],
				 cls[idx[j]]);
		seen |= 1U << cls[idx[j]];
	}
}

/* XDP cannot redirect: a fair rule passes there, with no source made */
static int fair_xdp(enum hook h)
{
	if (h != XDP)
		return 0;
	fair_setup();
	assert_int_equal(passes(h, &fair_src[0], 3), 3);
	assert_int_equal(count_keys(env.sk->maps.sources), 0);
	return 1;
}

/*
 * 20 sources each send once, in turn, and fall silent; later two, then
 * four of them send together, among them the first and the seventeenth,
 * which a class handed to each new source in turn put together: active
 * sources have classes of their own, however many were seen before.
 */
static void fair_after_idle(void **state)
{
	static const int four[] = { 1, 17, 2, 18 };
	enum hook h = hook_of(state);
	unsigned int cls[FAIR_SOURCES], a, b;
	struct shp_counters n;

	need_bpf();
	if (fair_xdp(h))
		return;
	fair_setup();
	fair_round(0, 20, cls);
	advance(2ULL * NSEC);
	for (int round = 0; round < 5; round++) {
		advance(1000000);
		a = fair_send(0);
		b = fair_send(16);

		if (a == b)
			fail_msg("round %d: sources 0 and 16 share class %u",
				 round, a);
		/* and they keep their classes while they send */
		if (round && (a != cls[0] || b != cls[16]))
			fail_msg("round %d: a source changed class", round);
		cls[0] = a;
		cls[16] = b;
	}
	advance(2ULL * NSEC);
	for (int round = 0; round < 3; round++)
		for (size_t j = 0; j < ARRAY_SIZE(four); j++)
			cls[four[j]] = fair_send(four[j]);
	expect_distinct(cls, four, ARRAY_SIZE(four));
	/* every packet counted, queued, whatever its class */
	n = counters(FAIR_SLOT);

	assert_int_equal(n.queued_packets, 20 + 10 + 12);
	assert_int_equal(n.queued_bytes, (20 + 10 + 12) * 64);
	assert_int_equal(n.passed_packets + n.dropped_packets, 0);
}

/* 16 sources sending together get the 16 classes, one each */
static void fair_sixteen(void **state)
{
	enum hook h = hook_of(state);
	unsigned int cls[FAIR_SOURCES], first[FAIR_SOURCES];
	int idx[SHP_FAIR_CLASSES];

	need_bpf();
	if (fair_xdp(h))
		return;
	fair_setup();
	fair_round(0, 20, cls);
	advance(2ULL * NSEC);
	/* 0-3 and 16-19 (seen before), 20-27 (new) */
	for (int j = 0; j < SHP_FAIR_CLASSES; j++)
		idx[j] = j < 4 ? j : 12 + j;
	for (int round = 0; round < 4; round++) {
		for (int j = 0; j < SHP_FAIR_CLASSES; j++) {
			advance(1000000);
			cls[idx[j]] = fair_send(idx[j]);
		}
		expect_distinct(cls, idx, SHP_FAIR_CLASSES);
		if (!round)
			memcpy(first, cls, sizeof(cls));
		for (int j = 0; j < SHP_FAIR_CLASSES; j++)
			if (cls[idx[j]] != first[idx[j]])
				fail_msg("round %d: source %d moved", round,
					 idx[j]);
	}
}

/*
 * 20 send together, 1 ms apart, round after round: no class changes
 * hands while its owner sends.  The first 16 keep theirs; the four more
 * share one each, the same every round (a class taken from a sender
 * would move that sender's packets, and its TCP's, between queues).
 */
static void fair_more_than_sixteen(void **state)
{
	enum hook h = hook_of(state);
	unsigned int cls[FAIR_SOURCES], first[FAIR_SOURCES];
	int idx[SHP_FAIR_CLASSES];

	need_bpf();
	if (fair_xdp(h))
		return;
	fair_setup();
	for (int j = 0; j < SHP_FAIR_CLASSES; j++)
		idx[j] = j;
	for (int round = 0; round < 6; round++) {
		fair_round(0, 20, cls);
		if (!round) {
			expect_distinct(cls, idx, SHP_FAIR_CLASSES);
			memcpy(first, cls, sizeof(cls));
		}
		for (int i = 0; i < 20; i++)
			if (cls[i] != first[i])
				fail_msg("round %d: source %d moved from class %u to %u",
					 round, i, first[i], cls[i]);
	}
}

/*
 * 16 send; 0 and then 1 fall silent while the others go on; a new
 * source takes the class that has gone unused the longest, 0's; when 0
 * comes back it takes 1's, idle too, and shares with no one.
 */
static void fair_return(void **state)
{
	enum hook h = hook_of(state);
	unsigned int cls[FAIR_SOURCES], c0, c1;
	int now[SHP_FAIR_CLASSES];	/* who sends at the end: 2-15, 30, 0 */
	struct shp_src_key k = { .rule_id = 1, .family = 2,
				 .addr = { 10, 1, 0, 0 } };
	struct shp_src s;

	need_bpf();
	if (fair_xdp(h))
		return;
	fair_setup();
	fair_round(0, 16, cls);
	c0 = cls[0];
	c1 = cls[1];
	fair_round(1, 16, cls);
	for (int t = 0; t < 20; t++) {	/* 2 s; 0 and 1 silent */
		advance(100000000);
		fair_round(2, 16, cls);
	}
	cls[30] = fair_send(30);
	assert_int_equal(cls[30], c0);
	cls[0] = fair_send(0);
	assert_int_equal(cls[0], c1);
	for (int j = 0; j < SHP_FAIR_CLASSES - 2; j++)
		now[j] = j + 2;
	now[SHP_FAIR_CLASSES - 2] = 30;
	now[SHP_FAIR_CLASSES - 1] = 0;
	fair_round(2, 16, cls);
	expect_distinct(cls, now, SHP_FAIR_CLASSES);
	/* the source entry says where its last packet went */
	assert_int_equal(bpf_map_lookup_elem(
		bpf_map__fd(env.sk->maps.sources), &k, &s), 0);
	assert_int_equal(s.fair_class, c1);
}

/*
 * Two new sources, one on each CPU at once: they end in classes of their
 * own and every packet is counted, in the rule and in its source.  (The
 * two claims rarely meet within the few ns where the compare-and-swap
 * matters: a plain store instead passed this too.)
 */
static void fair_two_cpus(void **state)
{
	enum hook h = hook_of(state);
	struct shp_src_key k = { .rule_id = 1, .family = 2,
				 .addr = { 10, 1, 0, 0 } };
	struct shp_src s;
	unsigned int a, b;

	need_bpf();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	if (fair_xdp(h))
		return;
	for (int round = 0; round < 20; round++) {
		case_setup(NULL);
		fair_setup();
		run_two_cpus2(h, &fair_src[0], &fair_src[1], 1000);
		a = fair_send(0);
		b = fair_send(1);
		if (a == b)
			fail_msg("round %d: both in class %u", round, a);
		assert_int_equal(counters(FAIR_SLOT).queued_packets, 2002);
		for (int i = 0; i < 2; i++) {
			k.addr[3] = (__u8)i;
			assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(
				env.sk->maps.sources), &k, &s), 0);
			assert_int_equal(s.passed_packets, 1001);
		}
	}
}

/*
 * More than 16 sending: the seventeenth takes no class from a sender, it
 * shares one by its id (the seventeenth id: class 1); the source least
 * recently heard keeps its class.  When one of the 16 falls silent for
 * SHP_FAIR_HOLD_NS while the others go on, the seventeenth takes its
 * class.
 */
static void fair_seventeen(void **state)
{
	enum hook h = hook_of(state);
	unsigned int cls[FAIR_SOURCES], c5;

	need_bpf();
	if (fair_xdp(h))
		return;
	fair_setup();
	fair_round(0, 16, cls);
	c5 = cls[5];
	advance(1000000);
	assert_int_equal(fair_send(16), cls[17 % SHP_FAIR_CLASSES]);
	advance(1000000);
	assert_int_equal(fair_send(0), cls[0]);
	/* 5 silent; the others and 16 send every 1 ms for 112 ms */
	for (int round = 0; round < 7; round++)
		for (int i = 0; i <= 16; i++) {
			if (i == 5)
				continue;
			advance(1000000);
			cls[i] = fair_send(i);
		}
	assert_int_equal(cls[16], c5);
}

#define T(fn)	HOOK_TESTS(fn, case_setup, case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(burst_exact),
		T(refill_exact),
		T(long_idle),
		T(pps_exact),
		T(bits_by_size),
		T(per_source),
		T(per_source_v6),
		T(first_match),
		T(syn_match),
		T(not_ip),
		T(match_fields),
		T(match_tables),
		T(real_clock),
		T(two_cpus_one_bucket),
		T(two_cpus_one_source),
		T(shape_redirect),
		T(fair_after_idle),
		T(fair_sixteen),
		T(fair_more_than_sixteen),
		T(fair_return),
		T(fair_seventeen),
		T(fair_two_cpus),
	};

	env_setup();
	return run_hook_tests("shaping", tests, group_teardown);
}
