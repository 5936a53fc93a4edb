// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_shaping: what the shaping object costs per packet next to the bare
 * parser, as bench/bench_common.h measures it (BPF_PROG_TEST_RUN, 64-byte
 * frames, the kernel's coarse clock as in production).
 *
 * Variants, each its own instance of bpf/shaping.bpf.o:
 *   empty      a program that only returns
 *   parser     the parser and one per-CPU counter (bench_parse.bpf.c)
 *   hook       the parser behind PS_HOOK() with a decide() that passes
 *              (tests/bpf/pass_all.bpf.c): what every plugin pays, the
 *              floor of the rows below
 *   no-rules   shaping without rules
 *   miss-1     one rule, which the packet does not match (dport 1)
 *   miss-8     eight rules, none matching (dport 1..8)
 *   police     one rule that matches and lets everything pass: the GCRA
 *              and its compare-and-swap on every packet
 *   over       one rule that matches and drops everything (1 pps, already
 *              spent): the GCRA reads and does not write
 *   per-src    per-source police that passes: an LRU lookup and the CAS
 *
 * Then the same "police" bucket on two CPUs at once against one CPU: each
 * CPU's test_run reports its own time per packet.
 *
 * Run it as root under the machine-wide lock:
 *	flock /tmp/pktscope-bench.lock bench/bench_shaping
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/in.h>

#include "bench_common.h"
#include <pktscope/plugin.h>
#include "shaping.h"
#include "bench_empty.skel.h"
#include "bench_parse.skel.h"
#include "pass_all.skel.h"
#include "shaping.skel.h"

enum var { V_EMPTY, V_PARSER, V_HOOK, V_NONE, V_MISS1, V_MISS8, V_POLICE, V_OVER,
	   V_PERSRC, V__MAX };
static const char *const var_name[] = {
	"empty", "parser", "hook", "no-rules", "miss-1", "miss-8", "police", "over",
	"per-src",
};

static const struct bench_goal goals[] = {
	{ "police <= parser + 30", V_POLICE, V_PARSER, 1, 30 },
	{ "over <= parser + 30", V_OVER, V_PARSER, 1, 30 },
	{ "miss-1 <= parser + 5", V_MISS1, V_PARSER, 1, 5 },
	/* not the issue's: what shaping adds to the hook every plugin pays */
	{ "miss-1 <= hook + 5", V_MISS1, V_HOOK, 1, 5 },
};

enum fr { F_UDP, F_SYN, F_UDP6, F__MAX };
static const char *const fr_name[] = { "udp4 64B", "tcp-syn 64B", "udp6 64B" };

static struct frame frames[F__MAX];
static struct shaping *inst[V__MAX];
static int fds[V__MAX][HOOK__MAX];
static double res[F__MAX][HOOK__MAX][V__MAX];
static double spread[F__MAX][HOOK__MAX][V__MAX];

static struct shp_rule mk_rule(__u32 id, __u64 rate, int pps, __u64 burst)
{
	struct shp_rule r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.sport_hi = r.dport_hi = 0xffff;
	shp_rule_set_rate(&r, rate, pps, burst, ps_coarse_tick_ns());
	shp_rule_set_prefix(&r, 32, 128);
	return r;
}

static int load(enum var v)
{
	static struct shp_rule all[SHP_RULES_MAX];
	static __u32 keys[SHP_PORTS], bits[SHP_PORTS];
	struct shp_config cfg = { 0 };
	__u32 count = SHP_PORTS;
	struct shaping *s = shaping__open();
	struct shp_rule r;
	__u32 zero = 0, n = 0;

	/* the core's clock, as every attach has it */
	if (!s || ps_bpf_set_clock(s->obj) || shaping__load(s)) {
		fprintf(stderr, "Error: loading shaping.bpf.o: %s\n",
			strerror(errno));
		return -1;
	}
	inst[v] = s;
	memset(all, 0, sizeof(all));
	fds[v][XDP] = bpf_program__fd(s->progs.shp_xdp);
	fds[v][TC] = bpf_program__fd(s->progs.shp_tc);
	if (v == V_MISS1 || v == V_MISS8)
		n = v == V_MISS1 ? 1 : 8;
	else if (v != V_NONE)
		n = 1;
	for (__u32 i = 0; i < n; i++) {
		if (v == V_OVER)
			r = mk_rule(i + 1, 1, 1, 1);
		else
			r = mk_rule(i + 1, 400000000000ULL, 0, 1ULL << 30);
		if (v == V_MISS1 || v == V_MISS8)
			r.dport_lo = r.dport_hi = (__u16)(i + 1);
		if (v == V_PERSRC)
			r.flags |= SHP_F_PER_SOURCE;
		if (bpf_map_update_elem(bpf_map__fd(s->maps.rules), &i, &r, 0))
			return -1;
		cfg.order[i] = (__u8)i;
		shp_config_set_slot(&cfg, i, &r);
		all[i] = r;
	}
	cfg.n = n;
	for (__u32 p = 0; p < SHP_PORTS; p++) {
		keys[p] = p;
		bits[p] = shp_port_bits(all, p);
	}
	if (bpf_map_update_batch(bpf_map__fd(s->maps.ports), keys, bits,
				 &count, NULL))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(s->maps.config), &zero, &cfg, 0);
}

/* test_run of fd over f; "over" drops, everything else passes */
static int run_one(int fd, enum hook h, int drops, const struct frame *f,
		   unsigned long long n, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->buf,
		    .data_size_in = f->len, .repeat = n);
	int want = drops ? (h == XDP ? 1 : 2) : hook_pass_ret(h);

	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "Error: test_run: %s\n", strerror(errno));
		return -1;
	}
	if ((int)o.retval != want) {
		fprintf(stderr, "Error: program returned %d, want %d\n",
			(int)o.retval, want);
		return -1;
	}
	*ns = o.duration;
	return 0;
}

static int run_variant(void *ctx, int f, enum hook h, int v, double *ns)
{
	(void)ctx;
	return run_one(fds[v][h], h, v == V_OVER, &frames[f], bench.repeat,
		       ns);
}

/* ---- two CPUs on one bucket ---- */

struct cpu_job {
	int cpu, fd;
	enum hook h;
	double ns;
	int err;
};

static void *cpu_job(void *arg)
{
	struct cpu_job *j = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	j->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (!j->err)
		j->err = run_one(j->fd, j->h, 0, &frames[F_UDP], bench.repeat,
				 &j->ns);
	return NULL;
}

/* per-packet ns of the police bucket with one, then two CPUs at it */
static int contention(enum hook h, double *one, double *two)
{
	double a[MAX_ROUNDS], b[MAX_ROUNDS];
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 2)
		return 1;
	for (int r = 0; r < bench.rounds; r++) {
		struct cpu_job j[2] = {
			{ 0, fds[V_POLICE][h], h, 0, 0 },
			{ 1, fds[V_POLICE][h], h, 0, 0 },
		};
		pthread_t t[2];

		cpu_job(&j[0]);
		if (j[0].err)
			return -1;
		a[r] = j[0].ns;
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, cpu_job, &j[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		if (j[0].err || j[1].err)
			return -1;
		b[r] = (j[0].ns + j[1].ns) / 2;
	}
	*one = bench_median(a, bench.rounds);
	*two = bench_median(b, bench.rounds);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_empty *empty;
	struct bench_parse *parse;
	struct pass_all *hook;
	int r = bench_options(argc, argv, NULL), fails = 0;

	if (r >= 0)
		return r;
	bench_setup();
	bench_frame(&frames[F_UDP], 0, 0, IPPROTO_UDP);
	bench_frame(&frames[F_SYN], 0, 0, IPPROTO_TCP);
	bench_frame(&frames[F_UDP6], 1, 0, IPPROTO_UDP);
	empty = bench_empty__open_and_load();
	parse = bench_parse__open_and_load();
	hook = pass_all__open_and_load();
	if (!empty || !parse || !hook) {
		fprintf(stderr, "Error: loading the reference objects: %s\n",
			strerror(errno));
		return 1;
	}
	fds[V_EMPTY][XDP] = bpf_program__fd(empty->progs.empty_xdp);
	fds[V_EMPTY][TC] = bpf_program__fd(empty->progs.empty_tc);
	fds[V_PARSER][XDP] = bpf_program__fd(parse->progs.parse_xdp);
	fds[V_PARSER][TC] = bpf_program__fd(parse->progs.parse_tc);
	fds[V_HOOK][XDP] = bpf_program__fd(hook->progs.pa_xdp);
	fds[V_HOOK][TC] = bpf_program__fd(hook->progs.pa_tc);
	for (int v = V_NONE; v < V__MAX; v++)
		if (load(v))
			return 1;
	if (bench_measure(F__MAX, V__MAX, run_variant, NULL, &res[0][0][0],
			  &spread[0][0][0]))
		return 1;

	printf("ns/packet as BPF_PROG_TEST_RUN reports it (whole ns), median "
	       "of %d rounds of %llu runs; [max - min]\n\n", bench.rounds,
	       bench.repeat);
	bench_table_head(12, 11, var_name, V__MAX);
	printf("\n");
	for (int f = 0; f < F__MAX; f++)
		for (int h = 0; h < HOOK__MAX; h++) {
			bench_table_row(12, fr_name[f], h, res[f][h],
					spread[f][h], V__MAX);
			printf("\n");
		}
	printf("\nover the parser (ns):\n");
	for (int f = 0; f < F__MAX; f++)
		for (int h = 0; h < HOOK__MAX; h++) {
			printf("%-12s %-4s", fr_name[f], hook_name(h));
			for (int v = V_HOOK; v < V__MAX; v++)
				printf(" %s %+.1f", var_name[v],
				       res[f][h][v] - res[f][h][V_PARSER]);
			printf("\n");
		}

	printf("\ngoals:\n");
	fails += bench_goals(40, goals, sizeof(goals) / sizeof(goals[0]),
			     fr_name, F__MAX, V__MAX, &res[0][0][0]);
	for (int h = 0; h < HOOK__MAX; h++) {
		double one, two;
		int c = contention(h, &one, &two);

		if (c < 0)
			return 1;
		if (c > 0) {
			printf("  two CPUs: only one CPU online, not measured\n");
			break;
		}
		printf("  police on one bucket, %s: 1 CPU %.1f ns, 2 CPUs %.1f ns each (%.2fx)\n",
		       hook_name(h), one, two, two / one);
		fails += !bench_goal(40, two, 3 * one,
				     "udp4 64B %s: 2 CPUs <= 3 x 1 CPU",
				     hook_name(h));
	}
	for (int v = V_NONE; v < V__MAX; v++)
		shaping__destroy(inst[v]);
	bench_parse__destroy(parse);
	pass_all__destroy(hook);
	bench_empty__destroy(empty);
	return bench.check && fails ? 1 : 0;
}
