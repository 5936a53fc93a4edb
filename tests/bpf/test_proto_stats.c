// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of proto-stats (bpf/proto_stats.bpf.c): what it
 * counts for each frame of tests/bpf/frame_cases.c, and its top sources
 * and ports, every case once through the XDP and once through the TC
 * entry point.  (The parse of the same frames: tests/bpf/test_parse.c.)
 *
 * Every check compares all counters, not just the expected ones, so a
 * packet counted twice or in the wrong place fails.
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
#include "frame_cases.h"
#include "proto_stats.skel.h"

static const char *const counter_name[PSTAT__MAX] = PSTAT_NAMES;

static struct {
	struct proto_stats *ps;
} env;

static int probe_test_run(void)
{
	uint8_t frame[60] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = sizeof(frame),
	);

	return bpf_prog_test_run_opts(case_prog_fd(XDP), &opts) ||
	       bpf_prog_test_run_opts(case_prog_fd(TC), &opts);
}

static void load_bpf(void)
{
	if (!harness_setup())
		return;
	env.ps = proto_stats__open_and_load();
	if (!harness_loaded(env.ps, "proto_stats.bpf.o"))
		return;
	/* the truncation cases derive their expectations from a parse */
	if (!frame_cases_load())
		return;
	if (probe_test_run())
		harness_unusable("BPF_PROG_TEST_RUN: %s", strerror(errno));
}

static int group_teardown(void **state)
{
	(void)state;
	frame_cases_unload();
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
static struct pstat_val src_count(const struct ps_addr_key *k)
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

static struct ps_addr_key src_key4(const uint8_t a[4])
{
	struct ps_addr_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, a, 4);
	k.family = PS_AF_INET;
	return k;
}

static struct ps_addr_key src_key6(const uint8_t a[16])
{
	struct ps_addr_key k;

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

static unsigned int src_set(const struct ps_addr_key *k)
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

int case_prog_fd(enum hook h)
{
	return hook_prog_fd(h, env.ps->progs.ps_xdp, env.ps->progs.ps_tc);
}

static void run_prog(enum hook h, const uint8_t *data, size_t len)
{
	run_pass(h, case_prog_fd(h), data, len, 1);
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


/*
 * Run f through proto-stats on a clean slate and check all counters (idx
 * as in expect_counters_n) and the top maps: the frame's source and
 * destination port (from want, the parse test_parse.c checks) are counted
 * exactly when has_src / has_port.
 */
void check_frame(enum hook h, const struct frame *f, const struct ps_pkt *want,
		 const int *idx, int has_src, int has_port)
{
	struct pstat_val v;

	assert_false(f->error);
	reset();
	run_prog(h, f->buf, f->len);
	expect_counters_n(idx, f->len, 1);

	v = all_count(0);
	assert_int_equal(v.packets, !!has_src);
	assert_int_equal(v.bytes, has_src ? f->len : 0);
	if (has_src) {
		struct ps_addr_key k;

		memset(&k, 0, sizeof(k));
		memcpy(k.addr, want->saddr, 16);
		k.family = want->family;
		v = src_count(&k);
		assert_int_equal(v.packets, 1);
	}
	v = all_count(1);
	assert_int_equal(v.packets, !!has_port);
	if (has_port) {
		struct pstat_port_key k = port_key(want->ip_proto, want->dport);

		v = port_count(&k);
		assert_int_equal(v.packets, 1);
		assert_int_equal(v.bytes, f->len);
	}
}

/* ---- tests: top sources and ports ---- */

/* counts accumulate per key, across IPv4 and IPv6, sources and ports */
static void t_top_counts(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct ps_addr_key k4 = src_key4(frame_ip4_src);
	struct ps_addr_key k6 = src_key6(frame_ip6_src);
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
		run_prog(h, a.buf, a.len);
	for (i = 0; i < 2; i++)
		run_prog(h, b.buf, b.len);

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
static void same_set_src4(struct ps_addr_key *k, unsigned int n)
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
		run_prog(h, f.buf, f.len);
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
		run_prog(h, f.buf, f.len);
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
	struct ps_addr_key k[WAYS];
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
	struct ps_addr_key k[WAYS + 1];
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
	struct ps_addr_key k[WAYS + 2];
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
		run_prog(h, f.buf, f.len);
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
	struct ps_addr_key sk;
	struct pstat_val v;
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

	reset();
	run_tc_gso(case_prog_fd(TC), &f, 3, 1000);
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
	struct pstat_val c[PSTAT__MAX];
	struct frame f;
	__u32 segs;

	(void)state;
	tcp4(&f, PS_TCP_ACK);
	for (segs = 0; segs <= 1; segs++) {
		reset();
		run_tc_gso(case_prog_fd(TC), &f, segs, segs ? 1448 : 0);
		read_counters(c);
		assert_int_equal(c[PSTAT_TOTAL].packets, 1);
		assert_int_equal(c[PSTAT_TOTAL].bytes, f.len);
	}
}

#define T(fn)	HOOK_TESTS(fn, NULL, NULL)
#define T_TC(fn)	{ TC_NAME "/" #fn, fn, NULL, NULL, &harness_hooks[TC] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRAME_CASES,
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

