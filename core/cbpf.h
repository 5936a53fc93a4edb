/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Classic BPF (what libpcap's pcap_compile() makes) to eBPF, for XDP and
 * TC programs, and tcpdump expressions compiled through it.
 *
 * The eBPF program takes the hook's context in r1 and returns in r0 what
 * the classic program returns (0: no match, else the snap length), so it
 * is a whole program (BPF_PROG_TEST_RUN, tests) and also the body of an
 * freplace of `int f(struct xdp_md *)` or `int f(struct __sk_buff *)`.
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
 * Converts n classic instructions; *out (malloc()ed) gets *n_out eBPF
 * instructions.  0 on success; -1 with the reason in err when the program
 * cannot be converted (it is then never run).
 */
int ps_cbpf_to_ebpf(const struct sock_filter *f, size_t n,
		    enum ps_cbpf_hook hook, struct bpf_insn **out,
		    size_t *n_out, char *err, size_t errlen);

/*
 * A tcpdump expression for Ethernet frames, compiled with libpcap and
 * converted.  0, or -1 with libpcap's or the converter's reason in err
 * (or that pktscope was built without libpcap).
 */
int ps_expr_compile(const char *expr, enum ps_cbpf_hook hook,
		    struct bpf_insn **out, size_t *n_out, char *err,
		    size_t errlen);

/* whether this build has libpcap (expressions) */
int ps_expr_available(void);

/*
 * Loads insns (from ps_expr_compile) as an freplace of the global
 * function `func` in the loaded program target_fd and links it there.
 * Returns the link's fd (the extension lives as long as it), or -1 with
 * the reason in err.
 */
int ps_expr_attach(int target_fd, const char *func, const struct bpf_insn *insns,
		   size_t n, char *err, size_t errlen);

#endif /* PKTSCOPE_CBPF_H */
