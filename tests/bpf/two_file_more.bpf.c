// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Test-only: the second file of two_file_main.bpf.c's object. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>

__noinline int tf_reparse_xdp(struct xdp_md *ctx)
{
	struct ps_pkt pkt = {};

	if (!ctx)
		return 0;
	ps_parse_xdp(ctx, &pkt);
	return pkt.l4;
}

__noinline int tf_reparse_skb(struct __sk_buff *skb)
{
	struct ps_pkt pkt = {};

	if (!skb)
		return 0;
	ps_parse_skb(skb, &pkt);
	return pkt.l4;
}
