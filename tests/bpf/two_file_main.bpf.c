// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only, with two_file_more.bpf.c: an object built from two .bpf.c
 * files that both include the hook header (and so the parser), linked with
 * `bpftool gen object`.  This file has the hook; the other one a global
 * function that parses the frame again on its own.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* in two_file_more.bpf.c: the l4 class its own parse found */
int tf_reparse_xdp(struct xdp_md *ctx);
int tf_reparse_skb(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} tf_l4 SEC(".maps");	/* [0]: this file's parse, [1]: the other's */

static __always_inline enum ps_verdict tf_decide(struct ps_hook *h,
						  struct ps_pkt *pkt)
{
	__u32 k0 = 0, k1 = 1, l4 = pkt->l4, again;

	if (h->xdp)
		again = tf_reparse_xdp(h->ctx);
	else
		again = tf_reparse_skb(ps_hook_skb(h));
	bpf_map_update_elem(&tf_l4, &k0, &l4, BPF_ANY);
	bpf_map_update_elem(&tf_l4, &k1, &again, BPF_ANY);
	return PS_PASS;
}

PS_HOOK(tf, tf_decide)
