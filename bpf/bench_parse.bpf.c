// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bare parser for bench/bench_parse: ps_parse() and one per-CPU counter,
 * i.e. what every plugin pays before it does its own work.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/parse.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} parsed SEC(".maps");

static __always_inline void bench_count(struct ps_pkt *pkt)
{
	__u32 key = pkt->l4 & 7;
	__u64 *v;

	/*
	 * Tell the compiler the whole struct is used, so that it keeps every
	 * store the parser makes (a real plugin reads some of them) without
	 * our adding work of our own.
	 */
	asm volatile("" : : "r"(pkt) : "memory");
	v = bpf_map_lookup_elem(&parsed, &key);
	if (v)
		(*v)++;
}

SEC("xdp")
int parse_xdp(struct xdp_md *ctx)
{
	struct ps_pkt pkt = {};

	ps_parse_xdp(ctx, &pkt);
	bench_count(&pkt);
	return XDP_PASS;
}

SEC("tc")
int parse_tc(struct __sk_buff *skb)
{
	struct ps_pkt pkt = {};

	ps_parse_skb(skb, &pkt);
	bench_count(&pkt);
	return TC_ACT_UNSPEC;
}
