/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the BPF_PROG_TEST_RUN benchmarks share: their options, the pinned
 * CPU, the frames, the timed rounds and the tables.
 *
 * Every number is the kernel's own per-run average from BPF_PROG_TEST_RUN
 * (repeat N, JIT-compiled programs), taken as the median of several rounds.
 * Within a round all variants run one after the other on the same frame, so
 * drift (frequency, other load) hits them alike and the ratios stay honest.
 */
#ifndef PKTSCOPE_BENCH_COMMON_H
#define PKTSCOPE_BENCH_COMMON_H

/* the hooks, as the tests know them (cmocka-free part only) */
#include "bpf_harness.h"

#define MAX_ROUNDS	64

struct bench_opts {
	unsigned long long repeat;	/* -n: test_run repeat count */
	int rounds;			/* -r: rounds, median reported */
	int cpu;			/* -c: CPU to pin to, < 0: the last */
	int check;			/* -g: exit 1 when a goal is missed */
	int flag;			/* the bench's own flag was given */
};
extern struct bench_opts bench;

/* a bench's own on/off option, such as bench_parse's -o */
struct bench_flag {
	char letter;
	const char *help;
};

void bench_usage(const char *prog, const struct bench_flag *flag);
/* Parse argv into bench: -1 to go on, else the exit code. */
int bench_options(int argc, char **argv, const struct bench_flag *flag);
/* libbpf's warnings only, and the process pinned to bench.cpu */
void bench_setup(void);

/*
 * A 64-byte frame: one UDP (ports 40000 -> 53) or TCP SYN (40000 -> 443)
 * header behind IPv4 or IPv6, behind one 802.1Q tag when vlan != 0.
 */
void bench_frame(struct frame *f, int v6, uint16_t vlan, uint8_t proto);

/* One timed test_run of fd over f, n times; -1 after saying what failed. */
int bench_run(int fd, enum hook h, const struct frame *f,
	      unsigned long long n, double *ns);
/* the same for a program that must return want (a drop, say) */
int bench_run_want(int fd, int want, const struct frame *f,
		   unsigned long long n, double *ns);
/* sorts v */
double bench_median(double *v, int n);

/* run variant v of frame f at hook h once, bench.repeat times */
typedef int (*bench_run_fn)(void *ctx, int f, enum hook h, int v,
			    double *ns);
/*
 * bench.rounds rounds of every frame, hook and variant; res and spread,
 * both [nframes][HOOK__MAX][nvars], get the median and max - min.
 */
int bench_measure(int nframes, int nvars, bench_run_fn run, void *ctx,
		  double *res, double *spread);

/* The first columns of a results table, then a column per variant. */
void bench_table_head(int frame_w, int var_w, const char *const *var_name,
		      int nvars);
void bench_table_row(int frame_w, const char *frame, enum hook h,
		     const double *res, const double *spread, int nvars);

/* Print one goal: what (printf-style) is met when have <= limit. */
int bench_goal(int what_w, double have, double limit, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* a goal on every frame and hook: variant var <= times x base + plus */
struct bench_goal {
	const char *what;
	int var, base;
	double times, plus;
};

/* Print the goals for res as bench_measure() fills it; the number missed. */
int bench_goals(int what_w, const struct bench_goal *g, int ngoals,
		const char *const *fr_name, int nframes, int nvars,
		const double *res);

#endif /* PKTSCOPE_BENCH_COMMON_H */
