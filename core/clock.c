// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The hook's coarse clock (include/pktscope/bpf/hook.h): CLOCK_MONOTONIC_
 * COARSE read in BPF as jiffies times the tick, less an offset, because
 * bpf_jiffies64() is a load where bpf_ktime_get_coarse_ns() is a call.
 *
 * Jiffies start at INITIAL_JIFFIES, not at boot, so jiffies * tick is not
 * the coarse clock: the offset between the two is measured here, once a
 * process, by a tiny program that reads both in one run.  Both step in the
 * same tick handler, but the coarse clock follows NTP's slew and jiffies
 * do not, so a loaded program's offset drifts, by tens of ns a second
 * (milliseconds a week): nothing for windows and block times of seconds.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <pktscope/bpf/hook.h>
#include "internal.h"

#define NSEC		1000000000ULL
#define CLOCK_TRIES	8	/* runs that may straddle a tick */

uint64_t ps_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

uint64_t ps_coarse_tick_ns(void)
{
	struct timespec ts;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts))
		return 4000000;		/* HZ=250 */
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
			    int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst,
				  .src_reg = src, .off = off, .imm = imm };
}

/*
 * An XDP program that writes jiffies, the coarse clock and jiffies again
 * into the value of map_fd (an array of one 24-byte value); its fd.
 */
static int reader_load(int map_fd)
{
	const struct bpf_insn prog[] = {
		/* r6 = &value[0] (callee-saved across the calls) */
		insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_6, BPF_PSEUDO_MAP_VALUE,
		     0, map_fd),
		insn(0, 0, 0, 0, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_jiffies64),
		insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_6, BPF_REG_0, 0, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_coarse_ns),
		insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_6, BPF_REG_0, 8, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_jiffies64),
		insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_6, BPF_REG_0, 16, 0),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "ps_clock", "Dual BSD/GPL",
			     prog, ARRAY_SIZE(prog), NULL);
}

/* jiffies * tick - CLOCK_MONOTONIC_COARSE, or -errno */
static int measure_offset(__u64 tick, __u64 *off)
{
	unsigned char frame[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);
	uint64_t v[3];
	uint32_t zero = 0;
	int map_fd, prog_fd, r = -EAGAIN;

	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ps_clock", 4, sizeof(v),
				1, NULL);
	if (map_fd < 0)
		return -errno;
	prog_fd = reader_load(map_fd);
	if (prog_fd < 0) {
		r = -errno;
		close(map_fd);
		return r;
	}
	for (int i = 0; i < CLOCK_TRIES && r == -EAGAIN; i++) {
		if (bpf_prog_test_run_opts(prog_fd, &o) ||
		    bpf_map_lookup_elem(map_fd, &zero, v))
			r = -errno;
		else if (v[0] == v[2]) {	/* no tick between the reads */
			*off = v[0] * tick - v[1];
			r = 0;
		}
	}
	close(prog_fd);
	close(map_fd);
	return r;
}

int ps_bpf_set_clock(struct bpf_object *obj)
{
	static struct ps_clock clock;	/* measured once a process */
	static int err = 1;		/* 1: not yet */
	struct bpf_map *m = bpf_object__find_map_by_name(obj, PS_CLOCK_SEC);
	void *v;
	size_t size = 0;

	if (!m)
		return 0;	/* an object without the hook's clock */
	if (bpf_map__fd(m) >= 0)
		return -EBUSY;	/* loaded: its rodata is frozen */
	if (err == 1) {
		clock.tick_ns = ps_coarse_tick_ns();
		err = measure_offset(clock.tick_ns, &clock.off_ns);
	}
	if (err)
		return err;
	/* the section's start: a multi-file object has a copy a file */
	/* libbpf 1.1 says const: it is the object's copy, written before load */
	v = (void *)bpf_map__initial_value(m, &size);
	if (!v || size < sizeof(clock))
		return -EINVAL;
	memcpy(v, &clock, sizeof(clock));
	return 0;
}
