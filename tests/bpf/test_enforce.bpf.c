// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The test enforcer's program: drops every packet (tests/plugins). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline enum ps_verdict tenf_decide(struct ps_hook *h,
						   struct ps_pkt *pkt)
{
	(void)h;
	(void)pkt;
	return PS_DROP;
}

PS_HOOK(tenf, tenf_decide)
