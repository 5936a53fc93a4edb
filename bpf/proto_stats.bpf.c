// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * proto-stats: per-interface packet and byte counters by protocol, TCP flag
 * pattern, frame size and parse errors, plus the top sources and destination
 * ports.  The maps and the counting rules are described in proto_stats.h.
 *
 * Why the top maps are a per-CPU cache in front of sampled LRU maps
 * (bench/bench_parse -o, 64-byte UDP at XDP, this machine): the bare parser
 * costs 11-12 ns; counting a known source and port straight in LRU hashes
 * costs 43-46 ns (LRU_HASH with atomic adds 60-61), beyond the 3x goal,
 * and a new source every packet 128-163 ns whatever the LRU flavour,
 * beyond 10x; a count-min sketch gate degrades to the latter once the
 * sketch fills (168).  With the cache a known key costs 19-24 ns in all,
 * and sampling the admissions (1/16) brings a flood of new sources to
 * 57-65 ns.
 *
 * Why the cache has 4 ways: direct-mapped, two keys of one slot (tcp/443
 * and udp/9 do) evict each other on every turn, each written back 1-3
 * packets at a time and so admitted 1/16-3/16 of the time, however many
 * packets it has.  With W ways, W keys share a set and none is evicted.
 * The chance that a set gets more keys than ways, for 20 (50) keys on a
 * CPU: direct-mapped 54% (99%), 2 ways 6% (62%), 4 ways 0.04% (7%),
 * 8 ways 0% (0.1%).  Cost with the key in the last way of a full set
 * (bench build, -o): 1, 2, 4, 8 ways 23, 23, 24, 26 ns known, 58, 58, 61,
 * 65 ns new: 4 ways cost ~1 ns.
 *
 * Built twice: as proto_stats.bpf.o (what the plugin embeds) and, with
 * -DPSTAT_BENCH, as the benchmark's variant that can make every packet look
 * like a new source or port (bench_vary) so that the LRU miss path is
 * measured with test_run, which repeats the same frame.  The production
 * object contains none of that code.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "proto_stats.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pstat_counters);
} PSTAT_MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PSTAT_TOP_SRC_MAX);
	__type(key, struct ps_addr_key);
	__type(value, struct pstat_val);
} PSTAT_MAP_TOP_SRC SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PSTAT_TOP_PORT_MAX);
	__type(key, struct pstat_port_key);
	__type(value, struct pstat_val);
} PSTAT_MAP_TOP_PORT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pstat_cache);
} PSTAT_MAP_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pstat_config);
} PSTAT_MAP_CONFIG SEC(".maps");

/* written by user space only: when `reset` last ran (proto_stats.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} PSTAT_MAP_RESET_AT SEC(".maps");

#ifdef PSTAT_BENCH
/*
 * Benchmark-only knobs, set by bench/bench_parse.c before load:
 * bench_vary	bit 0: a new source every packet, bit 1: a new destination
 *		port (test_run repeats one frame, so the key is perturbed)
 * bench_atomic	add to shared values atomically: measures LRU_HASH (one
 *		value for all CPUs) in place of LRU_PERCPU_HASH
 * bench_cms	admit a missing key once a count-min sketch has seen it
 *		bench_cms times, instead of sampling
 * bench_nocache	go to top_src and top_port directly, without the
 *		per-CPU caches (to measure the map designs themselves)
 * bench_ways_bits	log2 of the caches' ways, 0 (direct-mapped) to 3
 */
const volatile __u32 bench_vary = 0;
const volatile __u32 bench_nocache = 0;
const volatile __u32 bench_atomic = 0;
const volatile __u32 bench_cms = 0;
const volatile __u32 bench_ways_bits = PSTAT_CACHE_WAYS_BITS;
__u32 bench_seq = 0;

#define BENCH_CMS_BITS	12

struct bench_cms_rows {
	__u32 row[2][1 << BENCH_CMS_BITS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_cms_rows);
} bench_sketch SEC(".maps");

static __always_inline int bench_cms_admit(const void *key, __u32 words)
{
	const __u32 *w = key;
	struct bench_cms_rows *s;
	__u32 zero = 0, h1 = 0, h2 = 0x5bd1e995, a, b;
	__u32 i;

	s = bpf_map_lookup_elem(&bench_sketch, &zero);
	if (!s)
		return 0;
	for (i = 0; i < words; i++) {
		h1 = (h1 ^ w[i]) * 0x9e3779b1;
		h2 = (h2 ^ w[i]) * 0x85ebca6b;
	}
	a = ++s->row[0][h1 >> (32 - BENCH_CMS_BITS)];
	b = ++s->row[1][h2 >> (32 - BENCH_CMS_BITS)];
	return (a < b ? a : b) >= bench_cms;
}
#endif

/* packets and bytes as the wire carried them (a GRO aggregate is several) */
static __always_inline void pstat_add(struct pstat_counters *c, int idx,
				      const struct ps_pkt *pkt)
{
	c->c[idx].packets += pkt->wire_packets;
	c->c[idx].bytes += pkt->wire_len;
}

static __always_inline int pstat_size_idx(__u32 len)
{
	if (len <= 64)
		return PSTAT_SIZE_64;
	if (len <= 127)
		return PSTAT_SIZE_127;
	if (len <= 255)
		return PSTAT_SIZE_255;
	if (len <= 511)
		return PSTAT_SIZE_511;
	if (len <= 1023)
		return PSTAT_SIZE_1023;
	if (len <= 1518)
		return PSTAT_SIZE_1518;
	return PSTAT_SIZE_JUMBO;
}

/*
 * The size histogram counts frames as the wire carried them: the segments
 * of a GRO aggregate all have wire_seg_len bytes but the last, which has
 * the rest.
 */
static __always_inline void pstat_sizes(struct pstat_counters *c,
					const struct ps_pkt *pkt)
{
	__u32 n = pkt->wire_packets, idx;

	if (n <= 1) {
		pstat_add(c, pstat_size_idx(pkt->wire_len), pkt);
		return;
	}
	idx = pstat_size_idx(pkt->wire_seg_len);
	c->c[idx].packets += n - 1;
	c->c[idx].bytes += (__u64)(n - 1) * pkt->wire_seg_len;
	idx = pstat_size_idx(pkt->wire_len - (n - 1) * pkt->wire_seg_len);
	c->c[idx].packets++;
	c->c[idx].bytes += pkt->wire_len - (n - 1) * pkt->wire_seg_len;
}

/* a switch, not arithmetic: the verifier must see a bounded index */
static __always_inline int pstat_l4_idx(__u8 l4)
{
	switch (l4) {
	case PS_L4_TCP:
		return PSTAT_L4_TCP;
	case PS_L4_UDP:
		return PSTAT_L4_UDP;
	case PS_L4_ICMP:
		return PSTAT_L4_ICMP;
	case PS_L4_ICMPV6:
		return PSTAT_L4_ICMPV6;
	case PS_L4_SCTP:
		return PSTAT_L4_SCTP;
	case PS_L4_GRE:
		return PSTAT_L4_GRE;
	default:
		return PSTAT_L4_OTHER;
	}
}

static __always_inline int pstat_tcp_idx(const struct ps_pkt *pkt)
{
	__u8 f = pkt->tcp_flags;

	if (f & PS_TCP_SYN) {
		if (f & (PS_TCP_FIN | PS_TCP_RST))
			return PSTAT_TCP_OTHER;
		return f & PS_TCP_ACK ? PSTAT_TCP_SYNACK : PSTAT_TCP_SYN;
	}
	if (f & PS_TCP_RST)
		return PSTAT_TCP_RST;
	if (f & PS_TCP_FIN)
		return PSTAT_TCP_FIN;
	if (f & PS_TCP_ACK)
		return PSTAT_TCP_ACK;
	return PSTAT_TCP_OTHER;
}

/* config's 0 means the default */
static __always_inline __u32 pstat_sample(__u32 n)
{
	return n ? n : PSTAT_SAMPLE_DEFAULT;
}

/* how many packets a write-back needs to be admitted for certain */
static __always_inline __u64 pstat_certain(__u32 n)
{
	return n == PSTAT_SAMPLE_OFF ? ~0ULL : pstat_sample(n);
}

/*
 * Admit a key that brings `packets` packets into an LRU map: probability
 * packets / n, certain from n packets on.  That is sampling each packet
 * with probability 1/n ("sample and hold"), batched: the caches below hand
 * over several packets of one key at a time.
 */
static __always_inline int pstat_admit(__u32 n, __u64 packets)
{
	if (n == 1)
		return 1;
	if (n == PSTAT_SAMPLE_OFF)
		return 0;
	n = pstat_sample(n);
	if (packets >= n)
		return 1;
	/* maps a uniform 32-bit number onto [0, n) without a division */
	return (((__u64)bpf_get_prandom_u32() * n) >> 32) < packets;
}

static __always_inline void pstat_val_add(struct pstat_val *v,
					  const struct pstat_val *add)
{
#ifdef PSTAT_BENCH
	if (bench_atomic) {
		__sync_fetch_and_add(&v->packets, add->packets);
		__sync_fetch_and_add(&v->bytes, add->bytes);
		return;
	}
#endif
	/* per-CPU value: nothing else writes it while we run */
	v->packets += add->packets;
	v->bytes += add->bytes;
}

/*
 * Add val to key in an LRU per-CPU hash, inserting the key if it is
 * admitted.  Returns 0 when the key is neither present nor admitted.
 */
static __always_inline int pstat_top(void *map, const void *key,
				     __u32 key_size,
				     const struct pstat_val *val, __u32 sample)
{
	struct pstat_val *v;

	(void)key_size;		/* only the benchmark build's sketch uses it */
	v = bpf_map_lookup_elem(map, key);
	if (v) {
		pstat_val_add(v, val);
		return 1;
	}
#ifdef PSTAT_BENCH
	if (bench_cms) {
		if (!bench_cms_admit(key, key_size / 4))
			return 0;
	} else
#endif
	if (!pstat_admit(sample, val->packets))
		return 0;
	if (!bpf_map_update_elem(map, key, val, BPF_NOEXIST))
		return 1;
	/* another CPU inserted it meanwhile: add to that */
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return 0;
	pstat_val_add(v, val);
	return 1;
}

static __always_inline __u32 pstat_hash(__u32 x, int bits)
{
	/* Fibonacci hashing: the top bits of x * 2^32 / phi */
	return (x * 0x9e3779b1U) >> (32 - bits);
}

/*
 * The caches are set-associative: a key hashes to a set of 1 << ways_bits
 * consecutive slots (its ways) and may sit in any of them.  The production
 * object has PSTAT_CACHE_WAYS_BITS; the benchmark build takes bench_ways_bits
 * so that bench/bench_parse -o can compare the alternatives: its loops are
 * unrolled for PSTAT_MAX_WAYS ways and skip those beyond the configured
 * count (a constant to the verifier, which drops the dead branches).
 */
#ifdef PSTAT_BENCH
#define PSTAT_BENCH_WAYS_BITS	3
#define PSTAT_MAX_WAYS		(1 << PSTAT_BENCH_WAYS_BITS)
#define pstat_ways_bits		bench_ways_bits
#else
#define PSTAT_MAX_WAYS		(1 << PSTAT_CACHE_WAYS_BITS)
#define pstat_ways_bits		PSTAT_CACHE_WAYS_BITS
#endif

_Static_assert(PSTAT_MAX_WAYS < 1 << PSTAT_SRC_SLOTS_BITS &&
	       PSTAT_MAX_WAYS < 1 << PSTAT_PORT_SLOTS_BITS,
	       "a cache needs at least two sets");
_Static_assert(PSTAT_CACHE_WAYS_BITS >= 1,
	       "two keys of a set must both fit (proto_stats.h, a.)");

/*
 * What giving a way to a new key costs; the lowest wins, the first of
 * equals.  Nothing for an unused way; 1 for a key that has `certain`
 * packets (its write-back is admitted, so nothing is lost) and got none
 * since the set's previous miss (it looks done); else 1 + its packets,
 * since a key short of `certain` may lose them to SKIP.  Without the
 * second rule a key that was big once would hold its way forever, and
 * sets full of such keys would leave new keys one way to fight over, as
 * a direct-mapped cache does.
 *
 * seen is the slot's pad: its packets as of the set's previous miss, 0 for
 * a key that came in then, so that a new key counts as busy.  Only the
 * low 32 bits are kept: a key that got a multiple of 2^32 packets in
 * between looks idle, and is written back early (losing nothing).
 */
static __always_inline __u64 pstat_way_cost(const struct pstat_val *v,
					    __u32 *seen, __u64 certain)
{
	__u64 p = v->packets;
	__u32 last = *seen;

	*seen = (__u32)p;
	if (!p)
		return 0;
	if (p >= certain && (__u32)p == last)
		return 1;
	return p + 1;
}

static __always_inline int pstat_src_eq(const struct ps_addr_key *x,
					const struct ps_addr_key *y)
{
	const __u32 *a = (const __u32 *)x, *b = (const __u32 *)y;

	/*
	 * Word 0 first: two IPv4 sources differ there; then word 3, where
	 * two IPv6 sources of one /64 differ.  An unused slot is all zeroes
	 * and never matches: family 0 is no family.
	 */
	return a[0] == b[0] && a[3] == b[3] && a[1] == b[1] && a[2] == b[2] &&
	       a[4] == b[4];
}

/*
 * The source goes through its set in the CPU's cache: a hit costs a few
 * instructions where a hash map lookup costs ~13 ns.  A miss takes the way
 * pstat_way_cost() ranks lowest, writing its key back to top_src first (or
 * counting it in SRC_SKIP).  Short of idle keys that are done, the way
 * with the fewest packets goes: that keeps a key that is piling up packets
 * in the cache, where it is counted exactly, rather than the newcomer,
 * which usually brings one packet.
 */
static __always_inline void pstat_src(struct pstat_counters *c,
				      struct pstat_cache *pc,
				      const struct ps_pkt *pkt, __u32 sample)
{
	struct ps_addr_key key = {};
	struct pstat_src_slot *set, *s;
	__u32 ways = 1U << pstat_ways_bits, i;
	__u64 certain, best, cost;

	__builtin_memcpy(key.addr, pkt->saddr, sizeof(key.addr));
	key.family = pkt->family;
#ifdef PSTAT_BENCH
	if (bench_vary & 1)
		key.addr32[3] ^= ++bench_seq;
	if (bench_nocache) {
		struct pstat_val one = { pkt->wire_packets, pkt->wire_len };

		if (!pstat_top(&top_src, &key, sizeof(key), &one, sample))
			pstat_add(c, PSTAT_SRC_SKIP, pkt);
		return;
	}
#endif
	set = &pc->src[pstat_hash(key.addr32[0] ^ key.addr32[1] ^
				     key.addr32[2] ^ key.addr32[3],
				     PSTAT_SRC_SLOTS_BITS - pstat_ways_bits)
		       << pstat_ways_bits];
#pragma unroll
	for (i = 0; i < PSTAT_MAX_WAYS; i++) {
		if (i < ways && pstat_src_eq(&set[i].key, &key)) {
			set[i].val.packets += pkt->wire_packets;
			set[i].val.bytes += pkt->wire_len;
			return;
		}
	}
	s = set;
	certain = pstat_certain(sample);
	best = pstat_way_cost(&set[0].val, &set[0].pad, certain);
#pragma unroll
	for (i = 1; i < PSTAT_MAX_WAYS; i++) {
		if (i < ways) {
			cost = pstat_way_cost(&set[i].val, &set[i].pad,
					      certain);
			if (cost < best) {
				best = cost;
				s = &set[i];
			}
		}
	}
	if (s->val.packets &&
	    !pstat_top(&top_src, &s->key, sizeof(s->key), &s->val, sample)) {
		c->c[PSTAT_SRC_SKIP].packets += s->val.packets;
		c->c[PSTAT_SRC_SKIP].bytes += s->val.bytes;
	}
	s->key = key;
	s->pad = 0;
	s->val.packets = pkt->wire_packets;
	s->val.bytes = pkt->wire_len;
}

/* The same for destination ports, whose key is one word. */
static __always_inline void pstat_port(struct pstat_counters *c,
				       struct pstat_cache *pc,
				       const struct ps_pkt *pkt, __u32 sample)
{
	struct pstat_port_key key = {
		.proto = pkt->ip_proto,
		.port = pkt->dport,
	};
	struct pstat_port_slot *set, *s;
	__u32 ways = 1U << pstat_ways_bits, k, i;
	__u64 certain, best, cost;

#ifdef PSTAT_BENCH
	if (bench_vary & 2)
		key.port ^= ++bench_seq;
	if (bench_nocache) {
		struct pstat_val one = { pkt->wire_packets, pkt->wire_len };

		if (!pstat_top(&top_port, &key, sizeof(key), &one, sample))
			pstat_add(c, PSTAT_PORT_SKIP, pkt);
		return;
	}
#endif
	k = key.proto << 16 | key.port;
	set = &pc->port[pstat_hash(k, PSTAT_PORT_SLOTS_BITS - pstat_ways_bits)
			<< pstat_ways_bits];
#pragma unroll
	for (i = 0; i < PSTAT_MAX_WAYS; i++) {
		/* proto 0 is no port key: an unused slot never matches */
		if (i < ways && *(__u32 *)&set[i].key == *(__u32 *)&key) {
			set[i].val.packets += pkt->wire_packets;
			set[i].val.bytes += pkt->wire_len;
			return;
		}
	}
	s = set;
	certain = pstat_certain(sample);
	best = pstat_way_cost(&set[0].val, &set[0].pad, certain);
#pragma unroll
	for (i = 1; i < PSTAT_MAX_WAYS; i++) {
		if (i < ways) {
			cost = pstat_way_cost(&set[i].val, &set[i].pad,
					      certain);
			if (cost < best) {
				best = cost;
				s = &set[i];
			}
		}
	}
	if (s->val.packets &&
	    !pstat_top(&top_port, &s->key, sizeof(s->key), &s->val, sample)) {
		c->c[PSTAT_PORT_SKIP].packets += s->val.packets;
		c->c[PSTAT_PORT_SKIP].bytes += s->val.bytes;
	}
	s->key = key;
	s->pad = 0;
	s->val.packets = pkt->wire_packets;
	s->val.bytes = pkt->wire_len;
}

static __always_inline void pstat_count(struct ps_pkt *pkt)
{
	struct pstat_counters *c;
	struct pstat_config *cfg;
	struct pstat_cache *pc;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&counters, &zero);
	pc = bpf_map_lookup_elem(&cache, &zero);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!c || !pc || !cfg)
		return;

	pstat_add(c, PSTAT_TOTAL, pkt);
	pstat_sizes(c, pkt);

	/* sources of junk too, as soon as their IP header is known */
	if (pkt->family && pkt->l3 != PS_L3_ARP)
		pstat_src(c, pc, pkt, cfg->sample_src);

	if (pkt->status != PS_PKT_OK) {
		pstat_add(c, pkt->status == PS_PKT_TRUNCATED ?
			     PSTAT_TRUNCATED : PSTAT_MALFORMED, pkt);
		return;
	}

	if (pkt->vlan_count)
		pstat_add(c, PSTAT_VLAN, pkt);

	switch (pkt->l3) {
	case PS_L3_IPV4:
		pstat_add(c, PSTAT_L3_IPV4, pkt);
		break;
	case PS_L3_IPV6:
		pstat_add(c, PSTAT_L3_IPV6, pkt);
		break;
	case PS_L3_ARP:
		pstat_add(c, PSTAT_L3_ARP, pkt);
		return;
	default:
		pstat_add(c, PSTAT_L3_OTHER, pkt);
		return;
	}

	pstat_add(c, pstat_l4_idx(pkt->l4), pkt);
	if (pkt->frag) {
		pstat_add(c, PSTAT_FRAG, pkt);
		if (pkt->frag == PS_FRAG_LATER)
			pstat_add(c, PSTAT_FRAG_LATER, pkt);
	}
	if (pkt->l4 == PS_L4_TCP)
		pstat_add(c, pstat_tcp_idx(pkt), pkt);

	/* ports only from a parsed header: not from a later fragment */
	if (pkt->l4_off && (pkt->l4 == PS_L4_TCP || pkt->l4 == PS_L4_UDP ||
			    pkt->l4 == PS_L4_SCTP))
		pstat_port(c, pc, pkt, cfg->sample_port);
}

static __always_inline enum ps_verdict pstat_decide(struct ps_hook *h,
						     struct ps_pkt *pkt)
{
	(void)h;
	pstat_count(pkt);
	return PS_PASS;
}

PS_HOOK(ps, pstat_decide)
