// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * src-log: the source of every incoming IPv4 and IPv6 packet, filtered,
 * sampled and rate-capped here, streamed to user space as struct
 * slog_event records through a ring buffer.  The maps, the record and the
 * order of the steps (each one counted in stats) are the contract in
 * src_log.h; this file follows it step by step.
 *
 * Cost matters most on the two common paths: a packet a filter rejects
 * pays the parse, two array lookups (inlined by the verifier) and a few
 * compares; no clock read, no hash lookup (a trie lookup only for a source
 * list of more than SLOG_NETS_MAX prefixes of a family).  A packet that
 * becomes an event pays one clock read, one sources lookup and the ring
 * buffer.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "src_log.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SLOG_NSEC_PER_SEC	1000000000ULL
#define SLOG_FLOW_TIMEOUT_NS	(30ULL * SLOG_NSEC_PER_SEC)
/* 16 records (8-byte ring header + event) past wakeup_bytes force a wake-up */
#define SLOG_WAKE_WINDOW	(16 * (8 + sizeof(struct slog_event)))

/* a reader's ring: the template; each reader makes its own */
struct slog_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SLOG_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SLOG_READERS_MAX);
	__type(key, __u32);
	__array(values, struct slog_ring);
} SLOG_MAP_RINGS SEC(".maps");

/* mmap()able: the reader's heartbeat stores reader_ns alone */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct slog_config);
} SLOG_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SLOG_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ps_lpm_key);
	__type(value, __u8);
} SLOG_MAP_SRC_ALLOW SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SLOG_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ps_lpm_key);
	__type(value, __u8);
} SLOG_MAP_SRC_DENY SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SLOG_FLOWS_MAX);
	__type(key, struct slog_flow_key);
	__type(value, __u64);
} SLOG_MAP_FLOWS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SLOG_SOURCES_MAX);
	__type(key, struct ps_addr_key);
	__type(value, struct slog_src_val);
} SLOG_MAP_SOURCES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slog_stats);
} SLOG_MAP_STATS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOG_READERS_MAX);
	__type(key, __u32);
	__type(value, struct slog_rate);
} SLOG_MAP_RATE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slog_resume);
} SLOG_MAP_RESUME SEC(".maps");

/* one per hook: a prog array holds programs of one type */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOG_EXPR_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} SLOG_MAP_EXPR_XDP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOG_EXPR_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} SLOG_MAP_EXPR_TC SEC(".maps");

/* TCP, UDP and SCTP headers that parsed: a later fragment has none */
static __always_inline int slog_has_ports(const struct ps_pkt *pkt)
{
	return pkt->l4_off && (pkt->l4 == PS_L4_TCP || pkt->l4 == PS_L4_UDP ||
			       pkt->l4 == PS_L4_SCTP);
}

static __always_inline int slog_port_ok(__u16 port, __u16 lo, __u16 hi,
					int has_ports)
{
	/* 0-65535 is "no filter"; any narrower range needs a port */
	if (lo == 0 && hi == 0xffff)
		return 1;
	return has_ports && port >= lo && port <= hi;
}

/* whether the source is in its family's part of a short list */
static __always_inline int slog_in_nets(const struct slog_nets *l,
					const struct ps_pkt *pkt)
{
	if (pkt->family == PS_AF_INET) {
		__u32 a, n = l->n4;

		__builtin_memcpy(&a, pkt->saddr, sizeof(a));
#pragma unroll
		for (__u32 i = 0; i < SLOG_NETS_MAX; i++) {
			if (i >= n)
				break;
			if (!((a ^ l->v4[i].addr) & l->v4[i].mask))
				return 1;
		}
	} else {
		__u64 a[2], n = l->n6;

		__builtin_memcpy(a, pkt->saddr, sizeof(a));
#pragma unroll
		for (__u32 i = 0; i < SLOG_NETS_MAX; i++) {
			if (i >= n)
				break;
			if (!(((a[0] ^ l->v6[i].addr[0]) & l->v6[i].mask[0]) |
			      ((a[1] ^ l->v6[i].addr[1]) & l->v6[i].mask[1])))
				return 1;
		}
	}
	return 0;
}

/* whether the source is in a trie (a long list) */
static __always_inline int slog_in_trie(void *trie, const struct ps_pkt *pkt)
{
	/* the longest prefix there is; the trie compares fewer bits */
	struct ps_lpm_key k = {
		.prefixlen = PS_LPM_KEY_FULL,
		.family = pkt->family,
	};

	__builtin_memcpy(k.addr, pkt->saddr, sizeof(k.addr));
	return bpf_map_lookup_elem(trie, &k) != NULL;
}

/*
 * whether the source is in a list: its family's part, or the trie; a
 * reader's list (trie NULL) is always short
 */
static __always_inline int slog_in_list(const struct slog_nets *l, void *trie,
					const struct ps_pkt *pkt)
{
	if (!trie || (pkt->family == PS_AF_INET ? l->used4 : l->used6))
		return slog_in_nets(l, pkt);
	return slog_in_trie(trie, pkt);
}

/*
 * Step 2, and a reader's own filters (5a): the attachment's config and a
 * reader's slot have these fields alike.  The cheap checks come first and
 * the source lists last: the order does not change the outcome (one
 * failure is enough), only what it costs.
 */
#define SLOG_PASS(f, pkt, allow_trie, deny_trie)			\
	slog_pass_fields((f)->flags, (f)->protos, (f)->sport_lo,	\
			 (f)->sport_hi, (f)->dport_lo, (f)->dport_hi,	\
			 &(f)->allow, &(f)->deny, allow_trie, deny_trie, pkt)

static __always_inline int
slog_pass_fields(__u32 flags, const __u8 *protos, __u16 sport_lo,
		 __u16 sport_hi, __u16 dport_lo, __u16 dport_hi,
		 const struct slog_nets *allow, const struct slog_nets *deny,
		 void *allow_trie, void *deny_trie, const struct ps_pkt *pkt)
{
	int has_ports = slog_has_ports(pkt);

	if ((flags & SLOG_F_PROTO) &&
	    !(protos[pkt->ip_proto >> 3] & (1U << (pkt->ip_proto & 7))))
		return 0;
	/* no flags from a TCP header that did not parse */
	if ((flags & SLOG_F_SYN) &&
	    (pkt->l4 != PS_L4_TCP || !pkt->l4_off ||
	     (pkt->tcp_flags & (PS_TCP_SYN | PS_TCP_ACK)) != PS_TCP_SYN))
		return 0;
	if (!slog_port_ok(pkt->sport, sport_lo, sport_hi, has_ports) ||
	    !slog_port_ok(pkt->dport, dport_lo, dport_hi, has_ports))
		return 0;
	if ((flags & SLOG_F_SRC_ALLOW) && !slog_in_list(allow, allow_trie, pkt))
		return 0;
	if ((flags & SLOG_F_SRC_DENY) && slog_in_list(deny, deny_trie, pkt))
		return 0;
	return 1;
}

static __always_inline __u32 slog_proto_bit(__u8 l4)
{
	switch (l4) {
	case PS_L4_TCP:
		return SLOG_P_TCP;
	case PS_L4_UDP:
		return SLOG_P_UDP;
	case PS_L4_ICMP:
		return SLOG_P_ICMP;
	case PS_L4_ICMPV6:
		return SLOG_P_ICMPV6;
	case PS_L4_SCTP:
		return SLOG_P_SCTP;
	case PS_L4_GRE:
		return SLOG_P_GRE;
	default:
		return SLOG_P_OTHER;
	}
}

static __always_inline void slog_src_add(struct slog_src_val *v, __u32 len,
					 __u64 now, __u32 bit)
{
	/* one value for all CPUs: the counters need atomic adds */
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
	v->last_ns = now;
	if (!(v->protos & bit)) {
		/*
		 * The BPF ISA (before -mcpu=v3) has 64-bit atomic ORs only:
		 * OR the word that protos shares with pad, which is ours.
		 */
		__u64 *w = (__u64 *)&v->protos;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		__sync_fetch_and_or(w, (__u64)bit << 32);
#else
		__sync_fetch_and_or(w, (__u64)bit);
#endif
	}
}

/* Step 3. */
static __always_inline void slog_source(const struct ps_pkt *pkt, __u64 now)
{
	struct ps_addr_key k = { .family = pkt->family };
	struct slog_src_val *v, nv;
	__u32 bit = slog_proto_bit(pkt->l4);

	__builtin_memcpy(k.addr, pkt->saddr, sizeof(k.addr));
	v = bpf_map_lookup_elem(&sources, &k);
	if (v) {
		slog_src_add(v, pkt->len, now, bit);
		return;
	}
	nv = (struct slog_src_val){
		.packets = 1,
		.bytes = pkt->len,
		.first_ns = now,
		.last_ns = now,
		.protos = bit,
	};
	if (!bpf_map_update_elem(&sources, &k, &nv, BPF_NOEXIST))
		return;
	/* another CPU inserted it meanwhile: add to that */
	v = bpf_map_lookup_elem(&sources, &k);
	if (v)
		slog_src_add(v, pkt->len, now, bit);
}

/*
 * Step 4: whether pkt starts a flow, i.e. its flow has not been seen for
 * flow_timeout_ns.  The flow's time is that of its last packet, so a busy
 * flow never becomes new again, an idle one does.
 */
static __always_inline int slog_new_flow(const struct slog_config *cfg,
					 const struct ps_pkt *pkt, __u64 now)
{
	struct slog_flow_key k = {
		.sport = pkt->sport,
		.dport = pkt->dport,
		.family = pkt->family,
		.proto = pkt->ip_proto,
	};
	__u64 timeout = cfg->flow_timeout_ns, *last, prev;

	if (!timeout)
		timeout = SLOG_FLOW_TIMEOUT_NS;
	__builtin_memcpy(k.saddr, pkt->saddr, sizeof(k.saddr));
	__builtin_memcpy(k.daddr, pkt->daddr, sizeof(k.daddr));
	last = bpf_map_lookup_elem(&flows, &k);
	if (!last) {
		bpf_map_update_elem(&flows, &k, &now, BPF_ANY);
		return 1;
	}
	prev = *last;
	*last = now;
	/*
	 * Signed: another CPU may have stored a time a little after ours,
	 * which is "just seen", not "long ago".
	 */
	return (__s64)(now - prev) >= (__s64)timeout;
}

/*
 * Step 5d: at most max_rate events in a one-second window shared by all
 * CPUs.  The CPU that moves the window on resets the count; an event
 * another CPU counts between those two stores is forgotten, so a window
 * may pass a few events (at most one a CPU) more than max_rate.
 */
static __always_inline int slog_rate_ok(__u32 slot, __u64 max_rate, __u64 now)
{
	struct slog_rate *r;
	__u64 w;

	r = bpf_map_lookup_elem(&rate, &slot);
	if (!r)
		return 0;
	w = r->window_ns;
	if ((__s64)(now - w) >= (__s64)SLOG_NSEC_PER_SEC &&
	    __sync_val_compare_and_swap(&r->window_ns, w, now) == w)
		r->count = 0;
	return __sync_fetch_and_add(&r->count, 1) < max_rate;
}

/* the fields of an event: reserved memory is not zeroed, all are written */
static __always_inline void slog_fill(struct slog_event *e,
				      const struct ps_pkt *pkt, __u32 ifindex,
				      __u64 now)
{
	e->ts_ns = now;
	__builtin_memcpy(e->saddr, pkt->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, pkt->daddr, sizeof(e->daddr));
	e->len = pkt->len;
	e->ifindex = ifindex;
	e->sport = pkt->sport;
	e->dport = pkt->dport;
	e->vlan_id = pkt->vlan_id;
	e->family = pkt->family;
	e->proto = pkt->ip_proto;
	e->tcp_flags = pkt->tcp_flags;
	e->icmp_type = pkt->icmp_type;
	e->icmp_code = pkt->icmp_code;
	e->status = pkt->status;
	e->frag = pkt->frag;
	e->vlan_count = pkt->vlan_count;
	e->pad[0] = 0;
	e->pad[1] = 0;
}

/*
 * A wake-up per event would cost more than the event: the reader polls on
 * a short timeout anyway, and is woken early when the ring holds
 * wakeup_bytes (this record included).  Only the records just past that
 * mark force it, not every record above it: a forced wake-up is an IPI
 * (2 us a packet measured in a KVM guest, 20 times the event), and a
 * reader that lags behind a flood is awake anyway (it drains the whole
 * ring once woken; epoll is level-triggered).  The window, not just the
 * one record that crosses the mark, so that records other CPUs reserve
 * between our reserve and our query cannot make every CPU miss the
 * crossing.
 */
static __always_inline void slog_submit(const struct slog_config *cfg,
					void *ring, void *e)
{
	__u64 avail, wake;

	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	wake = cfg->wakeup_bytes;
	if (!wake)
		wake = bpf_ringbuf_query(ring, BPF_RB_RING_SIZE) / 8;
	bpf_ringbuf_submit(e, avail >= wake && avail - wake < SLOG_WAKE_WINDOW ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/*
 * A snap that fills its bucket (64, 128 or SLOG_SNAP_SMALL bytes) whole,
 * copied by 8-byte loads and stores from the linear data p..end instead of
 * a helper call; 0 if the linear data does not hold it all.  tag: the
 * offloaded outer VLAN tag (TC), 0 if none: bytes 0-11, the tag, then the
 * rest from byte 12, so the linear data must hold cap - 4 bytes.
 */
static __always_inline int slog_snap_direct(const __u8 *p, const __u8 *end,
					    __u8 *data, __u32 tag,
					    const __u32 cap)
{
	if (!tag) {
		if (p + cap > end)
			return 0;
#pragma unroll
		for (__u32 i = 0; i < cap / 8; i++)
			((__u64 *)data)[i] = ((const __u64 *)p)[i];
		return 1;
	}
	if (p + cap - 4 > end)
		return 0;
	((__u64 *)data)[0] = ((const __u64 *)p)[0];
	((__u32 *)data)[2] = ((const __u32 *)p)[2];
	((__u32 *)data)[3] = tag;
#pragma unroll
	for (__u32 i = 0; i < cap / 8 - 2; i++)
		((__u64 *)(data + 16))[i] = ((const __u64 *)(p + 12))[i];
	return 1;
}

/*
 * The first want bytes of the frame after the event.  A snap that fills a
 * small bucket and is all in the linear data is copied directly
 * (slog_snap_direct()); the rest is read through the helpers, which see a
 * TC skb's paged part too.  At TC the outer tag is in the skb: bytes
 * 0-11, the tag, then the rest from byte 12.
 *
 * Nothing is pulled here.  The parser (ps_parse_skb()) has already pulled
 * min(len, PS_PULL_LEN) bytes into a non-linear skb's linear data, so a
 * snap of up to SLOG_SNAP_SMALL bytes is linear unless that pull failed.
 * Pulling more for a bigger snap would copy payload into the head of
 * every such packet, and of a cloned skb (each TCP segment at egress,
 * each skb a tap such as tcpdump also holds) the whole head first
 * (bpf_skb_pull_data() makes the skb writable): it would change the skb
 * for the programs after us and the stack, and cost more than the
 * helper, which reads the pages and leaves the skb as it was.
 */
static __always_inline void slog_snap(struct ps_hook *h, __u64 want,
				      __u32 wire, struct slog_snap *sn,
				      __u8 *data, const __u32 cap)
{
	struct __sk_buff *skb = ps_hook_skb(h);
	const __u8 *p, *end;
	__be16 vt[2] = {};
	__u32 tag = 0;
	long err;

	sn->wire_len = wire;
	sn->snap_len = 0;
	/* the bounds on the register the helper gets, for the verifier */
	asm volatile("" : "+r"(want));
	if (want < 1 || want > cap)
		return;
	/*
	 * h->xdp, a constant in each program once inlined; after !skb the
	 * compiler may know the TC program's ctx as NULL, and the verifier
	 * rejects that branch's load through it
	 */
	if (h->xdp) {
		struct xdp_md *x = h->ctx;

		p = (const void *)(long)x->data;
		end = (const void *)(long)x->data_end;
	} else {
		p = (const void *)(long)skb->data;
		end = (const void *)(long)skb->data_end;
		if (skb->vlan_present) {
			vt[0] = (__be16)skb->vlan_proto;
			vt[1] = bpf_htons((__u16)skb->vlan_tci);
			/* never 0: vlan_proto is 0x8100 or 0x88a8 */
			__builtin_memcpy(&tag, vt, 4);
		}
	}
	if (cap <= SLOG_SNAP_SMALL && want == cap &&
	    slog_snap_direct(p, end, data, tag, cap)) {
		err = 0;
	} else if (h->xdp) {
		err = bpf_xdp_load_bytes(h->ctx, 0, data, want);
	} else if (!tag || want <= 12) {
		err = bpf_skb_load_bytes(skb, 0, data, want);
	} else {
		__u64 rest = want - 16;

		err = bpf_skb_load_bytes(skb, 0, data, 12);
		__builtin_memcpy(data + 12, vt, 4);
		asm volatile("" : "+r"(rest));
		if (!err && want > 16 && rest >= 1 && rest <= cap - 16)
			err = bpf_skb_load_bytes(skb, 12, data + 16, rest);
	}
	if (!err)
		sn->snap_len = (__u32)want;
}

/* an event with a snap; cap: the reserve's bucket, a constant */
static __always_inline int slog_emit_snap(struct ps_hook *h,
					  const struct slog_config *cfg,
					  void *ring, __u64 want, __u32 wire,
					  const struct ps_pkt *pkt,
					  __u32 ifindex, __u64 now,
					  const __u32 cap)
{
	const __u32 head = sizeof(struct slog_event) + sizeof(struct slog_snap);
	__u8 *r;

	r = bpf_ringbuf_reserve(ring, head + cap, 0);
	if (!r)
		return 0;
	slog_fill((struct slog_event *)r, pkt, ifindex, now);
	slog_snap(h, want, wire,
		  (struct slog_snap *)(r + sizeof(struct slog_event)),
		  r + head, cap);
	slog_submit(cfg, ring, r);
	return 1;
}

/*
 * The smallest bucket that holds what the snap copies: a small frame in
 * a 256-byte bucket would take the ring's room of several events.
 */
static __always_inline int slog_emit_snaps(struct ps_hook *h,
					   const struct slog_config *cfg,
					   void *ring, __u32 snaplen,
					   const struct ps_pkt *pkt,
					   __u32 ifindex, __u64 now)
{
	struct __sk_buff *skb = ps_hook_skb(h);
	__u32 wire = pkt->len + (skb && skb->vlan_present ? 4 : 0);
	__u64 want = snaplen < wire ? snaplen : wire;

	if (want > SLOG_SNAP_SMALL)
		return slog_emit_snap(h, cfg, ring, want, wire, pkt, ifindex,
				      now, SLOG_SNAP_MAX);
	if (want > SLOG_SNAP_SMALL / 2)
		return slog_emit_snap(h, cfg, ring, want, wire, pkt, ifindex,
				      now, SLOG_SNAP_SMALL);
	if (want > SLOG_SNAP_SMALL / 4)
		return slog_emit_snap(h, cfg, ring, want, wire, pkt, ifindex,
				      now, SLOG_SNAP_SMALL / 2);
	return slog_emit_snap(h, cfg, ring, want, wire, pkt, ifindex, now,
			      SLOG_SNAP_SMALL / 4);
}

/* Step 5e, into reader slot's ring. */
static __always_inline int slog_emit(struct ps_hook *h,
				     const struct slog_config *cfg,
				     __u32 slot, __u32 snaplen,
				     const struct ps_pkt *pkt, __u32 ifindex,
				     __u64 now)
{
	struct slog_event *e;
	void *ring = bpf_map_lookup_elem(&rings, &slot);

	if (!ring)
		return 0;
	if (snaplen)
		return slog_emit_snaps(h, cfg, ring, snaplen, pkt, ifindex,
				       now);
	e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e)
		return 0;
	slog_fill(e, pkt, ifindex, now);
	slog_submit(cfg, ring, e);
	return 1;
}

/* how a run of the program began */
enum slog_entry {
	SLOG_FRESH,		/* the hook: steps 1 on */
	SLOG_MATCHED,		/* the attachment's expression matched: 3 on */
	SLOG_RMATCHED,		/* a reader's matched: 5b on at its slot */
	SLOG_RREJECTED,		/* a reader's did not: the next slot on */
};

static __always_inline int slog_live(const struct slog_reader *r, __u64 now)
{
	__u64 beat = r->beat_ns;

	/*
	 * Signed: the reader may have stored a time a little after the one
	 * we read; that reader is alive.
	 */
	return beat && (__s64)(now - beat) <= (__s64)SLOG_READER_TIMEOUT_NS;
}

/*
 * Step 5 for slot i.  A tail call into the reader's expression ends this
 * run; resumed: past the filters, the expression matched.
 */
static __always_inline void slog_offer(struct ps_hook *h,
				      const struct slog_config *cfg,
				      struct slog_stats *st,
				      const struct ps_pkt *pkt, __u32 i,
				      __u64 now, __s32 *is_new, int resumed)
{
	const struct slog_reader *r = &cfg->readers[i];
	struct slog_rd_stats *rs = &st->rd[i];
	__u32 flags = r->flags, sample;
	__u64 max_rate;

	if (!resumed) {
		/* a */
		if (flags && !SLOG_PASS(r, pkt, NULL, NULL)) {
			rs->filtered++;
			return;
		}
		if (flags & SLOG_F_EXPR) {
			__u32 zero = 0;
			struct slog_resume *res = bpf_map_lookup_elem(&resume,
								      &zero);

			if (res) {
				res->now = now;
				res->slot = i;
				res->is_new = *is_new;
				if (h->xdp)
					bpf_tail_call(h->ctx, &expr_xdp,
						      SLOG_REXPR_SLOT + i);
				else
					bpf_tail_call(h->ctx, &expr_tc,
						      SLOG_REXPR_SLOT + i);
			}
			/* no expression in its slot: nothing matches */
			rs->filtered++;
			return;
		}
	}
	/* b: the flow's state, made once a packet */
	if (flags & SLOG_F_NEW_FLOWS) {
		if (*is_new < 0)
			*is_new = slog_new_flow(cfg, pkt, now);
		if (!*is_new) {
			rs->not_new++;
			return;
		}
	}
	/*
	 * c.  The per-CPU counter is this CPU's count of packets that got
	 * this far for this reader, which its stats already hold: one in
	 * `sample` of them, the first included, goes on.
	 */
	sample = r->sample ? r->sample : cfg->sample;
	if (sample > 1 && (rs->sampled_out + rs->rate_capped + rs->lost +
			   rs->events) % sample) {
		rs->sampled_out++;
		return;
	}
	/* d */
	max_rate = r->max_rate ? r->max_rate : cfg->max_rate;
	if (max_rate && !slog_rate_ok(i, max_rate, now)) {
		rs->rate_capped++;
		return;
	}
	/* e */
	if (!slog_emit(h, cfg, i, r->snaplen, pkt, h->ifindex, now)) {
		rs->lost++;
		return;
	}
	rs->events++;
	return;
}

static __always_inline void slog_handle(struct ps_hook *h,
					const struct ps_pkt *pkt,
					enum slog_entry entry)
{
	struct slog_config *cfg;
	struct slog_stats *st;
	__u32 zero = 0, from = 0;
	__s32 is_new = -1;
	int live = 0;
	__u64 now;

	st = bpf_map_lookup_elem(&stats, &zero);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!st || !cfg)
		return;

	if (entry == SLOG_RMATCHED || entry == SLOG_RREJECTED) {
		struct slog_resume *res = bpf_map_lookup_elem(&resume, &zero);

		if (!res || res->slot >= SLOG_READERS_MAX)
			return;
		/* steps 1 to 4 and the slots before were done */
		h->now = res->now;
		from = res->slot;
		is_new = res->is_new;
		live = 1;
		goto readers;
	}
	/* steps 1 and 2 were done before the expression matched */
	if (entry == SLOG_MATCHED)
		goto matched;
	/* 1: the IP header parsed (ARP sets family too, hence l3) */
	st->seen++;
	if (!pkt->family || (pkt->l3 != PS_L3_IPV4 && pkt->l3 != PS_L3_IPV6)) {
		st->not_ip++;
		return;
	}
	/* 2 */
	if (!SLOG_PASS(cfg, pkt, &src_allow, &src_deny)) {
		st->filtered++;
		return;
	}
	if (cfg->flags & SLOG_F_EXPR) {
		/* on to the expression, which goes on to slog_cont or
		 * slog_reject; no expression in its slot: nothing matches */
		if (h->xdp)
			bpf_tail_call(h->ctx, &expr_xdp, SLOG_EXPR_SLOT);
		else
			bpf_tail_call(h->ctx, &expr_tc, SLOG_EXPR_SLOT);
		st->filtered++;
		return;
	}
matched:
	/* 3 */
	now = ps_hook_now(h);
	slog_source(pkt, now);
	/* 4 */
	if (cfg->flags & SLOG_F_NEW_FLOWS) {
		is_new = slog_new_flow(cfg, pkt, now);
		if (!is_new) {
			st->not_new++;
			return;
		}
	}
readers:
	now = ps_hook_now(h);
	/* 5: each live slot from `from` on; the resumed one past its filters */
#pragma unroll
	for (__u32 i = 0; i < SLOG_READERS_MAX; i++) {
		if (i < from || !slog_live(&cfg->readers[i], now))
			continue;
		live = 1;
		if (i == from && entry == SLOG_RREJECTED) {
			st->rd[i].filtered++;
			continue;
		}
		slog_offer(h, cfg, st, pkt, i, now, &is_new,
			   i == from && entry == SLOG_RMATCHED);
	}
	if (!live)
		st->no_reader++;
}

static __always_inline enum ps_verdict slog_decide(struct ps_hook *h,
						    struct ps_pkt *pkt)
{
	slog_handle(h, pkt, SLOG_FRESH);
	return PS_PASS;
}

PS_HOOK(slog, slog_decide)

/* after the expression matched: steps 3 to 5 (the packet parsed again) */
static __always_inline enum ps_verdict slog_cont_decide(struct ps_hook *h,
							struct ps_pkt *pkt)
{
	slog_handle(h, pkt, SLOG_MATCHED);
	return PS_PASS;
}

PS_HOOK_ENTRIES(slog_cont, slog_cont_decide)

/* after a reader's expression matched: that reader's 5b on, then the rest */
static __always_inline enum ps_verdict slog_rcont_decide(struct ps_hook *h,
							 struct ps_pkt *pkt)
{
	slog_handle(h, pkt, SLOG_RMATCHED);
	return PS_PASS;
}

PS_HOOK_ENTRIES(slog_rcont, slog_rcont_decide)

/* after a reader's expression did not match: filtered there, the rest on */
static __always_inline enum ps_verdict
slog_rreject_decide(struct ps_hook *h, struct ps_pkt *pkt)
{
	slog_handle(h, pkt, SLOG_RREJECTED);
	return PS_PASS;
}

PS_HOOK_ENTRIES(slog_rreject, slog_rreject_decide)

/* after the expression did not match: filtered, counted, passed on */
static __always_inline void slog_rejected(__u32 len)
{
	struct slog_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&stats, &zero);
	if (st)
		st->filtered++;
	ps_hook_count(&ps_verdicts, PS_PASS, len);
}

SEC("xdp")
int slog_reject_xdp(struct xdp_md *ctx)
{
	slog_rejected(ctx->data_end - ctx->data);
	return ps_xdp_action(PS_PASS);
}

SEC("tc")
int slog_reject_tc(struct __sk_buff *skb)
{
	slog_rejected(skb->len);
	return ps_tc_action(PS_PASS);
}
