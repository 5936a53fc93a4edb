/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout of the shaping BPF object, shared by bpf/shaping.bpf.c and the
 * shaping plugin.  One instance per interface, pinned as
 * <bpffs>/pktscope/<if>/shaping/<map>.
 *
 *   config    ARRAY      key 0: struct shp_config (rule order, match
 *                        tables, IFB, clock)
 *   rules     ARRAY      key slot: struct shp_rule (id 0: free slot)
 *   ports     ARRAY      key dport: bit s set when slot s's rule has a
 *                        dport range holding that port (SHP_PORTS)
 *   buckets   ARRAY      key slot: struct shp_bucket (a rule's own GCRA)
 *   counters  PERCPU_ARRAY key slot: struct shp_counters; key
 *                        SHP_RULES_MAX: packets no rule matched
 *   sources   LRU_HASH   struct shp_src_key -> struct shp_src
 *
 * A packet: first the slots whose rules can match it, one bit a slot, from
 * two table reads, no rule touched:
 *     cand = config.proto_rules[IP protocol]
 *          & (config.dport_any | ports[dport], ports only if it has ports)
 *          & ~config.syn_rules unless it is a TCP SYN without ACK
 * These tables are exact for protocol, destination port and `syn`; a
 * packet no rule can match stops here.  Then the rules in config.order
 * (sorted by prio, then id) whose bit is in cand are tried in turn;
 * shp_match() checks what the tables do not (src, not-src, sport) for
 * the rules that have such filters (config.match_rules); the first that
 * matches decides; no match passes.
 *
 *   action drop (police): a GCRA (generic cell rate algorithm, the virtual
 *     scheduling form) on the rule's bucket, or with SHP_F_PER_SOURCE on
 *     the source's entry in `sources` (the address masked to the rule's
 *     prefix).  State is one u64, the theoretical arrival time TAT:
 *       start = max(TAT, now); next = start + cost
 *       next - now <= tolerance ? CAS(TAT, old, next) and pass : drop
 *     A packet over the limit only reads TAT, so a flood does not bounce
 *     the cache line between CPUs; a packet that passes wins one
 *     compare-and-swap (retried up to SHP_CAS_TRIES times, then dropped:
 *     other CPUs took the budget), so several CPUs never over-admit.
 *     There is no multiplication by the idle time, so no idle time
 *     overflows anything: an idle bucket simply has TAT in the past.
 *     cost = units * unit_ns + (units * unit_frac >> 32), units being the
 *     packet's IP bytes (bit/s) or 1 (pps); tolerance = burst's cost plus one
 *     tick of the clock (ps_coarse_tick_ns()), which the clock's steps would
 *     otherwise take from the rate.
 *   action shape (TC/tcx only): skb->priority = the rule's HTB class (with
 *     SHP_F_FAIR, one of its SHP_FAIR_CLASSES children: below), then
 *     redirect to the IFB device config.ifb_ifindex, where HTB queues it.
 *     At XDP, or before the IFB exists, it passes.
 *   fair: the rule's bucket has a table of its classes, each with an owner
 *     (a source's fair_id, from bucket.next_id when its entry is made) and
 *     the time of the owner's last packet.  A packet whose source still
 *     owns the class it used last goes there, and writes the time only
 *     when the clock has moved (a flood writes the shared line once a
 *     tick, not once a packet).  Any other packet takes the class used
 *     least recently (a compare-and-swap of its time, so two sources do
 *     not take one class; retried SHP_CAS_TRIES times) and makes its
 *     source the owner, unless that class's owner sent within
 *     SHP_FAIR_HOLD_NS: then every class has a sender, and the packet
 *     goes to class fair_id % SHP_FAIR_CLASSES, shared, owned by no new
 *     one.  So a source keeps its class until 16 other sources have sent
 *     since its last packet and it has been silent SHP_FAIR_HOLD_NS:
 *     while at most 16 send, each has a class of its own; one that
 *     returns after its class was taken gets a class no sender uses;
 *     with more than 16 the newcomers share classes by their ids, always
 *     the same, and no sender is moved (which would reorder its packets
 *     across two queues).  Races: the CPU that claims a class writes
 *     the owner just after the time, so for a packet or two its previous
 *     owner may still use it; a source claiming on two CPUs at once may
 *     take two classes (the spare ages out as any idle one).
 *
 * Bytes, in rates and in every counter here, are IP bytes: the IP header
 * and what follows, not the Ethernet header or VLAN tags.  That is what
 * tc police charges at ingress, the same at XDP and TC, and closest to
 * what a receiver counts.  (HTB on the IFB charges whole frames; the
 * plugin raises a shaped class's rate by one Ethernet header a full-size
 * packet to make up for it.)
 *
 * `sources` holds SHP_SOURCES_MAX entries for all rules (the key has the
 * rule id, so a deleted rule's entries are never reused and age out).  When
 * it is full the kernel evicts the least recently used entries (in batches,
 * per CPU); an evicted source comes back with a full burst.
 *
 * The clock: the hook's coarse one (ps_hook_coarse(): jiffies, without a
 * call, 4 ms steps at HZ=250), unless config.clock_ns is non-zero: then
 * that value is the time (tests set it to make runs deterministic).
 *
 * Live changes: user space writes a rule into a free slot (fully), then
 * its bits in `ports`, before it puts the slot in config.order with its
 * bits in config's tables; a rule leaves config.order and those tables
 * first, then `ports`, then its slot is cleared.  A packet reading config
 * while it changes may see the old or the new order and tables (or, for
 * one packet, a mix of the two): a rule being added or deleted may be
 * skipped, never taken for traffic it does not match; a slot it finds
 * free it skips.
 */
#ifndef PKTSCOPE_BPF_SHAPING_H
#define PKTSCOPE_BPF_SHAPING_H

#include <linux/types.h>
#include <pktscope/bpf/keys.h>

/*
 * The maps' names, spelled once for both sides: the BPF object declares
 * each map by its macro, user space names it with PS_MAP_NAME().
 */
#define SHP_MAP_CONFIG		config
#define SHP_MAP_RULES		rules
#define SHP_MAP_PORTS		ports
#define SHP_MAP_BUCKETS		buckets
#define SHP_MAP_COUNTERS	counters
#define SHP_MAP_SOURCES		sources

#define SHP_RULES_MAX		32	/* a power of two: slots are masked */
#define SHP_SOURCES_MAX		65536
#define SHP_NETS_MAX		4	/* src / not-src prefixes per family */
#define SHP_FAIR_CLASSES	16	/* HTB children of a fair rule */
#define SHP_CAS_TRIES		4
/* a fair class whose owner sent this recently is not taken from it */
#define SHP_FAIR_HOLD_NS	100000000LL
#define SHP_NAME_MAX		32
#define SHP_PORTS		65536	/* entries of `ports` */

/* shp_rule.flags */
#define SHP_F_PROTO		(1U << 0)
#define SHP_F_SYN		(1U << 1)	/* TCP SYN without ACK */
#define SHP_F_PER_SOURCE	(1U << 2)
#define SHP_F_FAIR		(1U << 3)
#define SHP_F_PPS		(1U << 4)	/* rate is packets/s, not bit/s */
#define SHP_F_SRC		(1U << 5)	/* the source must be in src */

enum shp_action {
	SHP_ACT_DROP = 0,
	SHP_ACT_SHAPE,
};

struct shp_net4 {
	__u32 addr, mask;	/* network order, addr masked */
};

struct shp_net6 {
	__u64 addr[2], mask[2];
};

struct shp_rule {
	__u32 id;		/* 0: free slot */
	__u32 flags;		/* SHP_F_* */
	__u32 prio;
	__u32 classid;		/* shape: HTB class major:minor */
	__u8 proto;		/* with SHP_F_PROTO */
	__u8 action;		/* enum shp_action */
	__u8 n_src4, n_src6;	/* prefixes in src4[], src6[] */
	__u8 n_not4, n_not6;
	__u8 prefix4, prefix6;	/* per-source prefix lengths */
	__u16 sport_lo, sport_hi;	/* 0-65535: no filter */
	__u16 dport_lo, dport_hi;
	__u64 unit_ns;		/* cost of one unit: unit_ns + unit_frac/2^32 */
	__u32 unit_frac;
	__u32 mask4;		/* per-source mask, network order */
	__u64 mask6[2];
	__u64 tolerance_ns;	/* burst's cost + a tick of the clock */
	struct shp_net4 src4[SHP_NETS_MAX], not4[SHP_NETS_MAX];
	struct shp_net6 src6[SHP_NETS_MAX], not6[SHP_NETS_MAX];
	/* for user space only */
	__u64 rate;		/* bit/s, or packets/s with SHP_F_PPS */
	__u64 burst;		/* bytes, or packets with SHP_F_PPS */
	__u64 created;		/* seconds since the epoch */
	char name[SHP_NAME_MAX];
};

struct shp_config {
	__u64 clock_ns;		/* non-zero: the time, for tests */
	__u32 ifb_ifindex;	/* 0: no IFB (yet) */
	__u32 next_id;		/* user space: the id the next rule gets */
	char ifb_name[16];	/* recorded before the IFB is made */
	__u32 n;		/* rules in order[] */
	__u8 order[SHP_RULES_MAX];	/* slots, by prio then id */
	/* the match tables, a bit a slot (the top of this file) */
	__u32 dport_any;	/* rules without a dport range */
	__u32 syn_rules;	/* rules with `syn` */
	__u32 match_rules;	/* rules with src, not-src or sport */
	__u32 proto_rules[256];	/* rules that can match this protocol */
};

/* a fair rule's class k: the source whose packets go there */
struct shp_fair_class {
	__u64 owner;		/* its shp_src.fair_id; 0: none yet */
	__u64 last;		/* the time of its last packet, to a tick */
};

/* tat on its own cache line: passing packets CAS it */
struct shp_bucket {
	__u64 tat;		/* theoretical arrival time, ns */
	__u64 next_id;		/* fair: the fair_ids handed out */
	__u64 pad[6];
	struct shp_fair_class fair[SHP_FAIR_CLASSES];
};

struct shp_counters {
	__u64 passed_packets;
	__u64 passed_bytes;
	__u64 dropped_packets;
	__u64 dropped_bytes;
	__u64 queued_packets;	/* shape: redirected to the IFB */
	__u64 queued_bytes;
};

struct shp_src_key {
	__u32 rule_id;
	__u8 family;		/* 2 or 10 */
	__u8 pad[3];
	__u8 addr[16];		/* masked to the rule's prefix */
};

struct shp_src {
	union {
		__u64 tat;	/* police */
		__u64 fair_id;	/* fair: its shp_fair_class.owner, not 0 */
	};
	__u64 passed_packets;	/* atomic adds, on pass only */
	__u64 passed_bytes;
	__u32 fair_class;	/* fair: its last packet's, 0 .. 15 */
	__u32 pad;
};

/* HTB handles on the IFB: root 1:, a rule's class 1:(0x100 + slot), a fair
 * rule's children 1:(0x1000 + slot * SHP_FAIR_CLASSES + k) */
#define SHP_HTB_MAJOR		1U
#define SHP_CLASSID(minor)	((SHP_HTB_MAJOR << 16) | (minor))
#define SHP_RULE_MINOR(slot)	(0x100U + (slot))
#define SHP_FAIR_MINOR(slot, k)	(0x1000U + (slot) * SHP_FAIR_CLASSES + (k))

#ifndef __bpf__
#include <string.h>

#define SHP_NSEC	1000000000ULL

/* ns that `units` units cost at r's rate (units: bytes or packets) */
static inline __u64 shp_units_ns(const struct shp_rule *r, __u64 units)
{
	return units * r->unit_ns +
	       (__u64)(((unsigned __int128)units * r->unit_frac) >> 32);
}

/*
 * Sets r's rate (bit/s, or packets/s when pps), burst (bytes or packets)
 * and the GCRA constants of shaping.h; slack_ns: one tick of the clock.
 * A unit costs 8e9 / rate ns (a byte) or 1e9 / pps ns, kept as an integer
 * and a 32-bit fraction, so the kernel side multiplies and shifts only.
 */
static inline void shp_rule_set_rate(struct shp_rule *r, __u64 rate, int pps,
				     __u64 burst, __u64 slack_ns)
{
	__u64 per = pps ? SHP_NSEC : 8 * SHP_NSEC;

	r->rate = rate;
	r->burst = burst;
	if (pps)
		r->flags |= SHP_F_PPS;
	else
		r->flags &= ~SHP_F_PPS;
	r->unit_ns = per / rate;
	r->unit_frac = (__u32)(((unsigned __int128)(per % rate) << 32) / rate);
	r->tolerance_ns = shp_units_ns(r, burst) + slack_ns;
}

/* network-order mask of plen bits over len bytes */
static inline void shp_mask(__u8 *m, unsigned int len, unsigned int plen)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;

		m[i] = bits >= 8 ? 0xff : (__u8)(0xff00 >> bits);
	}
}

/* the per-source prefix lengths and their masks */
static inline void shp_rule_set_prefix(struct shp_rule *r, unsigned int p4,
				       unsigned int p6)
{
	r->prefix4 = (__u8)p4;
	r->prefix6 = (__u8)p6;
	shp_mask((__u8 *)&r->mask4, 4, p4);
	shp_mask((__u8 *)r->mask6, 16, p6);
}

static inline int shp_rule_has_dport(const struct shp_rule *r)
{
	return r->dport_lo != 0 || r->dport_hi != 0xffff;
}

/* slot's bits in c's match tables: rule r's, or none when r is NULL */
static inline void shp_config_set_slot(struct shp_config *c, unsigned int slot,
				       const struct shp_rule *r)
{
	__u32 bit = 1U << (slot & (SHP_RULES_MAX - 1));
	unsigned int proto = 0;

	c->dport_any &= ~bit;
	c->syn_rules &= ~bit;
	c->match_rules &= ~bit;
	for (unsigned int p = 0; p < 256; p++)
		c->proto_rules[p] &= ~bit;
	if (!r)
		return;
	if (!shp_rule_has_dport(r))
		c->dport_any |= bit;
	if ((r->flags & SHP_F_SRC) || r->n_not4 || r->n_not6 ||
	    r->sport_lo != 0 || r->sport_hi != 0xffff)
		c->match_rules |= bit;
	if (r->flags & SHP_F_SYN) {
		c->syn_rules |= bit;
		proto = 6;
	}
	if (r->flags & SHP_F_PROTO)
		proto = r->proto;
	for (unsigned int p = 0; p < 256; p++)
		if (!proto || p == proto)
			c->proto_rules[p] |= bit;
}

/*
 * ports[port] for the rules in rules[SHP_RULES_MAX] (slot-indexed; id 0:
 * free): the slots whose dport range holds port.
 */
static inline __u32 shp_port_bits(const struct shp_rule *rules, __u32 port)
{
	__u32 bits = 0;

	for (unsigned int s = 0; s < SHP_RULES_MAX; s++)
		if (rules[s].id && shp_rule_has_dport(&rules[s]) &&
		    port >= rules[s].dport_lo && port <= rules[s].dport_hi)
			bits |= 1U << s;
	return bits;
}

/* adds a src (not_src = 0) or not-src prefix; -1 when that list is full */
static inline int shp_rule_add_net(struct shp_rule *r, int not_src,
				   int family, const void *addr,
				   unsigned int plen)
{
	__u8 *a, *m, *n;
	unsigned int len = family == 2 ? 4 : 16;

	if (family == 2)
		n = not_src ? &r->n_not4 : &r->n_src4;
	else
		n = not_src ? &r->n_not6 : &r->n_src6;
	if (*n >= SHP_NETS_MAX)
		return -1;
	if (family == 2) {
		struct shp_net4 *v = not_src ? r->not4 : r->src4;

		a = (__u8 *)&v[*n].addr;
		m = (__u8 *)&v[*n].mask;
	} else {
		struct shp_net6 *v = not_src ? r->not6 : r->src6;

		a = (__u8 *)v[*n].addr;
		m = (__u8 *)v[*n].mask;
	}
	memcpy(a, addr, len);
	shp_mask(m, len, plen);
	for (unsigned int i = 0; i < len; i++)
		a[i] &= m[i];
	(*n)++;
	if (!not_src)
		r->flags |= SHP_F_SRC;
	return 0;
}
#endif

#endif /* PKTSCOPE_BPF_SHAPING_H */
