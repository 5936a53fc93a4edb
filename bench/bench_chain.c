// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_chain: what pktscope's XDP chain costs (include/pktscope/bpf/hook.h,
 * core/xdp_chain.c): k programs on one program array, each tail-calling
 * the next on PS_PASS, against the same program alone, as
 * bench/bench_common.h measures it (XDP only: at tc/tcx the kernel chains).
 *
 * Each program is its own object, loaded as the core loads it in xdp mode:
 * ps_xdp_chain reused from one shared array, ps_xdp_slot set before load.
 * "alone" is one such object on an empty chain (its tail call to the next
 * slot finds nothing), which is how a plugin runs by itself at XDP.  The
 * cost of an extra program is
 *
 *	(chain of k - k x alone) / (k - 1)
 *
 * where alone and chain are net of what test_run costs with a program
 * that only returns (bench_empty.bpf.c, the floor), for two programs:
 * pass-all (tests/bpf/pass_all.bpf.c: parse and count
 * the verdict, the least a PS_HOOK() program does) and proto-stats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/in.h>

#include <pktscope/bpf/hook.h>

#include "bench_common.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "pass_all.skel.h"
#include "proto_stats.skel.h"

#define CHAIN_MAX	3	/* programs in the longest chain measured */

enum prog { P_PASS_ALL, P_PROTO_STATS, P_PROTO_STATS_OWN, P__MAX };
static const char *const prog_name[P__MAX] = {
	"pass-all", "proto-stats", "proto-stats, own maps",
};

/* what an extra program in the chain may cost, ns */
#define GOAL_EXTRA_NS	10.0

struct chain {
	int array_fd;			/* the shared ps_xdp_chain */
	int n;
	int fd[CHAIN_MAX];		/* each one's XDP entry */
	struct bpf_object *objs[CHAIN_MAX];
	bool shared;			/* all on the first one's maps */
};

/*
 * With shared maps, the programs after the first use its maps: the chain
 * then touches no more memory than one program alone, and what is left
 * is the chain's own cost.  With their own maps (as separate plugins
 * have), the difference is the larger working set as well.
 */
static int share_maps(struct chain *c, struct bpf_object *obj)
{
	struct bpf_map *m, *first;

	if (!c->shared || c->n < 2)
		return 0;
	bpf_object__for_each_map(m, obj) {
		if (bpf_map__is_internal(m) ||
		    !strcmp(bpf_map__name(m), PS_XDP_CHAIN_MAP))
			continue;
		first = bpf_object__find_map_by_name(c->objs[0],
						     bpf_map__name(m));
		if (!first || bpf_map__reuse_fd(m, bpf_map__fd(first)))
			return -1;
	}
	return 0;
}

static int array_new(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "ps_xdp_chain", 4, 4,
				PS_XDP_CHAIN_MAX, &o);

	if (fd < 0)
		fprintf(stderr, "Error: creating a program array: %s\n",
			strerror(errno));
	return fd;
}

/* the object's bytes (its skeleton's) and its XDP entry */
static const struct {
	const void *(*elf)(size_t *size);
	const char *xdp;
} prog_obj[P__MAX] = {
	[P_PASS_ALL] = { pass_all__elf_bytes, "pa_xdp" },
	[P_PROTO_STATS] = { proto_stats__elf_bytes, "ps_xdp" },
	[P_PROTO_STATS_OWN] = { proto_stats__elf_bytes, "ps_xdp" },
};

/* load one object of program p into slot of the chain's array */
static int load_one(struct chain *c, enum prog p, __u32 slot)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	size_t size;
	const void *elf = prog_obj[p].elf(&size);
	int fd;

	obj = bpf_object__open_mem(elf, size, NULL);
	if (!obj)
		return -1;
	c->objs[c->n++] = obj;
	prog = bpf_object__find_program_by_name(obj, prog_obj[p].xdp);
	if (!prog ||
	    bpf_map__set_initial_value(bpf_object__find_map_by_name(obj,
				PS_XDP_SLOT_SEC), &slot, sizeof(slot)) ||
	    bpf_map__reuse_fd(bpf_object__find_map_by_name(obj,
				PS_XDP_CHAIN_MAP), c->array_fd) ||
	    share_maps(c, obj) || bpf_object__load(obj))
		return -1;
	fd = bpf_program__fd(prog);
	c->fd[c->n - 1] = fd;
	/* chain[slot] is what slot - 1 tail-calls */
	return slot ? bpf_map_update_elem(c->array_fd, &slot, &fd, 0) : 0;
}

static void chain_free(struct chain *c)
{
	for (int i = 0; i < c->n; i++)
		bpf_object__close(c->objs[i]);
	if (c->array_fd >= 0)
		close(c->array_fd);
	c->n = 0;
	c->array_fd = -1;
}

/* a chain of k programs p in slots 0..k-1 */
static int chain_make(struct chain *c, enum prog p, int k)
{
	c->n = 0;
	c->shared = p != P_PROTO_STATS_OWN;
	c->array_fd = array_new();
	if (c->array_fd < 0)
		return -1;
	for (int i = 0; i < k; i++)
		if (load_one(c, p, (__u32)i)) {
			fprintf(stderr, "Error: loading %s into slot %d: %s\n",
				prog_name[p], i, strerror(errno));
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	static double ns[P__MAX][CHAIN_MAX][MAX_ROUNDS], floor_ns[MAX_ROUNDS];
	static double parser_ns[MAX_ROUNDS];
	struct bench_empty *empty = NULL;
	struct bench_parse *parser = NULL;
	double fl, pa;
	static struct chain ch[P__MAX][CHAIN_MAX];
	double med[P__MAX][CHAIN_MAX];
	struct frame f;
	int ret = 1, fails = 0, c;

	c = bench_options(argc, argv, NULL);
	if (c >= 0)
		return c;
	bench_setup();
	bench_frame(&f, 0, 0, IPPROTO_UDP);
	empty = bench_empty__open_and_load();
	parser = bench_parse__open_and_load();
	if (!empty || !parser) {
		fprintf(stderr, "Error: cannot load bench_empty.bpf.o or "
			"bench_parse.bpf.o\n");
		goto out;
	}
	for (int p = 0; p < P__MAX; p++)
		for (int k = 0; k < CHAIN_MAX; k++) {
			ch[p][k].array_fd = -1;
			if (chain_make(&ch[p][k], p, k + 1))
				goto out;
		}
	for (int r = 0; r < bench.rounds; r++) {
		if (bench_run(bpf_program__fd(empty->progs.empty_xdp), XDP, &f,
			      bench.repeat, &floor_ns[r]) ||
		    bench_run(bpf_program__fd(parser->progs.parse_xdp), XDP, &f,
			      bench.repeat, &parser_ns[r]))
			goto out;
		for (int p = 0; p < P__MAX; p++)
			for (int k = 0; k < CHAIN_MAX; k++)
				if (bench_run(ch[p][k].fd[0], XDP, &f,
					      bench.repeat, &ns[p][k][r]))
					goto out;
	}
	fl = bench_median(floor_ns, bench.rounds);
	pa = bench_median(parser_ns, bench.rounds) - fl;

	printf("XDP chain, udp4 64B, ns/packet as BPF_PROG_TEST_RUN reports "
	       "it, median of %d rounds of %llu runs, net of the floor\n"
	       "(an empty program: %.1f ns)\n\n", bench.rounds, bench.repeat,
	       fl);
	printf("%-22s %8s %8s %8s %14s %14s\n", "program", "alone", "chain 2",
	       "chain 3", "extra (of 2)", "extra (of 3)");
	for (int p = 0; p < P__MAX; p++) {
		for (int k = 0; k < CHAIN_MAX; k++)
			med[p][k] = bench_median(ns[p][k], bench.rounds) - fl;
		printf("%-22s %8.1f %8.1f %8.1f %14.1f %14.1f\n", prog_name[p],
		       med[p][0], med[p][1], med[p][2],
		       med[p][1] - 2 * med[p][0],
		       (med[p][2] - 3 * med[p][0]) / 2);
	}
	/*
	 * what PS_HOOK() adds at XDP to the bare parser and a counter
	 * (bench_parse.bpf.c): the probe flag, ps_verdicts, the tail call
	 * into an empty slot
	 */
	printf("\nthe bare parser (bench_parse.bpf.c) %.1f ns; pass-all alone "
	       "- parser = %.1f ns (PS_HOOK() at XDP)\n", pa, med[0][0] - pa);
	printf("\ngoals:\n");
	/* the chain's own cost: the same memory as one program alone */
	for (int p = 0; p < P_PROTO_STATS_OWN; p++)
		for (int k = 1; k < CHAIN_MAX; k++)
			fails += !bench_goal(44, (med[p][k] - (k + 1) *
						  med[p][0]) / k,
					     GOAL_EXTRA_NS,
					     "%s: each extra of %d <= %.0f ns",
					     prog_name[p], k + 1, GOAL_EXTRA_NS);
	ret = bench.check && fails ? 1 : 0;
out:
	bench_empty__destroy(empty);
	bench_parse__destroy(parser);
	for (int p = 0; p < P__MAX; p++)
		for (int k = 0; k < CHAIN_MAX; k++)
			chain_free(&ch[p][k]);
	return ret;
}
