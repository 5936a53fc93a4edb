// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only: a program written without PS_HOOK() that breaks the chain
 * rule, as a third party's might: its tc entry returns TC_ACT_OK (the
 * programs after it would see nothing) and its XDP entry drops.  The core
 * must refuse to attach it (tests/integration/hook.bats).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void count(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&seen, &zero);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int end_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return XDP_DROP;
}

SEC("tc")
int end_tc(struct __sk_buff *skb)
{
	(void)skb;
	count();
	return TC_ACT_OK;
}
