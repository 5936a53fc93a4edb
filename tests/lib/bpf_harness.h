/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the BPF_PROG_TEST_RUN tests (tests/bpf/) share: setting up the run,
 * skipping (or failing) without BPF, running a program over a frame,
 * reading and resetting maps, and comparing what came out.
 *
 * The hook part at the top needs neither cmocka nor bpf_harness.c, so the
 * benchmarks take it from here too (bench/bench_common.h).  The rest is for
 * cmocka tests, which include <cmocka.h> after this header: this header
 * includes what cmocka.h needs before it.
 */
#ifndef PKTSCOPE_TESTS_BPF_HARNESS_H
#define PKTSCOPE_TESTS_BPF_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frames.h"

/* ---- hooks (tests and benchmarks) ---- */

/* Every object has an XDP and a TC entry point; every case runs both. */
enum hook { XDP, TC, HOOK__MAX };

#define XDP_NAME	"xdp"
#define TC_NAME		"tc"

/* what either entry point returns for a frame it lets through */
#define XDP_PASS_RET	2
#define TC_UNSPEC_RET	(-1)

#define NSEC		1000000000ULL

static inline const char *hook_name(enum hook h)
{
	return h == XDP ? XDP_NAME : TC_NAME;
}

static inline int hook_pass_ret(enum hook h)
{
	return h == XDP ? XDP_PASS_RET : TC_UNSPEC_RET;
}

/* the one of an object's two entry points that runs at h */
static inline int hook_prog_fd(enum hook h, const struct bpf_program *xdp,
			       const struct bpf_program *tc)
{
	return bpf_program__fd(h == XDP ? xdp : tc);
}

/*
 * A ring buffer of size bytes put at slot of a map of rings (src-log's
 * rings: one a reader); its fd, or -1 with errno.
 */
static inline int harness_ring(int rings_fd, __u32 slot, __u64 size)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)size,
				NULL);

	if (fd >= 0 && bpf_map_update_elem(rings_fd, &slot, &fd, BPF_ANY)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* the clock bpf_ktime_get_ns() reads, so times compare with the maps' */
static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* ---- the run (cmocka tests only) ---- */

struct harness {
	int ncpus;		/* a per-CPU value comes in this many copies */
	char why[256];		/* why BPF is unusable; empty when it is usable */
};
extern struct harness harness;

/* a HOOK_TESTS case's state points at its hook in here */
extern enum hook harness_hooks[HOOK__MAX];

/* cmocka entries "xdp/fn" and "tc/fn"; set, tear: per-case fixtures */
#define HOOK_TESTS(fn, set, tear)					\
	{ XDP_NAME "/" #fn, fn, set, tear, &harness_hooks[XDP] },	\
	{ TC_NAME "/" #fn, fn, set, tear, &harness_hooks[TC] }

/* Diagnostics go to stderr as TAP comments, so stdout stays valid TAP. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Before loading: libbpf quiet, the process on one CPU.  0 (and the reason
 * in harness.why) when BPF cannot be used at all.
 */
int harness_setup(void);
/* what made BPF unusable, for the skip or failure message */
void harness_unusable(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Whether skeleton obj loaded; if not, errno says why BPF is unusable. */
int harness_loaded(const void *obj, const char *what);

int bpf_required(void);
/* At the start of a case: skip without BPF, fail when it is required. */
void need_bpf(void);

/*
 * When every case would skip under TAP: a skip-all plan instead, teardown
 * run, and 1.  Else 0: the cases run (and skip or fail one by one).
 */
int harness_skip_all(int (*teardown)(void **state));
/* main()'s return: the group run, unless harness_skip_all() said it all */
#define run_hook_tests(name, tests, teardown)				\
	(harness_skip_all(teardown) ? 0 :				\
	 cmocka_run_group_tests_name(name, tests, NULL, teardown))

/* ---- maps ---- */

/* Entry 0 of an array map: the objects' arrays hold one entry each. */
void array_get(struct bpf_map *m, void *val);
void array_set(struct bpf_map *m, const void *val);
/* entry 0 of a per-CPU array on every CPU, for the caller to free() */
void *percpu_get(struct bpf_map *m);
void percpu_zero(struct bpf_map *m);
/*
 * A per-CPU value summed over the CPUs into sum, a struct of __u64s like
 * every counter here.  Not 0 (and sum zero) when key is not in the map.
 */
int percpu_sum(struct bpf_map *m, const void *key, void *sum);

void clear_map(struct bpf_map *m);
void for_each_key(struct bpf_map *m, void (*fn)(const void *key, void *ctx),
		  void *ctx);
unsigned int count_keys(struct bpf_map *m);

/* ---- running ---- */

/*
 * One BPF_PROG_TEST_RUN of len bytes, repeat times: 0 (and the program's
 * return value) or -errno.  The program must leave the frame as it was.
 */
int test_run(int fd, const void *data, size_t len, __u32 repeat,
	     int *retval);
/* the same, which must work and let the frame through as h does */
void run_pass(enum hook h, int fd, const void *data, size_t len,
	      __u32 repeat);

/* ---- comparing ---- */

/* 1, with a note, when a field is not what was wanted; for counting */
int field_differs(const char *what, unsigned long long got,
		  unsigned long long want);
int bytes_differ(const char *what, const void *got, const void *want,
		 size_t n);

#endif /* PKTSCOPE_TESTS_BPF_HARNESS_H */
