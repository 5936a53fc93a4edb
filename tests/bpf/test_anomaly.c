// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the anomaly object (bpf/anomaly.bpf.c), every
 * case once through the XDP and once through the TC entry point.
 *
 * Time is injected: config.clock_ns, when not 0, is the clock the program
 * uses for its windows, its blocks and its alerts' timestamps (the
 * production path reads it and, being 0, reads the coarse clock).  So a
 * window ends when a test moves the clock, never because the machine was
 * slow.
 *
 * Each case starts from empty maps and a configuration with every
 * detector off (limit 0) but the one it tests, and reads what user space
 * would: the alert records from the ring buffer, the recent-alert log,
 * the stats counters and the blocks table.
 *
 * test_run runs on the loopback device (ifindex 1); TC refuses an IPv4
 * (IPv6) EtherType with less than 20 (40) bytes after it, so those frames
 * are fed to XDP only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <linux/if_ether.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include <pktscope/bpf/parse.h>
#include <pktscope/plugin.h>
#include "anomaly.h"
#include "anomaly.skel.h"

#define XDP_DROP_RET	1
#define TC_SHOT_RET	2
#define T0		(1000 * NSEC)	/* the injected clock's start */
#define MAX_EV		64

static struct {
	struct anomaly *an;
	struct ring_buffer *rb;
	struct an_alert ev[MAX_EV];
	int nev;
	int bad_size;
} env;

static int on_alert(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size != sizeof(struct an_alert))
		env.bad_size++;
	else if (env.nev < MAX_EV)
		memcpy(&env.ev[env.nev], data, size);
	env.nev++;
	return 0;
}

/*
 * The object with the core's clock, as every attach has it; ahead_ns
 * moves that clock forward (a test of whether the program reads it).
 */
static struct anomaly *load_anomaly(__u64 ahead_ns)
{
	struct anomaly *a = anomaly__open();
	int r;

	if (!a)
		return NULL;
	r = ps_bpf_set_clock(a->obj);
	a->rodata_ps_clock->ps_clock.off_ns -= ahead_ns;
	if (!r)
		r = anomaly__load(a);
	if (r) {
		anomaly__destroy(a);
		errno = r < 0 ? -r : r;
		return NULL;
	}
	return a;
}

/* watcher slot i with a ring of its own (its fd) and a beat at beat_ns */
static int watch_slot(__u32 i, __u64 beat_ns)
{
	struct an_watchers w;
	__u32 zero = 0;
	int ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0,
				  AN_RING_BYTES, NULL);

	if (ring < 0 ||
	    bpf_map_update_elem(bpf_map__fd(env.an->maps.rings), &i, &ring,
				BPF_ANY) ||
	    bpf_map_lookup_elem(bpf_map__fd(env.an->maps.watchers), &zero, &w))
		return -1;
	w.w[i].owner = (__u64)getpid() << 32;
	w.w[i].beat_ns = beat_ns;
	if (bpf_map_update_elem(bpf_map__fd(env.an->maps.watchers), &zero, &w,
				BPF_ANY))
		return -1;
	return ring;
}

static void env_setup(void)
{
	int ring;

	if (!harness_setup())
		return;
	env.an = load_anomaly(0);
	if (!harness_loaded(env.an, "anomaly.bpf.o"))
		return;
	/* the tests' watch: a beat an hour ahead stays fresh for the run */
	ring = watch_slot(0, mono_ns() + 3600 * NSEC);
	env.rb = ring < 0 ? NULL :
		 ring_buffer__new(ring, on_alert, NULL, NULL);
	if (!env.rb)
		harness_unusable("cannot make the watch's ring buffer: %s",
				 strerror(errno));
}

static int group_teardown(void **state)
{
	(void)state;
	ring_buffer__free(env.rb);
	anomaly__destroy(env.an);
	return 0;
}

/* ---- maps ---- */

static struct an_config cfg;

static void set_config(void)
{
	array_set(env.an->maps.config, &cfg);
}

static void set_clock(__u64 ns)
{
	cfg.clock_ns = ns;
	set_config();
}

static struct an_stats read_stats(void)
{
	struct an_stats s;
	__u32 zero = 0;

	assert_int_equal(percpu_sum(env.an->maps.stats, &zero, &s), 0);
	return s;
}

static int consume(void)
{
	int n;

	env.nev = 0;
	env.bad_size = 0;
	n = ring_buffer__consume(env.rb);
	assert_true(n >= 0);
	assert_int_equal(env.bad_size, 0);
	return env.nev;
}

static void zero_array(struct bpf_map *m, size_t vsize)
{
	static __u8 zero[4096];
	__u32 n = bpf_map__max_entries(m);

	assert_true(vsize <= sizeof(zero));
	for (__u32 i = 0; i < n; i++)
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(m), &i, zero,
						     0), 0);
}

/* destination slots in use */
static __u32 dst_slots(void)
{
	struct an_dst d;
	__u32 n = 0;

	for (__u32 i = 0; i < AN_DSTS_MAX; i++) {
		assert_int_equal(bpf_map_lookup_elem(
			bpf_map__fd(env.an->maps.dsts), &i, &d), 0);
		n += d.tag != 0;
	}
	return n;
}

/*
 * Empty tables and the default configuration.  The sketch, the dedup slots
 * and the scan entries are not cleared (32768 and 65536 entries): each
 * case starts its clock a day after the last one's, and a cell or slot of
 * another window counts from zero, for the program as for the test.
 */
static void reset(void)
{
	static __u64 day;

	percpu_zero(env.an->maps.stats);
	zero_array(env.an->maps.dsts, sizeof(struct an_dst));
	clear_map(env.an->maps.scans);
	clear_map(env.an->maps.offenders);
	clear_map(env.an->maps.blocks);
	clear_map(env.an->maps.bpfx);
	clear_map(env.an->maps.allow);
	zero_array(env.an->maps.global, sizeof(struct an_global));
	zero_array(env.an->maps.iface, sizeof(struct an_rate));
	consume();
	memset(&cfg, 0, sizeof(cfg));
	cfg.seed = 0x5eed;
	cfg.window_ns = NSEC;
	cfg.scan_window_ns = 300 * NSEC;
	cfg.block_ns = 60 * NSEC;
	cfg.flags = AN_F_NO_SCAN;
	cfg.clock_ns = T0 + ++day * 86400 * NSEC;
	set_config();
}

static int case_setup(void **state)
{
	(void)state;
	if (!harness.why[0])
		reset();
	return 0;
}

/* ---- frames ---- */

struct pk {
	int v6;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags;
	const uint8_t *src, *dst;
	size_t len;
};

static void mk(struct frame *f, const struct pk *p)
{
	frame_init(f);
	if (p->v6) {
		struct frame_ipv6 ip = { .nexthdr = p->proto };

		frame_eth(f, ETH_P_IPV6);
		if (p->src)
			memcpy(ip.src, p->src, 16);
		if (p->dst)
			memcpy(ip.dst, p->dst, 16);
		frame_ipv6(f, &ip);
	} else {
		struct frame_ipv4 ip = { .proto = p->proto };

		frame_eth(f, ETH_P_IP);
		if (p->src)
			memcpy(ip.src, p->src, 4);
		if (p->dst)
			memcpy(ip.dst, p->dst, 4);
		frame_ipv4(f, &ip);
	}
	switch (p->proto) {
	case IPPROTO_TCP:
		frame_tcp(f, p->sport ? p->sport : 40000, p->dport, p->flags, 0);
		break;
	case IPPROTO_UDP:
		frame_udp(f, p->sport ? p->sport : 40000, p->dport);
		break;
	case IPPROTO_ICMP:
		frame_icmp(f, 8, 0);
		break;
	case IPPROTO_ICMPV6:
		frame_icmpv6(f, 128, 0);
		break;
	}
	frame_pad(f, p->len ? p->len : 64);
	frame_finish(f);
	assert_false(f->error);
}

static int prog_fd(enum hook h)
{
	return hook_prog_fd(h, env.an->progs.an_xdp, env.an->progs.an_tc);
}

static int run_ret(enum hook h, const struct frame *f, size_t len)
{
	int ret = 0;

	assert_false(f->error);
	assert_int_equal(test_run(prog_fd(h), f->buf, len, 1, &ret), 0);
	return ret;
}

static void run(enum hook h, const struct frame *f)
{
	assert_int_equal(run_ret(h, f, f->len), hook_pass_ret(h));
}

static void run_n(enum hook h, const struct frame *f, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		run(h, f);
}

static void run_dropped(enum hook h, const struct frame *f)
{
	assert_int_equal(run_ret(h, f, f->len),
			 h == XDP ? XDP_DROP_RET : TC_SHOT_RET);
}

static const uint8_t src_a[4] = { 198, 51, 100, 7 };
static const uint8_t src_b[4] = { 198, 51, 100, 8 };
static const uint8_t dst_v[4] = { 192, 0, 2, 1 };

/* ---- well-formed traffic ---- */

static void expect_quiet(void)
{
	struct an_stats s = read_stats();

	for (int d = 0; d < AN_DET_MAX; d++)
		assert_int_equal(s.alerts[d], 0);
	for (int r = 0; r < AN_R_MAX; r++)
		if (s.reasons[r])
			fail_msg("reason %d counted %llu times", r,
				 (unsigned long long)s.reasons[r]);
	assert_int_equal(consume(), 0);
}

static void t_wellformed(void **state)
{
	enum hook h = *(enum hook *)*state;
	static const struct pk pks[] = {
		{ .proto = IPPROTO_TCP, .dport = 80, .flags = PS_TCP_SYN },
		{ .proto = IPPROTO_TCP, .dport = 80, .flags = PS_TCP_ACK },
		{ .proto = IPPROTO_TCP, .dport = 80,
		  .flags = PS_TCP_FIN | PS_TCP_ACK },
		{ .proto = IPPROTO_TCP, .dport = 80,
		  .flags = PS_TCP_RST },
		{ .proto = IPPROTO_UDP, .dport = 53 },
		{ .proto = IPPROTO_UDP, .dport = 53, .len = 300 },
		{ .proto = IPPROTO_ICMP },
		{ .v6 = 1, .proto = IPPROTO_TCP, .dport = 443,
		  .flags = PS_TCP_SYN | PS_TCP_ECE | PS_TCP_CWR },
		{ .v6 = 1, .proto = IPPROTO_UDP, .dport = 53 },
		{ .v6 = 1, .proto = IPPROTO_ICMPV6 },
	};
	static const uint8_t zero4[4], bcast[4] = { 255, 255, 255, 255 };
	struct frame f;

	need_bpf();
	for (size_t i = 0; i < sizeof(pks) / sizeof(pks[0]); i++) {
		mk(&f, &pks[i]);
		run_n(h, &f, 3);
	}
	/* a DHCP client's first packet: 0.0.0.0 to the broadcast address */
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = 68, .dport = 67,
			     .src = zero4, .dst = bcast });
	run(h, &f);
	expect_quiet();
	assert_int_equal(read_stats().seen, 31);
}

/* ---- malformed: each class its own reason, and only it ---- */

/* exactly one alert, of det and reason, and that reason counted once */
static void expect_reason(int det, int reason, const char *what)
{
	struct an_stats s = read_stats();

	for (int r = 0; r < AN_R_MAX; r++)
		if (s.reasons[r] != (r == reason))
			fail_msg("%s: reason %d counted %llu times (want %d)",
				 what, r, (unsigned long long)s.reasons[r],
				 reason);
	for (int d = 0; d < AN_DET_MAX; d++)
		if (s.alerts[d] != (d == det))
			fail_msg("%s: detector %d alerted %llu times", what, d,
				 (unsigned long long)s.alerts[d]);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].detector, det);
	assert_int_equal(env.ev[0].reason, reason);
}

enum mal {
	M_IHL, M_VERSION, M_TOTLEN_SMALL, M_TOTLEN_BIG, M_IPV4_SHORT,
	M_DOFF, M_NULL, M_XMAS, M_SYNFIN, M_SYNRST, M_FIN, M_UDPLEN,
	M_UDPLEN_SMALL, M_FRAG_SMALL, M_EXT_MANY, M_HBH_LATE, M_TCP_CUT,
	M_V6_VERSION, M__MAX,
};

/* frame f of class m; its length to feed (a cut frame is shorter) */
static size_t mk_malformed(struct frame *f, enum mal m)
{
	struct pk tcp = { .proto = IPPROTO_TCP, .dport = 80,
			  .flags = PS_TCP_SYN };
	const struct frame_hdr *hd;

	frame_init(f);
	switch (m) {
	case M_IHL:
	case M_VERSION:
	case M_TOTLEN_SMALL:
	case M_TOTLEN_BIG:
	case M_TCP_CUT:
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, &(struct frame_ipv4){
			.proto = IPPROTO_TCP,
			.ihl = m == M_IHL ? 4 : 0,
			.version = m == M_VERSION ? 5 : 0,
			.tot_len = m == M_TOTLEN_SMALL ? 12 :
				   m == M_TOTLEN_BIG ? 200 :
				   /* 10 bytes of TCP by the IP header */
				   m == M_TCP_CUT ? 30 : 0 });
		frame_tcp(f, 1234, 80, PS_TCP_SYN, 0);
		break;
	case M_IPV4_SHORT:
		mk(f, &tcp);
		return 14 + 12;
	case M_DOFF:
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
		frame_tcp(f, 1234, 80, PS_TCP_SYN, 4);
		break;
	case M_NULL:
	case M_XMAS:
	case M_SYNFIN:
	case M_SYNRST:
	case M_FIN:
		tcp.flags = m == M_NULL ? 0 :
			    m == M_XMAS ? PS_TCP_FIN | PS_TCP_PSH | PS_TCP_URG :
			    m == M_SYNFIN ? PS_TCP_SYN | PS_TCP_FIN :
			    m == M_SYNRST ? PS_TCP_SYN | PS_TCP_RST : PS_TCP_FIN;
		mk(f, &tcp);
		return f->len;
	case M_UDPLEN:
	case M_UDPLEN_SMALL:
		mk(f, &(struct pk){ .proto = IPPROTO_UDP, .dport = 53 });
		hd = frame_find(f, FH_UDP);
		f->buf[hd->off + 4] = 0;
		f->buf[hd->off + 5] = m == M_UDPLEN ? 20 : 4;
		return f->len;
	case M_FRAG_SMALL:
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP,
						    .frag = 0x2000 });
		frame_payload(f, 8);	/* 8 bytes of a 20-byte TCP header */
		frame_finish(f);
		frame_pad(f, 64);
		return f->len;
	case M_EXT_MANY:
		frame_eth(f, ETH_P_IPV6);
		frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = 60 });
		for (int i = 0; i < PS_MAX_EXTHDR; i++)
			frame_ipv6_opt(f, 60, 8);
		frame_ipv6_opt(f, IPPROTO_TCP, 8);
		frame_tcp(f, 1234, 80, PS_TCP_SYN, 0);
		break;
	case M_HBH_LATE:
		frame_eth(f, ETH_P_IPV6);
		frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = 60 });
		frame_ipv6_opt(f, 0, 8);
		frame_ipv6_opt(f, IPPROTO_TCP, 8);
		frame_tcp(f, 1234, 80, PS_TCP_SYN, 0);
		break;
	case M_V6_VERSION:
		frame_eth(f, ETH_P_IPV6);
		frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = IPPROTO_TCP,
						    .version = 4 });
		frame_tcp(f, 1234, 80, PS_TCP_SYN, 0);
		break;
	default:
		break;
	}
	frame_pad(f, 80);
	frame_finish(f);
	return f->len;
}

static const int mal_reason[M__MAX] = {
	[M_IHL] = AN_R_IPV4_HLEN_TOO_SMALL,
	[M_VERSION] = AN_R_IPV4_WRONG_IP_VERSION,
	[M_TOTLEN_SMALL] = AN_R_IPV4_IPLEN_SMALLER_THAN_HLEN,
	[M_TOTLEN_BIG] = AN_R_IPV4_TRUNC_PKT,
	[M_IPV4_SHORT] = AN_R_IPV4_PKT_TOO_SMALL,
	[M_DOFF] = AN_R_TCP_HLEN_TOO_SMALL,
	[M_NULL] = AN_R_TCP_FLAGS_NULL,
	[M_XMAS] = AN_R_TCP_FLAGS_XMAS,
	[M_SYNFIN] = AN_R_TCP_FLAGS_SYN_FIN,
	[M_SYNRST] = AN_R_TCP_FLAGS_SYN_RST,
	[M_FIN] = AN_R_TCP_FLAGS_FIN_NO_ACK,
	[M_UDPLEN] = AN_R_UDP_HLEN_INVALID,
	[M_UDPLEN_SMALL] = AN_R_UDP_HLEN_TOO_SMALL,
	[M_FRAG_SMALL] = AN_R_IPV4_FRAG_TOO_SMALL,
	[M_EXT_MANY] = AN_R_IPV6_EXTHDR_TOO_MANY,
	[M_HBH_LATE] = AN_R_IPV6_EXTHDR_INVALID,
	[M_TCP_CUT] = AN_R_TCP_PKT_TOO_SMALL,
	[M_V6_VERSION] = AN_R_IPV6_WRONG_IP_VERSION,
};

static void t_malformed(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	for (int m = 0; m < M__MAX; m++) {
		size_t len = mk_malformed(&f, m);
		char what[32];

		/* TC refuses IPv4 frames of less than 20 bytes of IP */
		if (h == TC && m == M_IPV4_SHORT)
			continue;
		reset();
		snprintf(what, sizeof(what), "class %d", m);
		assert_int_equal(run_ret(h, &f, len), hook_pass_ret(h));
		/* the same again in the window: counted, not alerted */
		assert_int_equal(run_ret(h, &f, len), hook_pass_ret(h));
		{
			struct an_stats s = read_stats();

			if (s.reasons[mal_reason[m]] != 2)
				fail_msg("%s: reason %d counted %llu, want 2",
					 what, mal_reason[m],
					 (unsigned long long)s.reasons[mal_reason[m]]);
			assert_int_equal(s.deduped, 1);
		}
		assert_int_equal(consume(), 1);
		percpu_zero(env.an->maps.stats);
		set_clock(cfg.clock_ns + NSEC);
		assert_int_equal(run_ret(h, &f, len), hook_pass_ret(h));
		expect_reason(AN_DET_MALFORMED, mal_reason[m], what);
		/* a repeat, the window after */
		assert_int_equal(env.ev[0].repeat, 1);
	}
}

/* ---- watches ---- */

static int count_rec(void *ctx, void *data, size_t size)
{
	(void)data;
	if (size == sizeof(struct an_alert))
		(*(int *)ctx)++;
	return 0;
}

/* the records in a watch's ring, which is then closed and its slot freed */
static int drain_slot(__u32 i, int ring)
{
	struct ring_buffer *rb;
	struct an_watchers w;
	__u32 zero = 0;
	int n = 0;

	rb = ring_buffer__new(ring, count_rec, &n, NULL);
	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	close(ring);
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(env.an->maps.rings),
					     &i), 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(env.an->maps.watchers),
					     &zero, &w), 0);
	memset(&w.w[i], 0, sizeof(w.w[i]));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.watchers),
					     &zero, &w, BPF_ANY), 0);
	return n;
}

/*
 * Every watch that beat lately gets the alert in its own ring; one whose
 * beat is over AN_WATCH_TIMEOUT_NS old (killed, stalled) or 0 (leaving)
 * gets none, and its ring counts nothing lost; the stale one's missed
 * counts it.
 */
static void t_watchers(void **state)
{
	enum hook h = *(enum hook *)*state;
	__u64 now = mono_ns();
	struct an_watchers w;
	__u32 zero = 0;
	int fresh, stale, gone;
	struct frame f;
	size_t len;

	need_bpf();
	fresh = watch_slot(1, now);
	stale = watch_slot(2, now - AN_WATCH_TIMEOUT_NS - NSEC);
	gone = watch_slot(3, 0);
	assert_true(fresh >= 0 && stale >= 0 && gone >= 0);
	len = mk_malformed(&f, M_NULL);
	assert_int_equal(run_ret(h, &f, len), hook_pass_ret(h));
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(env.an->maps.watchers),
					     &zero, &w), 0);
	/* the stale one is told what it missed; the leaving one is not */
	assert_int_equal(w.w[0].missed, 0);
	assert_int_equal(w.w[1].missed, 0);
	assert_int_equal(w.w[2].missed, 1);
	assert_int_equal(w.w[3].missed, 0);
	assert_int_equal(consume(), 1);
	assert_int_equal(drain_slot(1, fresh), 1);
	assert_int_equal(drain_slot(2, stale), 0);
	assert_int_equal(drain_slot(3, gone), 0);
	assert_int_equal(read_stats().ring_lost, 0);
}

/* ---- martian sources ---- */

static void t_martian(void **state)
{
	enum hook h = *(enum hook *)*state;
	static const struct {
		int v6;
		uint8_t src[16];
		int reason;
	} cases[] = {
		{ 0, { 0, 1, 2, 3 }, AN_R_MARTIAN_ZERONET },
		{ 0, { 127, 0, 0, 1 }, AN_R_MARTIAN_LOOPBACK },
		{ 0, { 224, 0, 0, 5 }, AN_R_MARTIAN_MULTICAST },
		{ 0, { 239, 255, 255, 250 }, AN_R_MARTIAN_MULTICAST },
		{ 0, { 255, 255, 255, 255 }, AN_R_MARTIAN_BROADCAST },
		{ 0, { 240, 0, 0, 1 }, AN_R_MARTIAN_CLASS_E },
		{ 0, { 192, 0, 2, 1 }, AN_R_MARTIAN_LAND },
		{ 0, { 203, 0, 113, 9 }, AN_R_MARTIAN_OWN_ADDRESS },
		{ 1, { [15] = 1 }, AN_R_MARTIAN_LOOPBACK6 },
		{ 1, { 0xff, 0x02, [15] = 1 }, AN_R_MARTIAN_MULTICAST6 },
		{ 1, { [10] = 0xff, 0xff, 198, 51, 100, 1 },
		  AN_R_MARTIAN_V4MAPPED },
		{ 1, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 },
		  AN_R_MARTIAN_OWN_ADDRESS },
	};
	static const uint8_t own6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };
	static const uint8_t own4[4] = { 203, 0, 113, 9 };
	struct frame f;

	need_bpf();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[32];

		reset();
		memcpy(&cfg.local4[0], own4, 4);
		cfg.n4 = 1;
		memcpy(cfg.local6[0], own6, 16);
		cfg.n6 = 1;
		set_config();
		mk(&f, &(struct pk){ .v6 = cases[i].v6, .proto = IPPROTO_UDP,
				     .dport = 53, .src = cases[i].src,
				     .dst = cases[i].v6 ? NULL : dst_v });
		run(h, &f);
		snprintf(what, sizeof(what), "martian %zu", i);
		expect_reason(AN_DET_MARTIAN, cases[i].reason, what);
		assert_memory_equal(env.ev[0].saddr, cases[i].src,
				    cases[i].v6 ? 16 : 4);
	}
	/* on a loopback device 127/8 and ::1 are at home */
	reset();
	cfg.flags |= AN_F_LOOPBACK;
	set_config();
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = 53,
			     .src = cases[1].src, .dst = dst_v });
	run(h, &f);
	mk(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP, .dport = 53,
			     .src = cases[8].src });
	run(h, &f);
	expect_quiet();
}

/* ---- rate thresholds: at the limit, not one below; once a window ---- */

/* one packet of detector det from src to dst */
static void mk_det(struct frame *f, int det, const uint8_t *src,
		   const uint8_t *dst)
{
	struct pk p = { .proto = IPPROTO_TCP, .dport = 80,
			.flags = PS_TCP_SYN, .src = src, .dst = dst };

	if (det == AN_DET_UDP_FLOOD || det == AN_DET_UDP_BPS)
		p.proto = IPPROTO_UDP;
	else if (det == AN_DET_ICMP_FLOOD || det == AN_DET_ICMP_BPS)
		p.proto = IPPROTO_ICMP;
	else if (det != AN_DET_SYN_FLOOD)
		p.flags = PS_TCP_ACK;
	mk(f, &p);
}

/* a different source for packet i (for the destination aggregates) */
static const uint8_t *nth_src(int scope, __u32 i, uint8_t buf[4])
{
	if (scope == AN_SCOPE_SRC)
		return src_a;
	buf[0] = 10;
	buf[1] = (uint8_t)(i >> 16);
	buf[2] = (uint8_t)(i >> 8);
	buf[3] = (uint8_t)i;
	return buf;
}

static void run_det(enum hook h, int det, int scope, __u32 n)
{
	struct frame f;
	uint8_t b[4];

	for (__u32 i = 0; i < n; i++) {
		mk_det(&f, det, nth_src(scope, i, b), dst_v);
		run(h, &f);
	}
}

static void check_alert(const struct an_alert *e, int det, int scope,
			__u64 count, __u64 limit)
{
	assert_int_equal(e->detector, det);
	assert_int_equal(e->scope, scope);
	assert_int_equal(e->count, count);
	assert_int_equal(e->threshold, limit);
	assert_int_equal(e->window_ns, NSEC);
	assert_int_equal(e->ts_ns, cfg.clock_ns);
	assert_int_equal(e->family, PS_AF_INET);
	assert_memory_equal(e->daddr, dst_v, 4);
	if (scope == AN_SCOPE_SRC)
		assert_memory_equal(e->saddr, src_a, 4);
}

static void threshold_case(enum hook h, int det, int scope)
{
	/* the frames are 64 bytes: the bytes limit is 10 frames' worth */
	__u64 unit = an_det_bytes(det) ? 64 : 1, limit = 10 * unit;
	struct an_stats s;

	reset();
	if (det >= AN_DET_FIRST_PROTO)
		cfg.flags |= AN_F_PROTO;
	cfg.limit[det][scope] = limit;
	set_config();
	run_det(h, det, scope, 9);
	assert_int_equal(consume(), 0);
	run_det(h, det, scope, 1);
	assert_int_equal(consume(), 1);
	check_alert(&env.ev[0], det, scope, limit, limit);
	assert_int_equal(env.ev[0].repeat, 0);
	/* the rest of the window is quiet */
	run_det(h, det, scope, 20);
	assert_int_equal(consume(), 0);
	s = read_stats();
	assert_int_equal(s.alerts[det], 1);
	/* the next window starts from zero and says it is a repeat */
	set_clock(cfg.clock_ns + NSEC);
	run_det(h, det, scope, 9);
	assert_int_equal(consume(), 0);
	run_det(h, det, scope, 1);
	assert_int_equal(consume(), 1);
	check_alert(&env.ev[0], det, scope, limit, limit);
	assert_int_equal(env.ev[0].repeat, 1);
	/* one above: the 10th packet does not reach it, the 11th does */
	set_clock(cfg.clock_ns + 5 * NSEC);
	cfg.limit[det][scope] = limit + 1;
	set_config();
	run_det(h, det, scope, 10);
	assert_int_equal(consume(), 0);
	run_det(h, det, scope, 1);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].count, limit + unit);
}

static void t_thresholds(void **state)
{
	enum hook h = *(enum hook *)*state;

	need_bpf();
	for (int det = 0; det < AN_RATE_N; det++)
		for (int scope = 0; scope < 2; scope++)
			threshold_case(h, det, scope);
}

/*
 * Per protocol: a protocol's packets and bytes count only its own
 * packets, and only while AN_F_PROTO says one of those limits is set.
 */
static void t_per_protocol(void **state)
{
	enum hook h = *(enum hook *)*state;
	static const int dets[] = { AN_DET_TCP_FLOOD, AN_DET_TCP_BPS,
				    AN_DET_UDP_BPS, AN_DET_ICMP_BPS };
	static const int others[] = { AN_DET_SYN_FLOOD, AN_DET_UDP_FLOOD,
				      AN_DET_ICMP_FLOOD };

	need_bpf();
	for (size_t i = 0; i < sizeof(dets) / sizeof(dets[0]); i++)
		for (int scope = 0; scope < 2; scope++) {
			int det = dets[i];
			__u64 limit = an_det_bytes(det) ? 64 * 5 : 5;

			/* the other protocols' packets never reach it */
			reset();
			cfg.flags |= AN_F_PROTO;
			cfg.limit[det][scope] = limit;
			set_config();
			for (size_t o = 0; o < 3; o++)
				if ((det == AN_DET_TCP_FLOOD ||
				     det == AN_DET_TCP_BPS) !=
				    (others[o] == AN_DET_SYN_FLOOD) &&
				    (det != AN_DET_UDP_BPS ||
				     others[o] != AN_DET_UDP_FLOOD) &&
				    (det != AN_DET_ICMP_BPS ||
				     others[o] != AN_DET_ICMP_FLOOD))
					run_det(h, others[o], scope, 20);
			assert_int_equal(consume(), 0);
			/* its own do, at the limit */
			run_det(h, det, scope, 4);
			assert_int_equal(consume(), 0);
			run_det(h, det, scope, 1);
			assert_int_equal(consume(), 1);
			check_alert(&env.ev[0], det, scope, limit, limit);

			/* without AN_F_PROTO they are not counted at all */
			reset();
			cfg.limit[det][scope] = limit;
			set_config();
			run_det(h, det, scope, 20);
			assert_int_equal(consume(), 0);
		}
}

/* per source: another source's packets do not add up */
static void t_per_source(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame fa, fb;

	need_bpf();
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 5;
	set_config();
	mk_det(&fa, AN_DET_SYN_FLOOD, src_a, dst_v);
	mk_det(&fb, AN_DET_SYN_FLOOD, src_b, dst_v);
	for (int i = 0; i < 4; i++) {
		run(h, &fa);
		run(h, &fb);
	}
	assert_int_equal(consume(), 0);
	run(h, &fb);
	assert_int_equal(consume(), 1);
	assert_memory_equal(env.ev[0].saddr, src_b, 4);
	/* the recent-alert log has it too */
	{
		struct an_alert a;
		__u32 zero = 0;

		assert_int_equal(bpf_map_lookup_elem(
			bpf_map__fd(env.an->maps.alog), &zero, &a), 0);
		assert_memory_equal(&a, &env.ev[0], sizeof(a));
	}
}

/* ---- blocking ---- */

/* what the CPUs' cache slots of a block counted (bcache, anomaly.h) */
static void add_cached(const uint8_t *src, struct an_block *b)
{
	int ncpu = libbpf_num_possible_cpus();
	struct an_bcache *v = calloc((size_t)ncpu, sizeof(*v));
	uint8_t addr[16] = { 0 };

	assert_non_null(v);
	memcpy(addr, src, 4);
	for (__u32 i = 0; i < AN_BCACHE_SLOTS; i++) {
		assert_int_equal(bpf_map_lookup_elem(
			bpf_map__fd(env.an->maps.bcache), &i, v), 0);
		for (int c = 0; c < ncpu; c++)
			if (v[c].gen && v[c].family == 2 &&
			    v[c].until_ns == b->until_ns &&
			    !memcmp(v[c].addr, addr, 16)) {
				b->drops += v[c].drops;
				b->bytes += v[c].bytes;
			}
	}
	free(v);
}

/* a block as user space shows it: the entry and the cached counts */
static struct an_block get_block(const uint8_t *src, int *found)
{
	struct an_block b = { 0 };
	struct ps_addr_key k;

	ps_addr_key_set(&k, 2, src);
	*found = !bpf_map_lookup_elem(bpf_map__fd(env.an->maps.blocks), &k,
				      &b);
	if (*found)
		add_cached(src, &b);
	return b;
}

static void t_block(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame fa, fb;
	struct an_block b;
	struct an_stats s;
	int found;

	need_bpf();
	cfg.flags |= AN_F_BLOCK;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 5;
	set_config();
	mk_det(&fa, AN_DET_SYN_FLOOD, src_a, dst_v);
	mk_det(&fb, AN_DET_SYN_FLOOD, src_b, dst_v);
	run_n(h, &fa, 5);	/* the 5th alerts and blocks, and passes */
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].action, AN_ACT_BLOCK);
	assert_int_equal(env.ev[0].block_until_ns, cfg.clock_ns + 60 * NSEC);
	b = get_block(src_a, &found);
	assert_true(found);
	assert_int_equal(b.until_ns, cfg.clock_ns + 60 * NSEC);
	assert_int_equal(b.detector, AN_DET_SYN_FLOOD);
	/* later packets are dropped, counted; another source passes */
	run_dropped(h, &fa);
	run_dropped(h, &fa);
	run(h, &fb);
	b = get_block(src_a, &found);
	assert_int_equal(b.drops, 2);
	assert_int_equal(b.bytes, 2 * fa.len);
	s = read_stats();
	assert_int_equal(s.block_drops, 2);
	assert_int_equal(s.drops[AN_DET_SYN_FLOOD], 2);
	/* a tick before expiry still dropped; at expiry it passes again */
	set_clock(b.until_ns - 1);
	run_dropped(h, &fa);
	set_clock(b.until_ns);
	run(h, &fa);
	get_block(src_a, &found);
	assert_false(found);
	assert_int_equal(read_stats().block_expired, 1);
}

/*
 * The production clock, which the core sets (ps_bpf_set_clock()): a block
 * the program makes ends block_ns after user space's CLOCK_MONOTONIC_COARSE
 * (ps_coarse_ns()), and one user space makes ends when that clock says,
 * to a tick or two.  An object whose ps_clock runs an hour ahead sees a
 * block of half an hour over: the program reads ps_clock.  The clock is
 * real here, so the two hooks' runs may share a window: each has its own
 * sources, and the dedup slots start empty.
 */
static void t_shared_clock(void **state)
{
	enum hook h = *(enum hook *)*state;
	const __u64 tick = ps_coarse_tick_ns(), ttl = 50 * tick;
	const uint8_t sa[4] = { 198, 51, 100, 20 + h };
	const uint8_t sb[4] = { 198, 51, 100, 30 + h };
	struct an_block b = { .detector = AN_DET_MAX };
	struct anomaly *ahead;
	struct ps_addr_key k;
	struct frame fa, fb;
	__u64 t0, t1;
	int found, fd = bpf_map__fd(env.an->maps.blocks), ret = 0;

	need_bpf();
	assert_true(env.an->rodata_ps_clock->ps_clock.tick_ns == tick);
	zero_array(env.an->maps.dedup, sizeof(__u64));
	cfg.clock_ns = 0;
	cfg.flags |= AN_F_BLOCK;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 1;
	set_config();
	mk_det(&fa, AN_DET_SYN_FLOOD, sa, dst_v);
	mk_det(&fb, AN_DET_SYN_FLOOD, sb, dst_v);
	/* the program's block, by the program's clock */
	t0 = ps_coarse_ns();
	run(h, &fa);
	t1 = ps_coarse_ns();
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].action, AN_ACT_BLOCK);
	assert_in_range(env.ev[0].block_until_ns, t0 + cfg.block_ns - tick,
			t1 + cfg.block_ns + tick);
	b = get_block(sa, &found);
	assert_true(found);
	assert_int_equal(b.until_ns, env.ev[0].block_until_ns);
	run_dropped(h, &fa);

	/* user space's block, by user space's clock; no detector */
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 0;
	set_config();
	b = (struct an_block){ .detector = AN_DET_MAX };
	b.until_ns = ps_coarse_ns() + ttl;
	ps_addr_key_set(&k, 2, sb);
	assert_int_equal(bpf_map_update_elem(fd, &k, &b, 0), 0);
	run_dropped(h, &fb);
	while (ps_coarse_ns() < b.until_ns - 2 * tick)
		usleep(1000);
	run_dropped(h, &fb);	/* a tick or two before the end: still on */
	while (ps_coarse_ns() < b.until_ns + 2 * tick)
		usleep(1000);
	run(h, &fb);
	get_block(sb, &found);
	assert_false(found);

	/* an hour ahead: half an hour's block is over */
	ahead = load_anomaly(3600 * NSEC);
	assert_non_null(ahead);
	array_set(ahead->maps.config, &cfg);
	b.until_ns = ps_coarse_ns() + 1800 * NSEC;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(ahead->maps.blocks),
					     &k, &b, 0), 0);
	assert_int_equal(test_run(hook_prog_fd(h, ahead->progs.an_xdp,
					       ahead->progs.an_tc),
				  fb.buf, fb.len, 1, &ret), 0);
	anomaly__destroy(ahead);
	assert_int_equal(ret, hook_pass_ret(h));
}

/*
 * The CPUs' cache of blocked sources: a hit drops and counts; a block
 * deleted, or put back with another end, under a new config.block_gen (as
 * user space does it) is seen at the next packet, and counts from zero.
 */
static void t_block_cache(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct an_block b = { .detector = AN_DET_MAX };
	struct ps_addr_key k;
	struct frame f;
	int fd = bpf_map__fd(env.an->maps.blocks), found;

	need_bpf();
	zero_array(env.an->maps.bcache, sizeof(struct an_bcache));
	cfg.flags |= AN_F_BLOCKS;
	set_config();
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	ps_addr_key_set(&k, 2, src_a);
	b.until_ns = cfg.clock_ns + 3600 * NSEC;
	assert_int_equal(bpf_map_update_elem(fd, &k, &b, 0), 0);
	for (int i = 0; i < 5; i++)
		run_dropped(h, &f);
	b = get_block(src_a, &found);
	assert_true(found);
	assert_int_equal(b.drops, 5);
	assert_int_equal(b.bytes, 5 * f.len);
	assert_int_equal(read_stats().block_drops, 5);
	/* deleted: the next packet passes */
	assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	cfg.block_gen++;
	set_config();
	run(h, &f);
	/* put back, to end sooner: dropped, counted afresh, and it ends */
	b = (struct an_block){ .detector = AN_DET_MAX };
	b.until_ns = cfg.clock_ns + 10 * NSEC;
	assert_int_equal(bpf_map_update_elem(fd, &k, &b, 0), 0);
	cfg.block_gen++;
	set_config();
	run_dropped(h, &f);
	run_dropped(h, &f);
	b = get_block(src_a, &found);
	assert_int_equal(b.drops, 2);
	set_clock(cfg.clock_ns + 10 * NSEC);
	run(h, &f);
	get_block(src_a, &found);
	assert_false(found);
	assert_int_equal(read_stats().block_drops, 7);
}

/* manual blocks work in alert mode through AN_F_BLOCKS */
static void t_manual_block(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct an_block b = { .detector = AN_DET_MAX };
	struct ps_addr_key k;
	struct frame f;

	need_bpf();
	b.until_ns = cfg.clock_ns + 3600 * NSEC;
	ps_addr_key_set(&k, 2, src_a);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.blocks),
					     &k, &b, 0), 0);
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run(h, &f);	/* not looked up without the flag */
	cfg.flags |= AN_F_BLOCKS;
	set_config();
	run_dropped(h, &f);
	assert_int_equal(read_stats().block_drops, 1);
}

/* a prefix block: block add of a CIDR */
static void add_prefix(const uint8_t *addr, int family, unsigned int plen,
		       __u64 until)
{
	struct an_block b = { .until_ns = until, .detector = AN_DET_MAX,
			      .plen = (__u8)plen };
	struct ps_lpm_key k;

	ps_lpm_key_set(&k, family, addr, plen);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.bpfx),
					     &k, &b, 0), 0);
}

static struct an_block get_prefix(const uint8_t *addr, int family,
				  unsigned int plen, int *found)
{
	struct an_block b = { 0 };
	struct ps_lpm_key k;

	ps_lpm_key_set(&k, family, addr, plen);
	*found = !bpf_map_lookup_elem(bpf_map__fd(env.an->maps.bpfx), &k, &b);
	return b;
}

static void t_prefix_block(void **state)
{
	enum hook h = *(enum hook *)*state;
	static const uint8_t net[4] = { 198, 51, 100, 0 };
	static const uint8_t own[4] = { 198, 51, 100, 9 };
	static const uint8_t out[4] = { 198, 51, 101, 7 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t in6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };
	struct ps_lpm_key ak;
	struct an_block b;
	struct frame f;
	__u8 one = 1;
	int found;

	need_bpf();
	add_prefix(net, 2, 24, cfg.clock_ns + 3600 * NSEC);
	add_prefix(net, 2, 28, cfg.clock_ns + 10 * NSEC);
	add_prefix(net6, 10, 32, cfg.clock_ns + 3600 * NSEC);
	/* src_b is allowlisted: allow wins over a block */
	ps_lpm_key_set(&ak, 2, src_b, 32);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.allow),
					     &ak, &one, 0), 0);
	memcpy(&cfg.local4[0], own, 4);
	cfg.n4 = 1;
	cfg.flags |= AN_F_ALLOW;
	set_config();
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run(h, &f);	/* not looked up without the flag */
	cfg.flags |= AN_F_BLOCKS | AN_F_BPFX;
	set_config();
	run_dropped(h, &f);
	run_dropped(h, &f);
	b = get_prefix(net, 2, 28, &found);
	assert_true(found);
	assert_int_equal(b.drops, 2);
	assert_int_equal(b.bytes, 2 * f.len);
	mk_det(&f, AN_DET_PPS, src_b, dst_v);
	run(h, &f);
	mk_det(&f, AN_DET_PPS, out, dst_v);
	run(h, &f);
	/* the host's own address is never dropped by a prefix */
	mk_det(&f, AN_DET_PPS, own, dst_v);
	run(h, &f);
	mk(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP, .dport = 80,
			     .flags = PS_TCP_ACK, .src = in6, .dst = dst6 });
	run_dropped(h, &f);
	assert_int_equal(read_stats().block_drops, 3);
	assert_int_equal(read_stats().allowed, 1);
	/* the /28 expires: deleted, and the /24 under it still drops */
	set_clock(cfg.clock_ns + 10 * NSEC);
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run_dropped(h, &f);
	/* (a lookup is longest-match: the count says the /28 is gone) */
	assert_int_equal(count_keys(env.an->maps.bpfx), 2);
	b = get_prefix(net, 2, 24, &found);
	assert_true(found);
	assert_int_equal(b.drops, 1);
	assert_int_equal(read_stats().block_expired, 1);
	/* the /24 expires too: the source passes */
	set_clock(cfg.clock_ns + 3600 * NSEC);
	run(h, &f);
	assert_int_equal(read_stats().block_expired, 2);
	assert_int_equal(read_stats().block_drops, 4);
}

static void t_allowlist(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct ps_lpm_key k;
	struct frame f;
	__u8 one = 1;
	static const uint8_t lo[4] = { 127, 0, 0, 1 };

	need_bpf();
	cfg.flags |= AN_F_BLOCK | AN_F_ALLOW;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 5;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_DST] = 5;
	set_config();
	ps_lpm_key_set(&k, 2, src_a, 24);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.allow),
					     &k, &one, 0), 0);
	ps_lpm_key_set(&k, 2, lo, 8);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(env.an->maps.allow),
					     &k, &one, 0), 0);
	mk_det(&f, AN_DET_SYN_FLOOD, src_a, dst_v);
	run_n(h, &f, 20);
	mk_det(&f, AN_DET_SYN_FLOOD, lo, dst_v);
	run_n(h, &f, 2);
	expect_quiet();
	assert_int_equal(read_stats().allowed, 22);
	/* checked before any counter: the destination counted nothing */
	assert_int_equal(dst_slots(), 0);
	assert_int_equal(count_keys(env.an->maps.blocks), 0);
	/* a source outside the prefix is counted and blocked */
	mk_det(&f, AN_DET_SYN_FLOOD, (const uint8_t[4]){ 198, 51, 101, 7 },
	       dst_v);
	run_n(h, &f, 5);
	assert_int_equal(count_keys(env.an->maps.blocks), 1);
}

/* the host's own address is never blocked, whatever it sends */
static void t_own_protected(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	cfg.flags |= AN_F_BLOCK;
	cfg.limit[AN_DET_PPS][AN_SCOPE_SRC] = 3;
	memcpy(&cfg.local4[0], src_a, 4);
	cfg.n4 = 1;
	set_config();
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	/* martian (own address from outside): the packet is dropped ... */
	run_dropped(h, &f);
	run_dropped(h, &f);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].reason, AN_R_MARTIAN_OWN_ADDRESS);
	assert_int_equal(env.ev[0].action, AN_ACT_DROP);
	/* ... but the address never enters the block table */
	assert_int_equal(count_keys(env.an->maps.blocks), 0);
	assert_int_equal(read_stats().drops[AN_DET_MARTIAN], 2);
}

/* ---- port scans ---- */

static int listen_on(int type, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("bind port %u: %s", port, strerror(errno));
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* the distinct closed ports of an IPv4 source's scan entry (0: none) */
static __u64 scan_ports_of(const uint8_t src[4])
{
	struct ps_addr_key k;
	struct an_scan sc;

	ps_addr_key_set(&k, PS_AF_INET, src);
	if (bpf_map_lookup_elem(bpf_map__fd(env.an->maps.scans), &k, &sc))
		return 0;
	return sc.ports;
}

static void t_port_scan(void **state)
{
	enum hook h = *(enum hook *)*state;
	/* closed: nothing on the machine listens there (checked by lookups) */
	const uint16_t base = 47100;
	int tfd, ufd;
	struct frame f;

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 15;
	set_config();
	tfd = listen_on(SOCK_STREAM, 47090);
	ufd = listen_on(SOCK_DGRAM, 47091);
	/* open ports never count, however often */
	for (int i = 0; i < 20; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47090,
				     .flags = PS_TCP_SYN, .src = src_a,
				     .dst = dst_v });
		run(h, &f);
		mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = 47091,
				     .src = src_a, .dst = dst_v });
		run(h, &f);
	}
	assert_int_equal(count_keys(env.an->maps.scans), 0);
	/* 14 closed ports, each twice, and ACKs (not attempts): no alert */
	for (int i = 0; i < 14; i++) {
		mk(&f, &(struct pk){ .proto = i & 1 ? IPPROTO_UDP : IPPROTO_TCP,
				     .dport = base + i, .flags = PS_TCP_SYN,
				     .src = src_a, .dst = dst_v });
		run_n(h, &f, 2);
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + 50 + i,
				     .flags = PS_TCP_ACK, .src = src_a,
				     .dst = dst_v });
		run(h, &f);
	}
	assert_int_equal(consume(), 0);
	/* the 15th distinct closed port */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + 14,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run(h, &f);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].detector, AN_DET_PORT_SCAN);
	assert_int_equal(env.ev[0].count, 15);
	assert_int_equal(env.ev[0].dport, base + 14);
	assert_memory_equal(env.ev[0].saddr, src_a, 4);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + 15,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run(h, &f);
	assert_int_equal(consume(), 0);
	/* another scan window starts over */
	set_clock(cfg.clock_ns + 300 * NSEC);
	for (int i = 0; i < 14; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + i,
				     .flags = PS_TCP_SYN, .src = src_a,
				     .dst = dst_v });
		run(h, &f);
	}
	assert_int_equal(consume(), 0);
	close(tfd);
	close(ufd);
}

/* a known source's SYNs and datagrams to one port: one socket lookup */
static void t_scan_lookups(void **state)
{
	enum hook h = *(enum hook *)*state;
	const uint16_t closed = 47140;
	int tfd, ufd;
	struct frame f;

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 15;
	set_config();
	tfd = listen_on(SOCK_STREAM, 47092);
	ufd = listen_on(SOCK_DGRAM, 47093);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47092,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run_n(h, &f, 20);
	assert_int_equal(read_stats().lookups, 1);
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = 47093,
			     .src = src_a, .dst = dst_v });
	run_n(h, &f, 20);
	assert_int_equal(read_stats().lookups, 2);
	/* a closed port: looked up once, counted once (a first port: no entry) */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = closed,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run_n(h, &f, 20);
	assert_int_equal(read_stats().lookups, 3);
	assert_int_equal(count_keys(env.an->maps.scans), 0);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = closed + 1,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run_n(h, &f, 20);
	assert_int_equal(read_stats().lookups, 4);
	assert_int_equal(scan_ports_of(src_a), 2);
	/* another source, the same port: this CPU's judgement of the port */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = closed,
			     .flags = PS_TCP_SYN, .src = src_b, .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 4);
	assert_int_equal(read_stats().lookups_cached, 1);
	/* the next scan window judges again */
	set_clock(cfg.clock_ns + 300 * NSEC);
	run(h, &f);
	assert_int_equal(read_stats().lookups, 5);
	close(tfd);
	close(ufd);
}

/* spikes of one scope only: the others' floor out of reach */
static void spike_only(int scope, __u64 min)
{
	for (int i = 0; i < AN_SCOPES; i++)
		cfg.spike_min[i] = i == scope ? min : ~0ULL;
	set_config();
}

/* a destination's packets jumping to spike_factor x its baseline */
static void t_spike(void **state)
{
	enum hook h = *(enum hook *)*state;

	need_bpf();
	cfg.spike_factor = 4;
	spike_only(AN_SCOPE_DST, 50);
	/* three windows of 100 make a baseline of 100; the first has none */
	for (int w = 0; w < 3; w++) {
		run_det(h, AN_DET_PPS, AN_SCOPE_DST, 100);
		set_clock(cfg.clock_ns + NSEC);
	}
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 399);
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 1);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].detector, AN_DET_SPIKE);
	assert_int_equal(env.ev[0].scope, AN_SCOPE_DST);
	assert_int_equal(env.ev[0].count, 400);
	assert_int_equal(env.ev[0].threshold, 400);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 100);
	assert_int_equal(consume(), 0);
	/* a window skipped halves the baseline: 50, so 4 x 50 = 200 */
	set_clock(cfg.clock_ns + 2 * NSEC);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 199);
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 1);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].threshold, 200);
	/* spike_min is the floor */
	reset();
	cfg.spike_factor = 4;
	spike_only(AN_SCOPE_DST, 1000);
	for (int w = 0; w < 2; w++) {
		run_det(h, AN_DET_PPS, AN_SCOPE_DST, 100);
		set_clock(cfg.clock_ns + NSEC);
	}
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 999);
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_DST, 1);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].threshold, 1000);
}

/* a source's packets jumping to spike_factor x its baseline */
static void t_spike_src(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;

	need_bpf();
	cfg.spike_factor = 4;
	spike_only(AN_SCOPE_SRC, 50);
	mk_det(&f, AN_DET_PPS, src_b, dst_v);
	/* three windows of 100 make a baseline of 100; src_b stays at 100 */
	for (int w = 0; w < 3; w++) {
		run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 100);
		run_n(h, &f, 100);
		set_clock(cfg.clock_ns + NSEC);
	}
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 399);
	run_n(h, &f, 100);
	assert_int_equal(consume(), 0);
	run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 1);
	assert_int_equal(consume(), 1);
	check_alert(&env.ev[0], AN_DET_SPIKE, AN_SCOPE_SRC, 400, 400);
	run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 100);
	assert_int_equal(consume(), 0);
	/* with action block the source is blocked: a per-source alert */
	reset();
	cfg.spike_factor = 4;
	cfg.flags |= AN_F_BLOCK;
	spike_only(AN_SCOPE_SRC, 50);
	for (int w = 0; w < 2; w++) {
		run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 100);
		set_clock(cfg.clock_ns + NSEC);
	}
	run_det(h, AN_DET_PPS, AN_SCOPE_SRC, 400);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].action, AN_ACT_BLOCK);
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run_dropped(h, &f);
}

/* the interface's packets, whatever their sources and destinations */
static void t_spike_if(void **state)
{
	enum hook h = *(enum hook *)*state;
	static const uint8_t dst_w[4] = { 192, 0, 2, 2 };
	struct frame f;
	uint8_t b[4];
	__u32 i = 0;

	need_bpf();
	cfg.spike_factor = 4;
	spike_only(AN_SCOPE_IF, 50);
	/* a new source each packet, two destinations: neither has a spike */
	for (int w = 0; w < 3; w++) {
		for (int k = 0; k < 100; k++, i++) {
			mk_det(&f, AN_DET_PPS, nth_src(AN_SCOPE_DST, i, b),
			       i & 1 ? dst_w : dst_v);
			run(h, &f);
		}
		set_clock(cfg.clock_ns + NSEC);
	}
	assert_int_equal(consume(), 0);
	for (int k = 0; k < 399; k++, i++) {
		mk_det(&f, AN_DET_PPS, nth_src(AN_SCOPE_DST, i, b),
		       i & 1 ? dst_w : dst_v);
		run(h, &f);
	}
	assert_int_equal(consume(), 0);
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run(h, &f);
	assert_int_equal(consume(), 1);
	check_alert(&env.ev[0], AN_DET_SPIKE, AN_SCOPE_IF, 400, 400);
	assert_int_equal(env.ev[0].action, AN_ACT_ALERT);
	run_n(h, &f, 100);
	assert_int_equal(consume(), 0);
	/* off with spike_factor 0 */
	cfg.spike_factor = 0;
	set_clock(cfg.clock_ns + NSEC);
	run_n(h, &f, 2000);
	assert_int_equal(consume(), 0);
}

/* a forged SYN flood does not fill the scan table */
static void t_scan_flood(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	uint8_t b[4];

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 15;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_DST] = 3;
	set_config();
	for (__u32 i = 0; i < 6; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47180,
				     .flags = PS_TCP_SYN,
				     .src = nth_src(AN_SCOPE_DST, i, b),
				     .dst = dst_v });
		run(h, &f);
	}
	/* the 4th SYN takes the destination over its limit; a first port
	 * makes no entry */
	assert_int_equal(count_keys(env.an->maps.scans), 0);
	assert_int_equal(read_stats().scan_untracked, 3);
}

/*
 * In a flood, a source tracked in this scan window still counts; one whose
 * entry was last used in an earlier window counts as new: untracked.
 */
static void t_scan_flood_tracked(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	uint8_t b[4];

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 15;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_DST] = 3;
	set_config();
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47181,
			     .flags = PS_TCP_SYN, .src = nth_src(AN_SCOPE_DST, 0, b),
			     .dst = dst_v });
	run(h, &f);
	/* the next scan window (and rate window): sources 1-3 tracked */
	set_clock(cfg.clock_ns + 300 * NSEC);
	for (__u32 i = 1; i <= 3; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47181,
				     .flags = PS_TCP_SYN,
				     .src = nth_src(AN_SCOPE_DST, i, b),
				     .dst = dst_v });
		run(h, &f);
	}
	assert_int_equal(read_stats().scan_untracked, 0);
	/* over the limit now: source 1 counts a new port, source 0 not */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47182,
			     .flags = PS_TCP_SYN, .src = nth_src(AN_SCOPE_DST, 1, b),
			     .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().scan_untracked, 0);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = 47182,
			     .flags = PS_TCP_SYN, .src = nth_src(AN_SCOPE_DST, 0, b),
			     .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().scan_untracked, 1);
}

/*
 * Forged sources that each try one closed port (a spoofed SYN flood under
 * its destination limit) make no scan entry: a scanner's entry outlives
 * more of them than the table has entries, and its 15th port alerts.
 */
static void t_scan_churn(void **state)
{
	enum hook h = *(enum hook *)*state;
	const uint16_t base = 47200;
	struct frame f;
	uint8_t b[4];

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 15;
	set_config();
	for (int i = 0; i < 14; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + i,
				     .flags = PS_TCP_SYN, .src = src_a,
				     .dst = dst_v });
		run(h, &f);
	}
	for (__u32 i = 0; i < AN_SCANS_MAX + AN_SCANS_MAX / 4; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + 20,
				     .flags = PS_TCP_SYN,
				     .src = nth_src(AN_SCOPE_DST, i, b),
				     .dst = dst_v });
		run(h, &f);
	}
	assert_int_equal(consume(), 0);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = base + 14,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run(h, &f);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].detector, AN_DET_PORT_SCAN);
	assert_int_equal(env.ev[0].count, 15);
}

/*
 * A port's judgement holds on this CPU for AN_SOCK_TTL_NS, for every
 * source: a listener opened since is seen by the first lookup after that.
 */
static void t_sock_cache(void **state)
{
	enum hook h = *(enum hook *)*state;
	const uint16_t port = 47230, other = 47231;
	const uint8_t src_c[4] = { 198, 51, 100, 9 };
	__u64 t0 = cfg.clock_ns;
	struct frame f;
	int fd;

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.scan_ports = 2;
	set_config();
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = port,
			     .flags = PS_TCP_SYN, .src = src_a, .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 1);
	fd = listen_on(SOCK_STREAM, port);
	/* within the TTL: closed, as judged for src_a */
	set_clock(t0 + AN_SOCK_TTL_NS - 1);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = port,
			     .flags = PS_TCP_SYN, .src = src_b, .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 1);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = other,
			     .flags = PS_TCP_SYN, .src = src_b, .dst = dst_v });
	run(h, &f);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].count, 2);
	/* at the TTL: looked up again, open */
	set_clock(t0 + AN_SOCK_TTL_NS);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = port,
			     .flags = PS_TCP_SYN, .src = src_c, .dst = dst_v });
	run(h, &f);
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .dport = other,
			     .flags = PS_TCP_SYN, .src = src_c, .dst = dst_v });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 3);
	assert_int_equal(consume(), 0);
	close(fd);
}

/*
 * A connected UDP socket takes its peer's datagrams only: its judgement is
 * not kept for other sources.
 */
static void t_sock_cache_peer(void **state)
{
	enum hook h = *(enum hook *)*state;
	const uint16_t port = 47232;
	/* on loopback, where connect() needs no route */
	const uint8_t host[4] = { 127, 0, 0, 1 }, peer_a[4] = { 127, 0, 0, 2 },
		      peer_b[4] = { 127, 0, 0, 3 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_port = htons(40000) };
	struct frame f;
	int fd;

	need_bpf();
	cfg.flags &= ~AN_F_NO_SCAN;
	cfg.flags |= AN_F_LOOPBACK;
	cfg.scan_ports = 15;
	set_config();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memcpy(&a.sin_addr, host, 4);
	memcpy(&peer.sin_addr, peer_a, 4);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&peer, sizeof(peer)),
			 0);
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = port,
			     .src = peer_a, .dst = host });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 1);
	/* another source: its own lookup, which finds no socket */
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = port,
			     .src = peer_b, .dst = host });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 2);
	assert_int_equal(read_stats().lookups_cached, 0);
	/* and that judgement, closed, is kept for the next */
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = port,
			     .src = src_b, .dst = host });
	run(h, &f);
	assert_int_equal(read_stats().lookups, 2);
	close(fd);
}

/*
 * More destinations in a window than slots: the ones without a slot are
 * counted in dst_full; two windows later their slots are stale and new
 * destinations take them.
 */
static void t_dst_slots(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct frame f;
	uint8_t d[4] = { 10, 200, 0, 0 };
	struct an_stats s;
	__u64 full;

	need_bpf();
	for (__u32 i = 0; i < AN_DSTS_MAX + 1000; i++) {
		d[2] = (uint8_t)(i >> 8);
		d[3] = (uint8_t)i;
		mk_det(&f, AN_DET_PPS, src_a, d);
		run(h, &f);
	}
	s = read_stats();
	full = s.dst_full;
	assert_true(full >= 1000);
	assert_int_equal(dst_slots() + full, AN_DSTS_MAX + 1000);
	/* a destination without a slot alerts nowhere; two windows on, it has one */
	set_clock(cfg.clock_ns + 2 * NSEC);
	cfg.limit[AN_DET_PPS][AN_SCOPE_DST] = 2;
	set_config();
	mk_det(&f, AN_DET_PPS, src_a, dst_v);
	run_n(h, &f, 2);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].scope, AN_SCOPE_DST);
	assert_int_equal(read_stats().dst_full, full);
}

/* ---- fixed memory under a million sources ---- */

static __u64 map_memlock(struct bpf_map *m)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(m));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void t_million_sources(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct bpf_map *maps[] = {
		env.an->maps.sketch, env.an->maps.psketch, env.an->maps.dsts,
		env.an->maps.pdsts, env.an->maps.scans, env.an->maps.offenders,
		env.an->maps.blocks,
	};
	__u64 before[7];
	const __u32 n = 1000000;
	struct frame f;
	struct an_stats s;

	need_bpf();
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = 1000;
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_DST] = n;
	set_config();
	for (int i = 0; i < 7; i++)
		before[i] = map_memlock(maps[i]);
	mk_det(&f, AN_DET_SYN_FLOOD, src_a, dst_v);
	for (__u32 i = 0; i < n; i++) {
		/* the source's last three bytes: every packet a new one */
		const struct frame_hdr *ip = frame_find(&f, FH_IPV4);
		int ret = 0;

		f.buf[ip->off + 13] = (uint8_t)(i >> 16);
		f.buf[ip->off + 14] = (uint8_t)(i >> 8);
		f.buf[ip->off + 15] = (uint8_t)i;
		assert_int_equal(test_run(prog_fd(h), f.buf, f.len, 1, &ret),
				 0);
		if (ret != hook_pass_ret(h))
			fail_msg("packet %u: verdict %d", i, ret);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(map_memlock(maps[i]), before[i]);
	s = read_stats();
	assert_int_equal(s.seen, n);
	/* the destination aggregate trips once, at its limit */
	assert_int_equal(s.alerts[AN_DET_SYN_FLOOD], 1);
	assert_int_equal(consume(), 1);
	assert_int_equal(env.ev[0].scope, AN_SCOPE_DST);
	assert_int_equal(env.ev[0].count, n);
	assert_int_equal(dst_slots(), 1);
	assert_int_equal(s.dst_full, 0);
}

/*
 * Recall: 10 heavy sources, each 1.2 x the per-source SYN limit, mixed
 * with 10^5 forged ones of one SYN each, in one window.  Every heavy
 * source alerts (the sketch never undercounts), at a packet where its
 * true count is within 10% of the limit, and no forged one alerts.  The
 * offenders table names the ten.
 */
static void t_recall(void **state)
{
	enum hook h = *(enum hook *)*state;
	enum { HEAVY = 10, FORGED = 100000, LIMIT = 1000,
	       EACH = LIMIT * 12 / 10 };
	__u32 sent[HEAVY] = { 0 }, at[HEAVY] = { 0 }, k = 0, nf = 0, nh = 0;
	uint8_t heavy[HEAVY][4], b[4];
	int alerted = 0, forged_alerts = 0;
	struct frame f;

	need_bpf();
	cfg.limit[AN_DET_SYN_FLOOD][AN_SCOPE_SRC] = LIMIT;
	set_config();
	for (int i = 0; i < HEAVY; i++)
		memcpy(heavy[i], (uint8_t[4]){ 203, 0, 113, (uint8_t)(i + 1) },
		       4);
	/* 3 heavy packets in every 28: 12000 among 100000, evenly */
	for (; nf < FORGED || nh < HEAVY * EACH; k++) {
		int hv = (k % 28 < 3 && nh < HEAVY * EACH) || nf == FORGED;

		if (hv) {
			int i = nh++ % HEAVY;

			mk_det(&f, AN_DET_SYN_FLOOD, heavy[i], dst_v);
			run(h, &f);
			sent[i]++;
		} else {
			mk_det(&f, AN_DET_SYN_FLOOD,
			       nth_src(AN_SCOPE_DST, nf++, b), dst_v);
			run(h, &f);
		}
		if (!consume())
			continue;
		assert_int_equal(env.nev, 1);
		for (int i = 0; i < HEAVY; i++) {
			if (memcmp(env.ev[0].saddr, heavy[i], 4))
				continue;
			assert_int_equal(at[i], 0);
			at[i] = sent[i];
			alerted++;
			break;
		}
		if (env.ev[0].saddr[0] == 10)
			forged_alerts++;
	}
	assert_int_equal(forged_alerts, 0);
	assert_int_equal(alerted, HEAVY);
	for (int i = 0; i < HEAVY; i++) {
		struct an_offender o;
		struct ps_addr_key key;

		if (at[i] < LIMIT * 9 / 10 || at[i] > LIMIT)
			fail_msg("heavy source %d alerted at its packet %u", i,
				 at[i]);
		ps_addr_key_set(&key, 2, heavy[i]);
		assert_int_equal(bpf_map_lookup_elem(
			bpf_map__fd(env.an->maps.offenders), &key, &o), 0);
	}
	assert_int_equal(read_stats().alerts[AN_DET_SYN_FLOOD], HEAVY);
}

#define T(fn)	HOOK_TESTS(fn, case_setup, NULL)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_wellformed),
		T(t_malformed),
		T(t_martian),
		T(t_thresholds),
		T(t_per_source),
		T(t_per_protocol),
		T(t_block),
		T(t_manual_block),
		T(t_shared_clock),
		T(t_block_cache),
		T(t_prefix_block),
		T(t_allowlist),
		T(t_own_protected),
		T(t_port_scan),
		T(t_scan_lookups),
		T(t_spike),
		T(t_spike_src),
		T(t_spike_if),
		T(t_scan_flood),
		T(t_scan_flood_tracked),
		T(t_scan_churn),
		T(t_sock_cache),
		T(t_sock_cache_peer),
		T(t_dst_slots),
		T(t_million_sources),
		T(t_recall),
		T(t_watchers),
	};

	env_setup();
	return run_hook_tests("anomaly", tests, group_teardown);
}
