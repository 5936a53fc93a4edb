// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_src_log: what src-log costs per packet, next to the bare parser,
 * as bench/bench_common.h measures it.
 *
 * Variants (each src-log variant is its own loaded object and config):
 *   empty      a program that only returns (the floor)
 *   parser     ps_parse() plus one per-CPU counter (bench_parse.bpf.c)
 *   event      src-log, reader alive, no filter, the default wake-up mark
 *              (an eighth of the ring): every packet an event
 *   filtered   src-log, "proto icmp": the frame is rejected by a filter
 *   no-reader  src-log, no reader: counted in sources, no event
 *   deny       src-log, "not-src" with 8 prefixes of each family (a short
 *              list, compared in the config), the frame's source the last
 *   allow-miss src-log, "src" with 8 of each family, none the source
 *   deny-trie  src-log, "not-src" with 64 prefixes (more than a short
 *              list: an LPM trie lookup), the frame's source among them
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/in.h>

#include "bench_common.h"
#include <pktscope/bpf/parse.h>
#include "src_log.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "src_log.skel.h"

#define REC_BYTES	(8 + sizeof(struct slog_event))

enum var {
	V_EMPTY, V_PARSER, V_EVENT, V_FILTERED, V_NOREADER, V_DENY,
	V_ALLOW, V_TRIE, V_LAG, V__MAX
};
static const char *const var_name[] = {
	"empty", "parser", "event", "filtered", "no-reader", "deny",
	"allow-miss", "deny-trie", "lagging",
};

/* what each variant may cost, on every frame and hook */
static const struct bench_goal goals[] = {
	{ "event <= parser + 100", V_EVENT, V_PARSER, 1, 100 },
	{ "filtered <= 2 x parser", V_FILTERED, V_PARSER, 2, 0 },
	{ "deny <= 2 x parser", V_DENY, V_PARSER, 2, 0 },
	{ "allow-miss <= 2 x parser", V_ALLOW, V_PARSER, 2, 0 },
	{ "lagging <= parser + 100", V_LAG, V_PARSER, 1, 100 },
};

/* the src-log variants, each with its own object */
#define SL_FIRST	V_EVENT
#define SL_N		(V__MAX - SL_FIRST)

enum fr { F_SYN4, F_UDP6, F__MAX };
static const char *const fr_name[] = { "tcp-syn4 64B", "udp6 64B" };

static struct frame frames[F__MAX];

static struct src_log *sl[SL_N];
static struct ring_buffer *rb[SL_N];
static int ring_fd[SL_N];
static __u64 ring_bytes;
static __u64 lost[SL_N];

static void build_frames(void)
{
	bench_frame(&frames[F_SYN4], 0, 0, IPPROTO_TCP);
	bench_frame(&frames[F_UDP6], 1, 0, IPPROTO_UDP);
}

/*
 * A short source list of 8 IPv4 /24s and 8 IPv6 /64s around frames.c's
 * default sources: byte 2 (IPv4) or 7 (IPv6) ^ i, i = from + 7 down to
 * from; from 0 puts the sources last.
 */
static void short_list(struct slog_nets *l, int from)
{
	for (int i = SLOG_NETS_MAX - 1; i >= 0; i--) {
		__u8 a4[4], a6[16];

		memcpy(a4, frame_ip4_src, sizeof(a4));
		memcpy(a6, frame_ip6_src, sizeof(a6));
		a4[2] ^= (__u8)(from + i);
		a6[7] ^= (__u8)(from + i);
		slog_nets_add(l, PS_AF_INET, a4, 24);
		slog_nets_add(l, PS_AF_INET6, a6, 64);
	}
}

/* The configuration of src-log variant v; reader slot 0 beats "now". */
static int sl_config(enum var v)
{
	struct slog_config c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.sport_hi = 65535;
	c.dport_hi = 65535;
	c.readers[0].beat_ns = mono_ns();
	switch (v) {
	case V_FILTERED:
		c.flags = SLOG_F_PROTO;
		c.protos[IPPROTO_ICMP / 8] = 1U << (IPPROTO_ICMP % 8);
		break;
	case V_NOREADER:
		c.readers[0].beat_ns = 0;
		break;
	case V_DENY:
		c.flags = SLOG_F_SRC_DENY;
		short_list(&c.deny, 0);
		break;
	case V_ALLOW:
		c.flags = SLOG_F_SRC_ALLOW;
		short_list(&c.allow, 1);
		break;
	case V_TRIE:
		c.flags = SLOG_F_SRC_DENY;	/* deny unused: the trie */
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

/* src's first plen bits (whole bytes), the last of those bytes ^ i */
static int deny_add(int fd, int family, const uint8_t *src, unsigned int plen,
		    int i)
{
	struct ps_lpm_key k;
	__u8 one = 1;

	ps_lpm_key_set(&k, family, src, plen);
	k.addr[plen / 8 - 1] ^= i;
	return bpf_map_update_elem(fd, &k, &one, 0);
}

/*
 * The deny-trie variant's trie: the frames' sources (frames.c's defaults)
 * as a /24 and a /64, among 31 other prefixes of each family, so that the
 * lookup walks a trie of some depth.
 */
static int deny_fill(struct src_log *s)
{
	int fd = bpf_map__fd(s->maps.src_deny), i;

	for (i = 0; i < 32; i++)
		if (deny_add(fd, PS_AF_INET, frame_ip4_src, 24, i) ||
		    deny_add(fd, PS_AF_INET6, frame_ip6_src, 64, i))
			return -1;
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
	__u64 need = bench.repeat * REC_BYTES, ring = SLOG_RING_BYTES;
	int i;

	while (ring <= need)
		ring <<= 1;
	ring_bytes = ring;
	for (i = 0; i < SL_N; i++) {
		enum var v = SL_FIRST + i;

		sl[i] = src_log__open();
		if (!sl[i])
			return -1;
		if (src_log__load(sl[i]))
			return -1;
		ring_fd[i] = harness_ring(bpf_map__fd(sl[i]->maps.rings), 0,
					  v == V_EVENT || v == V_LAG ?
					  ring : SLOG_RING_BYTES);
		if (ring_fd[i] < 0)
			return -1;
		rb[i] = ring_buffer__new(ring_fd[i], drop_record, NULL, NULL);
		if (!rb[i])
			return -1;
		if (sl_config(v))
			return -1;
		if (v == V_TRIE && deny_fill(sl[i]))
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
			sum += s[cpu].rd[0].lost;
	free(s);
	return sum;
}

static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

/* the variants' objects, for run_variant() */
struct objs {
	struct bench_empty *e;
	struct bench_parse *p;
};

static int prog_fd(const struct objs *o, enum var v, enum hook h)
{
	struct src_log *s;

	switch (v) {
	case V_EMPTY:
		return hook_prog_fd(h, o->e->progs.empty_xdp,
				    o->e->progs.empty_tc);
	case V_PARSER:
		return hook_prog_fd(h, o->p->progs.parse_xdp,
				    o->p->progs.parse_tc);
	default:
		s = sl[v - SL_FIRST];
		return hook_prog_fd(h, s->progs.slog_xdp, s->progs.slog_tc);
	}
}

static int run_variant(void *ctx, int f, enum hook h, int v, double *ns)
{
	/* a reader that polls keeps its src-log slot's beat fresh */
	if (v >= SL_FIRST && sl_config(v))
		return -1;
	if (bench_run(prog_fd(ctx, v, h), h, &frames[f], bench.repeat, ns))
		return -1;
	/* drain, so that the next round fits */
	if (v >= SL_FIRST && ring_buffer__consume(rb[v - SL_FIRST]) < 0)
		return -1;
	return 0;
}

static int print_results(void)
{
	int f, h, i, fails = 0;

	printf("ns/packet, median of %d rounds of %llu runs "
	       "(spread max-min in brackets)\n\n", bench.rounds,
	       bench.repeat);
	bench_table_head(13, 12, var_name, V__MAX);
	printf("\n");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			bench_table_row(13, fr_name[f], h, res[f][h],
					spread[f][h], V__MAX);
			printf("\n");
		}

	printf("\nrelative to the bare parser (event-p, lagging-p: ns added; "
	       "the rest: ratios)\n");
	printf("%-13s %-4s %9s %9s %10s %9s %9s %9s %9s %10s\n", "frame",
	       "hook", "parser-e", "event-p", "filtered/p", "noread/p",
	       "deny/p", "allow/p", "trie/p", "lagging-p");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			double *x = res[f][h];

			printf("%-13s %-4s %9.1f %9.1f %9.2fx %8.2fx %8.2fx "
			       "%8.2fx %8.2fx %10.1f\n", fr_name[f],
			       hook_name(h), x[V_PARSER] - x[V_EMPTY],
			       x[V_EVENT] - x[V_PARSER],
			       x[V_FILTERED] / x[V_PARSER],
			       x[V_NOREADER] / x[V_PARSER],
			       x[V_DENY] / x[V_PARSER],
			       x[V_ALLOW] / x[V_PARSER],
			       x[V_TRIE] / x[V_PARSER],
			       x[V_LAG] - x[V_PARSER]);
		}

	printf("\ngoals:\n");
	fails += bench_goals(46, goals, sizeof(goals) / sizeof(goals[0]),
			     fr_name, F__MAX, V__MAX, &res[0][0][0]);
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

int main(int argc, char **argv)
{
	struct objs o = { NULL, NULL };
	int fails, c, i, ret = 1;

	c = bench_options(argc, argv, NULL);
	if (c >= 0)
		return c;
	/* a round's records must fit a ring of at most 1 GiB */
	if (bench.repeat > (1ULL << 30) / REC_BYTES - 1) {
		bench_usage(argv[0], NULL);
		return 2;
	}
	bench_setup();

	build_frames();
	o.e = bench_empty__open_and_load();
	o.p = bench_parse__open_and_load();
	if (!o.e || !o.p || sl_load()) {
		fprintf(stderr, "Error: cannot load the BPF objects "
			"(root and BPF_PROG_TEST_RUN needed)\n");
		goto out;
	}
	printf("pinned to CPU %d, %d possible CPUs, event ring %u KiB\n",
	       bench.cpu, libbpf_num_possible_cpus(),
	       (unsigned)(ring_bytes >> 10));
	if (bench_measure(F__MAX, V__MAX, run_variant, &o, &res[0][0][0],
			  &spread[0][0][0]))
		goto out;
	for (i = 0; i < SL_N; i++)
		lost[i] = sl_lost(i);
	fails = print_results();
	ret = bench.check && fails ? 1 : 0;
out:
	for (i = 0; i < SL_N; i++) {
		ring_buffer__free(rb[i]);
		src_log__destroy(sl[i]);
	}
	bench_parse__destroy(o.p);
	bench_empty__destroy(o.e);
	return ret;
}
