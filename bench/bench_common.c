// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The BPF_PROG_TEST_RUN benchmarks' shared parts; see bench_common.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "bench_common.h"

#define DEFAULT_REPEAT	1000000
#define DEFAULT_ROUNDS	7

struct bench_opts bench = {
	.repeat = DEFAULT_REPEAT,
	.rounds = DEFAULT_ROUNDS,
	.cpu = -1,
};

void bench_usage(const char *prog, const struct bench_flag *flag)
{
	fprintf(stderr, "Usage: %s [-n REPEAT] [-r ROUNDS] [-c CPU] ", prog);
	if (flag)
		fprintf(stderr, "[-%c] ", flag->letter);
	fprintf(stderr,
		"[-g]\n"
		"  -n REPEAT  test_run repeat count (default %d)\n"
		"  -r ROUNDS  rounds, median reported (default %d, max %d)\n"
		"  -c CPU     pin to CPU (default: the last one)\n",
		DEFAULT_REPEAT, DEFAULT_ROUNDS, MAX_ROUNDS);
	if (flag)
		fprintf(stderr, "  -%c         %s\n", flag->letter, flag->help);
	fprintf(stderr, "  -g         exit 1 when a goal is missed\n");
}

int bench_options(int argc, char **argv, const struct bench_flag *flag)
{
	char optstring[16] = "n:r:c:gh";
	int c;

	if (flag)
		optstring[strlen(optstring)] = flag->letter;
	while ((c = getopt(argc, argv, optstring)) != -1) {
		switch (c) {
		case 'n':
			bench.repeat = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			bench.rounds = atoi(optarg);
			break;
		case 'c':
			bench.cpu = atoi(optarg);
			break;
		case 'g':
			bench.check = 1;
			break;
		default:
			if (flag && c == flag->letter) {
				bench.flag = 1;
				break;
			}
			bench_usage(argv[0], flag);
			return c == 'h' ? 0 : 2;
		}
	}
	if (bench.rounds < 1 || bench.rounds > MAX_ROUNDS || !bench.repeat) {
		bench_usage(argv[0], flag);
		return 2;
	}
	return -1;
}

/* libbpf's warnings say why an object did not load; its chatter no */
static int warnings_only(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void bench_setup(void)
{
	cpu_set_t set;

	libbpf_set_print(warnings_only);
	/* one CPU: per-CPU maps (and caches) stay put between runs */
	if (bench.cpu < 0)
		bench.cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	CPU_ZERO(&set);
	CPU_SET(bench.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "Warning: cannot pin to CPU %d: %s\n",
			bench.cpu, strerror(errno));
}

void bench_frame(struct frame *f, int v6, uint16_t vlan, uint8_t proto)
{
	uint16_t et = v6 ? ETH_P_IPV6 : ETH_P_IP;

	frame_init(f);
	if (vlan) {
		frame_eth(f, ETH_P_8021Q);
		frame_vlan(f, vlan, et);
	} else {
		frame_eth(f, et);
	}
	if (v6)
		frame_ipv6(f, &(struct frame_ipv6){ .nexthdr = proto });
	else
		frame_ipv4(f, &(struct frame_ipv4){ .proto = proto });
	if (proto == IPPROTO_TCP)
		frame_tcp(f, 40000, 443, 0x02, 0);
	else
		frame_udp(f, 40000, 53);
	frame_pad(f, 64);
	frame_finish(f);
}

/*
 * *ns is the kernel's time per run.  That figure is whole nanoseconds, but
 * it is the only honest one: timing the call from here adds a fixed 10-25
 * ms per XDP test_run call on this kernel (set-up outside the timed loop),
 * which no repeat count hides.
 */
int bench_run(int fd, enum hook h, const struct frame *f,
	      unsigned long long n, double *ns)
{
	return bench_run_want(fd, hook_pass_ret(h), f, n, ns);
}

int bench_run_want(int fd, int want, const struct frame *f,
		   unsigned long long n, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->buf,
		.data_size_in = f->len,
		.repeat = n,
	);

	if (bpf_prog_test_run_opts(fd, &opts)) {
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int bench_measure(int nframes, int nvars, bench_run_fn run, void *ctx,
		  double *res, double *spread)
{
	int cells = nframes * HOOK__MAX * nvars, r, f, h, v, i, ret = -1;
	double *ns = calloc((size_t)cells * bench.rounds, sizeof(*ns));

	if (!ns) {
		fprintf(stderr, "Error: out of memory\n");
		return -1;
	}
	/* round by round, so that drift spreads over all variants alike */
	for (r = 0; r < bench.rounds; r++)
		for (f = 0, i = 0; f < nframes; f++)
			for (h = 0; h < HOOK__MAX; h++)
				for (v = 0; v < nvars; v++, i++)
					if (run(ctx, f, h, v,
						&ns[i * bench.rounds + r]))
						goto out;
	for (i = 0; i < cells; i++) {
		double *x = &ns[i * bench.rounds];

		res[i] = bench_median(x, bench.rounds);
		/* sorted by bench_median(): spread is max - min */
		spread[i] = x[bench.rounds - 1] - x[0];
	}
	ret = 0;
out:
	free(ns);
	return ret;
}

void bench_table_head(int frame_w, int var_w, const char *const *var_name,
		      int nvars)
{
	int v;

	printf("%-*s %-4s", frame_w, "frame", "hook");
	for (v = 0; v < nvars; v++)
		printf(" %*s", var_w, var_name[v]);
}

void bench_table_row(int frame_w, const char *frame, enum hook h,
		     const double *res, const double *spread, int nvars)
{
	int v;

	printf("%-*s %-4s", frame_w, frame, hook_name(h));
	for (v = 0; v < nvars; v++)
		printf(" %6.1f [%3.0f]", res[v], spread[v]);
}

int bench_goal(int what_w, double have, double limit, const char *fmt, ...)
{
	int ok = have <= limit;
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("  %-*s %7.1f <= %7.1f  %s\n", what_w, what, have, limit,
	       ok ? "ok" : "FAIL");
	return ok;
}

int bench_goals(int what_w, const struct bench_goal *g, int ngoals,
		const char *const *fr_name, int nframes, int nvars,
		const double *res)
{
	int f, h, i, fails = 0;

	for (f = 0; f < nframes; f++)
		for (h = 0; h < HOOK__MAX; h++) {
			const double *x = &res[(f * HOOK__MAX + h) * nvars];

			for (i = 0; i < ngoals; i++)
				fails += !bench_goal(what_w, x[g[i].var],
						     g[i].times * x[g[i].base] +
						     g[i].plus, "%s %s: %s",
						     fr_name[f], hook_name(h),
						     g[i].what);
		}
	return fails;
}
