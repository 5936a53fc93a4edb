/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hook contract: how a pktscope BPF program sits on an interface's
 * ingress hook, beside the other plugins' programs.
 *
 * A plugin writes one function that decides what happens to a parsed packet,
 * and PS_HOOK() makes the XDP and the TC entry points from it:
 *
 *	#include <pktscope/bpf/hook.h>
 *
 *	static __always_inline enum ps_verdict
 *	my_decide(struct ps_hook *h, struct ps_pkt *pkt)
 *	{
 *		if (pkt->l4 == PS_L4_GRE)
 *			return PS_DROP;
 *		return PS_PASS;
 *	}
 *
 *	PS_HOOK(my, my_decide)	// SEC("xdp") my_xdp and SEC("tc") my_tc
 *
 * and names "my_xdp" and "my_tc" in its descriptor (plugin.h).
 *
 * Verdicts:
 *
 *   PS_PASS      the next program on the hook runs, then the stack.  At TC
 *                and tcx that is TC_ACT_UNSPEC (TCX_NEXT); at XDP a tail
 *                call to the next plugin in pktscope's chain, else XDP_PASS.
 *                A tc program that returns TC_ACT_OK ends the chain: every
 *                plugin after it sees nothing.  The core runs each program
 *                once on a harmless frame at attach (BPF_PROG_TEST_RUN) and
 *                refuses, naming the value, a tc program that does not
 *                return TC_ACT_UNSPEC or an XDP one that does not return
 *                XDP_PASS (a program written without PS_HOOK() included).
 *   PS_DROP      the packet goes no further (XDP_DROP, TC_ACT_SHOT).
 *   PS_REDIRECT  the packet goes where bpf_redirect() sent it (XDP_REDIRECT,
 *                TC_ACT_REDIRECT): return ps_redirect(h, ifindex).
 *
 * Each verdict is counted, packets and bytes, in the per-CPU array
 * ps_verdicts that this header defines, so a drop is counted by whoever
 * dropped; the core reads it back (PS_VERDICTS_MAP).
 *
 * Order: a plugin declares its stage in its descriptor; observers (counters,
 * logs) run before enforcers (blocks, policers) on one hook, so counters see
 * what arrived, drops included.
 *
 * The clock: ps_hook_now() and ps_hook_coarse() read the clock the first
 * time they are called for a packet and return the same value after that.
 * ps_hook_now() is CLOCK_MONOTONIC (bpf_ktime_get_ns(), a helper call);
 * ps_hook_coarse() is CLOCK_MONOTONIC_COARSE (tick resolution, 4 ms at
 * HZ=250), enough for windows and expiries, and the same clock user space
 * reads with ps_coarse_ns().  It is jiffies (bpf_jiffies64(), which the
 * verifier turns into a load) times the tick, less the offset between
 * jiffies and CLOCK_MONOTONIC_COARSE: ps_clock (below), which the core
 * measures and sets in every object it opens (ps_bpf_open();
 * ps_bpf_set_clock() for an object opened otherwise) before load.  An
 * object loaded without it reads bpf_ktime_get_coarse_ns(): the same
 * clock, through a helper call that costs more than the rest of a cheap
 * plugin's packet.
 *
 * Pins: every map in the object's ".maps" section is pinned under
 * <bpffs>/pktscope/<ifname>/<plugin>/<map> and read back by name in later
 * processes; global variables are not pinned (keep configuration in a map).
 * Names starting with "ps_" are the core's: in the plugin's folder
 * ps_verdicts, ps_meta, ps_link, ps_prog, ps_res (the devices it owns:
 * ps_dev_own() in plugin.h); in the interface's folder
 * the XDP chain's ps_xdp_chain, ps_xdp_slots and ps_xdp_link; and the
 * object's ps_xdp_chain, ps_xdp_slot, ps_hook_probe and ps_clock (below).
 * The core owns the link, the pins and the program; a plugin's user space
 * closes only what it opened itself (ps_map_open() descriptors).
 *
 * Objects of several files: any .bpf.c may include this header (it
 * includes the parser, whose global functions are weak: see parse.h);
 * PS_HOOK() itself, which defines the entry points and ps_verdicts, goes
 * in exactly one of them.  Link the files with
 * `bpftool gen object obj.bpf.o a.bpf.o b.bpf.o`.
 *
 * Build: clang $(pkg-config --variable=bpf_cflags pktscope) -c my.bpf.c
 * (examples/hello-bpf does it from the installed files alone).
 */
#ifndef PKTSCOPE_BPF_HOOK_H
#define PKTSCOPE_BPF_HOOK_H

#include <pktscope/bpf/parse.h>

enum ps_verdict {
	PS_PASS = 0,
	PS_DROP,
	PS_REDIRECT,
	PS_VERDICT_MAX,
};

/* the value of ps_verdicts[verdict], one per CPU */
struct ps_verdict_count {
	__u64 packets;
	__u64 bytes;
};

#define PS_VERDICTS_MAP "ps_verdicts"

/* the XDP chain (see PS_HOOK below): its map and slots */
#define PS_XDP_CHAIN_MAP	"ps_xdp_chain"
#define PS_XDP_CHAIN_MAX	16	/* slots an interface */
#define PS_XDP_STAGE_SLOTS	8	/* observers 0-7, enforcers 8-15 */
/* the sections of ps_xdp_slot and ps_hook_probe: one small map each */
#define PS_XDP_SLOT_SEC		".rodata.ps_xdp"
#define PS_PROBE_SEC		".data.ps_probe"
/*
 * ps_clock, in its own section: the coarse clock's tick and jiffies *
 * tick - CLOCK_MONOTONIC_COARSE, in ns, set by the core before load (the
 * top of this file); tick_ns 0: not set.
 */
#define PS_CLOCK_SEC		".rodata.ps_clock"
#define PS_CLOCK_FIELDS	__u64 tick_ns; __u64 off_ns;
struct ps_clock { PS_CLOCK_FIELDS };

#ifdef __bpf__

#include <linux/pkt_cls.h>

struct ps_hook {
	void *ctx;		/* struct xdp_md * or struct __sk_buff * */
	__u64 now;		/* clock caches: 0 until read */
	__u64 now_coarse;
	__u32 ifindex;		/* the interface the packet arrived on */
	__u8 xdp;		/* 1 at XDP, 0 at TC/tcx */
};

static __always_inline __u64 ps_hook_now(struct ps_hook *h)
{
	if (!h->now)
		h->now = bpf_ktime_get_ns();
	return h->now;
}

/*
 * Weak, as the parser's functions, so that every file of an object may
 * include this header; all of them then read the first file's.  Of no
 * named type, so that a skeleton needs no header of ours.
 */
const volatile struct { PS_CLOCK_FIELDS } ps_clock SEC(PS_CLOCK_SEC)
	__weak = {};

static __always_inline __u64 ps_hook_coarse(struct ps_hook *h)
{
	if (!h->now_coarse) {
		/* read-only and known at load: the verifier keeps one branch */
		if (ps_clock.tick_ns)
			h->now_coarse = bpf_jiffies64() * ps_clock.tick_ns -
					ps_clock.off_ns;
		else
			h->now_coarse = bpf_ktime_get_coarse_ns();
	}
	return h->now_coarse;
}

/* the skb at TC, NULL at XDP */
static __always_inline struct __sk_buff *ps_hook_skb(struct ps_hook *h)
{
	return h->xdp ? (struct __sk_buff *)0 : (struct __sk_buff *)h->ctx;
}

static __always_inline enum ps_verdict ps_redirect(struct ps_hook *h,
						   __u32 ifindex)
{
	(void)h;
	bpf_redirect(ifindex, 0);
	return PS_REDIRECT;
}

static __always_inline void ps_hook_count(void *verdicts, enum ps_verdict v,
					  __u32 len)
{
	__u32 key = v;
	struct ps_verdict_count *c = bpf_map_lookup_elem(verdicts, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int ps_xdp_action(enum ps_verdict v)
{
	if (v == PS_DROP)
		return XDP_DROP;
	if (v == PS_REDIRECT)
		return XDP_REDIRECT;
	return XDP_PASS;
}

static __always_inline int ps_tc_action(enum ps_verdict v)
{
	if (v == PS_DROP)
		return TC_ACT_SHOT;
	if (v == PS_REDIRECT)
		return TC_ACT_REDIRECT;
	return TC_ACT_UNSPEC;	/* TCX_NEXT: the next program runs */
}

/*
 * What PS_HOOK() defines besides the entry points, once per object:
 *
 * ps_verdicts    the per-verdict counters.
 * ps_xdp_chain   the XDP chain: XDP holds one program an interface, so
 *                pktscope's plugins there form a chain.  In xdp modes the
 *                core makes this map the interface's pinned program array
 *                (<bpffs>/pktscope/<ifname>/ps_xdp_chain, shared by every
 *                plugin there) before load, and sets ps_xdp_slot, this
 *                program's place in it (observers' slots before
 *                enforcers').  On PS_PASS the XDP entry tail-calls
 *                slot + 1, which the core keeps pointing at the next
 *                program on the interface; an empty slot ends the chain
 *                with XDP_PASS.  At TC and tcx the kernel chains programs
 *                itself and the map stays empty.
 * ps_hook_probe  set by the core only while it runs the program once on a
 *                harmless frame, before the program is on any hook, to
 *                check that it passes packets on: the entries then skip
 *                decide() and the counters and return what PS_PASS maps
 *                to, so the probe changes nothing a plugin counts.
 */
#define PS_HOOK_MAPS()							\
struct {								\
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);			\
	__uint(max_entries, PS_VERDICT_MAX);				\
	__type(key, __u32);						\
	__type(value, struct ps_verdict_count);				\
} ps_verdicts SEC(".maps");						\
									\
struct {								\
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);				\
	__uint(max_entries, PS_XDP_CHAIN_MAX);				\
	__type(key, __u32);						\
	__type(value, __u32);						\
} ps_xdp_chain SEC(".maps");						\
									\
const volatile __u32 ps_xdp_slot SEC(PS_XDP_SLOT_SEC) = 0;		\
volatile __u32 ps_hook_probe SEC(PS_PROBE_SEC) = 0;

/*
 * The entry points alone, for an object with more than one pair (a
 * continuation a tail call jumps to): PS_HOOK_MAPS() once, then
 * PS_HOOK_ENTRIES() for each pair.
 */
#define PS_HOOK_ENTRIES(prefix, decide)					\
SEC("xdp")								\
int prefix##_xdp(struct xdp_md *ctx)					\
{									\
	struct ps_pkt pkt = {};						\
	struct ps_hook h = { .ctx = ctx, .xdp = 1,			\
			     .ifindex = ctx->ingress_ifindex };		\
	enum ps_verdict v;						\
									\
	if (ps_hook_probe)						\
		return ps_xdp_action(PS_PASS);				\
	ps_parse_xdp(ctx, &pkt);					\
	v = decide(&h, &pkt);						\
	ps_hook_count(&ps_verdicts, v, pkt.len);			\
	if (v == PS_PASS)						\
		bpf_tail_call(ctx, &ps_xdp_chain, ps_xdp_slot + 1);	\
	return ps_xdp_action(v);					\
}									\
									\
SEC("tc")								\
int prefix##_tc(struct __sk_buff *skb)					\
{									\
	struct ps_pkt pkt = {};						\
	struct ps_hook h = { .ctx = skb, .xdp = 0,			\
			     .ifindex = skb->ifindex };			\
	enum ps_verdict v;						\
									\
	if (ps_hook_probe)						\
		return ps_tc_action(PS_PASS);				\
	ps_parse_skb(skb, &pkt);					\
	v = decide(&h, &pkt);						\
	ps_hook_count(&ps_verdicts, v, pkt.len);			\
	return ps_tc_action(v);						\
}

#define PS_HOOK(prefix, decide)						\
	PS_HOOK_MAPS()							\
	PS_HOOK_ENTRIES(prefix, decide)

#endif /* __bpf__ */

#endif /* PKTSCOPE_BPF_HOOK_H */
