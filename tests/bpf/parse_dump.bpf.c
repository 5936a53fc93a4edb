// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only: runs the shared parser and stores the whole struct ps_pkt in a
 * map, so tests/bpf/test_proto_stats.c can check every field the parser
 * fills, for both entry points.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/parse.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_pkt);
} out SEC(".maps");

/* also what the global function returned, to check it equals pkt.status */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s32);
} ret SEC(".maps");

static __always_inline void dump(struct ps_pkt *pkt, int status)
{
	__u32 zero = 0;

	bpf_map_update_elem(&out, &zero, pkt, BPF_ANY);
	bpf_map_update_elem(&ret, &zero, &status, BPF_ANY);
}

SEC("xdp")
int dump_xdp(struct xdp_md *ctx)
{
	struct ps_pkt pkt = {};

	dump(&pkt, ps_parse_xdp(ctx, &pkt));
	return XDP_PASS;
}

SEC("tc")
int dump_tc(struct __sk_buff *skb)
{
	struct ps_pkt pkt = {};

	dump(&pkt, ps_parse_skb(skb, &pkt));
	return TC_ACT_UNSPEC;
}
