// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello-bpf's hook: one decide function on the installed hook contract.
 * PS_HOOK() makes the XDP entry hb_xdp and the tc entry hb_tc from it,
 * parses each packet with the installed parser, passes the packet on to
 * the next program and counts the verdict (ps_verdicts).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "hello_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline enum ps_verdict hb_decide(struct ps_hook *h,
						  struct ps_pkt *pkt)
{
	(void)h;
	hb_count(pkt);		/* in count.bpf.c: a second file */
	return PS_PASS;
}

PS_HOOK(hb, hb_decide)
