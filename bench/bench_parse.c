// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_parse: what the shared parser and proto-stats cost per packet, as
 * bench/bench_common.h measures it.
 *
 * Variants:
 *   empty    a program that only returns (the floor)
 *   parser   ps_parse() plus one per-CPU counter (bench_parse.bpf.c)
 *   known    proto-stats (the production object, default sampling), its
 *            source and port already counted, each in the last way of a
 *            cache set whose other ways hold other keys: a hit compares
 *            every way's key, the most a known key costs
 *   new-src  proto-stats, a new source address every packet: the bench
 *            build of proto_stats.bpf.c (-DPSTAT_BENCH) perturbs the key,
 *            because test_run repeats one frame; the perturbation (one
 *            global increment) is charged to proto-stats.  The LRU map is
 *            full before measuring, so inserts evict, and the cache sets
 *            are full as for "known", so a miss compares every way too.
 *
 * -o also measures the designs considered for the top maps (the table at
 * the top of bpf/proto_stats.bpf.c comes from it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/in.h>

#include "bench_common.h"
#include "proto_stats.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "proto_stats.skel.h"
#include "proto_stats_bench.skel.h"

enum var { V_EMPTY, V_PARSER, V_KNOWN, V_NEW, V__MAX };
static const char *const var_name[] = { "empty", "parser", "known", "new-src" };

/* what each variant may cost, on every frame and hook */
static const struct bench_goal goals[] = {
	{ "parser <= empty + 15", V_PARSER, V_EMPTY, 1, 15 },
	{ "known <= 3 x parser", V_KNOWN, V_PARSER, 3, 0 },
	{ "new-src <= 10 x parser", V_NEW, V_PARSER, 10, 0 },
};

enum fr { F_UDP, F_SYN, F_UDP6, F_VLAN, F_TRUNC, F__MAX };
static const char *const fr_name[] = {
	"udp4 64B", "tcp-syn 64B", "udp6 64B", "vlan udp4 64B",
	"trunc tcp 42B",
};

static struct frame frames[F__MAX];

static void build_frames(void)
{
	bench_frame(&frames[F_UDP], 0, 0, IPPROTO_UDP);
	bench_frame(&frames[F_SYN], 0, 0, IPPROTO_TCP);
	bench_frame(&frames[F_UDP6], 1, 0, IPPROTO_UDP);
	bench_frame(&frames[F_VLAN], 0, 100, IPPROTO_UDP);

	/* the SYN frame cut 8 bytes into its TCP header */
	frames[F_TRUNC] = frames[F_SYN];
	frames[F_TRUNC].len = 14 + 20 + 8;
}

/* Where each variant's programs are. */
struct progs {
	int fd[V__MAX][HOOK__MAX];
};

/*
 * Fill every way but the last of every cache set, on every CPU, with keys
 * of no frame here, given many packets so that they are not the fewest.
 * The frames' keys then take the last way of their sets, and a hit
 * compares all the ways' keys first: the most a known key costs.  (A run
 * of misses, as "new" makes, writes them back once they look idle, after
 * two misses in their set; what is measured is the flood after that.)
 */
static int fill_cache(struct bpf_map *m, unsigned int ways_bits)
{
	int ncpus = libbpf_num_possible_cpus();
	unsigned int last = (1U << ways_bits) - 1, i;
	struct pstat_cache *c;
	__u32 zero = 0;
	int cpu, ret;

	if (ncpus <= 0)
		return -1;
	c = calloc(ncpus, sizeof(*c));
	if (!c)
		return -1;
	for (cpu = 0; cpu < ncpus; cpu++) {
		for (i = 0; i < 1U << PSTAT_SRC_SLOTS_BITS; i++) {
			struct pstat_src_slot *s = &c[cpu].src[i];

			if ((i & last) == last)
				continue;
			/* 198.18.0.0/15, the benchmarking range */
			s->key.addr[0] = 198;
			s->key.addr[1] = 18;
			s->key.addr[2] = i >> 8;
			s->key.addr[3] = i;
			s->key.family = AF_INET;
			s->val.packets = 1ULL << 40;
		}
		for (i = 0; i < 1U << PSTAT_PORT_SLOTS_BITS; i++) {
			struct pstat_port_slot *s = &c[cpu].port[i];

			if ((i & last) == last)
				continue;
			s->key.proto = IPPROTO_UDP;
			s->key.port = 60000 + i;
			s->val.packets = 1ULL << 40;
		}
	}
	ret = bpf_map_update_elem(bpf_map__fd(m), &zero, c, 0);
	if (ret)
		fprintf(stderr, "Error: filling the cache: %s\n",
			strerror(errno));
	free(c);
	return ret;
}

static int cfg_set(int map_fd, __u32 sample_src, __u32 sample_port)
{
	struct pstat_config cfg = { sample_src, sample_port };
	__u32 zero = 0;

	return bpf_map_update_elem(map_fd, &zero, &cfg, 0);
}

/*
 * Put the frames' sources and ports into the production object's top maps
 * (admit everything once, then back to the default sampling), so that
 * "known" measures the hit path only.
 */
static int warm_known(struct proto_stats *ps)
{
	int cfg_fd = bpf_map__fd(ps->maps.config);
	double ns;
	int i, h;

	if (cfg_set(cfg_fd, 1, 1))
		return -1;
	for (i = 0; i < F__MAX; i++)
		for (h = 0; h < HOOK__MAX; h++)
			if (bench_run(hook_prog_fd(h, ps->progs.ps_xdp,
						   ps->progs.ps_tc),
				      h, &frames[i], 1, &ns))
				return -1;
	return cfg_set(cfg_fd, 0, 0);
}

static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

static int run_variant(void *ctx, int f, enum hook h, int v, double *ns)
{
	const struct progs *p = ctx;

	return bench_run(p->fd[v][h], h, &frames[f], bench.repeat, ns);
}

static int print_results(void)
{
	int f, h, v, fails = 0;

	printf("ns/packet as BPF_PROG_TEST_RUN reports it (whole ns), median "
	       "of %d rounds of %llu runs; [max - min]\n\n", bench.rounds,
	       bench.repeat);
	bench_table_head(14, 13, var_name, V__MAX);
	printf(" %9s %9s %9s\n", "parser-e", "known/p", "new/p");
	for (f = 0; f < F__MAX; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			double *x = res[f][h];

			bench_table_row(14, fr_name[f], h, x, spread[f][h],
					V__MAX);
			printf(" %9.1f %8.2fx %8.2fx\n", x[V_PARSER] - x[V_EMPTY],
			       x[V_KNOWN] / x[V_PARSER], x[V_NEW] / x[V_PARSER]);
		}

	printf("\ngoals:\n");
	fails += bench_goals(44, goals, sizeof(goals) / sizeof(goals[0]),
			     fr_name, F__MAX, V__MAX, &res[0][0][0]);
	for (h = 0; h < HOOK__MAX; h++)
		for (v = V_PARSER; v < V__MAX; v++)
			fails += !bench_goal(44, res[F_TRUNC][h][v],
					     res[F_SYN][h][v],
					     "%s %s: truncated <= tcp-syn",
					     var_name[v], hook_name(h));
	return fails;
}

static const char *map_type_name(enum bpf_map_type t)
{
	const char *s = libbpf_bpf_map_type_str(t);

	return s ? s : "?";
}

/* The kernel's own account of a map's memory, from /proc/self/fdinfo. */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(fp);
	return v;
}

static void print_memory(struct bpf_object *obj)
{
	long long sum = 0, sum_k = 0;
	int ncpus = libbpf_num_possible_cpus();
	struct bpf_map *m;

	printf("\nproto-stats map memory (%d possible CPUs; data = entries x "
	       "(key + value x CPUs for per-CPU values))\n", ncpus);
	printf("%-10s %-16s %8s %5s %6s %12s %14s\n", "map", "type", "entries",
	       "key", "value", "data bytes", "kernel memlock");
	bpf_object__for_each_map(m, obj) {
		enum bpf_map_type t = bpf_map__type(m);
		int percpu = t == BPF_MAP_TYPE_PERCPU_ARRAY ||
			     t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
		long long d = (long long)bpf_map__max_entries(m) *
			      (bpf_map__key_size(m) +
			       (long long)bpf_map__value_size(m) *
			       (percpu ? ncpus : 1));
		long long k = map_memlock(bpf_map__fd(m));

		if (bpf_map__is_internal(m))
			continue;
		printf("%-10s %-16s %8u %5u %6u %12lld %14lld\n",
		       bpf_map__name(m), map_type_name(t),
		       bpf_map__max_entries(m), bpf_map__key_size(m),
		       bpf_map__value_size(m), d, k);
		sum += d;
		sum_k += k;
	}
	printf("%-10s %-16s %8s %5s %6s %12lld %14lld\n", "total", "", "", "",
	       "", sum, sum_k);
}

/*
 * --options: the designs considered for top_src, on the UDP frame at XDP.
 * Each is the bench build of proto-stats with top_src's type and flags
 * changed before load; "known" repeats one source, "new" a new one every
 * packet after the map has been filled.
 */
struct option_variant {
	const char *name;
	enum bpf_map_type type;
	__u32 flags;
	__u32 nocache;		/* straight to the LRU map, no per-CPU cache */
	__u32 atomic;		/* shared values need atomic adds */
	__u32 sample;		/* admission 1/N; 1 = insert every miss */
	__u32 cms;		/* count-min admission threshold, 0 = off */
	__u32 ways_bits;	/* the caches' log2 ways per set (cache rows) */
};

static const struct option_variant option_variants[] = {
	{ "LRU_HASH, atomic adds, insert every miss",
	  BPF_MAP_TYPE_LRU_HASH, 0, 1, 1, 1, 0 },
	{ "LRU_HASH NO_COMMON_LRU, atomic, every miss",
	  BPF_MAP_TYPE_LRU_HASH, BPF_F_NO_COMMON_LRU, 1, 1, 1, 0 },
	{ "LRU_PERCPU_HASH, insert every miss",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 1, 0, 1, 0 },
	{ "LRU_PERCPU_HASH NO_COMMON_LRU, every miss",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_F_NO_COMMON_LRU, 1, 0, 1, 0 },
	{ "LRU_PERCPU_HASH, count-min >= 4 admits",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 1, 0, 1, 4 },
	{ "LRU_PERCPU_HASH, sample 1/4",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 1, 0, 4, 0 },
	{ "LRU_PERCPU_HASH, sample 1/16",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 1, 0, 16, 0 },
	{ "LRU_PERCPU_HASH, sample 1/64",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 1, 0, 64, 0 },
	{ "cache 4-way + LRU_PERCPU_HASH, every miss",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 0, 0, 1, 0, PSTAT_CACHE_WAYS_BITS },
	{ "cache direct-mapped + LRU_PERCPU_HASH, 1/16",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 0, 0, 16, 0, 0 },
	{ "cache 2-way + LRU_PERCPU_HASH, 1/16",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 0, 0, 16, 0, 1 },
	{ "cache 4-way + LRU_PERCPU_HASH, 1/16 (chosen)",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 0, 0, 16, 0, PSTAT_CACHE_WAYS_BITS },
	{ "cache 8-way + LRU_PERCPU_HASH, 1/16",
	  BPF_MAP_TYPE_LRU_PERCPU_HASH, 0, 0, 0, 16, 0, 3 },
};

#define N_OPTIONS (sizeof(option_variants) / sizeof(option_variants[0]))

static struct proto_stats_bench *open_bench(__u32 vary,
						const struct option_variant *o)
{
	struct proto_stats_bench *s = proto_stats_bench__open();

	if (!s)
		return NULL;
	s->rodata->bench_vary = vary;
	if (o) {
		s->rodata->bench_nocache = o->nocache;
		s->rodata->bench_atomic = o->atomic;
		s->rodata->bench_cms = o->cms;
		if (!o->nocache)
			s->rodata->bench_ways_bits = o->ways_bits;
		bpf_map__set_type(s->maps.top_src, o->type);
		bpf_map__set_map_flags(s->maps.top_src, o->flags);
	}
	if (proto_stats_bench__load(s)) {
		proto_stats_bench__destroy(s);
		return NULL;
	}
	return s;
}

static int run_options(int parser_fd, int empty_fd)
{
	static double ns[N_OPTIONS][2][MAX_ROUNDS];
	static double base[2][MAX_ROUNDS];
	struct proto_stats_bench *sk[N_OPTIONS][2] = {};
	const struct frame *f = &frames[F_UDP];
	int ret = -1, r, v;
	unsigned int i;
	double d;

	for (i = 0; i < N_OPTIONS; i++)
		for (v = 0; v < 2; v++) {
			const struct option_variant *o = &option_variants[i];
			struct proto_stats_bench *s = open_bench(v, o);
			int fd;

			if (!s) {
				fprintf(stderr, "Error: loading option '%s'\n",
					o->name);
				goto out;
			}
			sk[i][v] = s;
			fd = bpf_program__fd(s->progs.ps_xdp);
			if (!o->nocache &&
			    fill_cache(s->maps.cache, o->ways_bits))
				goto out;
			if (cfg_set(bpf_map__fd(s->maps.config), o->sample,
				    o->sample))
				goto out;
			/* fill the map so that "new" evicts from the start */
			if (bench_run(fd, XDP, f, 4 * PSTAT_TOP_SRC_MAX *
				      (o->sample ? o->sample : 1), &d))
				goto out;
		}
	for (r = 0; r < bench.rounds; r++) {
		if (bench_run(empty_fd, XDP, f, bench.repeat, &base[0][r]) ||
		    bench_run(parser_fd, XDP, f, bench.repeat, &base[1][r]))
			goto out;
		for (i = 0; i < N_OPTIONS; i++)
			for (v = 0; v < 2; v++)
				if (bench_run(bpf_program__fd(sk[i][v]->progs.ps_xdp),
					      XDP, f, bench.repeat, &ns[i][v][r]))
					goto out;
	}
	printf("\ntop_src designs, %s at XDP, ns/packet (median of %d): "
	       "empty %.1f, parser %.1f\n", fr_name[F_UDP], bench.rounds,
	       bench_median(base[0], bench.rounds),
	       bench_median(base[1], bench.rounds));
	printf("(without the cache, top_port is looked up in its LRU map "
	       "too; \"new\" is a new source, same port;\n with it, the "
	       "frame's keys are in the last way of full sets)\n");
	printf("%-46s %8s %8s %8s %8s\n", "design", "known", "new", "known/p",
	       "new/p");
	for (i = 0; i < N_OPTIONS; i++) {
		double p = bench_median(base[1], bench.rounds);
		double k = bench_median(ns[i][0], bench.rounds);
		double n = bench_median(ns[i][1], bench.rounds);

		printf("%-46s %8.1f %8.1f %7.2fx %7.2fx\n",
		       option_variants[i].name, k, n, k / p, n / p);
	}
	ret = 0;
out:
	for (i = 0; i < N_OPTIONS; i++)
		for (v = 0; v < 2; v++)
			proto_stats_bench__destroy(sk[i][v]);
	return ret;
}

static void jit_warning(void)
{
	FILE *fp = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int on = -1;

	if (fp) {
		if (fscanf(fp, "%d", &on) != 1)
			on = -1;
		fclose(fp);
	}
	if (on < 1)
		fprintf(stderr, "Warning: the BPF JIT is off (or unknown): "
			"these are interpreter numbers\n");
}

int main(int argc, char **argv)
{
	struct proto_stats_bench *psb = NULL;
	struct bench_empty *empty = NULL;
	struct bench_parse *parse = NULL;
	struct proto_stats *ps = NULL;
	struct bench_flag opt_o = {
		'o', "also measure the top_src design options"
	};
	int fails, ret = 1, c;
	struct progs p;

	c = bench_options(argc, argv, &opt_o);
	if (c >= 0)
		return c;
	bench_setup();
	jit_warning();
	build_frames();
	empty = bench_empty__open_and_load();
	parse = bench_parse__open_and_load();
	ps = proto_stats__open_and_load();
	psb = open_bench(1, NULL);
	if (!empty || !parse || !ps || !psb) {
		fprintf(stderr, "Error: cannot load the BPF objects "
			"(root and BPF_PROG_TEST_RUN needed)\n");
		goto out;
	}
	p.fd[V_EMPTY][XDP] = bpf_program__fd(empty->progs.empty_xdp);
	p.fd[V_EMPTY][TC] = bpf_program__fd(empty->progs.empty_tc);
	p.fd[V_PARSER][XDP] = bpf_program__fd(parse->progs.parse_xdp);
	p.fd[V_PARSER][TC] = bpf_program__fd(parse->progs.parse_tc);
	p.fd[V_KNOWN][XDP] = bpf_program__fd(ps->progs.ps_xdp);
	p.fd[V_KNOWN][TC] = bpf_program__fd(ps->progs.ps_tc);
	p.fd[V_NEW][XDP] = bpf_program__fd(psb->progs.ps_xdp);
	p.fd[V_NEW][TC] = bpf_program__fd(psb->progs.ps_tc);

	if (fill_cache(ps->maps.cache, PSTAT_CACHE_WAYS_BITS) ||
	    fill_cache(psb->maps.cache, PSTAT_CACHE_WAYS_BITS) ||
	    warm_known(ps))
		goto out;
	printf("pinned to CPU %d, %d possible CPUs\n", bench.cpu,
	       libbpf_num_possible_cpus());
	if (bench_measure(F__MAX, V__MAX, run_variant, &p, &res[0][0][0],
			  &spread[0][0][0]))
		goto out;
	fails = print_results();
	print_memory(ps->obj);
	if (bench.flag && run_options(p.fd[V_PARSER][XDP], p.fd[V_EMPTY][XDP]))
		goto out;
	ret = bench.check && fails ? 1 : 0;
out:
	proto_stats_bench__destroy(psb);
	proto_stats__destroy(ps);
	bench_parse__destroy(parse);
	bench_empty__destroy(empty);
	return ret;
}
