// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_capture: what a tcpdump expression and a packet snap cost in
 * src-log, side by side with src-log's own keywords and plain events, as
 * bench/bench_common.h measures it.
 *
 * Variants (each src-log variant is its own loaded object and config):
 *   parser     ps_parse() plus one per-CPU counter (the scale)
 *   kw         src-log, "proto udp dport 53" (its own keywords)
 *   expr       src-log, expr 'ip and udp dst port 53': 11 classic
 *              instructions (9 and two returns), converted by core/cbpf.c,
 *              reached by a tail call, going on by another
 *   event      src-log, reader alive, no filter: every packet an event
 *   snap256    the same with snaplen 256: every event carries up to 256
 *              bytes of its frame
 *
 * kw and expr run without a reader: a matching frame goes as far as the
 * sources table (the expression's path: tail call, expression, tail call,
 * parse again), a frame that does not match stops at the filter.
 *
 * The event and snap256 rings hold a whole round of events (none lost),
 * so every record lands in memory not touched before.  With -w they are
 * a reader's ring (SLOG_RING_BYTES), emptied between test_runs of at most
 * WRAP_RUNS, so that records land where earlier ones were read, as under
 * a reader that keeps up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>

#include "bench_common.h"
#include <pktscope/cbpf.h>
#include <pktscope/bpf/parse.h>
#include "src_log.h"
#include "bench_parse.skel.h"
#include "src_log.skel.h"

#define EXPR "ip and udp dst port 53"
#define REC_BYTES (8 + sizeof(struct slog_event) + sizeof(struct slog_snap) + \
		   SLOG_SNAP_SMALL)
/* -w: the runs of one test_run, half of what a reader's ring holds */
#define WRAP_RUNS (SLOG_RING_BYTES / REC_BYTES / 2)

static const struct bench_flag wrap_flag = {
	'w', "event and snap256 rings of a reader's size, emptied every "
	     "few thousand runs",
};

enum var { V_PARSER, V_KW, V_EXPR, V_EVENT, V_SNAP, V__MAX };
static const char *const var_name[] = {
	"parser", "kw", "expr", "event", "snap256",
};

static const struct bench_goal goals[] = {
	{ "expr <= 2 x keywords", V_EXPR, V_KW, 2, 0 },
	{ "snap256 <= event + 40", V_SNAP, V_EVENT, 1, 40 },
};

#define SL_FIRST V_KW
#define SL_N (V__MAX - SL_FIRST)

/* a frame the filter rejects, one it takes, a bigger one for the snap */
enum fr { F_SYN4, F_DNS4, F_DNS4_300, F__MAX };
static const char *const fr_name[] = {
	"tcp-syn4 64B", "udp4:53 64B", "udp4:53 300B",
};

static struct frame frames[F__MAX];
static struct src_log *sl[SL_N];
static struct ring_buffer *rb[SL_N];
static int ring_fd[SL_N];
static struct bench_parse *parse;
static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

static void build_frames(void)
{
	struct frame *f = &frames[F_DNS4_300];

	bench_frame(&frames[F_SYN4], 0, 0, IPPROTO_TCP);
	bench_frame(&frames[F_DNS4], 0, 0, IPPROTO_UDP);
	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_UDP });
	frame_udp(f, 40000, 53);
	frame_pad(f, 300);
	frame_finish(f);
}

static int sl_config(enum var v)
{
	struct slog_config c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.sport_hi = 65535;
	c.dport_hi = 65535;
	c.readers[0].beat_ns = mono_ns();
	switch (v) {
	case V_KW:
		c.readers[0].beat_ns = 0;
		c.flags = SLOG_F_PROTO;
		c.protos[IPPROTO_UDP / 8] = 1U << (IPPROTO_UDP % 8);
		c.dport_lo = c.dport_hi = 53;
		break;
	case V_EXPR:
		c.readers[0].beat_ns = 0;
		c.flags = SLOG_F_EXPR;
		break;
	case V_SNAP:
		c.readers[0].snaplen = 256;
		break;
	default:
		break;
	}
	return bpf_map_update_elem(bpf_map__fd(sl[v - SL_FIRST]->maps.config),
				   &zero, &c, 0);
}

/* the expression and where it goes on, in one hook's prog array */
static int expr_setup(struct src_log *s, enum hook h)
{
	struct bpf_map *m = h == XDP ? s->maps.expr_xdp : s->maps.expr_tc;
	struct ps_cbpf_tail tail = {
		.map_fd = bpf_map__fd(m),
		.match_slot = SLOG_CONT_SLOT,
		.nomatch_slot = SLOG_REJECT_SLOT,
		.fallback = h == XDP ? XDP_PASS : TC_ACT_UNSPEC,
	};
	enum ps_cbpf_hook ch = h == XDP ? PS_CBPF_XDP : PS_CBPF_TC;
	struct bpf_insn *insns;
	__u32 k, fd;
	size_t n;
	char err[512];
	int efd;

	if (ps_expr_compile(EXPR, ch, &tail, &insns, &n, err, sizeof(err))) {
		fprintf(stderr, "Error: %s: %s\n", EXPR, err);
		return -1;
	}
	efd = ps_expr_load(insns, n, ch, h == XDP ? BPF_XDP : 0, err,
			   sizeof(err));
	free(insns);
	if (efd < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return -1;
	}
	k = SLOG_EXPR_SLOT;
	fd = (__u32)efd;
	if (bpf_map_update_elem(tail.map_fd, &k, &fd, 0))
		return -1;
	k = SLOG_CONT_SLOT;
	fd = (__u32)hook_prog_fd(h, s->progs.slog_cont_xdp, s->progs.slog_cont_tc);
	if (bpf_map_update_elem(tail.map_fd, &k, &fd, 0))
		return -1;
	k = SLOG_REJECT_SLOT;
	fd = (__u32)hook_prog_fd(h, s->progs.slog_reject_xdp,
				 s->progs.slog_reject_tc);
	return bpf_map_update_elem(tail.map_fd, &k, &fd, 0);
}

static int drop_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static int sl_load(void)
{
	__u64 need = bench.repeat * REC_BYTES, ring = SLOG_RING_BYTES;

	while (ring <= need)
		ring <<= 1;
	for (int i = 0; i < SL_N; i++) {
		enum var v = SL_FIRST + i;

		sl[i] = src_log__open();
		if (!sl[i])
			return -1;
		if (src_log__load(sl[i]))
			return -1;
		/* a round of events fits the ring: none is lost */
		ring_fd[i] = harness_ring(bpf_map__fd(sl[i]->maps.rings), 0,
					  (v == V_EVENT || v == V_SNAP) &&
					  !bench.flag ? ring : SLOG_RING_BYTES);
		if (ring_fd[i] < 0)
			return -1;
		rb[i] = ring_buffer__new(ring_fd[i], drop_record, NULL, NULL);
		if (!rb[i] || sl_config(v))
			return -1;
		if (v == V_EXPR && (expr_setup(sl[i], XDP) ||
				    expr_setup(sl[i], TC)))
			return -1;
	}
	return 0;
}

/* -w: bench.repeat runs in test_runs that the ring holds, emptied between */
static int run_wrapped(int fd, enum hook h, int f, int v, double *ns)
{
	unsigned long long done = 0, n;
	double sum = 0, one;

	while (done < bench.repeat) {
		n = bench.repeat - done < WRAP_RUNS ? bench.repeat - done :
						      WRAP_RUNS;
		if (bench_run(fd, h, &frames[f], n, &one) ||
		    ring_buffer__consume(rb[v - SL_FIRST]) < 0)
			return -1;
		sum += one * (double)n;
		done += n;
	}
	*ns = sum / (double)bench.repeat;
	return 0;
}

static int run_variant(void *ctx, int f, enum hook h, int v, double *ns)
{
	int fd;

	(void)ctx;
	if (v == V_PARSER) {
		fd = hook_prog_fd(h, parse->progs.parse_xdp, parse->progs.parse_tc);
	} else {
		if (sl_config(v))
			return -1;
		fd = hook_prog_fd(h, sl[v - SL_FIRST]->progs.slog_xdp,
				  sl[v - SL_FIRST]->progs.slog_tc);
	}
	if (bench.flag && (v == V_EVENT || v == V_SNAP))
		return run_wrapped(fd, h, f, v, ns);
	if (bench_run(fd, h, &frames[f], bench.repeat, ns))
		return -1;
	if (v != V_PARSER && ring_buffer__consume(rb[v - SL_FIRST]) < 0)
		return -1;
	return 0;
}

static __u64 stat_sum(int i, size_t off)
{
	int ncpus = libbpf_num_possible_cpus();
	struct slog_stats *s = calloc((size_t)ncpus, sizeof(*s));
	__u32 zero = 0;
	__u64 sum = 0;

	if (!s)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(sl[i]->maps.stats), &zero, s))
		for (int c = 0; c < ncpus; c++)
			sum += *(__u64 *)((char *)&s[c] + off);
	free(s);
	return sum;
}

int main(int argc, char **argv)
{
	int c, fails, ret = 1;

	c = bench_options(argc, argv, &wrap_flag);
	if (c >= 0)
		return c;
	if (bench.repeat > (1ULL << 30) / REC_BYTES - 1) {
		bench_usage(argv[0], &wrap_flag);
		return 2;
	}
	bench_setup();
	build_frames();
	parse = bench_parse__open_and_load();
	if (!parse || sl_load()) {
		fprintf(stderr, "Error: cannot load the BPF objects "
			"(root and BPF_PROG_TEST_RUN needed)\n");
		goto out;
	}
	printf("pinned to CPU %d; expression '%s'; event rings %s\n",
	       bench.cpu, EXPR, bench.flag ? "a reader's, emptied (-w)" :
	       "holding a round");
	if (bench_measure(F__MAX, V__MAX, run_variant, NULL, &res[0][0][0],
			  &spread[0][0][0]))
		goto out;
	printf("ns/packet, median of %d rounds of %llu runs "
	       "(spread max-min in brackets)\n\n", bench.rounds, bench.repeat);
	bench_table_head(13, 12, var_name, V__MAX);
	printf("\n");
	for (int f = 0; f < F__MAX; f++)
		for (int h = 0; h < HOOK__MAX; h++) {
			bench_table_row(13, fr_name[f], h, res[f][h],
					spread[f][h], V__MAX);
			printf("\n");
		}
	printf("\n%-13s %-4s %10s %12s\n", "frame", "hook", "expr/kw",
	       "snap256-ev");
	for (int f = 0; f < F__MAX; f++)
		for (int h = 0; h < HOOK__MAX; h++)
			printf("%-13s %-4s %9.2fx %9.1f ns\n", fr_name[f],
			       hook_name(h), res[f][h][V_EXPR] / res[f][h][V_KW],
			       res[f][h][V_SNAP] - res[f][h][V_EVENT]);
	printf("\ngoals:\n");
	fails = bench_goals(46, goals, sizeof(goals) / sizeof(goals[0]),
			    fr_name, F__MAX, V__MAX, &res[0][0][0]);
	/* the two filters agree, and no event was lost */
	printf("  filtered: kw %llu, expr %llu; lost: event %llu, snap256 %llu\n",
	       (unsigned long long)stat_sum(V_KW - SL_FIRST,
					   offsetof(struct slog_stats, filtered)),
	       (unsigned long long)stat_sum(V_EXPR - SL_FIRST,
					   offsetof(struct slog_stats, filtered)),
	       (unsigned long long)stat_sum(V_EVENT - SL_FIRST,
					   offsetof(struct slog_stats, rd[0].lost)),
	       (unsigned long long)stat_sum(V_SNAP - SL_FIRST,
					   offsetof(struct slog_stats, rd[0].lost)));
	ret = bench.check && fails ? 1 : 0;
out:
	for (int i = 0; i < SL_N; i++) {
		ring_buffer__free(rb[i]);
		src_log__destroy(sl[i]);
	}
	bench_parse__destroy(parse);
	return ret;
}
