// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only: the smallest well-behaved plugin program, made by PS_HOOK():
 * it passes every packet, which ps_verdicts counts.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline enum ps_verdict pa_decide(struct ps_hook *h,
						  struct ps_pkt *pkt)
{
	(void)h;
	(void)pkt;
	return PS_PASS;
}

PS_HOOK(pa, pa_decide)
