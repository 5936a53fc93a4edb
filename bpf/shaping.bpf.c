// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * shaping: rate limits on incoming traffic.  Rules are tried in order and
 * the first that matches polices the packet (GCRA, drop over the limit) or
 * hands it to HTB on an IFB device.  The maps, the algorithm and what the
 * clock is are the contract in shaping.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "shaping.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shp_config);
} SHP_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHP_RULES_MAX);
	__type(key, __u32);
	__type(value, struct shp_rule);
} SHP_MAP_RULES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHP_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} SHP_MAP_PORTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHP_RULES_MAX);
	__type(key, __u32);
	__type(value, struct shp_bucket);
} SHP_MAP_BUCKETS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHP_RULES_MAX + 1);
	__type(key, __u32);
	__type(value, struct shp_counters);
} SHP_MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SHP_SOURCES_MAX);
	__type(key, struct shp_src_key);
	__type(value, struct shp_src);
} SHP_MAP_SOURCES SEC(".maps");

static __always_inline int shp_has_ports(const struct ps_pkt *pkt)
{
	return pkt->l4_off && (pkt->l4 == PS_L4_TCP || pkt->l4 == PS_L4_UDP ||
			       pkt->l4 == PS_L4_SCTP);
}

static __always_inline int shp_in4(const struct shp_net4 *v, __u32 n, __u32 a)
{
	/* bounded loops: shp_match() is verified once, unrolling buys little */
	for (__u32 i = 0; i < SHP_NETS_MAX; i++) {
		if (i >= n)
			break;
		if (!((a ^ v[i].addr) & v[i].mask))
			return 1;
	}
	return 0;
}

static __always_inline int shp_in6(const struct shp_net6 *v, __u32 n,
				   const __u64 *a)
{
	for (__u32 i = 0; i < SHP_NETS_MAX; i++) {
		if (i >= n)
			break;
		if (!(((a[0] ^ v[i].addr[0]) & v[i].mask[0]) |
		      ((a[1] ^ v[i].addr[1]) & v[i].mask[1])))
			return 1;
	}
	return 0;
}

/*
 * What the match tables do not check of rule r: the source port and the
 * src and not-src prefixes.  Global on purpose: the verifier checks it
 * once, not once per rule of the loop that calls it; and only rules with
 * such filters pay for the call.
 */
__noinline int shp_match(const struct shp_rule *r, const struct ps_pkt *pkt)
{
	if (!r || !pkt)
		return 0;
	if ((r->sport_lo || r->sport_hi != 0xffff) &&
	    (!shp_has_ports(pkt) || pkt->sport < r->sport_lo ||
	     pkt->sport > r->sport_hi))
		return 0;
	if (pkt->family == PS_AF_INET) {
		__u32 a;

		__builtin_memcpy(&a, pkt->saddr, sizeof(a));
		if ((r->flags & SHP_F_SRC) && !shp_in4(r->src4, r->n_src4, a))
			return 0;
		if (shp_in4(r->not4, r->n_not4, a))
			return 0;
	} else {
		__u64 a[2];

		__builtin_memcpy(a, pkt->saddr, sizeof(a));
		if ((r->flags & SHP_F_SRC) && !shp_in6(r->src6, r->n_src6, a))
			return 0;
		if (shp_in6(r->not6, r->n_not6, a))
			return 0;
	}
	return 1;
}

/* the slots whose rules can match pkt, from the match tables (shaping.h) */
static __always_inline __u64 shp_candidates(const struct shp_config *cfg,
					    const struct ps_pkt *pkt)
{
	/* 64-bit: no zero-extension of each 32-bit result */
	__u64 cand = cfg->proto_rules[pkt->ip_proto];
	__u64 any = cfg->dport_any, syn;

	/* `ports` only for candidates with a dport range */
	if (cand & ~any) {
		__u32 port = pkt->dport, *bits = NULL;

		if (shp_has_ports(pkt))
			bits = bpf_map_lookup_elem(&ports, &port);
		cand &= any | (bits ? *bits : 0);
	}
	syn = cfg->syn_rules;
	if ((cand & syn) &&
	    (pkt->l4 != PS_L4_TCP || !pkt->l4_off ||
	     (pkt->tcp_flags & (PS_TCP_SYN | PS_TCP_ACK)) != PS_TCP_SYN))
		cand &= ~syn;
	return cand;
}

/* what a rate counts: the IP packet, header included (shaping.h) */
static __always_inline __u32 shp_ip_len(const struct ps_pkt *pkt)
{
	return pkt->len > pkt->l3_off ? pkt->len - pkt->l3_off : 0;
}

static __always_inline __u64 shp_cost(const struct shp_rule *r, __u32 len)
{
	__u64 units = (r->flags & SHP_F_PPS) ? 1 : len;

	return units * r->unit_ns + ((units * r->unit_frac) >> 32);
}

/* The GCRA of shaping.h on one TAT: 1 conforms (and is charged), 0 not. */
static __always_inline int shp_gcra(__u64 *tatp, __u64 cost, __u64 tol,
				    __u64 now)
{
#pragma unroll
	for (int i = 0; i < SHP_CAS_TRIES; i++) {
		__u64 tat = *(volatile __u64 *)tatp;
		/* signed: TAT in the past (idle) starts from now */
		__u64 next = ((__s64)(tat - now) > 0 ? tat : now) + cost;

		if (next - now > tol)
			return 0;
		if (__sync_val_compare_and_swap(tatp, tat, next) == tat)
			return 1;
	}
	return 0;
}

/* The source's entry for rule r, made when missing. */
static __always_inline struct shp_src *shp_source(const struct shp_rule *r,
						  struct shp_bucket *b,
						  const struct ps_pkt *pkt)
{
	struct shp_src_key k = { .rule_id = r->id, .family = pkt->family };
	struct shp_src *s, nv = {};

	if (pkt->family == PS_AF_INET) {
		__u32 a;

		__builtin_memcpy(&a, pkt->saddr, sizeof(a));
		a &= r->mask4;
		__builtin_memcpy(k.addr, &a, sizeof(a));
	} else {
		__u64 a[2];

		__builtin_memcpy(a, pkt->saddr, sizeof(a));
		a[0] &= r->mask6[0];
		a[1] &= r->mask6[1];
		__builtin_memcpy(k.addr, a, sizeof(a));
	}
	s = bpf_map_lookup_elem(&sources, &k);
	if (s)
		return s;
	/* its class comes with its first packet (shp_fair_class()) */
	if (r->flags & SHP_F_FAIR)
		nv.fair_id = __sync_fetch_and_add(&b->next_id, 1) + 1;
	/* another CPU may insert it first: then we use that one */
	bpf_map_update_elem(&sources, &k, &nv, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sources, &k);
}

/* the time (shaping.h) */
static __always_inline __u64 shp_now(struct ps_hook *h,
				     const struct shp_config *cfg)
{
	return cfg->clock_ns ? cfg->clock_ns : ps_hook_coarse(h);
}

/*
 * The class of fair rule's bucket b that source s's packet goes to: the
 * one s owns, else the least recently used, claimed unless its owner sent
 * within SHP_FAIR_HOLD_NS; with none free, one shared by s's id (shaping.h).
 */
static __always_inline __u32 shp_fair_class(struct shp_bucket *b,
					    struct shp_src *s, __u64 now)
{
	__u32 k = s->fair_class % SHP_FAIR_CLASSES;
	struct shp_fair_class *c = &b->fair[k];
	__u64 id = s->fair_id;

	if (*(volatile __u64 *)&c->owner == id) {
		/* the clock moves in ticks: one write a tick, not a packet */
		if (*(volatile __u64 *)&c->last != now)
			c->last = now;
		return k;
	}
	for (int t = 0; t < SHP_CAS_TRIES; t++) {
		__u64 oldest = ~0ULL;

		for (__u32 i = 0; i < SHP_FAIR_CLASSES; i++) {
			__u64 l = *(volatile __u64 *)&b->fair[i].last;

			if (l < oldest) {
				oldest = l;
				k = i;
			}
		}
		/* every owner sends: share a class, take none */
		if (oldest && (__s64)(now - oldest) < SHP_FAIR_HOLD_NS) {
			k = id % SHP_FAIR_CLASSES;
			break;
		}
		c = &b->fair[k % SHP_FAIR_CLASSES];
		/* on the time: who lost sees it new and looks again */
		if (__sync_val_compare_and_swap(&c->last, oldest, now) ==
		    oldest) {
			c->owner = id;
			break;
		}
	}
	/* every try lost: the last pick, shared for this packet */
	s->fair_class = k % SHP_FAIR_CLASSES;
	return s->fair_class;
}

static __always_inline void shp_count(__u32 slot, int what, __u32 len)
{
	struct shp_counters *c = bpf_map_lookup_elem(&counters, &slot);

	if (!c)
		return;
	if (what == PS_PASS) {
		c->passed_packets++;
		c->passed_bytes += len;
	} else if (what == PS_DROP) {
		c->dropped_packets++;
		c->dropped_bytes += len;
	} else {
		c->queued_packets++;
		c->queued_bytes += len;
	}
}

static __always_inline enum ps_verdict shp_shape(struct ps_hook *h,
						 const struct shp_config *cfg,
						 const struct shp_rule *r,
						 struct shp_bucket *b,
						 __u32 slot,
						 const struct ps_pkt *pkt)
{
	struct __sk_buff *skb = ps_hook_skb(h);
	__u32 classid = r->classid;

	if (!skb || !cfg->ifb_ifindex) {
		shp_count(slot, PS_PASS, shp_ip_len(pkt));
		return PS_PASS;
	}
	if (r->flags & SHP_F_FAIR) {
		struct shp_src *s = shp_source(r, b, pkt);

		if (s) {
			classid = SHP_CLASSID(SHP_FAIR_MINOR(slot,
					shp_fair_class(b, s, shp_now(h, cfg))));
			__sync_fetch_and_add(&s->passed_packets, 1);
			__sync_fetch_and_add(&s->passed_bytes, shp_ip_len(pkt));
		}
	}
	skb->priority = classid;
	shp_count(slot, PS_REDIRECT, shp_ip_len(pkt));
	return ps_redirect(h, cfg->ifb_ifindex);
}

static __always_inline enum ps_verdict shp_apply(struct ps_hook *h,
						 const struct shp_config *cfg,
						 const struct shp_rule *r,
						 __u32 slot,
						 const struct ps_pkt *pkt)
{
	struct shp_bucket *b = bpf_map_lookup_elem(&buckets, &slot);
	struct shp_src *s = NULL;
	__u64 now, *tat;

	if (!b)
		return PS_PASS;
	if (r->action == SHP_ACT_SHAPE)
		return shp_shape(h, cfg, r, b, slot, pkt);
	now = shp_now(h, cfg);
	tat = &b->tat;
	if (r->flags & SHP_F_PER_SOURCE) {
		s = shp_source(r, b, pkt);
		if (!s) {
			/* no entry to be had: let it through, counted */
			shp_count(slot, PS_PASS, shp_ip_len(pkt));
			return PS_PASS;
		}
		tat = &s->tat;
	}
	if (!shp_gcra(tat, shp_cost(r, shp_ip_len(pkt)), r->tolerance_ns, now)) {
		shp_count(slot, PS_DROP, shp_ip_len(pkt));
		return PS_DROP;
	}
	if (s) {
		__sync_fetch_and_add(&s->passed_packets, 1);
		__sync_fetch_and_add(&s->passed_bytes, shp_ip_len(pkt));
	}
	shp_count(slot, PS_PASS, shp_ip_len(pkt));
	return PS_PASS;
}

static __always_inline enum ps_verdict shp_decide(struct ps_hook *h,
						  struct ps_pkt *pkt)
{
	struct shp_config *cfg;
	__u32 zero = 0;
	__u64 cand;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return PS_PASS;
	/*
	 * IPv4 and IPv6 whose IP header parsed: the parser sets family then,
	 * and for ARP; with no rules the tables are empty
	 */
	if (!pkt->family || pkt->l3 == PS_L3_ARP)
		goto unmatched;
	cand = shp_candidates(cfg, pkt);
	for (__u32 i = 0; i < SHP_RULES_MAX && cand; i++) {
		struct shp_rule *r;
		__u32 slot;
		__u64 bit;

		if (i >= cfg->n)
			break;
		slot = cfg->order[i] & (SHP_RULES_MAX - 1);
		bit = 1ULL << slot;
		if (!(cand & bit))
			continue;
		cand &= ~bit;
		r = bpf_map_lookup_elem(&rules, &slot);
		if (!r || !r->id)
			continue;
		if ((cfg->match_rules & bit) && !shp_match(r, pkt))
			continue;
		return shp_apply(h, cfg, r, slot, pkt);
	}
unmatched:
	shp_count(SHP_RULES_MAX, PS_PASS, shp_ip_len(pkt));
	return PS_PASS;
}

PS_HOOK(shp, shp_decide)
