// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_anomaly: what anomaly costs per packet, next to the bare parser,
 * as bench/bench_common.h measures it.
 *
 * Variants (each anomaly variant its own loaded object and config, with
 * the default thresholds, port-scan and spikes on, the production clock):
 *   empty    a program that only returns (the floor)
 *   parser   ps_parse() plus one per-CPU counter (bench_parse.bpf.c)
 *   known    anomaly, action alert, the same source every packet
 *   new-src  anomaly built with -DAN_BENCH: a new IPv4 (or IPv6) source
 *            every packet, as in a spoofed flood
 *   blocked  anomaly, action block, the frame's source blocked: dropped
 *
 * test_run repeats one frame for a whole round, far past the per-source
 * thresholds, so a known source alerts once a window (deduplicated after
 * that): the cost measured is the counting, not the alerts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "bench_common.h"
#include <pktscope/bpf/parse.h>
#include <pktscope/plugin.h>
#include "anomaly.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "anomaly.skel.h"
#include "anomaly_bench.skel.h"

#define XDP_DROP_RET	1
#define TC_SHOT_RET	2

enum var { V_EMPTY, V_PARSER, V_KNOWN, V_NEWSRC, V_BLOCKED, V__MAX };
static const char *const var_name[] = {
	"empty", "parser", "known", "new-src", "blocked",
};

static const struct bench_goal goals[] = {
	{ "known <= parser + 25", V_KNOWN, V_PARSER, 1, 25 },
	{ "new-src <= parser + 60", V_NEWSRC, V_PARSER, 1, 60 },
	{ "blocked <= parser + 15", V_BLOCKED, V_PARSER, 1, 15 },
};

enum fr { F_ACK4, F_SYN4, F_UDP6, F__MAX };
static const char *const fr_name[] = {
	"tcp-ack4 64B", "tcp-syn4 64B", "udp6 64B",
};

static struct frame frames[F__MAX];

static void build_frames(void)
{
	struct frame *f = &frames[F_ACK4];

	frame_init(f);
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, &(struct frame_ipv4){ .proto = IPPROTO_TCP });
	frame_tcp(f, 40000, 443, PS_TCP_ACK, 0);
	frame_pad(f, 64);
	frame_finish(f);
	bench_frame(&frames[F_SYN4], 0, 0, IPPROTO_TCP);
	bench_frame(&frames[F_UDP6], 1, 0, IPPROTO_UDP);
}

/* the plugin's defaults, a second, in a 1 s window */
static void default_config(struct an_config *c, int block)
{
	static const __u64 lim[AN_RATE_N][2] = {
		[AN_DET_SYN_FLOOD] = { 5000, 50000 },
		[AN_DET_UDP_FLOOD] = { 20000, 200000 },
		[AN_DET_ICMP_FLOOD] = { 500, 5000 },
		[AN_DET_PPS] = { 100000, 1000000 },
		[AN_DET_BPS] = { 250000000, 2500000000U },
	};

	memset(c, 0, sizeof(*c));
	c->seed = 0x5eed;
	c->window_ns = NSEC;
	c->scan_window_ns = 300 * NSEC;
	c->scan_ports = 15;
	c->block_ns = 60 * NSEC;
	c->alert_max = 1000;
	c->spike_factor = 10;
	c->spike_min[AN_SCOPE_SRC] = 10000;
	c->spike_min[AN_SCOPE_DST] = 10000;
	c->spike_min[AN_SCOPE_IF] = 100000;
	memcpy(c->limit, lim, sizeof(lim));
	c->flags = block ? AN_F_BLOCK : 0;
}

static struct anomaly *known, *blocked;
static struct anomaly_bench *newsrc;

static int set_config(struct bpf_map *m, const struct an_config *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(m), &zero, c, 0);
}

/* the frames' sources, blocked for an hour of the coarse clock */
static int block_sources(struct anomaly *a)
{
	struct an_block b = { .detector = AN_DET_MAX };
	struct ps_addr_key k;
	int fd = bpf_map__fd(a->maps.blocks);

	b.until_ns = ps_coarse_ns() + 3600 * NSEC;
	ps_addr_key_set(&k, PS_AF_INET, frame_ip4_src);
	if (bpf_map_update_elem(fd, &k, &b, 0))
		return -1;
	ps_addr_key_set(&k, PS_AF_INET6, frame_ip6_src);
	return bpf_map_update_elem(fd, &k, &b, 0);
}

static int load(void)
{
	struct an_config c;

	known = anomaly__open();
	blocked = anomaly__open();
	newsrc = anomaly_bench__open();
	if (!known || !blocked || !newsrc)
		return -1;
	newsrc->rodata->bench_new_src = 1;
	/* the core's clock, as every attach has it */
	if (ps_bpf_set_clock(known->obj) || ps_bpf_set_clock(blocked->obj) ||
	    ps_bpf_set_clock(newsrc->obj) || anomaly__load(known) ||
	    anomaly__load(blocked) || anomaly_bench__load(newsrc))
		return -1;
	default_config(&c, 0);
	if (set_config(known->maps.config, &c) ||
	    set_config(newsrc->maps.config, &c))
		return -1;
	default_config(&c, 1);
	if (set_config(blocked->maps.config, &c) || block_sources(blocked))
		return -1;
	return 0;
}

static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

struct objs {
	struct bench_empty *e;
	struct bench_parse *p;
};

static int prog_fd(const struct objs *o, enum var v, enum hook h)
{
	switch (v) {
	case V_EMPTY:
		return hook_prog_fd(h, o->e->progs.empty_xdp,
				    o->e->progs.empty_tc);
	case V_PARSER:
		return hook_prog_fd(h, o->p->progs.parse_xdp,
				    o->p->progs.parse_tc);
	case V_KNOWN:
		return hook_prog_fd(h, known->progs.an_xdp, known->progs.an_tc);
	case V_NEWSRC:
		return hook_prog_fd(h, newsrc->progs.an_xdp,
				    newsrc->progs.an_tc);
	default:
		return hook_prog_fd(h, blocked->progs.an_xdp,
				    blocked->progs.an_tc);
	}
}

static int run_variant(void *ctx, int f, enum hook h, int v, double *ns)
{
	int want = hook_pass_ret(h);

	if (v == V_BLOCKED)
		want = h == XDP ? XDP_DROP_RET : TC_SHOT_RET;
	return bench_run_want(prog_fd(ctx, v, h), want, &frames[f],
			      bench.repeat, ns);
}

static int print_results(void)
{
	int f, h;

	printf("ns/packet, median of %d rounds of %llu runs "
	       "(spread max-min in brackets)\n\n", bench.rounds,
	       bench.repeat);
	bench_table_head(13, 10, var_name, V__MAX);
	printf("\n");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			bench_table_row(13, fr_name[f], h, res[f][h],
					spread[f][h], V__MAX);
			printf("\n");
		}
	printf("\nns added to the bare parser, and ratios to it\n");
	printf("%-13s %-4s %9s %9s %9s %9s %9s %9s\n", "frame", "hook",
	       "known-p", "new-p", "blocked-p", "known/p", "new/p",
	       "blocked/p");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			double *x = res[f][h];

			printf("%-13s %-4s %9.1f %9.1f %9.1f %8.2fx %8.2fx "
			       "%8.2fx\n", fr_name[f], hook_name(h),
			       x[V_KNOWN] - x[V_PARSER],
			       x[V_NEWSRC] - x[V_PARSER],
			       x[V_BLOCKED] - x[V_PARSER],
			       x[V_KNOWN] / x[V_PARSER],
			       x[V_NEWSRC] / x[V_PARSER],
			       x[V_BLOCKED] / x[V_PARSER]);
		}
	printf("\ngoals:\n");
	return bench_goals(40, goals, sizeof(goals) / sizeof(goals[0]),
			   fr_name, F__MAX, V__MAX, &res[0][0][0]);
}

int main(int argc, char **argv)
{
	struct objs o = { NULL, NULL };
	int fails, c, ret = 1;

	c = bench_options(argc, argv, NULL);
	if (c >= 0)
		return c;
	bench_setup();
	build_frames();
	o.e = bench_empty__open_and_load();
	o.p = bench_parse__open_and_load();
	if (!o.e || !o.p || load()) {
		fprintf(stderr, "Error: cannot load the BPF objects "
			"(root and BPF_PROG_TEST_RUN needed)\n");
		goto out;
	}
	printf("pinned to CPU %d, %d possible CPUs\n", bench.cpu,
	       libbpf_num_possible_cpus());
	if (bench_measure(F__MAX, V__MAX, run_variant, &o, &res[0][0][0],
			  &spread[0][0][0]))
		goto out;
	fails = print_results();
	ret = bench.check && fails ? 1 : 0;
out:
	anomaly__destroy(known);
	anomaly__destroy(blocked);
	anomaly_bench__destroy(newsrc);
	bench_parse__destroy(o.p);
	bench_empty__destroy(o.e);
	return ret;
}
