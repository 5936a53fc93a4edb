/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Classic BPF (what libpcap's pcap_compile() makes) to eBPF, for XDP and
 * TC programs, and tcpdump expressions compiled through it.
 *
 * The eBPF program takes the hook's context in r1 and returns in r0 what
 * the classic program returns (0: no match, else the snap length), so it
 * is a whole program (BPF_PROG_TEST_RUN, tests); or it ends in a tail call
 * chosen by that value (struct ps_cbpf_tail).
 */
#ifndef PKTSCOPE_CBPF_H
#define PKTSCOPE_CBPF_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/filter.h>

enum ps_cbpf_hook {
	PS_CBPF_XDP,	/* the whole frame in data, VLAN tags included */
	PS_CBPF_TC,	/* the outer VLAN tag may be in skb metadata */
};

/*
 * Instead of returning, the program may end in a tail call: into
 * map_fd[match_slot] when the classic program returns non-zero, else into
 * map_fd[nomatch_slot]; an empty slot returns fallback.  This is how a
 * plugin's program runs an expression and goes on (bpf/src_log.bpf.c).
 */
struct ps_cbpf_tail {
	int map_fd;		/* BPF_MAP_TYPE_PROG_ARRAY */
	unsigned int match_slot, nomatch_slot;
	int fallback;		/* XDP_PASS, TC_ACT_UNSPEC */
};

/*
 * Converts n classic instructions; *out (malloc()ed) gets *n_out eBPF
 * instructions.  0 on success; -1 with the reason in err when the program
 * cannot be converted (it is then never run).  tail: NULL to return the
 * classic program's value.
 */
int ps_cbpf_to_ebpf(const struct sock_filter *f, size_t n,
		    enum ps_cbpf_hook hook, const struct ps_cbpf_tail *tail,
		    struct bpf_insn **out, size_t *n_out, char *err,
		    size_t errlen);

/*
 * A tcpdump expression for Ethernet frames, compiled with libpcap and
 * converted.  0, or -1 with libpcap's or the converter's reason in err
 * (or that pktscope was built without libpcap).
 */
int ps_expr_compile(const char *expr, enum ps_cbpf_hook hook,
		    const struct ps_cbpf_tail *tail, struct bpf_insn **out,
		    size_t *n_out, char *err, size_t errlen);

/* whether this build has libpcap (expressions) */
int ps_expr_available(void);

/*
 * Loads converted instructions as a program of the hook's type (XDP or
 * SCHED_CLS) with that expected attach type (tail calls need the caller's).
 * The fd, or -1 with the kernel's reason (and the verifier's) in err.
 */
int ps_expr_load(const struct bpf_insn *insns, size_t n,
		 enum ps_cbpf_hook hook, enum bpf_attach_type expected,
		 char *err, size_t errlen);

#endif /* PKTSCOPE_CBPF_H */
