// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The BPF_PROG_TEST_RUN tests' shared run; see bpf_harness.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bpf_harness.h"
#include <cmocka.h>

struct harness harness;
enum hook harness_hooks[HOOK__MAX] = { XDP, TC };

void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* the tests provoke load failures and refusals: libbpf must not chatter */
static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int harness_setup(void)
{
	cpu_set_t set;

	libbpf_set_print(silent);
	/*
	 * One CPU for the whole run: test_run runs (and counts) on the CPU
	 * it is called on, and the per-CPU state a case builds up (counters,
	 * caches, sampling) must be where its next packet looks for it.
	 */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (geteuid() != 0) {
		harness_unusable("not running as root");
		return 0;
	}
	harness.ncpus = libbpf_num_possible_cpus();
	return 1;
}

void harness_unusable(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(harness.why, sizeof(harness.why), fmt, ap);
	va_end(ap);
}

int harness_loaded(const void *obj, const char *what)
{
	if (!obj)
		harness_unusable("cannot load %s: %s", what, strerror(errno));
	return !!obj;
}

int bpf_required(void)
{
	const char *req = getenv("PKTSCOPE_REQUIRE_BPF");

	return req && !strcmp(req, "1");
}

/* CI sets PKTSCOPE_REQUIRE_BPF=1: a broken environment must not pass. */
void need_bpf(void)
{
	if (!harness.why[0])
		return;
	if (bpf_required())
		fail_msg("BPF required (PKTSCOPE_REQUIRE_BPF=1) but %s",
			 harness.why);
	skip();
}

/*
 * cmocka 1.1.5 prints a skipped test as "not ok N # SKIP", which automake's
 * tap-driver counts as a failure.  So under TAP, when the whole file would
 * skip, say so with a skip-all plan instead.
 */
int harness_skip_all(int (*teardown)(void **state))
{
	const char *out = getenv("CMOCKA_MESSAGE_OUTPUT");

	if (!harness.why[0] || bpf_required() || !out || strcasecmp(out, "TAP"))
		return 0;
	printf("1..0 # SKIP %s\n", harness.why);
	teardown(NULL);
	return 1;
}

/* ---- maps ---- */

void array_get(struct bpf_map *m, void *val)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), &zero, val), 0);
}

void array_set(struct bpf_map *m, const void *val)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(m), &zero, val, 0),
			 0);
}

/* the kernel hands out a per-CPU value in 8-byte aligned copies */
static size_t percpu_bytes(struct bpf_map *m)
{
	return (size_t)harness.ncpus * ((bpf_map__value_size(m) + 7) & ~7u);
}

void *percpu_get(struct bpf_map *m)
{
	void *v = calloc(1, percpu_bytes(m));

	assert_non_null(v);
	array_get(m, v);
	return v;
}

void percpu_zero(struct bpf_map *m)
{
	void *v = calloc(1, percpu_bytes(m));

	assert_non_null(v);
	array_set(m, v);
	free(v);
}

int percpu_sum(struct bpf_map *m, const void *key, void *sum)
{
	size_t words = bpf_map__value_size(m) / sizeof(__u64), i;
	__u64 *v = calloc(1, percpu_bytes(m)), *s = sum;
	int cpu, err;

	assert_non_null(v);
	assert_int_equal(bpf_map__value_size(m) % sizeof(__u64), 0);
	memset(sum, 0, words * sizeof(__u64));
	err = bpf_map_lookup_elem(bpf_map__fd(m), key, v);
	if (!err)
		for (cpu = 0; cpu < harness.ncpus; cpu++)
			for (i = 0; i < words; i++)
				s[i] += v[cpu * words + i];
	free(v);
	return err;
}

/* keys are copied through buffers this big */
#define KEY_MAX	64

void clear_map(struct bpf_map *m)
{
	char key[KEY_MAX], next[KEY_MAX];
	int fd = bpf_map__fd(m);

	assert_true(bpf_map__key_size(m) <= sizeof(key));
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, sizeof(key));
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
	}
}

void for_each_key(struct bpf_map *m, void (*fn)(const void *key, void *ctx),
		  void *ctx)
{
	char key[KEY_MAX], next[KEY_MAX];
	int fd = bpf_map__fd(m);
	void *prev = NULL;

	assert_true(bpf_map__key_size(m) <= sizeof(key));
	while (!bpf_map_get_next_key(fd, prev, next)) {
		fn(next, ctx);
		memcpy(key, next, sizeof(key));
		prev = key;
	}
}

static void count_key(const void *key, void *ctx)
{
	(void)key;
	(*(unsigned int *)ctx)++;
}

unsigned int count_keys(struct bpf_map *m)
{
	unsigned int n = 0;

	for_each_key(m, count_key, &n);
	return n;
}

/* ---- running ---- */

int test_run(int fd, const void *data, size_t len, __u32 repeat,
	     int *retval)
{
	static uint8_t out[FRAME_MAX + 512];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = data,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = repeat,
	);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*retval = opts.retval;
	/* the programs under test only look: a frame comes out as it went in */
	assert_int_equal(opts.data_size_out, len);
	assert_memory_equal(out, data, len);
	return 0;
}

void run_pass(enum hook h, int fd, const void *data, size_t len,
	      __u32 repeat)
{
	int ret = 0, err = test_run(fd, data, len, repeat, &ret);

	if (err)
		fail_msg("%s test_run of %zu bytes: %s", hook_name(h), len,
			 strerror(-err));
	assert_int_equal(ret, hook_pass_ret(h));
}

/* ---- comparing ---- */

int field_differs(const char *what, unsigned long long got,
		  unsigned long long want)
{
	if (got == want)
		return 0;
	note("%s: got %llu, want %llu", what, got, want);
	return 1;
}

int bytes_differ(const char *what, const void *got, const void *want,
		 size_t n)
{
	if (!memcmp(got, want, n))
		return 0;
	note("%s differs", what);
	return 1;
}
