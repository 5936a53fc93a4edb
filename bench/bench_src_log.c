// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_src_log: what src-log costs per packet, next to the bare parser.
 *
 * Every number is the kernel's own per-run average from BPF_PROG_TEST_RUN
 * (repeat N, JIT-compiled programs), taken as the median of several rounds.
 * Within a round all variants run one after the other on the same frame,
 * so drift (frequency, other load) hits them alike and the ratios stay
 * honest.  The conventions are bench/bench_parse.c's.
 *
 * Variants (each src-log variant is its own loaded object and config):
 *   empty      a program that only returns (the floor)
 *   parser     ps_parse() plus one per-CPU counter (bench_parse.bpf.c)
 *   event      src-log, reader alive, no filter, the default wake-up mark
 *              (an eighth of the ring): every packet an event
 *   filtered   src-log, "proto icmp": the frame is rejected by a filter
 *   no-reader  src-log, no reader: counted in sources, no event
 *   deny       src-log, the source in src_deny (an LPM trie lookup)
 *   lagging    src-log event with wakeup_bytes 1: the ring is above the
 *              mark (a reader that lags behind a flood); only the first
 *              records past the mark force a wake-up, the rest must cost
 *              what "event" costs
 *
 * test_run repeats one frame, so the source is always known: the sources
 * update is its hit path.  An event round of N packets makes N records,
 * so the event variants get a ring big enough for a whole round, drained
 * between rounds: no reserve fails (lost is checked and reported).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "frames.h"
#include "parse.h"
#include "src_log.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "src_log.skel.h"

#define MAX_ROUNDS	64
#define XDP_PASS_RET	2
#define TC_UNSPEC_RET	(-1)
#define REC_BYTES	(8 + sizeof(struct slog_event))

enum hook { HOOK_XDP, HOOK_TC, HOOK__MAX };
static const char *const hook_name[] = { "xdp", "tc" };

enum var {
	V_EMPTY, V_PARSER, V_EVENT, V_FILTERED, V_NOREADER, V_DENY, V_LAG,
	V__MAX
};
static const char *const var_name[] = {
	"empty", "parser", "event", "filtered", "no-reader", "deny",
	"lagging",
};

/* the src-log variants, each with its own object */
#define SL_FIRST	V_EVENT
#define SL_N		(V__MAX - SL_FIRST)

enum fr { F_SYN4, F_UDP6, F__MAX };
static const char *const fr_name[] = { "tcp-syn4 64B", "udp6 64B" };

static struct frame frames[F__MAX];
static unsigned long long repeat = 1000000;
static int rounds = 7;

static struct src_log *sl[SL_N];
static struct ring_buffer *rb[SL_N];
static __u64 lost[SL_N];

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One test_run of prog over f; returns ns per run or -1. */
static int run_once(int prog_fd, enum hook hook, const struct frame *f,
		    unsigned long long n, __u32 *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->buf,
		.data_size_in = f->len,
		.repeat = n,
	);
	int want = hook == HOOK_XDP ? XDP_PASS_RET : TC_UNSPEC_RET;
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err) {
		fprintf(stderr, "Error: test_run: %s\n", strerror(errno));
		return -1;
	}
	if ((int)opts.retval != want) {
		fprintf(stderr, "Error: program returned %d, want %d\n",
			(int)opts.retval, want);
		return -1;
	}
	*ns = opts.duration;
	return 0;
}

static void build_frames(void)
{
	struct frame *f;

	f = &frames[F_SYN4];
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 40000, 443, 0x02, 0);
	frame_pad(f, 64);
	frame_finish(f);

	f = &frames[F_UDP6];
	frame_init(f);
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = IPPROTO_UDP });
	frame_udp(f, 40000, 53);
	frame_pad(f, 64);
	frame_finish(f);
}

/* The configuration of src-log variant v; reader_ns is "now". */
static int sl_config(enum var v)
{
	struct slog_config c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.sport_hi = 65535;
	c.dport_hi = 65535;
	c.reader_ns = mono_ns();
	switch (v) {
	case V_FILTERED:
		c.flags = SLOG_F_PROTO;
		c.protos[IPPROTO_ICMP / 8] = 1U << (IPPROTO_ICMP % 8);
		break;
	case V_NOREADER:
		c.reader_ns = 0;
		break;
	case V_DENY:
		c.flags = SLOG_F_SRC_DENY;
		break;
	case V_LAG:
		c.wakeup_bytes = 1;
		break;
	default:
		break;
	}
	return bpf_map_update_elem(bpf_map__fd(sl[v - SL_FIRST]->maps.config),
				   &zero, &c, 0);
}

/*
 * The deny variant's trie: the frames' sources (frames.c's defaults) as a
 * /24 and a /64, among 31 other prefixes of each family, so that the
 * lookup walks a trie of some depth.
 */
static int deny_fill(struct src_log *s)
{
	int fd = bpf_map__fd(s->maps.src_deny), i;
	struct slog_lpm_key k;
	__u8 one = 1;

	for (i = 0; i < 32; i++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + 24;
		k.family = PS_AF_INET;
		memcpy(k.addr, frame_ip4_src, 3);
		k.addr[2] ^= i;
		if (bpf_map_update_elem(fd, &k, &one, 0))
			return -1;
		memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + 64;
		k.family = PS_AF_INET6;
		memcpy(k.addr, frame_ip6_src, 8);
		k.addr[7] ^= i;
		if (bpf_map_update_elem(fd, &k, &one, 0))
			return -1;
	}
	return 0;
}

static int drop_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* Load the src-log variants; the event ones with a ring for a round. */
static int sl_load(void)
{
	__u64 need = repeat * REC_BYTES, ring = SLOG_RING_BYTES;
	int i;

	while (ring <= need)
		ring <<= 1;
	for (i = 0; i < SL_N; i++) {
		enum var v = SL_FIRST + i;

		sl[i] = src_log__open();
		if (!sl[i])
			return -1;
		if ((v == V_EVENT || v == V_LAG) &&
		    bpf_map__set_max_entries(sl[i]->maps.events, ring))
			return -1;
		if (src_log__load(sl[i]))
			return -1;
		rb[i] = ring_buffer__new(bpf_map__fd(sl[i]->maps.events),
					 drop_record, NULL, NULL);
		if (!rb[i])
			return -1;
		if (sl_config(v))
			return -1;
		if (v == V_DENY && deny_fill(sl[i]))
			return -1;
	}
	return 0;
}

static __u64 sl_lost(int i)
{
	int ncpus = libbpf_num_possible_cpus(), cpu;
	struct slog_stats *s = calloc(ncpus, sizeof(*s));
	__u32 zero = 0;
	__u64 sum = 0;

	if (!s)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(sl[i]->maps.stats), &zero, s))
		for (cpu = 0; cpu < ncpus; cpu++)
			sum += s[cpu].lost;
	free(s);
	return sum;
}

static double median(__u32 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

static int prog_fd(struct bench_empty *e, struct bench_parse *p, enum var v,
		   enum hook h)
{
	struct src_log *s;

	switch (v) {
	case V_EMPTY:
		return bpf_program__fd(h == HOOK_XDP ? e->progs.empty_xdp :
						       e->progs.empty_tc);
	case V_PARSER:
		return bpf_program__fd(h == HOOK_XDP ? p->progs.parse_xdp :
						       p->progs.parse_tc);
	default:
		s = sl[v - SL_FIRST];
		return bpf_program__fd(h == HOOK_XDP ? s->progs.slog_xdp :
						       s->progs.slog_tc);
	}
}

static int run_variant(struct bench_empty *e, struct bench_parse *p,
		       enum var v, enum hook h, const struct frame *f,
		       __u32 *ns)
{
	/* a reader that polls keeps src-log's reader_ns fresh */
	if (v >= SL_FIRST && sl_config(v))
		return -1;
	if (run_once(prog_fd(e, p, v, h), h, f, repeat, ns))
		return -1;
	/* drain, so that the next round fits */
	if (v >= SL_FIRST && ring_buffer__consume(rb[v - SL_FIRST]) < 0)
		return -1;
	return 0;
}

static int measure(struct bench_empty *e, struct bench_parse *p)
{
	static __u32 ns[F__MAX][HOOK__MAX][V__MAX][MAX_ROUNDS];
	int r, f, h, v, i;

	for (r = 0; r < rounds; r++)
		for (f = 0; f < F__MAX; f++)
			for (h = 0; h < HOOK__MAX; h++)
				for (v = 0; v < V__MAX; v++)
					if (run_variant(e, p, v, h, &frames[f],
							&ns[f][h][v][r]))
						return -1;
	for (i = 0; i < SL_N; i++)
		lost[i] = sl_lost(i);
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++)
			for (v = 0; v < V__MAX; v++) {
				__u32 *x = ns[f][h][v];

				res[f][h][v] = median(x, rounds);
				/* sorted by median(): spread is max - min */
				spread[f][h][v] = x[rounds - 1] - x[0];
			}
	return 0;
}

static int goal(const char *what, double have, double limit)
{
	int ok = have <= limit;

	printf("  %-46s %7.1f <= %7.1f  %s\n", what, have, limit,
	       ok ? "ok" : "FAIL");
	return ok;
}

static int print_results(void)
{
	int f, h, v, i, fails = 0;
	char what[128];

	printf("ns/packet, median of %d rounds of %llu runs "
	       "(spread max-min in brackets)\n\n", rounds, repeat);
	printf("%-13s %-4s", "frame", "hook");
	for (v = 0; v < V__MAX; v++)
		printf(" %12s", var_name[v]);
	printf("\n");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			printf("%-13s %-4s", fr_name[f], hook_name[h]);
			for (v = 0; v < V__MAX; v++)
				printf(" %6.1f [%3.0f]", res[f][h][v],
				       spread[f][h][v]);
			printf("\n");
		}

	printf("\nrelative to the bare parser (event-p, lagging-p: ns added; "
	       "the rest: ratios)\n");
	printf("%-13s %-4s %9s %9s %10s %9s %9s %10s\n", "frame", "hook",
	       "parser-e", "event-p", "filtered/p", "noread/p", "deny/p",
	       "lagging-p");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			double *x = res[f][h];

			printf("%-13s %-4s %9.1f %9.1f %9.2fx %8.2fx %8.2fx "
			       "%10.1f\n", fr_name[f], hook_name[h],
			       x[V_PARSER] - x[V_EMPTY],
			       x[V_EVENT] - x[V_PARSER],
			       x[V_FILTERED] / x[V_PARSER],
			       x[V_NOREADER] / x[V_PARSER],
			       x[V_DENY] / x[V_PARSER],
			       x[V_LAG] - x[V_PARSER]);
		}

	printf("\ngoals:\n");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			double *x = res[f][h];

			snprintf(what, sizeof(what),
				 "%s %s: event <= parser + 100",
				 fr_name[f], hook_name[h]);
			fails += !goal(what, x[V_EVENT], x[V_PARSER] + 100);
			snprintf(what, sizeof(what),
				 "%s %s: filtered <= 2 x parser",
				 fr_name[f], hook_name[h]);
			fails += !goal(what, x[V_FILTERED], 2 * x[V_PARSER]);
			snprintf(what, sizeof(what),
				 "%s %s: lagging <= parser + 100",
				 fr_name[f], hook_name[h]);
			fails += !goal(what, x[V_LAG], x[V_PARSER] + 100);
		}
	for (i = 0; i < SL_N; i++)
		if (lost[i]) {
			printf("  %s: %llu events lost (ring full): FAIL\n",
			       var_name[SL_FIRST + i],
			       (unsigned long long)lost[i]);
			fails++;
		}
	printf("  events lost in the event variants: %llu\n",
	       (unsigned long long)(lost[V_EVENT - SL_FIRST] +
				    lost[V_LAG - SL_FIRST]));
	return fails;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [-n REPEAT] [-r ROUNDS] [-c CPU] [-g]\n"
		"  -n REPEAT  test_run repeat count (default 1000000)\n"
		"  -r ROUNDS  rounds, median reported (default 7, max %d)\n"
		"  -c CPU     pin to CPU (default: the last one)\n"
		"  -g         exit 1 when a goal is missed\n",
		prog, MAX_ROUNDS);
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_empty *empty = NULL;
	struct bench_parse *parse = NULL;
	int cpu = -1, check = 0, fails, c, i, ret = 1;
	cpu_set_t set;

	while ((c = getopt(argc, argv, "n:r:c:gh")) != -1) {
		switch (c) {
		case 'n':
			repeat = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'g':
			check = 1;
			break;
		default:
			usage(argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	/* a round's records must fit a ring of at most 1 GiB */
	if (rounds < 1 || rounds > MAX_ROUNDS || !repeat ||
	    repeat > (1ULL << 30) / REC_BYTES - 1) {
		usage(argv[0]);
		return 2;
	}
	libbpf_set_print(silent);

	/* one CPU: per-CPU maps stay put between runs */
	if (cpu < 0)
		cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "Warning: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));

	build_frames();
	empty = bench_empty__open_and_load();
	parse = bench_parse__open_and_load();
	if (!empty || !parse || sl_load()) {
		fprintf(stderr, "Error: cannot load the BPF objects "
			"(root and BPF_PROG_TEST_RUN needed)\n");
		goto out;
	}
	printf("pinned to CPU %d, %d possible CPUs, event ring %u KiB\n", cpu,
	       libbpf_num_possible_cpus(),
	       bpf_map__max_entries(sl[V_EVENT - SL_FIRST]->maps.events) >> 10);
	if (measure(empty, parse))
		goto out;
	fails = print_results();
	ret = check && fails ? 1 : 0;
out:
	for (i = 0; i < SL_N; i++) {
		ring_buffer__free(rb[i]);
		src_log__destroy(sl[i]);
	}
	bench_parse__destroy(parse);
	bench_empty__destroy(empty);
	return ret;
}
