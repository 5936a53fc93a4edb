// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the src-log object (bpf/src_log.bpf.c), every
 * case once through the XDP and once through the TC entry point.
 *
 * Each case starts from empty maps and a configuration with a live reader
 * and no filter, runs crafted frames, and reads what user space would: the
 * events from the ring buffer (every field compared), the stats counters
 * (every counter compared) and the sources and flows tables.  After every
 * case the teardown checks the identity src_log.h promises:
 *   seen == not_ip + filtered + not_new + no_reader + sampled_out +
 *           rate_capped + lost + events.
 *
 * What BPF_PROG_TEST_RUN does here (6.18): both program types see the
 * loopback device (ifindex 1) and refuse frames shorter than an Ethernet
 * header; TC also refuses an IPv4 (IPv6) EtherType with less than 20 (40)
 * bytes after it, so a frame cut inside its IP header is only fed to XDP.
 * A VLAN tag stays in the frame at TC (nothing strips it as the receive
 * path would), so both hooks see it in-band.
 *
 * Needs root and BPF.  Without them each test is skipped, unless
 * PKTSCOPE_REQUIRE_BPF=1, when each one fails instead (CI sets it, so that
 * a broken environment cannot pass as a skipped one).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include <pktscope/bpf/parse.h>
#include "src_log.h"
#include "src_log.skel.h"

#define LO_IFINDEX	1	/* test_run runs on the loopback device */
/* a record in the ring: its 8-byte header and the event */
#define REC_BYTES	(8 + sizeof(struct slog_event))
#define MAX_EV		64	/* events kept for inspection per consume */
/* records past wakeup_bytes that force a wake-up (bpf/src_log.bpf.c) */
#define WAKE_WINDOW	16

static struct {
	struct src_log *sl;
	struct ring_buffer *rb;
	int ring;		/* reader slot 0's ring, in rings[0] */
	struct slog_event ev[MAX_EV];
	int nev;		/* records seen by the last consume or poll */
	int bad_size;		/* records that were not one slog_event */
	/*
	 * Source lists as the plugin keeps them: always in the tries, and
	 * with short_lists in the config too (bpf/src_log.h), where the
	 * program compares them instead.  Each filter test runs both ways.
	 */
	bool short_lists;
	struct slog_nets nets[2];	/* allow, deny */
} env;

static void sleep_ns(__u64 ns)
{
	struct timespec ts = { ns / NSEC, ns % NSEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size != sizeof(struct slog_event))
		env.bad_size++;
	else if (env.nev < MAX_EV)
		memcpy(&env.ev[env.nev], data, size);
	env.nev++;
	return 0;
}

static int drop_ev(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* Load the object once for the whole run; harness.why says what failed. */
static void env_setup(void)
{
	if (!harness_setup())
		return;
	env.sl = src_log__open_and_load();
	if (!harness_loaded(env.sl, "src_log.bpf.o"))
		return;
	env.ring = harness_ring(bpf_map__fd(env.sl->maps.rings), 0,
				SLOG_RING_BYTES);
	env.rb = env.ring < 0 ? NULL :
		 ring_buffer__new(env.ring, on_event, NULL, NULL);
	if (!env.rb)
		harness_unusable("cannot open the events ring buffer: %s",
				 strerror(errno));
}

static int group_teardown(void **state)
{
	(void)state;
	ring_buffer__free(env.rb);
	src_log__destroy(env.sl);
	return 0;
}

/* ---- maps ---- */

static struct slog_stats read_stats(void)
{
	struct slog_stats s;
	__u32 zero = 0;

	assert_int_equal(percpu_sum(env.sl->maps.stats, &zero, &s), 0);
	return slog_stats_total(&s);
}

static __u64 outcomes(const struct slog_stats *s)
{
	return s->not_ip + s->filtered + s->not_new + s->no_reader +
	       s->sampled_out + s->rate_capped + s->lost + s->events;
}

#define STATS(...)	((struct slog_stats){ __VA_ARGS__ })

/* every counter, so a packet counted twice or in the wrong place fails */
static void expect_stats(struct slog_stats want)
{
	struct slog_stats got = read_stats();
	int bad = 0;

#define CMP(f)	(bad += field_differs("stats." #f, got.f, want.f))
	CMP(seen); CMP(not_ip); CMP(filtered); CMP(not_new); CMP(no_reader);
	CMP(sampled_out); CMP(rate_capped); CMP(lost); CMP(events);
#undef CMP
	if (bad)
		fail_msg("%d counter(s) wrong", bad);
	assert_int_equal(got.seen, outcomes(&got));
}

/* ring_buffer__consume() into env.ev; the number of records */
static int consume(void)
{
	int n;

	env.nev = 0;
	env.bad_size = 0;
	n = ring_buffer__consume(env.rb);
	assert_true(n >= 0);
	assert_int_equal(env.bad_size, 0);
	assert_int_equal(n, env.nev);
	return n;
}

/* ring_buffer__poll(): records from rings whose reader was woken */
static int poll_ring(int timeout_ms)
{
	int n;

	env.nev = 0;
	env.bad_size = 0;
	n = ring_buffer__poll(env.rb, timeout_ms);
	assert_true(n >= 0);
	assert_int_equal(env.bad_size, 0);
	return n;
}

/* A configuration that logs everything: no filter, a reader just polled. */
static struct slog_config cfg_default(void)
{
	struct slog_config c;

	memset(&c, 0, sizeof(c));
	c.sport_hi = 65535;
	c.dport_hi = 65535;
	c.readers[0].beat_ns = mono_ns();
	return c;
}

static void set_config(const struct slog_config *c)
{
	struct slog_config w = *c;

	if (env.short_lists) {
		w.allow = env.nets[0];
		w.deny = env.nets[1];
		/* used even while empty: it then matches nothing, as the trie */
		w.allow.used4 = w.allow.used6 = 1;
		w.deny.used4 = w.deny.used6 = 1;
	}
	array_set(env.sl->maps.config, &w);
}

/* the config again, with the current source lists */
static void refresh_config(void)
{
	struct slog_config c;

	array_get(env.sl->maps.config, &c);
	set_config(&c);
}

static void set_proto(struct slog_config *c, uint8_t proto)
{
	c->flags |= SLOG_F_PROTO;
	c->protos[proto / 8] |= 1U << (proto % 8);
}

static int list_of(const struct bpf_map *m)
{
	return m == env.sl->maps.src_deny;
}

/* A source prefix into src_allow or src_deny, as the plugin adds it. */
static void add_prefix(struct bpf_map *m, int family, const void *addr,
		       unsigned int plen)
{
	struct ps_lpm_key k;
	__u8 one = 1;

	ps_lpm_key_set(&k, family, addr, plen);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(m), &k, &one, 0), 0);
	assert_int_equal(slog_nets_add(&env.nets[list_of(m)], family, addr,
				       plen), 0);
	refresh_config();
}

static void clear_prefixes(struct bpf_map *m)
{
	clear_map(m);
	memset(&env.nets[list_of(m)], 0, sizeof(env.nets[0]));
	refresh_config();
}

static void set_rate(__u64 window_ns, __u64 count)
{
	struct slog_rate r = { window_ns, count };

	array_set(env.sl->maps.rate, &r);
}

static struct slog_rate get_rate(void)
{
	struct slog_rate r;

	array_get(env.sl->maps.rate, &r);
	return r;
}

/* Empty maps and ring, the default configuration. */
static void reset(void)
{
	struct slog_config c = cfg_default();

	percpu_zero(env.sl->maps.stats);
	clear_map(env.sl->maps.flows);
	clear_map(env.sl->maps.sources);
	clear_map(env.sl->maps.src_allow);
	clear_map(env.sl->maps.src_deny);
	env.short_lists = false;
	memset(env.nets, 0, sizeof(env.nets));
	set_rate(0, 0);
	consume();
	set_config(&c);
}

static int case_setup(void **state)
{
	(void)state;
	if (!harness.why[0])
		reset();
	return 0;
}

/* The counter identity, after every case (a failure fails the case). */
static int case_teardown(void **state)
{
	struct slog_stats s;

	(void)state;
	if (harness.why[0])
		return 0;
	s = read_stats();
	if (s.seen != outcomes(&s)) {
		note("identity broken: seen %llu, outcomes %llu",
		     (unsigned long long)s.seen,
		     (unsigned long long)outcomes(&s));
		return -1;
	}
	return 0;
}

/* ---- running ---- */

static void run_len(enum hook h, const struct frame *f, size_t len,
		    __u32 repeat)
{
	assert_false(f->error);
	run_pass(h, hook_prog_fd(h, env.sl->progs.slog_xdp,
				 env.sl->progs.slog_tc), f->buf, len, repeat);
}

static void run(enum hook h, const struct frame *f)
{
	run_len(h, f, f->len, 1);
}

static void run_n(enum hook h, const struct frame *f, __u32 n)
{
	run_len(h, f, f->len, n);
}

/* ---- frames and the events they must give ---- */

/* A crafted packet: what the frame holds and so what its event says. */
struct pk {
	int v6;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags;		/* TCP */
	uint8_t type, code;	/* ICMP, ICMPv6 */
	const uint8_t *src;	/* NULL: frames.c's default source */
	const uint8_t *dst;
	uint16_t vlan;		/* one 802.1Q tag when != 0 */
	size_t len;		/* padded to this; 0: 64 */
};

static int has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

static void mk(struct frame *f, const struct pk *p)
{
	uint16_t et = p->v6 ? ETH_P_IPV6 : ETH_P_IP;

	frame_init(f);
	if (p->vlan) {
		frame_eth(f, ETH_P_8021Q);
		frame_vlan(f, p->vlan, et);
	} else {
		frame_eth(f, et);
	}
	if (p->v6) {
		struct frame_ipv6 ip = { .nexthdr = p->proto };

		if (p->src)
			memcpy(ip.src, p->src, 16);
		if (p->dst)
			memcpy(ip.dst, p->dst, 16);
		frame_ipv6(f, &ip);
	} else {
		struct frame_ipv4 ip = { .proto = p->proto };

		if (p->src)
			memcpy(ip.src, p->src, 4);
		if (p->dst)
			memcpy(ip.dst, p->dst, 4);
		frame_ipv4(f, &ip);
	}
	switch (p->proto) {
	case IPPROTO_TCP:
		frame_tcp(f, p->sport, p->dport, p->flags, 0);
		break;
	case IPPROTO_UDP:
		frame_udp(f, p->sport, p->dport);
		break;
	case IPPROTO_SCTP:
		frame_sctp(f, p->sport, p->dport);
		break;
	case IPPROTO_ICMP:
		frame_icmp(f, p->type, p->code);
		break;
	case IPPROTO_ICMPV6:
		frame_icmpv6(f, p->type, p->code);
		break;
	case IPPROTO_GRE:
		frame_gre(f, 0, ETH_P_IP);
		break;
	default:
		frame_payload(f, 8);
		break;
	}
	frame_pad(f, p->len ? p->len : 64);
	frame_finish(f);
	assert_false(f->error);
}

static struct slog_event want_ev(const struct frame *f, const struct pk *p)
{
	struct slog_event w;
	size_t alen = p->v6 ? 16 : 4;

	memset(&w, 0, sizeof(w));
	w.family = p->v6 ? PS_AF_INET6 : PS_AF_INET;
	memcpy(w.saddr, p->src ? p->src : p->v6 ? frame_ip6_src : frame_ip4_src,
	       alen);
	memcpy(w.daddr, p->dst ? p->dst : p->v6 ? frame_ip6_dst : frame_ip4_dst,
	       alen);
	w.len = f->len;
	w.ifindex = LO_IFINDEX;
	w.proto = p->proto;
	if (has_ports(p->proto)) {
		w.sport = p->sport;
		w.dport = p->dport;
	}
	if (p->proto == IPPROTO_TCP)
		w.tcp_flags = p->flags;
	if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
		w.icmp_type = p->type;
		w.icmp_code = p->code;
	}
	if (p->vlan) {
		w.vlan_id = p->vlan;
		w.vlan_count = 1;
	}
	w.status = PS_PKT_OK;
	w.frag = PS_FRAG_NONE;
	return w;
}

/* every field; the time must lie in [t0, t1] */
static void expect_event(const struct slog_event *got,
			 const struct slog_event *want, __u64 t0, __u64 t1)
{
	int bad = 0;

#define CMP(f)	(bad += field_differs("event." #f, got->f, want->f))
	CMP(len); CMP(ifindex); CMP(sport); CMP(dport); CMP(vlan_id);
	CMP(family); CMP(proto); CMP(tcp_flags); CMP(icmp_type);
	CMP(icmp_code); CMP(status); CMP(frag); CMP(vlan_count);
	CMP(pad[0]); CMP(pad[1]);
#undef CMP
	bad += bytes_differ("event.saddr", got->saddr, want->saddr, 16);
	bad += bytes_differ("event.daddr", got->daddr, want->daddr, 16);
	if (got->ts_ns < t0 || got->ts_ns > t1) {
		note("event.ts_ns %llu not in [%llu, %llu]",
		     (unsigned long long)got->ts_ns, (unsigned long long)t0,
		     (unsigned long long)t1);
		bad++;
	}
	if (bad)
		fail_msg("%d event field(s) wrong", bad);
}

/* On a clean slate, len bytes of f make exactly the event want. */
static void check_event_len(enum hook h, const struct frame *f, size_t len,
			    const struct slog_event *want)
{
	__u64 t0, t1;

	reset();
	t0 = mono_ns();
	run_len(h, f, len, 1);
	t1 = mono_ns();
	assert_int_equal(consume(), 1);
	expect_event(&env.ev[0], want, t0, t1);
	expect_stats(STATS(.seen = 1, .events = 1));
}

static void check_event(enum hook h, const struct frame *f,
			const struct slog_event *want)
{
	check_event_len(h, f, f->len, want);
}

static void check_pk(enum hook h, const struct pk *p)
{
	struct slog_event w;
	struct frame f;

	mk(&f, p);
	w = want_ev(&f, p);
	check_event(h, &f, &w);
}

/* Run one frame; it makes no event (the caller checks the counters). */
static void run_quiet(enum hook h, const struct frame *f)
{
	run(h, f);
	assert_int_equal(consume(), 0);
}

static void run_pk(enum hook h, const struct pk *p)
{
	struct frame f;

	mk(&f, p);
	run(h, &f);
}

/* Whether p gets through the current configuration: one event or none. */
static int passes(enum hook h, const struct pk *p)
{
	struct frame f;
	int n;

	mk(&f, p);
	run(h, &f);
	n = consume();
	assert_true(n <= 1);
	if (n) {
		struct slog_event w = want_ev(&f, p);

		expect_event(&env.ev[0], &w, 0, UINT64_MAX);
	}
	return n;
}

/* ---- tests: events, field by field ---- */

static void t_ipv4_events(void **state)
{
	enum hook h = *(enum hook *)*state;

	need_bpf();
	check_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = 40000,
				  .dport = 443, .flags = PS_TCP_SYN });
	check_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = 443,
				  .dport = 40000,
				  .flags = PS_TCP_SYN | PS_TCP_ACK | PS_TCP_ECE });
	check_pk(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 5353,
				  .dport = 53, .len = 300 });
	check_pk(h, &(struct pk){ .proto = IPPROTO_ICMP, .type = 3,
				  .code = 4 });
	check_pk(h, &(struct pk){ .proto = IPPROTO_ICMP, .type = 8 });
	check_pk(h, &(struct pk){ .proto = IPPROTO_SCTP, .sport = 5000,
				  .dport = 3868 });
	/* no ports, no flags: the protocol alone */
	check_pk(h, &(struct pk){ .proto = IPPROTO_GRE });
	check_pk(h, &(struct pk){ .proto = 50 });	/* ESP */
}

static void t_ipv6_events(void **state)
{
	static const uint8_t src[16] = { 0xfe, 0x80, [15] = 0x42 };
	static const uint8_t dst[16] = { 0xff, 0x02, [15] = 0x01 };
	enum hook h = *(enum hook *)*state;

	need_bpf();
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP, .sport = 50000,
				  .dport = 22, .flags = PS_TCP_SYN });
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP, .sport = 546,
				  .dport = 547, .src = src, .dst = dst,
				  .len = 128 });
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_ICMPV6,
				  .type = 135 });
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_ICMPV6, .type = 1,
				  .code = 4 });
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_SCTP, .sport = 2905,
				  .dport = 2905 });
}

/* behind extension headers, proto is the last next-header */
static void t_ipv6_ext_event(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_event w;
	struct frame f;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_HOPOPTS });
	frame_ipv6_opt(&f, IPPROTO_DSTOPTS, 8);
	frame_ipv6_opt(&f, IPPROTO_TCP, 16);
	frame_tcp(&f, 179, 33000, PS_TCP_ACK | PS_TCP_PSH, 0);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP,
				      .sport = 179, .dport = 33000,
				      .flags = PS_TCP_ACK | PS_TCP_PSH });
	check_event(h, &f, &w);
}

static void t_vlan_events(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_event w;
	struct frame f;

	need_bpf();
	check_pk(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 1, .dport = 2,
				  .vlan = 100 });
	check_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_ICMPV6, .type = 128,
				  .vlan = 4094 });

	/* QinQ: the outer id, two tags */
	frame_init(&f);
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 3000, ETH_P_8021Q);
	frame_vlan(&f, 7, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_TCP });
	frame_tcp(&f, 50000, 80, PS_TCP_SYN, 0);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP,
				      .sport = 50000, .dport = 80,
				      .flags = PS_TCP_SYN });
	w.vlan_id = 3000;
	w.vlan_count = 2;
	check_event(h, &f, &w);
}

/*
 * A cut L4 header: the IP header parsed, so the packet is logged, with
 * status truncated and none of the cut header's fields.
 */
static void t_truncated_events(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_event w;
	struct frame f;
	size_t cut;

	need_bpf();
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .sport = 1, .dport = 2,
			     .flags = PS_TCP_SYN, .len = 14 + 20 + 20 });
	for (cut = 14 + 20; cut < f.len; cut++) {
		w = want_ev(&f, &(struct pk){ .proto = IPPROTO_TCP });
		w.len = cut;
		w.status = PS_PKT_TRUNCATED;
		/* the IPv4 header says 40 bytes: the whole frame */
		f.buf[14 + 2] = 0;
		f.buf[14 + 3] = cut - 14;
		check_event_len(h, &f, cut, &w);
	}

	mk(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP, .sport = 1,
			     .dport = 2, .len = 14 + 40 + 8 });
	/* IPv6 payload_len 4: the header announces half a UDP header */
	f.buf[14 + 5] = 4;
	w = want_ev(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP });
	w.status = PS_PKT_TRUNCATED;
	check_event(h, &f, &w);

	/* ICMP cut after its type: no type or code either */
	mk(&f, &(struct pk){ .proto = IPPROTO_ICMP, .type = 8,
			     .len = 14 + 20 + 8 });
	f.buf[14 + 3] = 20 + 4;
	w = want_ev(&f, &(struct pk){ .proto = IPPROTO_ICMP });
	w.status = PS_PKT_TRUNCATED;
	check_event(h, &f, &w);
}

/* A malformed L4 header is logged as such; the IP header is fine. */
static void t_malformed_event(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_event w;
	struct frame f;

	need_bpf();
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(&f, 1, 2, PS_TCP_SYN, 4);	/* doff 4 < 5 */
	frame_pad(&f, 64);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .proto = IPPROTO_TCP });
	w.status = PS_PKT_MALFORMED;
	check_event(h, &f, &w);
}

static void t_fragment_events(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_event w;
	struct frame f;

	need_bpf();
	/* first fragment: the UDP header is there */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 0x2000 });
	frame_udp(&f, 4000, 4001);
	frame_payload(&f, 32);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = 4000,
				      .dport = 4001 });
	w.frag = PS_FRAG_FIRST;
	check_event(h, &f, &w);

	/* a later one: the protocol, no ports */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 185 });
	frame_payload(&f, 40);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .proto = IPPROTO_UDP });
	w.frag = PS_FRAG_LATER;
	check_event(h, &f, &w);

	frame_init(&f);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, &(struct frame_ipv6){ .nexthdr = IPPROTO_FRAGMENT });
	frame_ipv6_frag(&f, IPPROTO_TCP, 100, 0);
	frame_payload(&f, 40);
	frame_finish(&f);
	w = want_ev(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP });
	w.frag = PS_FRAG_LATER;
	check_event(h, &f, &w);
}

/*
 * Whatever has no parsed IP header is not_ip, makes no event and no
 * source, whatever the configuration.
 */
static void t_not_ip(void **state)
{
	static const uint8_t sip[4] = { 10, 0, 0, 1 }, tip[4] = { 10, 0, 0, 2 };
	enum hook h = *(enum hook *)*state;
	struct frame f[6];
	int i, n = 0;

	need_bpf();
	/* ARP: the parser fills in addresses, but it is not IP */
	frame_init(&f[n]);
	frame_eth(&f[n], ETH_P_ARP);
	frame_arp(&f[n], 1, sip, tip);
	frame_pad(&f[n], 60);
	frame_finish(&f[n++]);

	frame_init(&f[n]);
	frame_eth(&f[n], 0x88b5);
	frame_payload(&f[n], 50);
	frame_finish(&f[n++]);

	/* a third tag is not looked behind */
	frame_init(&f[n]);
	frame_eth(&f[n], ETH_P_8021AD);
	frame_vlan(&f[n], 1, ETH_P_8021Q);
	frame_vlan(&f[n], 2, ETH_P_8021Q);
	frame_vlan(&f[n], 3, ETH_P_IP);
	frame_ipv4(&f[n], &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(&f[n], 1, 2);
	frame_finish(&f[n++]);

	/* IP version 5: malformed IP header */
	frame_init(&f[n]);
	frame_eth(&f[n], ETH_P_IP);
	frame_ipv4(&f[n], &(struct frame_ipv4){ .proto = IPPROTO_UDP,
						.version = 5 });
	frame_udp(&f[n], 1, 2);
	frame_finish(&f[n++]);

	/* tot_len beyond the frame: the IP packet itself is cut */
	frame_init(&f[n]);
	frame_eth(&f[n], ETH_P_IP);
	frame_ipv4(&f[n], &(struct frame_ipv4){ .proto = IPPROTO_UDP,
						.tot_len = 1000 });
	frame_udp(&f[n], 1, 2);
	frame_pad(&f[n], 64);
	frame_finish(&f[n++]);

	frame_init(&f[n]);
	frame_eth(&f[n], ETH_P_IPV6);
	frame_ipv6(&f[n], &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP,
						.version = 4 });
	frame_udp(&f[n], 1, 2);
	frame_finish(&f[n++]);

	for (i = 0; i < n; i++)
		run_quiet(h, &f[i]);
	/* an IPv4 header cut short (TC refuses such frames: XDP only) */
	if (h == XDP) {
		run_len(h, &f[4], 14 + 19, 1);
		assert_int_equal(consume(), 0);
		n++;
	}
	expect_stats(STATS(.seen = n, .not_ip = n));
	assert_int_equal(count_keys(env.sl->maps.sources), 0);
}

/* ---- tests: filters ---- */

static void t_filter_proto(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();

	need_bpf();
	set_proto(&c, IPPROTO_TCP);
	set_proto(&c, IPPROTO_ICMPV6);
	set_proto(&c, 255);
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = 1,
					    .dport = 2 }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP }));
	assert_true(passes(h, &(struct pk){ .v6 = 1,
					    .proto = IPPROTO_ICMPV6 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_ICMP }));
	/* the bitmap's last bit, and its neighbours */
	assert_true(passes(h, &(struct pk){ .proto = 255 }));
	assert_false(passes(h, &(struct pk){ .proto = 254 }));
	assert_false(passes(h, &(struct pk){ .proto = 0 }));
	expect_stats(STATS(.seen = 9, .filtered = 5, .events = 4));
	/* a filtered packet is no source either */
	assert_int_equal(count_keys(env.sl->maps.sources), 2);

	/* the flag off: the bitmap is ignored */
	c.flags = 0;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
}

static void filter_src_allow(void **state)
{
	static const uint8_t net4[4] = { 192, 0, 2, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t in4[4] = { 192, 0, 2, 200 };
	static const uint8_t out4[4] = { 192, 0, 3, 1 };
	/* the first four bytes of 2001:db8::, as an IPv4 address */
	static const uint8_t alias4[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t in6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 9 };
	static const uint8_t out6[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	const uint8_t any[16] = { 0 };

	need_bpf();
	c.flags = SLOG_F_SRC_ALLOW;
	set_config(&c);
	/* an empty allow list lets nothing through */
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));

	add_prefix(env.sl->maps.src_allow, PS_AF_INET, net4, 24);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET6, net6, 32);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = in4 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					     .src = out4 }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP,
					    .src = in6 }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP,
					     .src = out6 }));
	/* the family is part of the prefix */
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					     .src = alias4 }));
	expect_stats(STATS(.seen = 8, .filtered = 4, .events = 4));

	/* 0.0.0.0/0 is every IPv4 source and no IPv6 one */
	clear_prefixes(env.sl->maps.src_allow);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET, any, 0);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = out4 }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP }));
	/* and ::/0 the other way round */
	clear_prefixes(env.sl->maps.src_allow);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET6, any, 0);
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP,
					    .src = out6 }));
	/* a host route */
	clear_prefixes(env.sl->maps.src_allow);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET, in4, 32);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = in4 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
}

static void filter_src_deny(void **state)
{
	static const uint8_t host4[4] = { 192, 0, 2, 1 };
	static const uint8_t other4[4] = { 192, 0, 2, 2 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t out6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
					  [15] = 1 };
	static const uint8_t n10[4] = { 10 }, n10_1[4] = { 10, 1 };
	static const uint8_t a[4] = { 10, 2, 3, 4 }, b[4] = { 10, 1, 2, 3 };
	static const uint8_t z[4] = { 11, 0, 0, 1 };
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();

	need_bpf();
	c.flags = SLOG_F_SRC_DENY;
	set_config(&c);
	/* an empty deny list denies nothing */
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
	add_prefix(env.sl->maps.src_deny, PS_AF_INET, host4, 32);
	add_prefix(env.sl->maps.src_deny, PS_AF_INET6, net6, 64);
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					     .src = host4 }));
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					    .src = other4 }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP,
					    .src = out6 }));
	expect_stats(STATS(.seen = 5, .filtered = 2, .events = 3));

	/* deny inside allow: 10/8 but not 10.1/16 */
	clear_prefixes(env.sl->maps.src_deny);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET, n10, 8);
	add_prefix(env.sl->maps.src_deny, PS_AF_INET, n10_1, 16);
	c.flags = SLOG_F_SRC_ALLOW | SLOG_F_SRC_DENY;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = a }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = b }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = z }));
	/* the tries only count when their flag is set */
	c.flags = SLOG_F_SRC_ALLOW;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = b }));
	c.flags = 0;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .src = z }));
}

static void t_filter_dport(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct frame f;

	need_bpf();
	c.dport_lo = 50;
	c.dport_hi = 60;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .dport = 53 }));
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP, .dport = 50 }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_SCTP,
					    .dport = 60 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					     .dport = 49 }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP,
					     .dport = 61 }));
	/* the source port does not count */
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 53,
					     .dport = 443 }));
	/* no ports: fails a port filter */
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_ICMP }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_GRE }));
	/* a later fragment has no ports either */
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 185 });
	frame_payload(&f, 40);
	frame_finish(&f);
	run_quiet(h, &f);
	/* nor a cut header whose ports would have matched */
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .dport = 53,
			     .len = 14 + 20 + 8 });
	f.buf[14 + 3] = 20 + 7;
	run_quiet(h, &f);
	expect_stats(STATS(.seen = 10, .filtered = 7, .events = 3));

	/* one port: lo == hi */
	c.dport_lo = c.dport_hi = 443;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					    .dport = 443 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					     .dport = 444 }));
	/* port 0 is a port: 0-0 matches it and nothing else */
	c.dport_lo = c.dport_hi = 0;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .dport = 0 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					     .dport = 1 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_ICMP }));
	/* a UDP packet without a parsed header has no port 0 either */
	run_quiet(h, &f);
	frame_init(&f);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, &(struct frame_ipv4){ .proto = IPPROTO_UDP,
					     .frag = 185 });
	frame_payload(&f, 40);
	frame_finish(&f);
	run_quiet(h, &f);
	/* 0-65535: no filter, so packets without ports pass again */
	c.dport_hi = 65535;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_ICMP }));
	/* 1-65535 is a filter: any port but 0, and no portless packet */
	c.dport_lo = 1;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					    .dport = 65535 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_ICMP }));
}

static void t_filter_sport(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();

	need_bpf();
	c.sport_lo = 1024;
	c.sport_hi = 65535;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					    .sport = 40000, .dport = 22 }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_UDP,
					    .sport = 1024 }));
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					    .sport = 65535 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					     .sport = 1023, .dport = 40000 }));
	assert_false(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_ICMPV6 }));
	expect_stats(STATS(.seen = 5, .filtered = 2, .events = 3));

	/* both ranges at once: both must hold */
	c.sport_lo = 53;
	c.sport_hi = 53;
	c.dport_lo = 1024;
	c.dport_hi = 65535;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 53,
					    .dport = 33000 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 53,
					     .dport = 53 }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
					     .sport = 33000, .dport = 33000 }));
}

static void t_filter_syn(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct frame f;

	need_bpf();
	c.flags = SLOG_F_SYN;
	set_config(&c);
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					    .flags = PS_TCP_SYN }));
	assert_true(passes(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP,
					    .flags = PS_TCP_SYN }));
	/* ECN set-up and other bits beside SYN: still a connection attempt */
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					    .flags = PS_TCP_SYN | PS_TCP_ECE |
						     PS_TCP_CWR }));
	assert_true(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					    .flags = PS_TCP_SYN | PS_TCP_FIN }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					     .flags = PS_TCP_SYN | PS_TCP_ACK }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP,
					     .flags = PS_TCP_ACK }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_TCP }));
	assert_false(passes(h, &(struct pk){ .proto = IPPROTO_UDP }));
	/* a SYN cut inside its header shows no flags */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .flags = PS_TCP_SYN,
			     .len = 14 + 20 + 20 });
	f.buf[14 + 3] = 20 + 19;
	run_len(h, &f, 14 + 20 + 19, 1);
	assert_int_equal(consume(), 0);
	expect_stats(STATS(.seen = 9, .filtered = 5, .events = 4));
}

/* Every filter at once: each one alone can reject. */
static void filter_combined(void **state)
{
	static const uint8_t net[4] = { 192, 0, 2, 0 };
	static const uint8_t bad[4] = { 192, 0, 2, 66 };
	static const uint8_t out[4] = { 203, 0, 113, 1 };
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct pk good = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			   .flags = PS_TCP_SYN };
	struct pk p;

	need_bpf();
	set_proto(&c, IPPROTO_TCP);
	c.flags |= SLOG_F_SRC_ALLOW | SLOG_F_SRC_DENY | SLOG_F_SYN;
	c.dport_lo = 443;
	c.dport_hi = 443;
	c.sport_lo = 1024;
	set_config(&c);
	add_prefix(env.sl->maps.src_allow, PS_AF_INET, net, 24);
	add_prefix(env.sl->maps.src_deny, PS_AF_INET, bad, 32);

	assert_true(passes(h, &good));
	p = good;
	p.proto = IPPROTO_UDP;
	assert_false(passes(h, &p));
	p = good;
	p.src = out;
	assert_false(passes(h, &p));
	p = good;
	p.src = bad;
	assert_false(passes(h, &p));
	p = good;
	p.dport = 80;
	assert_false(passes(h, &p));
	p = good;
	p.sport = 80;
	assert_false(passes(h, &p));
	p = good;
	p.flags = PS_TCP_SYN | PS_TCP_ACK;
	assert_false(passes(h, &p));
	p = good;
	p.v6 = 1;		/* no IPv6 prefix allowed */
	assert_false(passes(h, &p));
	expect_stats(STATS(.seen = 8, .filtered = 7, .events = 1));
	assert_int_equal(count_keys(env.sl->maps.sources), 1);
}

/* the source filters with the lists in the tries, then in the config */
#define BOTH_WAYS(name)							\
	static void t_##name(void **state)				\
	{								\
		name(state);						\
	}								\
	static void t_##name##_short(void **state)			\
	{								\
		env.short_lists = true;					\
		name(state);						\
	}
BOTH_WAYS(filter_src_allow)
BOTH_WAYS(filter_src_deny)
BOTH_WAYS(filter_combined)

/*
 * Each family's part of a list goes its own way: here the IPv4 part is
 * in the trie alone (more than SLOG_NETS_MAX, as the plugin would mark
 * it) and the IPv6 part in the config.  The trie's IPv6 prefix is not
 * the config's: an IPv6 source must be judged by the config only.
 */
static void t_filter_src_split(void **state)
{
	static const uint8_t net4[4] = { 192, 0, 2, 0 };
	static const uint8_t in4[4] = { 192, 0, 2, 9 }, out4[4] = { 192, 0, 3, 9 };
	static const uint8_t cfg6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t trie6[16] = { 0x20, 0x01, 0x0d, 0xb9 };
	static const uint8_t in6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t only_trie6[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct ps_lpm_key k;
	__u8 one = 1;
	int fd;

	need_bpf();
	for (int deny = 0; deny < 2; deny++) {
		struct bpf_map *m = deny ? env.sl->maps.src_deny :
					   env.sl->maps.src_allow;
		struct slog_nets *l;

		reset();
		c = cfg_default();
		l = deny ? &c.deny : &c.allow;
		c.flags = deny ? SLOG_F_SRC_DENY : SLOG_F_SRC_ALLOW;
		fd = bpf_map__fd(m);
		ps_lpm_key_set(&k, PS_AF_INET, net4, 24);
		assert_int_equal(bpf_map_update_elem(fd, &k, &one, 0), 0);
		ps_lpm_key_set(&k, PS_AF_INET6, trie6, 32);
		assert_int_equal(bpf_map_update_elem(fd, &k, &one, 0), 0);
		assert_int_equal(slog_nets_add(l, PS_AF_INET6, cfg6, 32), 0);
		l->used4 = 0;
		set_config(&c);
		/* a deny list passes what an allow list drops */
		assert_int_equal(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
							.src = in4 }), !deny);
		assert_int_equal(passes(h, &(struct pk){ .proto = IPPROTO_UDP,
							.src = out4 }), deny);
		assert_int_equal(passes(h, &(struct pk){ .v6 = 1,
							.proto = IPPROTO_UDP,
							.src = in6 }), !deny);
		assert_int_equal(passes(h, &(struct pk){ .v6 = 1,
							.proto = IPPROTO_UDP,
							.src = only_trie6 }), deny);
	}
}

/* whether addr is in the prefix: bit by bit, unlike either kernel path */
static bool in_prefix(const uint8_t *addr, const uint8_t *net,
		      unsigned int plen)
{
	for (unsigned int b = 0; b < plen; b++)
		if ((addr[b / 8] ^ net[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/*
 * Random prefix lists of both families and every length, random sources
 * in and near them: the trie, the config's short list and a bit-by-bit
 * compare here must agree on each.
 */
static void t_filter_src_random(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct {
		int v6;
		uint8_t addr[16];
		unsigned int plen;
	} net[SLOG_NETS_MAX];
	unsigned int seed = 1;

	need_bpf();
	c.flags = SLOG_F_SRC_ALLOW;
	for (int round = 0; round < 8; round++) {
		unsigned int n = 1 + round % SLOG_NETS_MAX;

		env.short_lists = false;
		clear_prefixes(env.sl->maps.src_allow);
		for (unsigned int i = 0; i < n; i++) {
			net[i].v6 = rand_r(&seed) & 1;
			net[i].plen = rand_r(&seed) % (net[i].v6 ? 129 : 33);
			for (int b = 0; b < 16; b++)
				net[i].addr[b] = rand_r(&seed);
			add_prefix(env.sl->maps.src_allow,
				   net[i].v6 ? PS_AF_INET6 : PS_AF_INET,
				   net[i].addr, net[i].plen);
		}
		for (int t = 0; t < 24; t++) {
			unsigned int i = rand_r(&seed) % n;
			uint8_t src[16];
			struct pk p = { .v6 = net[i].v6, .proto = IPPROTO_UDP,
					.src = src };
			bool want = false;
			int flip;

			/* the prefix's own address, one bit flipped (t > 0) */
			memcpy(src, net[i].addr, sizeof(src));
			flip = rand_r(&seed) % (net[i].v6 ? 128 : 32);
			if (t)
				src[flip / 8] ^= 0x80 >> (flip % 8);
			for (unsigned int k = 0; k < n; k++)
				want |= net[k].v6 == p.v6 &&
					in_prefix(src, net[k].addr,
						  net[k].plen);
			env.short_lists = false;
			set_config(&c);
			assert_int_equal(passes(h, &p), want);
			env.short_lists = true;
			set_config(&c);
			assert_int_equal(passes(h, &p), want);
		}
	}
}

/* ---- tests: new flows, sampling, rate cap, reader ---- */

static struct slog_flow_key flow_key(const struct slog_event *e)
{
	struct slog_flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.saddr, e->saddr, 16);
	memcpy(k.daddr, e->daddr, 16);
	k.sport = e->sport;
	k.dport = e->dport;
	k.family = e->family;
	k.proto = e->proto;
	return k;
}

static void set_flow(const struct slog_flow_key *k, __u64 last)
{
	int fd = bpf_map__fd(env.sl->maps.flows);

	assert_int_equal(bpf_map_update_elem(fd, k, &last, 0), 0);
}

static __u64 get_flow(const struct slog_flow_key *k)
{
	int fd = bpf_map__fd(env.sl->maps.flows);
	__u64 last = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, k, &last), 0);
	return last;
}

static void t_new_flows(void **state)
{
	static const uint8_t other[4] = { 192, 0, 2, 99 };
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct pk a = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 443,
			.flags = PS_TCP_ACK };
	struct pk rev = { .proto = IPPROTO_TCP, .sport = 443, .dport = 40000,
			  .src = frame_ip4_dst, .dst = frame_ip4_src };
	struct pk p;
	struct slog_flow_key k;
	struct slog_event w;
	struct frame f;
	__u64 t0, t1, last;

	need_bpf();
	c.flags = SLOG_F_NEW_FLOWS;
	c.flow_timeout_ns = 200 * 1000000ULL;
	set_config(&c);

	/* once per flow, whatever else the packets carry */
	t0 = mono_ns();
	assert_true(passes(h, &a));
	t1 = mono_ns();
	mk(&f, &a);
	w = want_ev(&f, &a);
	k = flow_key(&w);
	last = get_flow(&k);
	assert_true(last >= t0 && last <= t1);
	p = a;
	p.flags = PS_TCP_PSH | PS_TCP_ACK;
	p.len = 200;
	assert_false(passes(h, &p));
	assert_false(passes(h, &a));
	/* each element of the key makes another flow */
	assert_true(passes(h, &rev));
	p = a;
	p.sport++;
	assert_true(passes(h, &p));
	p = a;
	p.dport++;
	assert_true(passes(h, &p));
	p = a;
	p.src = other;
	assert_true(passes(h, &p));
	p = a;
	p.proto = IPPROTO_UDP;
	assert_true(passes(h, &p));
	p = a;
	p.v6 = 1;
	assert_true(passes(h, &p));
	assert_false(passes(h, &p));
	/* portless packets: one flow per address pair and protocol */
	p = (struct pk){ .proto = IPPROTO_ICMP, .type = 8 };
	assert_true(passes(h, &p));
	p.type = 0;
	assert_false(passes(h, &p));
	expect_stats(STATS(.seen = 12, .not_new = 4, .events = 8));
	assert_int_equal(count_keys(env.sl->maps.flows), 8);

	/*
	 * Idle for longer than the timeout: new again.  A real sleep, with
	 * a tiny timeout; oversleeping only makes the flow idler.
	 */
	c.flow_timeout_ns = 50 * 1000000ULL;
	c.readers[0].beat_ns = mono_ns();
	set_config(&c);
	sleep_ns(2 * c.flow_timeout_ns);
	assert_true(passes(h, &a));
	assert_false(passes(h, &a));

	/*
	 * The flow's time is its last packet's: with a 1 s timeout, a flow
	 * seen 0.5 s ago is old and the packet moves its time to now; one
	 * seen 1.1 s ago is new.  (Times written into the map, so that a
	 * slow machine cannot make the test wrong.)
	 */
	c.flow_timeout_ns = NSEC;
	set_config(&c);
	set_flow(&k, mono_ns() - NSEC / 2);
	t0 = mono_ns();
	assert_false(passes(h, &a));
	assert_true(get_flow(&k) >= t0 && get_flow(&k) <= mono_ns());
	set_flow(&k, mono_ns() - NSEC - NSEC / 10);
	assert_true(passes(h, &a));
	/*
	 * A time a little after the program's clock (another CPU stored
	 * it) is "just seen", not "long ago".
	 */
	set_flow(&k, mono_ns() + NSEC / 10);
	assert_false(passes(h, &a));

	/* 0: the default of 30 s */
	c.flow_timeout_ns = 0;
	set_config(&c);
	set_flow(&k, mono_ns() - 25 * NSEC);
	assert_false(passes(h, &a));
	set_flow(&k, mono_ns() - 31 * NSEC);
	assert_true(passes(h, &a));
	expect_stats(STATS(.seen = 19, .not_new = 8, .events = 11));

	/* without the flag, flows are neither consulted nor recorded */
	c.flags = 0;
	set_config(&c);
	clear_map(env.sl->maps.flows);
	assert_true(passes(h, &a));
	assert_int_equal(count_keys(env.sl->maps.flows), 0);
}

/* sample N: exactly one in N, the first of each N */
static void t_sample(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct frame f;
	int i, n;

	need_bpf();
	c.sample = 4;
	set_config(&c);
	for (i = 0; i < 20; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = i,
				     .dport = 53 });
		run(h, &f);
	}
	assert_int_equal(consume(), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(env.ev[i].sport, i * 4);
	expect_stats(STATS(.seen = 20, .sampled_out = 15, .events = 5));

	/* many at once: test_run's repeat */
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP });
	run_n(h, &f, 4000);
	assert_int_equal(consume(), 1000);
	expect_stats(STATS(.seen = 4020, .sampled_out = 3015, .events = 1005));

	/* 0 and 1: every packet */
	for (n = 0; n <= 1; n++) {
		c.sample = n;
		set_config(&c);
		run_n(h, &f, 7);
		assert_int_equal(consume(), 7);
	}
	/* filtered and not-IP packets do not move the sampling */
	reset();
	c.sample = 3;
	set_proto(&c, IPPROTO_TCP);
	set_config(&c);
	for (i = 0; i < 6; i++) {
		run_pk(h, &(struct pk){ .proto = IPPROTO_UDP });
		run_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = i });
	}
	assert_int_equal(consume(), 2);
	assert_int_equal(env.ev[0].sport, 0);
	assert_int_equal(env.ev[1].sport, 3);
	expect_stats(STATS(.seen = 12, .filtered = 6, .sampled_out = 4,
			   .events = 2));
}

static void t_max_rate(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct slog_rate r;
	struct frame f;
	__u64 t0;
	int i;

	need_bpf();
	c.max_rate = 3;
	set_config(&c);
	t0 = mono_ns();
	for (i = 0; i < 10; i++) {
		mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = i });
		run(h, &f);
	}
	/* the first three of the window */
	assert_int_equal(consume(), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(env.ev[i].sport, i);
	expect_stats(STATS(.seen = 10, .rate_capped = 7, .events = 3));
	r = get_rate();
	assert_true(r.window_ns >= t0 && r.window_ns <= mono_ns());

	/* the window is over: three more */
	set_rate(r.window_ns - NSEC, r.count);
	run_n(h, &f, 10);
	assert_int_equal(consume(), 3);
	expect_stats(STATS(.seen = 20, .rate_capped = 14, .events = 6));
	/*
	 * still inside a window that began 0.5 s ago: none (not later in it:
	 * a process descheduled on a loaded machine, under ASan, reached its
	 * end and got three more)
	 */
	set_rate(mono_ns() - NSEC / 2, 3);
	run_n(h, &f, 5);
	assert_int_equal(consume(), 0);
	expect_stats(STATS(.seen = 25, .rate_capped = 19, .events = 6));

	/* sampling comes first: the cap counts sampled packets only */
	reset();
	c.max_rate = 2;
	c.sample = 2;
	set_config(&c);
	run_n(h, &f, 10);
	assert_int_equal(consume(), 2);
	expect_stats(STATS(.seen = 10, .sampled_out = 5, .rate_capped = 3,
			   .events = 2));

	/* 0: no cap */
	reset();
	run_n(h, &f, 100);
	assert_int_equal(consume(), 100);
	r = get_rate();
	assert_int_equal(r.window_ns, 0);
}

/* Nobody reading: nothing is produced, sources are still counted. */
static void t_no_reader(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct frame f;

	need_bpf();
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = 1, .dport = 2 });
	c.readers[0].beat_ns = 0;
	set_config(&c);
	run_quiet(h, &f);
	expect_stats(STATS(.seen = 1, .no_reader = 1));
	assert_int_equal(count_keys(env.sl->maps.sources), 1);

	/* the last poll too long ago */
	c.readers[0].beat_ns = mono_ns() - SLOG_READER_TIMEOUT_NS - NSEC / 10;
	set_config(&c);
	run_n(h, &f, 5);
	assert_int_equal(consume(), 0);
	expect_stats(STATS(.seen = 6, .no_reader = 6));

	/* recent enough */
	c.readers[0].beat_ns = mono_ns() - SLOG_READER_TIMEOUT_NS + NSEC / 2;
	set_config(&c);
	run(h, &f);
	assert_int_equal(consume(), 1);
	/* a time a little ahead of the program's clock is a live reader */
	c.readers[0].beat_ns = mono_ns() + NSEC / 10;
	set_config(&c);
	run(h, &f);
	assert_int_equal(consume(), 1);
	expect_stats(STATS(.seen = 8, .no_reader = 6, .events = 2));

	/* filters come first; new flows are recorded without a reader */
	reset();
	c = cfg_default();
	c.readers[0].beat_ns = 0;
	c.flags = SLOG_F_NEW_FLOWS | SLOG_F_PROTO;
	c.protos[IPPROTO_UDP / 8] |= 1U << (IPPROTO_UDP % 8);
	set_config(&c);
	run_pk(h, &(struct pk){ .proto = IPPROTO_TCP });
	run(h, &f);
	run(h, &f);
	assert_int_equal(consume(), 0);
	expect_stats(STATS(.seen = 3, .filtered = 1, .no_reader = 1,
			   .not_new = 1));
	assert_int_equal(count_keys(env.sl->maps.flows), 1);
}

/* ---- tests: sources table ---- */

static struct slog_src_val src_get(int family, const uint8_t *addr)
{
	struct ps_addr_key k;
	struct slog_src_val v;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, addr, family == PS_AF_INET ? 4 : 16);
	k.family = family;
	memset(&v, 0, sizeof(v));
	if (bpf_map_lookup_elem(bpf_map__fd(env.sl->maps.sources), &k, &v))
		fail_msg("no source entry");
	return v;
}

static void expect_src(int family, const uint8_t *addr, __u64 packets,
		       __u64 bytes, __u32 protos, __u64 t0, __u64 t1)
{
	struct slog_src_val v = src_get(family, addr);

	assert_int_equal(v.packets, packets);
	assert_int_equal(v.bytes, bytes);
	assert_int_equal(v.protos, protos);
	assert_int_equal(v.pad, 0);
	assert_true(v.first_ns >= t0 && v.first_ns <= v.last_ns &&
		    v.last_ns <= t1);
}

static void t_sources(void **state)
{
	static const uint8_t a[4] = { 198, 51, 100, 7 };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xbe, 0xef,
				       [15] = 0x10 };
	static const uint8_t c4[4] = { 203, 0, 113, 250 };
	enum hook h = *(enum hook *)*state;
	struct slog_src_val v1, v2;
	struct frame f;
	__u64 t0, t1, t2;
	int i;

	need_bpf();
	t0 = mono_ns();
	for (i = 0; i < 3; i++)
		run_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .src = a,
					.len = 60 });
	for (i = 0; i < 2; i++)
		run_pk(h, &(struct pk){ .proto = IPPROTO_UDP, .src = a,
					.len = 100 });
	run_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_ICMPV6, .src = b,
				.len = 90 });
	run_pk(h, &(struct pk){ .v6 = 1, .proto = IPPROTO_SCTP, .src = b,
				.len = 110 });
	run_pk(h, &(struct pk){ .proto = IPPROTO_GRE, .src = c4, .len = 64 });
	run_pk(h, &(struct pk){ .proto = 50, .src = c4, .len = 70 });
	run_pk(h, &(struct pk){ .proto = IPPROTO_ICMP, .src = c4, .len = 80 });
	t1 = mono_ns();
	assert_int_equal(consume(), 10);
	expect_src(PS_AF_INET, a, 5, 3 * 60 + 2 * 100,
		   SLOG_P_TCP | SLOG_P_UDP, t0, t1);
	expect_src(PS_AF_INET6, b, 2, 200, SLOG_P_ICMPV6 | SLOG_P_SCTP, t0, t1);
	expect_src(PS_AF_INET, c4, 3, 214,
		   SLOG_P_GRE | SLOG_P_OTHER | SLOG_P_ICMP, t0, t1);
	assert_int_equal(count_keys(env.sl->maps.sources), 3);

	/* later: first_ns stays, last_ns moves, counts add up */
	v1 = src_get(PS_AF_INET, a);
	sleep_ns(1000000);
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .src = a, .len = 100 });
	run_n(h, &f, 1000);
	t2 = mono_ns();
	v2 = src_get(PS_AF_INET, a);
	assert_int_equal(v2.first_ns, v1.first_ns);
	assert_true(v2.last_ns > t1 && v2.last_ns <= t2);
	assert_int_equal(v2.packets, 1005);
	assert_int_equal(v2.bytes, 380 + 100000);
	assert_int_equal(v2.protos, SLOG_P_TCP | SLOG_P_UDP);

	/* a truncated TCP header still counts as TCP, with its frame bytes */
	mk(&f, &(struct pk){ .proto = IPPROTO_TCP, .src = c4,
			     .len = 14 + 20 + 20 });
	f.buf[14 + 3] = 20 + 10;
	run_len(h, &f, 14 + 20 + 10, 1);
	expect_src(PS_AF_INET, c4, 4, 214 + 44,
		   SLOG_P_GRE | SLOG_P_OTHER | SLOG_P_ICMP | SLOG_P_TCP, t0,
		   mono_ns());
	/* sources are counted without a reader too (step 3 before 5) */
	{
		struct slog_config c = cfg_default();

		c.readers[0].beat_ns = 0;
		set_config(&c);
		run_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .src = a,
					.len = 60 });
		assert_int_equal(src_get(PS_AF_INET, a).packets, 1006);
	}
}

/* ---- tests: the ring buffer ---- */

/*
 * Wake-ups: BPF_RB_NO_WAKEUP leaves an epoll reader asleep, so
 * ring_buffer__poll() finds nothing although ring_buffer__consume() would;
 * the records that bring the ring to wakeup_bytes (the new record
 * included), up to WAKE_WINDOW past it, wake it.
 */
static void t_wakeup(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct frame f;
	__u32 fill, n;

	need_bpf();
	mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = 9 });
	/* clear epoll's ready list: the ring is empty */
	assert_int_equal(poll_ring(0), 0);

	c.wakeup_bytes = 1U << 30;
	set_config(&c);
	run(h, &f);
	assert_int_equal(poll_ring(50), 0);
	assert_int_equal(consume(), 1);
	assert_int_equal(poll_ring(0), 0);

	/* three records: woken by the third, which holds all three */
	c.wakeup_bytes = 3 * REC_BYTES;
	set_config(&c);
	run_n(h, &f, 2);
	assert_int_equal(poll_ring(50), 0);
	run(h, &f);
	assert_int_equal(poll_ring(2000), 3);
	assert_int_equal(env.ev[2].sport, 9);
	assert_int_equal(poll_ring(0), 0);

	/* 0: an eighth of the ring */
	c.wakeup_bytes = 0;
	set_config(&c);
	fill = (SLOG_RING_BYTES / 8 + REC_BYTES - 1) / REC_BYTES;
	run_n(h, &f, fill - 1);
	assert_int_equal(poll_ring(50), 0);
	run(h, &f);
	assert_int_equal(poll_ring(2000), fill);
	expect_stats(STATS(.seen = fill + 4, .events = fill + 4));

	/*
	 * The window: with the mark at one record, the WAKE_WINDOW-th record
	 * still wakes the reader, the next one (and all after it) does not.
	 */
	for (n = WAKE_WINDOW; n <= WAKE_WINDOW + 1; n++) {
		assert_int_equal(poll_ring(0), 0);
		c.wakeup_bytes = 1U << 30;
		set_config(&c);
		run_n(h, &f, n - 1);
		assert_int_equal(poll_ring(0), 0);
		c.wakeup_bytes = REC_BYTES;
		set_config(&c);
		run(h, &f);
		if (n == WAKE_WINDOW) {
			assert_int_equal(poll_ring(2000), n);
		} else {
			assert_int_equal(poll_ring(50), 0);
			run_n(h, &f, 100);
			assert_int_equal(poll_ring(50), 0);
			assert_int_equal(consume(), n + 100);
		}
	}
	/* drained: the next crossing wakes it again */
	assert_int_equal(poll_ring(0), 0);
	run(h, &f);
	assert_int_equal(poll_ring(2000), 1);
}

/* A full ring: the rest is lost and counted; a drained ring takes more. */
static void t_lost(void **state)
{
	enum hook h = *(enum hook *)*state;
	/* the kernel keeps producer - consumer below the ring size */
	__u32 fits = (SLOG_RING_BYTES - 1) / REC_BYTES;
	struct frame f;

	need_bpf();
	mk(&f, &(struct pk){ .v6 = 1, .proto = IPPROTO_TCP,
			     .flags = PS_TCP_SYN });
	run_n(h, &f, fits + 100);
	expect_stats(STATS(.seen = fits + 100, .lost = 100, .events = fits));
	assert_int_equal(consume(), fits);
	run(h, &f);
	assert_int_equal(consume(), 1);
	expect_stats(STATS(.seen = fits + 101, .lost = 100,
			   .events = fits + 1));
}

/* records in a ring, consumed; -1 on error */
static int ring_count(int ring_fd)
{
	struct ring_buffer *rb = ring_buffer__new(ring_fd, drop_ev, NULL, NULL);
	int n;

	if (!rb)
		return -1;
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

/*
 * Readers in slots 1 to 3 beside slot 0's: each live slot gets the packets
 * its own filters, sample and new-flows let through, in its own ring,
 * counted in its own stats; a slot that does not beat gets nothing.  The
 * attachment's filters come before them all.
 */
static void t_readers(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	int ring[SLOG_READERS_MAX] = { env.ring, -1, -1, -1 };
	struct slog_stats raw;
	__u32 zero = 0;

	need_bpf();
	for (__u32 i = 1; i < SLOG_READERS_MAX; i++) {
		ring[i] = harness_ring(bpf_map__fd(env.sl->maps.rings), i,
				       SLOG_RING_BYTES);
		assert_true(ring[i] >= 0);
	}
	/* 0: UDP; 1: to port 80; 2: one in 3; 3: not reading */
	c.readers[0].flags = SLOG_F_PROTO;
	c.readers[0].protos[IPPROTO_UDP / 8] |= 1U << (IPPROTO_UDP % 8);
	c.readers[0].sport_hi = c.readers[0].dport_hi = 65535;
	c.readers[1].flags = SLOG_F_PORTS;
	c.readers[1].dport_lo = c.readers[1].dport_hi = 80;
	c.readers[1].sport_hi = 65535;
	c.readers[1].beat_ns = mono_ns();
	c.readers[2].sample = 3;
	c.readers[2].sport_hi = c.readers[2].dport_hi = 65535;
	c.readers[2].beat_ns = mono_ns();
	c.readers[3].sport_hi = c.readers[3].dport_hi = 65535;
	/* the attachment's: no ICMP for anyone */
	c.flags = SLOG_F_PROTO;
	c.protos[IPPROTO_UDP / 8] |= 1U << (IPPROTO_UDP % 8);
	c.protos[IPPROTO_TCP / 8] |= 1U << (IPPROTO_TCP % 8);
	set_config(&c);
	for (int i = 0; i < 4; i++) {
		run_pk(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 1,
					.dport = 53 });
		run_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = 2,
					.dport = 80, .flags = PS_TCP_SYN });
		run_pk(h, &(struct pk){ .proto = IPPROTO_TCP, .sport = 2,
					.dport = 22, .flags = PS_TCP_SYN });
		run_pk(h, &(struct pk){ .proto = IPPROTO_ICMP, .type = 8 });
	}
	assert_int_equal(ring_count(ring[0]), 4);
	assert_int_equal(ring_count(ring[1]), 4);
	/* 12 offered: the 1st, 4th, 7th and 10th */
	assert_int_equal(ring_count(ring[2]), 4);
	assert_int_equal(ring_count(ring[3]), 0);
	assert_int_equal(percpu_sum(env.sl->maps.stats, &zero, &raw), 0);
	assert_int_equal(raw.seen, 16);
	assert_int_equal(raw.filtered, 4);
	assert_int_equal(raw.no_reader, 0);
	assert_int_equal(raw.rd[0].filtered, 8);
	assert_int_equal(raw.rd[0].events, 4);
	assert_int_equal(raw.rd[1].filtered, 8);
	assert_int_equal(raw.rd[1].events, 4);
	assert_int_equal(raw.rd[2].sampled_out, 8);
	assert_int_equal(raw.rd[2].events, 4);
	assert_int_equal(raw.rd[3].filtered + raw.rd[3].events, 0);
	/* no slot beats: nobody reads */
	memset(c.readers, 0, sizeof(c.readers));
	set_config(&c);
	run_pk(h, &(struct pk){ .proto = IPPROTO_UDP, .sport = 1, .dport = 53 });
	assert_int_equal(percpu_sum(env.sl->maps.stats, &zero, &raw), 0);
	assert_int_equal(raw.no_reader, 1);
	for (__u32 i = 1; i < SLOG_READERS_MAX; i++) {
		bpf_map_delete_elem(bpf_map__fd(env.sl->maps.rings), &i);
		close(ring[i]);
	}
	percpu_zero(env.sl->maps.stats);
}

/* the last record of a snap consume: its size, its snap and bytes */
static struct {
	int n;
	size_t size;
	struct slog_snap sn;
	__u8 data[SLOG_SNAP_MAX];
} snap;

static int on_snap(void *ctx, void *data, size_t size)
{
	const size_t head = sizeof(struct slog_event) + sizeof(struct slog_snap);

	(void)ctx;
	snap.n++;
	snap.size = size;
	if (size >= head) {
		memcpy(&snap.sn, (__u8 *)data + sizeof(struct slog_event),
		       sizeof(snap.sn));
		memcpy(snap.data, (__u8 *)data + head,
		       size - head < sizeof(snap.data) ? size - head :
		       sizeof(snap.data));
	}
	return 0;
}

/*
 * A reader's snaplen: each event carries min(snaplen, frame) bytes of
 * its frame, in the smallest bucket that holds them, so that a small
 * frame takes no more of the ring than it needs.  A snap that fills a
 * bucket of up to 256 bytes is copied from the linear data (XDP and TC);
 * the others through the helpers.  256 of 256: the copy ends at the
 * frame's last byte.  (test_run makes every skb linear, data_size_in
 * bytes of it, and refuses a ctx data_end on this kernel: a snap beyond
 * the linear data is src_log.bats' TCP case.)
 */
static void t_snap(void **state)
{
	static const struct {
		__u32 snaplen;
		size_t len, bucket;
	} cases[] = {
		{ 256, 64, 64 }, { 256, 65, 128 }, { 256, 128, 128 },
		{ 256, 129, 256 }, { 256, 256, 256 }, { 256, 300, 256 },
		{ 64, 300, 64 }, { 128, 300, 128 }, { 100, 300, 128 },
		{ 1536, 257, 1536 }, { 1536, 1000, 1536 },
	};
	const size_t head = sizeof(struct slog_event) + sizeof(struct slog_snap);
	enum hook h = *(enum hook *)*state;
	struct slog_config c = cfg_default();
	struct ring_buffer *rb;
	struct frame f;

	need_bpf();
	rb = ring_buffer__new(env.ring, on_snap, NULL, NULL);
	assert_non_null(rb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t want = cases[i].snaplen < cases[i].len ?
			      cases[i].snaplen : cases[i].len;

		c.readers[0].snaplen = cases[i].snaplen;
		c.readers[0].beat_ns = mono_ns();
		set_config(&c);
		mk(&f, &(struct pk){ .proto = IPPROTO_UDP, .sport = 1,
				     .dport = 53, .len = cases[i].len });
		assert_int_equal(f.len, cases[i].len);
		run(h, &f);
		memset(&snap, 0, sizeof(snap));
		assert_int_equal(ring_buffer__consume(rb), 1);
		assert_int_equal(snap.n, 1);
		assert_int_equal(snap.sn.wire_len, cases[i].len);
		assert_int_equal(snap.sn.snap_len, want);
		assert_int_equal(snap.size, head + cases[i].bucket);
		assert_memory_equal(snap.data, f.buf, want);
	}
	ring_buffer__free(rb);
	percpu_zero(env.sl->maps.stats);
}

#define T(fn)	HOOK_TESTS(fn, case_setup, case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_ipv4_events),
		T(t_ipv6_events),
		T(t_ipv6_ext_event),
		T(t_vlan_events),
		T(t_truncated_events),
		T(t_malformed_event),
		T(t_fragment_events),
		T(t_not_ip),
		T(t_filter_proto),
		T(t_filter_src_allow),
		T(t_filter_src_allow_short),
		T(t_filter_src_deny),
		T(t_filter_src_deny_short),
		T(t_filter_src_random),
		T(t_filter_src_split),
		T(t_filter_dport),
		T(t_filter_sport),
		T(t_filter_syn),
		T(t_filter_combined),
		T(t_filter_combined_short),
		T(t_new_flows),
		T(t_sample),
		T(t_max_rate),
		T(t_no_reader),
		T(t_sources),
		T(t_wakeup),
		T(t_lost),
		T(t_readers),
		T(t_snap),
	};

	env_setup();
	return run_hook_tests("src_log", tests, group_teardown);
}
