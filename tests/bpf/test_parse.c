// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the parser and the hook header as plugins use
 * them (include/pktscope/bpf/parse.h and hook.h), every case once through
 * the XDP and once through the TC entry point:
 *
 * - the whole struct ps_pkt the parser fills for each frame of
 *   tests/bpf/frame_cases.c (through tests/bpf/parse_dump.bpf.c);
 * - an object made of two .bpf.c files that both include the headers
 *   links and loads, and both files' parses agree;
 * - the attach-time probe changes nothing a PS_HOOK() program counts.
 *
 * Needs root and BPF; skips without them unless PKTSCOPE_REQUIRE_BPF=1.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "bpf_harness.h"
#include <cmocka.h>
#include <pktscope/bpf/hook.h>
#include "frame_cases.h"
#include "two_file.skel.h"

static struct {
	struct two_file *tf;
} env;

static void load_bpf(void)
{
	if (!harness_setup())
		return;
	if (!frame_cases_load())
		return;
	env.tf = two_file__open_and_load();
	harness_loaded(env.tf, "two_file.bpf.o");
}

/* the frame cases: the parse, field by field; proto-stats' part is not ours */
void check_frame(enum hook h, const struct frame *f, const struct ps_pkt *want,
		 const int *idx, int has_src, int has_port)
{
	struct ps_pkt got;

	(void)idx;
	(void)has_src;
	(void)has_port;
	assert_false(f->error);
	got = parse(h, f);
	expect_pkt(&got, want);
}

int case_prog_fd(enum hook h)
{
	return frame_cases_dump_fd(h);
}

static int group_teardown(void **state)
{
	(void)state;
	two_file__destroy(env.tf);
	frame_cases_unload();
	return 0;
}

/*
 * Both files parse the frame with the one parser the linker kept, and the
 * hook counts it once, as a pass, in the one ps_verdicts.
 */
static void t_two_file_object(void **state)
{
	enum hook h = *(enum hook *)*state;
	struct ps_verdict_count v;
	__u32 l4[2], k;
	struct frame f;

	need_bpf();
	udp4(&f, 64);
	percpu_zero(env.tf->maps.ps_verdicts);
	run_pass(h, hook_prog_fd(h, env.tf->progs.tf_xdp, env.tf->progs.tf_tc),
		 f.buf, f.len, 1);
	for (k = 0; k < 2; k++)
		assert_int_equal(bpf_map__lookup_elem(env.tf->maps.tf_l4, &k,
						      sizeof(k), &l4[k],
						      sizeof(l4[k]), 0), 0);
	assert_int_equal(l4[0], PS_L4_UDP);
	assert_int_equal(l4[1], PS_L4_UDP);
	k = PS_PASS;
	assert_int_equal(percpu_sum(env.tf->maps.ps_verdicts, &k, &v), 0);
	assert_int_equal(v.packets, 1);
	assert_int_equal(v.bytes, f.len);
}

/*
 * While the core's attach-time probe runs a program (ps_hook_probe set),
 * PS_HOOK() skips decide() and the counters and returns what PS_PASS
 * maps to: the probe must change nothing a plugin counts.
 */
static void t_probe_counts_nothing(void **state)
{
	enum hook h = *(enum hook *)*state;
	int fd = hook_prog_fd(h, env.tf->progs.tf_xdp, env.tf->progs.tf_tc);
	__u32 k, sentinel = 0xdead, l4;
	struct ps_verdict_count v;
	struct frame f;

	need_bpf();
	udp4(&f, 64);
	percpu_zero(env.tf->maps.ps_verdicts);
	for (k = 0; k < 2; k++)
		assert_int_equal(bpf_map__update_elem(env.tf->maps.tf_l4, &k,
						      sizeof(k), &sentinel,
						      sizeof(sentinel), 0), 0);
	env.tf->data_ps_probe->ps_hook_probe = 1;
	run_pass(h, fd, f.buf, f.len, 1);
	env.tf->data_ps_probe->ps_hook_probe = 0;
	for (k = 0; k < 2; k++) {
		assert_int_equal(bpf_map__lookup_elem(env.tf->maps.tf_l4, &k,
						      sizeof(k), &l4,
						      sizeof(l4), 0), 0);
		assert_int_equal(l4, sentinel);
	}
	for (k = 0; k < PS_VERDICT_MAX; k++) {
		assert_int_equal(percpu_sum(env.tf->maps.ps_verdicts, &k, &v), 0);
		assert_int_equal(v.packets, 0);
	}
	/* and after it, the program counts again */
	run_pass(h, fd, f.buf, f.len, 1);
	k = PS_PASS;
	assert_int_equal(percpu_sum(env.tf->maps.ps_verdicts, &k, &v), 0);
	assert_int_equal(v.packets, 1);
}

#define T(fn)	HOOK_TESTS(fn, NULL, NULL)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRAME_CASES,
		T(t_two_file_object),
		T(t_probe_counts_nothing),
	};

	load_bpf();
	return run_hook_tests("parse", tests, group_teardown);
}
