// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello-bpf's counters, in a file of their own to show that an object of
 * several .bpf.c files links (bpftool gen object): both files include the
 * installed headers.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "hello_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HB_CLASSES);
	__type(key, __u32);
	__type(value, struct hb_count);
} counts SEC(".maps");

/* a global function: verified once, whoever calls it */
__noinline int hb_count(const struct ps_pkt *pkt)
{
	struct hb_count *c;
	__u32 k;

	if (!pkt)
		return 0;
	k = pkt->l4 < HB_CLASSES ? pkt->l4 : PS_L4_OTHER;
	c = bpf_map_lookup_elem(&counts, &k);
	if (c) {
		c->packets++;
		c->bytes += pkt->len;
	}
	return 0;
}
