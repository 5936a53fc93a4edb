// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * anomaly: floods, scans, malformed packets and forged sources, detected at
 * the packet that crosses the line, and blocked there on request.  The
 * maps, the record and the order of the steps are the contract in
 * anomaly.h; this file follows it step by step.
 *
 * The clock is read once a packet, the coarse one (windows need no more);
 * the precise one only for an alert's timestamp.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <pktscope/bpf/hook.h>
#include "anomaly.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct an_config);
} AN_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct an_stats);
} AN_MAP_STATS SEC(".maps");

struct an_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AN_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, AN_WATCHERS_MAX);
	__type(key, __u32);
	__array(values, struct an_ring);
} AN_MAP_RINGS SEC(".maps");

/* mmap()able: a watch claims its slot and beats without a syscall */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct an_watchers);
} AN_MAP_WATCHERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_LOG_MAX);
	__type(key, __u32);
	__type(value, struct an_alert);
} AN_MAP_ALOG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct an_global);
} AN_MAP_GLOBAL SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_CMS_ROWS * AN_CMS_COLS);
	__type(key, __u32);
	__type(value, struct an_cell);
} AN_MAP_SKETCH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_CMS_ROWS * AN_CMS_COLS);
	__type(key, __u32);
	__type(value, struct an_pcell);
} AN_MAP_PSKETCH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_DSTS_MAX);
	__type(key, __u32);
	__type(value, struct an_dst);
} AN_MAP_DSTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_DSTS_MAX);
	__type(key, __u32);
	__type(value, struct an_pdst);
} AN_MAP_PDSTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct an_wins);
} AN_MAP_WINS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct an_rate);
} AN_MAP_IFACE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_DEDUP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} AN_MAP_DEDUP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AN_SCANS_MAX);
	__type(key, struct ps_addr_key);
	__type(value, struct an_scan);
} AN_MAP_SCANS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AN_OFFENDERS_MAX);
	__type(key, struct ps_addr_key);
	__type(value, struct an_offender);
} AN_MAP_OFFENDERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AN_BLOCKS_MAX);
	__type(key, struct ps_addr_key);
	__type(value, struct an_block);
} AN_MAP_BLOCKS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, AN_BPFX_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ps_lpm_key);
	__type(value, struct an_block);
} AN_MAP_BPFX SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, AN_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ps_lpm_key);
	__type(value, __u8);
} AN_MAP_ALLOW SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AN_SEEN_SLOTS);
	__type(key, __u32);
	__type(value, struct an_seen);
} AN_MAP_SEEN SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_TRACKED_SLOTS);
	__type(key, __u32);
	__type(value, struct an_tracked);
} AN_MAP_TRACKED SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_FIRST_SLOTS);
	__type(key, __u32);
	__type(value, struct an_first);
} AN_MAP_FIRST SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AN_SOCK_SLOTS);
	__type(key, __u32);
	__type(value, struct an_sockc);
} AN_MAP_SOCKS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AN_BCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct an_bcache);
} AN_MAP_BCACHE SEC(".maps");

/*
 * Where an alert or a new scan entry is put together: off the stack, which
 * the parser's frame shares (512 bytes in all).
 */
union an_scratch {
	struct an_alert alert;
	struct an_scan scan;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union an_scratch);
} AN_MAP_SCRATCH SEC(".maps");

#ifdef AN_BENCH
/*
 * Benchmark-only (bench/bench_anomaly.c, built with -DAN_BENCH): test_run
 * repeats one frame, so bench_new_src makes each packet's IPv4 source a
 * new one.  The production object contains none of this.
 */
const volatile __u32 bench_new_src = 0;
__u32 bench_seq = 0;
#endif

/* what one packet's steps share */
struct an_run {
	struct ps_hook *h;
	struct ps_pkt *pkt;
	struct an_config *cfg;
	struct an_stats *st;
	struct an_wins *wins;	/* this CPU's */
	__u64 now;		/* coarse (or the test clock) */
	__u32 win;		/* rate window number */
	__u8 own;		/* the source is one of our addresses */
	__u8 flood;		/* the destination is over its class's limit */
	__u8 drop;		/* this packet is to be dropped */
	__u8 pkts_det;		/* its protocol's packets detector (AN_F_PROTO) */
	__u8 bytes_det;		/* its protocol's bytes detector (AN_F_PROTO) */
	__u64 src_hash;		/* the source's key hash (an_rate_src) */
	__u64 dst_hash;		/* the destination's (an_rate_dst) */
};

/*
 * The window now is in, windows of len: this CPU's cache of the last one
 * it found, so that a division (tens of cycles) is made once a window, not
 * once a packet.  A clock that went back (the tests') finds it again.
 */
static __always_inline __u32 an_win_num(struct an_win *w, __u64 now,
					__u64 len)
{
	if (now - w->start >= len || w->len != len) {
		w->num = now / len;
		w->start = w->num * len;
		w->len = len;
	}
	return w->num;
}

/* ---- hashing: fasthash64's mixer; the seed is random per attach ---- */

static __always_inline __u64 an_mix(__u64 h)
{
	h ^= h >> 23;
	h *= 0x2127599bf4325c37ULL;
	h ^= h >> 47;
	return h;
}

static __always_inline __u64 an_hash(const __u8 *a, __u8 family, __u32 seed,
				     __u32 extra)
{
	const __u64 m = 0x880355f21e6d1965ULL;
	__u64 w0, w1, h;

	h = (seed ^ (16 * m)) ^ family ^ ((__u64)extra << 8);
	/*
	 * An IPv4 address fills the upper half of one word, the seed, family
	 * and extra (a reason: under 2^24) the lower; that word through
	 * murmur3's 64-bit finalizer (a bijection, every output bit depending
	 * on every input bit) is enough, at half the multiplications.
	 */
	if (family == PS_AF_INET) {
		__u32 v4;

		__builtin_memcpy(&v4, a, 4);
		h = (__u32)h ^ ((__u64)v4 << 32);
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
		h *= 0xc4ceb9fe1a85ec53ULL;
		return h ^ (h >> 33);
	}
	__builtin_memcpy(&w0, a, 8);
	__builtin_memcpy(&w1, a + 8, 8);
	h ^= an_mix(w0);
	h *= m;
	h ^= an_mix(w1);
	h *= m;
	return an_mix(h);
}

static __always_inline void an_key(struct ps_addr_key *k, const __u8 *addr,
				   __u8 family)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->addr, addr, 16);
	k->family = family;
}

/* ---- own addresses (in the config: a few compares, no lookup) ---- */

static __always_inline int an_is_own(const struct an_config *cfg,
				     const struct ps_pkt *pkt)
{
	if (pkt->family == PS_AF_INET) {
		__u32 a, n = cfg->n4;

		__builtin_memcpy(&a, pkt->saddr, 4);
		for (__u32 i = 0; i < AN_LOCAL_MAX; i++) {
			if (i >= n)
				break;
			if (cfg->local4[i] == a)
				return 1;
		}
	} else {
		__u64 a[2], b[2], n = cfg->n6;

		__builtin_memcpy(a, pkt->saddr, 16);
		for (__u32 i = 0; i < AN_LOCAL_MAX; i++) {
			if (i >= n)
				break;
			__builtin_memcpy(b, cfg->local6[i], 16);
			if (a[0] == b[0] && a[1] == b[1])
				return 1;
		}
	}
	return 0;
}

/* ---- step 4: martian sources ---- */

static __always_inline __u32 an_martian4(const struct an_run *r)
{
	const __u8 *s = r->pkt->saddr, *d = r->pkt->daddr;
	__u32 sa, da;

	__builtin_memcpy(&sa, s, 4);
	__builtin_memcpy(&da, d, 4);
	/* DHCP: 0.0.0.0 to 255.255.255.255 is how a client starts */
	if (s[0] == 0 && !(sa == 0 && da == 0xffffffff))
		return AN_R_MARTIAN_ZERONET;
	if (s[0] == 127 && !(r->cfg->flags & AN_F_LOOPBACK))
		return AN_R_MARTIAN_LOOPBACK;
	if (s[0] >= 224 && s[0] <= 239)
		return AN_R_MARTIAN_MULTICAST;
	if (sa == 0xffffffff)
		return AN_R_MARTIAN_BROADCAST;
	if (s[0] >= 240)
		return AN_R_MARTIAN_CLASS_E;
	if (sa == da)
		return AN_R_MARTIAN_LAND;
	return AN_R_NONE;
}

static __always_inline __u32 an_martian6(const struct an_run *r)
{
	__u64 s[2], d[2];
	const __u8 *b = r->pkt->saddr;

	__builtin_memcpy(s, r->pkt->saddr, 16);
	__builtin_memcpy(d, r->pkt->daddr, 16);
	if (s[0] == 0 && s[1] == bpf_cpu_to_be64(1) &&
	    !(r->cfg->flags & AN_F_LOOPBACK))
		return AN_R_MARTIAN_LOOPBACK6;
	if (b[0] == 0xff)
		return AN_R_MARTIAN_MULTICAST6;
	if (s[0] == 0 && b[8] == 0 && b[9] == 0 && b[10] == 0xff &&
	    b[11] == 0xff)
		return AN_R_MARTIAN_V4MAPPED;
	if (s[0] == d[0] && s[1] == d[1])
		return AN_R_MARTIAN_LAND;
	return AN_R_NONE;
}

static __always_inline __u32 an_martian(const struct an_run *r)
{
	__u32 why = r->pkt->family == PS_AF_INET ? an_martian4(r) :
						    an_martian6(r);

	if (why == AN_R_NONE && r->own)
		why = AN_R_MARTIAN_OWN_ADDRESS;
	return why;
}

/* ---- step 5: malformed packets ---- */

static __always_inline int an_load(struct ps_hook *h, __u32 off, void *buf,
				   __u32 len)
{
	if (h->xdp)
		return bpf_xdp_load_bytes(h->ctx, off, buf, len);
	return bpf_skb_load_bytes(h->ctx, off, buf, len);
}

/* the frame's bytes from the L3 header on */
static __always_inline __u32 an_l3_left(const struct ps_pkt *pkt)
{
	return pkt->len > pkt->l3_off ? pkt->len - pkt->l3_off : 0;
}

/* The parser said MALFORMED: which header, and why. */
static __always_inline __u32 an_why_malformed(struct ps_hook *h,
					      const struct ps_pkt *pkt)
{
	__u8 b = 0;

	if (pkt->l3 == PS_L3_IPV4 && !pkt->family) {
		if (an_load(h, pkt->l3_off, &b, 1))
			return AN_R_MALFORMED_OTHER;
		if (b >> 4 != 4)
			return AN_R_IPV4_WRONG_IP_VERSION;
		if ((b & 0xf) < 5)
			return AN_R_IPV4_HLEN_TOO_SMALL;
		return AN_R_IPV4_IPLEN_SMALLER_THAN_HLEN;
	}
	if (pkt->l3 == PS_L3_IPV6 && !pkt->family)
		return AN_R_IPV6_WRONG_IP_VERSION;
	if (pkt->l4 == PS_L4_TCP)
		return AN_R_TCP_HLEN_TOO_SMALL;
	if (pkt->l4 == PS_L4_GRE)
		return AN_R_GRE_WRONG_VERSION;
	if (pkt->l3 == PS_L3_IPV6 && pkt->l4 == PS_L4_NONE)
		return pkt->ext_count >= PS_MAX_EXTHDR ?
		       AN_R_IPV6_EXTHDR_TOO_MANY : AN_R_IPV6_EXTHDR_INVALID;
	return AN_R_MALFORMED_OTHER;
}

/* The parser said TRUNCATED: a header, or the IP payload, is cut short. */
static __always_inline __u32 an_why_truncated(const struct ps_pkt *pkt)
{
	if (pkt->l3 == PS_L3_NONE)
		return AN_R_VLAN_HEADER_TOO_SMALL;
	if (!pkt->family) {
		if (pkt->l3 == PS_L3_IPV4)
			return an_l3_left(pkt) < 20 ? AN_R_IPV4_PKT_TOO_SMALL :
						      AN_R_IPV4_TRUNC_PKT;
		return an_l3_left(pkt) < 40 ? AN_R_IPV6_PKT_TOO_SMALL :
					      AN_R_IPV6_TRUNC_PKT;
	}
	if (pkt->l4 == PS_L4_NONE)
		return AN_R_IPV6_TRUNC_EXTHDR;
	if (pkt->frag == PS_FRAG_FIRST)
		return pkt->family == PS_AF_INET ? AN_R_IPV4_FRAG_TOO_SMALL :
						   AN_R_IPV6_FRAG_TOO_SMALL;
	switch (pkt->l4) {
	case PS_L4_TCP:
		return AN_R_TCP_PKT_TOO_SMALL;
	case PS_L4_UDP:
		return AN_R_UDP_PKT_TOO_SMALL;
	case PS_L4_ICMP:
	case PS_L4_ICMPV6:
		return AN_R_ICMP_PKT_TOO_SMALL;
	case PS_L4_SCTP:
		return AN_R_SCTP_PKT_TOO_SMALL;
	case PS_L4_GRE:
		return AN_R_GRE_PKT_TOO_SMALL;
	}
	return AN_R_MALFORMED_OTHER;
}

/* flag sets no TCP stack sends (nmap's -sN, -sX, -sF and old tricks) */
static __always_inline __u32 an_why_flags(__u8 flags)
{
	__u8 f = flags & (PS_TCP_FIN | PS_TCP_SYN | PS_TCP_RST | PS_TCP_PSH |
			  PS_TCP_ACK | PS_TCP_URG);

	if (!f)
		return AN_R_TCP_FLAGS_NULL;
	if ((f & (PS_TCP_FIN | PS_TCP_PSH | PS_TCP_URG)) ==
	    (PS_TCP_FIN | PS_TCP_PSH | PS_TCP_URG))
		return AN_R_TCP_FLAGS_XMAS;
	if ((f & (PS_TCP_SYN | PS_TCP_FIN)) == (PS_TCP_SYN | PS_TCP_FIN))
		return AN_R_TCP_FLAGS_SYN_FIN;
	if ((f & (PS_TCP_SYN | PS_TCP_RST)) == (PS_TCP_SYN | PS_TCP_RST))
		return AN_R_TCP_FLAGS_SYN_RST;
	if ((f & (PS_TCP_FIN | PS_TCP_ACK)) == PS_TCP_FIN)
		return AN_R_TCP_FLAGS_FIN_NO_ACK;
	return AN_R_NONE;
}

/*
 * A 16-bit header field, network order, from the frame.  The parser read
 * both headers this is used on from the packet itself, so a direct read
 * finds them; the helper (a call, several times the cost) is the fallback
 * for an offset past PS_PULL_LEN.
 */
static __always_inline int an_hdr16(struct ps_hook *h, __u32 off, __u16 *v)
{
	void *data, *end;

	if (h->xdp) {
		struct xdp_md *x = h->ctx;

		data = (void *)(long)x->data;
		end = (void *)(long)x->data_end;
	} else {
		struct __sk_buff *skb = h->ctx;

		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	if (off <= PS_PULL_LEN && data + off + 2 <= end) {
		*v = *(__u16 *)(data + off);
		return 0;
	}
	return an_load(h, off, v, 2);
}

/*
 * The UDP length against the IP payload's.  Not for fragments (the UDP
 * length is the datagram's) nor for a GSO skb (one header for many).
 */
static __always_inline __u32 an_why_udp(struct ps_hook *h,
					const struct ps_pkt *pkt)
{
	struct __sk_buff *skb = ps_hook_skb(h);
	__u16 ulen, iplen;
	__u32 l3 = pkt->l3_off, l4 = pkt->l4_off, payload;

	if (pkt->frag != PS_FRAG_NONE || (skb && skb->gso_segs > 1))
		return AN_R_NONE;
	if (an_hdr16(h, l4 + 4, &ulen))
		return AN_R_NONE;
	if (an_hdr16(h, l3 + (pkt->family == PS_AF_INET ? 2 : 4), &iplen))
		return AN_R_NONE;
	ulen = bpf_ntohs(ulen);
	iplen = bpf_ntohs(iplen);
	/* what follows the UDP header's start, by the IP header */
	if (pkt->family == PS_AF_INET)
		payload = (__u32)iplen - (l4 - l3);
	else
		payload = (__u32)iplen - (l4 - l3 - 40);
	if (ulen < 8)
		return AN_R_UDP_HLEN_TOO_SMALL;
	if (ulen != payload)
		return AN_R_UDP_HLEN_INVALID;
	return AN_R_NONE;
}

static __always_inline __u32 an_malformed(struct ps_hook *h,
					  const struct ps_pkt *pkt)
{
	if (pkt->status == PS_PKT_MALFORMED)
		return an_why_malformed(h, pkt);
	if (pkt->status == PS_PKT_TRUNCATED)
		return an_why_truncated(pkt);
	if (!pkt->l4_off)
		return AN_R_NONE;
	if (pkt->l4 == PS_L4_TCP)
		return an_why_flags(pkt->tcp_flags);
	if (pkt->l4 == PS_L4_UDP)
		return an_why_udp(h, pkt);
	return AN_R_NONE;
}

/* ---- alerts ---- */

struct an_hit {
	__u64 key;		/* the key's hash: dedup slot */
	__u64 count;
	__u64 limit;
	__u64 window_ns;
	__u32 win;		/* the window the count is in */
	__u8 det, scope, reason;
};

/* 1 if this is the first alert of the key in the window */
static __always_inline int an_dedup(struct an_run *r, const struct an_hit *a,
				    __u8 *repeat)
{
	__u32 idx = ((__u32)a->det * AN_SCOPES + a->scope) * AN_DEDUP_PER +
		    (__u32)(a->key & (AN_DEDUP_PER - 1));
	__u64 *slot = bpf_map_lookup_elem(&dedup, &idx), old;

	if (!slot)
		return 0;
	old = *slot;
	/* the slot holds window + 1: 0 is "never" */
	if (old == (__u64)a->win + 1 ||
	    __sync_val_compare_and_swap(slot, old, (__u64)a->win + 1) != old) {
		r->st->deduped++;
		return 0;
	}
	*repeat = old && old == a->win;
	return 1;
}

/* at most alert_max alerts a rate window, every detector together */
static __always_inline int an_under_cap(struct an_run *r, struct an_global *g)
{
	__u64 w = g->alert_win;

	if (!r->cfg->alert_max)
		return 1;
	if (w != r->win &&
	    __sync_val_compare_and_swap(&g->alert_win, w, r->win) == w)
		g->alert_count = 0;
	if (__sync_fetch_and_add(&g->alert_count, 1) >= r->cfg->alert_max) {
		r->st->alerts_capped++;
		return 0;
	}
	return 1;
}

/* block the packet's source; its expiry, or 0 when not blocked */
static __always_inline __u64 an_block(struct an_run *r, __u8 det)
{
	struct an_block b = {
		.until_ns = r->now + r->cfg->block_ns,
		.detector = det,
	};
	struct ps_addr_key k;

	if (r->own) {
		r->st->own_protected++;
		return 0;
	}
	an_key(&k, r->pkt->saddr, r->pkt->family);
	if (bpf_map_update_elem(&blocks, &k, &b, BPF_ANY)) {
		r->st->block_full++;
		return 0;
	}
	return b.until_ns;
}

static __always_inline void an_offender(struct an_run *r,
					const struct an_alert *e)
{
	struct an_offender *o, no = {
		.last_ns = e->ts_ns,
		.count = e->count,
		.alerts = 1,
		.detector = e->detector,
	};
	struct ps_addr_key k;

	an_key(&k, r->pkt->saddr, r->pkt->family);
	o = bpf_map_lookup_elem(&offenders, &k);
	if (!o) {
		bpf_map_update_elem(&offenders, &k, &no, BPF_ANY);
		return;
	}
	o->last_ns = e->ts_ns;
	o->count = e->count;
	o->detector = e->detector;
	__sync_fetch_and_add(&o->alerts, 1);
}

/*
 * An alert to every watch that polled lately: a subprogram verified once,
 * not at each of the alert's inlined call sites.  The alerts lost (a full
 * ring), or -1 if e is not given.
 */
__noinline int an_fanout(struct an_alert *e, __u64 now)
{
	struct an_watchers *w;
	__u32 zero = 0;
	int lost = 0;

	w = bpf_map_lookup_elem(&watchers, &zero);
	if (!e || !w)
		return -1;
	for (__u32 i = 0; i < AN_WATCHERS_MAX; i++) {
		__u64 beat = *(volatile __u64 *)&w->w[i].beat_ns;
		void *ring;

		if (!beat)
			continue;
		/* a beat is at most a poll old; one from just after now is fresh */
		if ((__s64)(now - beat) > (__s64)AN_WATCH_TIMEOUT_NS) {
			__sync_fetch_and_add(&w->w[i].missed, 1);
			continue;
		}
		ring = bpf_map_lookup_elem(&rings, &i);
		if (ring && bpf_ringbuf_output(ring, e, sizeof(*e), 0))
			lost++;
	}
	return lost;
}

static __always_inline void an_alert(struct an_run *r, struct an_hit *a)
{
	struct ps_pkt *pkt = r->pkt;
	struct an_global *g;
	union an_scratch *sc;
	struct an_alert *e, *slot;
	__u32 zero = 0, idx;
	__u64 now;
	__u8 repeat = 0;
	int lost;

	if (!an_dedup(r, a, &repeat))
		return;
	g = bpf_map_lookup_elem(&global, &zero);
	if (!g || !an_under_cap(r, g))
		return;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return;
	e = &sc->alert;
	__builtin_memset(e, 0, sizeof(*e));
	/* the precise clock only here, at the packet that crossed */
	now = ps_hook_now(r->h);
	e->ts_ns = r->cfg->clock_ns ? r->cfg->clock_ns : now;
	e->count = a->count;
	e->threshold = a->limit;
	e->window_ns = a->window_ns;
	__builtin_memcpy(e->saddr, pkt->saddr, 16);
	__builtin_memcpy(e->daddr, pkt->daddr, 16);
	e->ifindex = r->h->ifindex;
	e->dport = pkt->dport;
	e->family = pkt->family;
	e->proto = pkt->ip_proto;
	e->detector = a->det;
	e->scope = a->scope;
	e->reason = a->reason;
	e->repeat = repeat;
	e->tcp_flags = pkt->tcp_flags;
	if (r->cfg->flags & AN_F_BLOCK) {
		if (a->det == AN_DET_MALFORMED || a->det == AN_DET_MARTIAN) {
			e->action = AN_ACT_DROP;
		} else if (a->scope == AN_SCOPE_SRC) {
			e->block_until_ns = an_block(r, a->det);
			if (e->block_until_ns)
				e->action = AN_ACT_BLOCK;
		}
	}
	if (a->det < AN_DET_MAX)
		r->st->alerts[a->det]++;
	lost = an_fanout(e, now);
	if (lost > 0)
		r->st->ring_lost += lost;
	idx = __sync_fetch_and_add(&g->alog_head, 1) % AN_LOG_MAX;
	slot = bpf_map_lookup_elem(&alog, &idx);
	if (slot)
		__builtin_memcpy(slot, e, sizeof(*e));
	if (a->scope == AN_SCOPE_SRC && a->det < AN_DET_MALFORMED)
		an_offender(r, e);
}

/* an alert of a packet-class detector (martian, malformed): once a window */
static __always_inline void an_class_alert(struct an_run *r, __u8 det,
					   __u32 reason)
{
	struct an_hit a = {
		.count = 1,
		.limit = 1,
		.window_ns = r->cfg->window_ns,
		.win = r->win,
		.det = det,
		.scope = AN_SCOPE_SRC,
		.reason = reason,
	};

	if (reason < AN_R_MAX)
		r->st->reasons[reason]++;
	a.key = an_hash(r->pkt->saddr, r->pkt->family, r->cfg->seed, reason);
	an_alert(r, &a);
	if (r->cfg->flags & AN_F_BLOCK) {
		r->drop = 1;
		if (det < AN_DET_MAX)
			r->st->drops[det]++;
	}
}

/* ---- step 6: rates ---- */

/* the detector of a packet's own class, or AN_RATE_N for none */
static __always_inline __u32 an_class(const struct ps_pkt *pkt)
{
	if (pkt->l4 == PS_L4_TCP && pkt->l4_off &&
	    (pkt->tcp_flags & (PS_TCP_SYN | PS_TCP_ACK)) == PS_TCP_SYN)
		return AN_DET_SYN_FLOOD;
	if (pkt->l4 == PS_L4_UDP)
		return AN_DET_UDP_FLOOD;
	if (pkt->l4 == PS_L4_ICMP || pkt->l4 == PS_L4_ICMPV6)
		return AN_DET_ICMP_FLOOD;
	return AN_RATE_N;
}

/*
 * The per-protocol packets and bytes detectors a packet counts in, only
 * while one of their limits is set (AN_F_PROTO); AN_RATE_N for none.  UDP
 * and ICMP packets already count in their class's detector.  A table, not
 * a branch per protocol: the verifier then sees one bounded index instead
 * of a path per protocol through the rest of the program.
 */
const volatile __u8 an_proto_dets[8][2] = {
	[PS_L4_NONE] = { AN_RATE_N, AN_RATE_N },
	[PS_L4_TCP] = { AN_DET_TCP_FLOOD, AN_DET_TCP_BPS },
	[PS_L4_UDP] = { AN_RATE_N, AN_DET_UDP_BPS },
	[PS_L4_ICMP] = { AN_RATE_N, AN_DET_ICMP_BPS },
	[PS_L4_ICMPV6] = { AN_RATE_N, AN_DET_ICMP_BPS },
	[PS_L4_SCTP] = { AN_RATE_N, AN_RATE_N },
	[PS_L4_GRE] = { AN_RATE_N, AN_RATE_N },
	[PS_L4_OTHER] = { AN_RATE_N, AN_RATE_N },
};

static __always_inline void an_proto(struct an_run *r)
{
	__u32 l4 = r->pkt->l4 & 7;

	if (!(r->cfg->flags & AN_F_PROTO)) {
		r->pkts_det = r->bytes_det = AN_RATE_N;
		return;
	}
	r->pkts_det = an_proto_dets[l4][0];
	r->bytes_det = an_proto_dets[l4][1];
}

/* an alert if a count of add that ended at cnt crossed the limit */
static __always_inline void an_check(struct an_run *r, struct an_hit *a,
				     __u64 cnt, __u64 add)
{
	__u64 limit;

	if (a->det >= AN_RATE_N)
		return;
	limit = r->cfg->limit[a->det][a->scope & 1];
	if (!limit || cnt < limit || cnt - add >= limit)
		return;
	a->count = cnt;
	a->limit = limit;
	an_alert(r, a);
}

/* step 8: the window's count reaching spike_factor x the baseline */
static __always_inline void an_spike(struct an_run *r, struct an_hit *a,
				     __u64 base, __u64 cnt)
{
	__u64 limit;

	if (!r->cfg->spike_factor || !base)
		return;
	limit = base * r->cfg->spike_factor;
	if (limit < r->cfg->spike_min[a->scope % AN_SCOPES])
		limit = r->cfg->spike_min[a->scope % AN_SCOPES];
	if (cnt != limit)
		return;
	a->det = AN_DET_SPIKE;
	a->count = cnt;
	a->limit = limit;
	an_alert(r, a);
}

/* the baseline after the window last of a key's count ended, w windows on */
static __always_inline __u64 an_base(__u64 base, __u64 last, __u64 w)
{
	/* each window of a gap halves it (the one that ended is not in it) */
	if (w != 1)
		return w <= 64 ? base >> (w - 1) : 0;
	return base ? (base * 7 + last) / 8 : last;
}

_Static_assert(AN_PROTO_N == 4, "a per-protocol index is masked with 3");

/* a per-protocol detector's index in an_pcell and an_pdst counts */
static __always_inline __u32 an_pidx(__u32 det)
{
	return (det - AN_DET_FIRST_PROTO) & (AN_PROTO_N - 1);
}

/* the per-protocol counts of a source (AN_F_PROTO), in its psketch cells */
static __always_inline void an_rate_src_proto(struct an_run *r,
					      struct an_hit *a, __u32 h1,
					      __u32 h2, __u32 pp, __u32 pb)
{
	__u32 mpp = ~0U, mpb = ~0U, len = r->pkt->len;

#pragma unroll
	for (__u32 i = 0; i < AN_CMS_ROWS; i++) {
		__u32 idx = i * AN_CMS_COLS + ((h1 + i * h2) & (AN_CMS_COLS - 1));
		struct an_pcell *c = bpf_map_lookup_elem(&psketch, &idx);
		__u32 v;

		if (!c)
			return;
		if (c->win != r->win) {
			c->win = r->win;
#pragma unroll
			for (__u32 d = 0; d < AN_PROTO_N; d++)
				c->cnt[d] = 0;
		}
		if (pp < AN_RATE_N) {
			v = ++c->cnt[an_pidx(pp)];
			mpp = v < mpp ? v : mpp;
		}
		if (pb < AN_RATE_N) {
			v = c->cnt[an_pidx(pb)] += len;
			mpb = v < mpb ? v : mpb;
		}
	}
	if (pp < AN_RATE_N) {
		a->det = pp;
		an_check(r, a, mpp, 1);
	}
	if (pb < AN_RATE_N) {
		a->det = pb;
		an_check(r, a, mpb, len);
	}
}

static __always_inline void an_rate_src(struct an_run *r, __u32 cls)
{
	struct ps_pkt *pkt = r->pkt;
	/* computed by the block check, when there was one */
	__u64 h = r->src_hash ? r->src_hash :
		  an_hash(pkt->saddr, pkt->family, r->cfg->seed, 0);
	__u32 h1 = (r->src_hash = h), h2 = (__u32)(h >> 32) | 1, len = pkt->len;
	__u32 mp = ~0U, mb = ~0U, mc = ~0U, mbase = ~0U;
	struct an_hit a = {
		.key = h,
		.window_ns = r->cfg->window_ns,
		.win = r->win,
		.scope = AN_SCOPE_SRC,
	};

#pragma unroll
	for (__u32 i = 0; i < AN_CMS_ROWS; i++) {
		__u32 idx = i * AN_CMS_COLS + ((h1 + i * h2) & (AN_CMS_COLS - 1));
		struct an_cell *c = bpf_map_lookup_elem(&sketch, &idx);
		__u32 v;

		if (!c)
			return;
		if (c->win != r->win) {
			c->base = an_base(c->base, c->cnt[AN_DET_PPS],
					  r->win - c->win);
			c->win = r->win;
#pragma unroll
			for (__u32 d = 0; d < AN_DET_FIRST_PROTO; d++)
				c->cnt[d] = 0;
		}
		mbase = c->base < mbase ? c->base : mbase;
		v = ++c->cnt[AN_DET_PPS];
		mp = v < mp ? v : mp;
		v = c->cnt[AN_DET_BPS] += len;
		mb = v < mb ? v : mb;
		if (cls < AN_DET_PPS) {
			v = ++c->cnt[cls];
			mc = v < mc ? v : mc;
		}
	}
	a.det = AN_DET_PPS;
	an_check(r, &a, mp, 1);
	an_spike(r, &a, mbase, mp);
	a.det = AN_DET_BPS;
	an_check(r, &a, mb, len);
	if (cls < AN_DET_PPS) {
		a.det = cls;
		an_check(r, &a, mc, 1);
	}
	if (r->pkts_det < AN_RATE_N || r->bytes_det < AN_RATE_N)
		an_rate_src_proto(r, &a, h1, h2, r->pkts_det, r->bytes_det);
}

/* a slot's destination is gone: nothing in this window nor the last */
static __always_inline int an_dst_stale(const struct an_dst *d, __u32 win)
{
	return !d->tag || d->win + 1 < win;
}

/* the two slots a tag may be in: a pair, so a collision has a second */
static __always_inline __u32 an_dst_idx(__u64 tag, __u32 i)
{
	return ((__u32)tag & (AN_DSTS_MAX - 1)) ^ i;
}

/* the destination's slot, its index in *idx */
static __always_inline struct an_dst *an_dst_get(struct an_run *r, __u64 tag,
						 __u32 *idx)
{
	__u32 i0 = an_dst_idx(tag, 0), i1 = an_dst_idx(tag, 1);
	struct an_dst *d0 = bpf_map_lookup_elem(&dsts, &i0), *d1, *d;
	__u64 old;

	if (!d0)
		return NULL;
	*idx = i0;
	if (d0->tag == tag)
		return d0;
	d1 = bpf_map_lookup_elem(&dsts, &i1);
	if (!d1)
		return NULL;
	*idx = i1;
	if (d1->tag == tag)
		return d1;
	d = an_dst_stale(d0, r->win) ? d0 :
	    an_dst_stale(d1, r->win) ? d1 : NULL;
	if (!d) {
		r->st->dst_full++;
		return NULL;
	}
	*idx = d == d0 ? i0 : i1;
	/* claimed by one CPU; another that lost counts in the winner's */
	old = d->tag;
	if (__sync_val_compare_and_swap(&d->tag, old, tag) != old)
		return d->tag == tag ? d : NULL;
	d->win = r->win;
#pragma unroll
	for (__u32 i = 0; i < AN_DET_FIRST_PROTO; i++)
		d->cnt[i] = 0;
	d->base = 0;
	return d;
}

/*
 * The per-protocol counts of the destination in slot idx (AN_F_PROTO):
 * plain adds, as its other counts; a slot another tag or window left is
 * counted from zero.
 */
static __always_inline void an_rate_dst_proto(struct an_run *r,
					      struct an_hit *a, __u32 idx,
					      __u64 tag, __u32 pp, __u32 pb)
{
	struct an_pdst *d = bpf_map_lookup_elem(&pdsts, &idx);
	__u64 len = r->pkt->len, n;

	if (!d)
		return;
	if (d->tag != tag || d->win != r->win) {
		d->tag = tag;
		d->win = r->win;
#pragma unroll
		for (__u32 i = 0; i < AN_PROTO_N; i++)
			d->cnt[i] = 0;
	}
	if (pp < AN_RATE_N) {
		n = d->cnt[an_pidx(pp)] + 1;
		d->cnt[an_pidx(pp)] = n;
		a->det = pp;
		an_check(r, a, n, 1);
	}
	if (pb < AN_RATE_N) {
		n = d->cnt[an_pidx(pb)] + len;
		d->cnt[an_pidx(pb)] = n;
		a->det = pb;
		an_check(r, a, n, len);
	}
}

static __always_inline void an_rate_dst(struct an_run *r, __u32 cls)
{
	struct ps_pkt *pkt = r->pkt;
	struct an_hit a = {
		.window_ns = r->cfg->window_ns,
		.win = r->win,
		.scope = AN_SCOPE_DST,
	};
	struct an_dst *d;
	__u64 w, len = pkt->len, n, tag;
	__u32 idx = 0;

	a.key = r->dst_hash = an_hash(pkt->daddr, pkt->family, r->cfg->seed, 0);
	/* the tag is the key's hash, never 0 (an empty slot) */
	tag = a.key | 1;
	d = an_dst_get(r, tag, &idx);
	if (!d)
		return;
	w = d->win;
	if (w != r->win &&
	    __sync_val_compare_and_swap(&d->win, w, r->win) == w) {
		/* the window that ended into the baseline */
		d->base = an_base(d->base, d->cnt[AN_DET_PPS], r->win - w);
#pragma unroll
		for (__u32 i = 0; i < AN_DET_FIRST_PROTO; i++)
			d->cnt[i] = 0;
	}
	/*
	 * Plain adds, no atomics (see anomaly.h): each count is written as
	 * a count read plus this packet's, so the first to reach a limit
	 * crosses it here; a lost add only makes the count lag.
	 */
	a.det = AN_DET_PPS;
	n = d->cnt[AN_DET_PPS] + 1;
	d->cnt[AN_DET_PPS] = n;
	an_check(r, &a, n, 1);
	an_spike(r, &a, d->base, n);
	a.det = AN_DET_BPS;
	n = d->cnt[AN_DET_BPS] + len;
	d->cnt[AN_DET_BPS] = n;
	an_check(r, &a, n, len);
	if (cls < AN_DET_PPS) {
		n = d->cnt[cls] + 1;
		d->cnt[cls] = n;
		a.det = cls;
		an_check(r, &a, n, 1);
		if (r->cfg->limit[cls][AN_SCOPE_DST] &&
		    n > r->cfg->limit[cls][AN_SCOPE_DST])
			r->flood = 1;
	}
	if (r->pkts_det < AN_RATE_N || r->bytes_det < AN_RATE_N)
		an_rate_dst_proto(r, &a, idx, tag, r->pkts_det, r->bytes_det);
}

/* the interface's packets: a spike only (a plain add, as a destination's) */
static __always_inline void an_rate_if(struct an_run *r)
{
	struct an_hit a = {
		.window_ns = r->cfg->window_ns,
		.win = r->win,
		.scope = AN_SCOPE_IF,
	};
	__u32 zero = 0;
	struct an_rate *c;
	__u64 w, n;

	if (!r->cfg->spike_factor)
		return;
	c = bpf_map_lookup_elem(&iface, &zero);
	if (!c)
		return;
	w = c->win;
	if (w != r->win &&
	    __sync_val_compare_and_swap(&c->win, w, r->win) == w) {
		c->base = an_base(c->base, c->cnt, r->win - w);
		c->cnt = 0;
	}
	n = c->cnt + 1;
	c->cnt = n;
	a.key = r->h->ifindex;
	an_spike(r, &a, c->base, n);
}

/* ---- step 7: port scans ---- */

/* a (protocol, port) mixed into a source's or destination's hash for a slot */
static __always_inline __u64 an_port_mix(const struct ps_pkt *pkt)
{
	return ((__u64)pkt->ip_proto << 16 | pkt->dport) *
	       0x9e3779b97f4a7c15ULL;
}

/* the kernel's socket lookup: 1 when a socket takes the packet */
static __always_inline int an_sock_lookup(struct an_run *r, int tcp,
					  __u8 *any)
{
	struct ps_pkt *pkt = r->pkt;
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 size;

	if (pkt->family == PS_AF_INET) {
		__builtin_memcpy(&t.ipv4.saddr, pkt->saddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, pkt->daddr, 4);
		t.ipv4.sport = bpf_htons(pkt->sport);
		t.ipv4.dport = bpf_htons(pkt->dport);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, pkt->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, pkt->daddr, 16);
		t.ipv6.sport = bpf_htons(pkt->sport);
		t.ipv6.dport = bpf_htons(pkt->dport);
		size = sizeof(t.ipv6);
	}
	r->st->lookups++;
	if (tcp)
		sk = bpf_skc_lookup_tcp(r->h->ctx, &t, size,
					BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(r->h->ctx, &t, size,
				       BPF_F_CURRENT_NETNS, 0);
	*any = 1;
	if (!sk)
		return 0;
	/* a connection or a connected socket answers for its peer only */
	*any = tcp ? sk->state == BPF_TCP_LISTEN : !sk->dst_port;
	bpf_sk_release(sk);
	return 1;
}

/*
 * Whether a socket takes the packet: a listener, a connection, a UDP
 * bind.  This CPU's socks slot of the (protocol, destination, port) keeps
 * a judgement that holds for every source for AN_SOCK_TTL_NS: a flood of
 * new sources to one port costs one lookup a slot and TTL, not a packet.
 */
static __always_inline int an_sock_open(struct an_run *r, int tcp)
{
	struct ps_pkt *pkt = r->pkt;
	__u32 idx = (__u32)((r->dst_hash ^ an_port_mix(pkt)) >> 32) &
		    (AN_SOCK_SLOTS - 1);
	struct an_sockc *c;
	__u64 a[2], b[2];
	__u8 any;
	int open;

	c = bpf_map_lookup_elem(&socks, &idx);
	__builtin_memcpy(a, pkt->daddr, 16);
	if (c) {
		__builtin_memcpy(b, c->addr, 16);
		if (a[0] == b[0] && a[1] == b[1] && c->port == pkt->dport &&
		    c->proto == pkt->ip_proto && c->family == pkt->family &&
		    (__s64)(c->until_ns - r->now) > 0) {
			r->st->lookups_cached++;
			return c->open;
		}
	}
	open = an_sock_lookup(r, tcp, &any);
	if (c && any) {
		__builtin_memcpy(c->addr, a, 16);
		c->port = pkt->dport;
		c->proto = pkt->ip_proto;
		c->family = pkt->family;
		c->open = open;
		c->until_ns = r->now + AN_SOCK_TTL_NS;
	}
	return open;
}

static __always_inline struct an_scan *an_scan_get(struct ps_addr_key *k,
						   __u32 swin)
{
	struct an_scan *s = bpf_map_lookup_elem(&scans, k);
	union an_scratch *sc;
	__u32 zero = 0;

	if (s)
		return s;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return NULL;
	__builtin_memset(&sc->scan, 0, sizeof(sc->scan));
	sc->scan.win = swin;
	bpf_map_update_elem(&scans, k, &sc->scan, BPF_NOEXIST);
	return bpf_map_lookup_elem(&scans, k);
}

/* the port's bit in a scan entry: ports equal modulo 1024 share one */
static __always_inline __u64 *an_scan_word(struct an_scan *s, __u16 port,
					   __u64 *mask)
{
	__u32 bit = port & (AN_SCAN_BITS - 1);

	*mask = 1ULL << (bit & 63);
	return &s->bits[(bit >> 6) & (AN_SCAN_BITS / 64 - 1)];
}

static __always_inline void an_seen_set(struct an_seen *slot, __u64 h,
					__u32 swin)
{
	slot->tag = (__u32)(h >> 32) | 1;
	slot->swin = swin + 1;
}

static __always_inline struct an_tracked *an_tracked_slot(__u64 h,
							  __u64 *bit)
{
	__u32 idx = (__u32)(h >> 38) & (AN_TRACKED_SLOTS - 1);

	*bit = 1ULL << ((h >> 32) & 63);
	return bpf_map_lookup_elem(&tracked, &idx);
}

static __always_inline int an_tracked_is(__u64 h, __u32 swin)
{
	__u64 bit;
	struct an_tracked *t = an_tracked_slot(h, &bit);

	/* no slot: say yes, and the hash lookup decides */
	return !t || (t->swin == (__u64)swin + 1 && (t->bits & bit));
}

/* the slot's bits are of one window: the first of the next clears them */
static __always_inline void an_tracked_set(__u64 h, __u32 swin)
{
	__u64 bit, w = (__u64)swin + 1;
	struct an_tracked *t = an_tracked_slot(h, &bit);

	if (!t)
		return;
	if (t->swin != w) {
		t->bits = 0;
		t->swin = w;
	}
	if (!(t->bits & bit))
		__sync_fetch_and_or(&t->bits, bit);
}

/* the tag of a source's first slot in scan window swin */
static __always_inline __u32 an_first_tag(__u64 h, __u32 swin)
{
	return ((__u32)(h >> 32) ^ (swin * 0x9e3779b1U)) | 1;
}

/* the source's first-port slot; *key its word when it holds the source's */
static __always_inline struct an_first *an_first_slot(__u64 h, __u32 swin,
						      __u64 *key)
{
	__u32 idx = (__u32)(h >> 16) & (AN_FIRST_SLOTS - 1);
	struct an_first *f = bpf_map_lookup_elem(&first, &idx);
	__u64 k = f ? *(volatile __u64 *)&f->key : 0;

	*key = (__u32)(k >> 32) == an_first_tag(h, swin) ? k : 0;
	return f;
}

/* a closed port into a scan entry; the alert at the scan_ports-th */
static __always_inline void an_scan_mark(struct an_run *r, struct an_scan *s,
					 __u16 port, __u32 swin, __u64 sw)
{
	__u64 mask, old, *word;
	__u32 n;

	/* ports equal modulo 1024 count once: a scan may count low, never high */
	word = an_scan_word(s, port, &mask);
	old = __sync_fetch_and_or(word, mask);
	if (old & mask)
		return;
	n = __sync_fetch_and_add(&s->ports, 1) + 1;
	if (n != r->cfg->scan_ports)
		return;
	struct an_hit a = {
		.key = r->src_hash,
		.count = n,
		.limit = n,
		.window_ns = sw,
		.win = swin,
		.det = AN_DET_PORT_SCAN,
		.scope = AN_SCOPE_SRC,
	};
	an_alert(r, &a);
}

static __always_inline void an_scan(struct an_run *r, __u32 cls)
{
	struct ps_pkt *pkt = r->pkt;
	__u64 sw = r->cfg->scan_window_ns ? r->cfg->scan_window_ns :
					    AN_NSEC_PER_SEC;
	__u32 swin, idx;
	__u64 mask, h;
	struct ps_addr_key k;
	struct an_scan *s = NULL;
	struct an_seen *seen_slot;
	struct an_first *f;
	int tcp = pkt->l4 == PS_L4_TCP, tracked, held;
	__u64 fkey;
	__u16 fport;

	if (r->cfg->flags & AN_F_NO_SCAN || r->own || !pkt->l4_off ||
	    pkt->frag != PS_FRAG_NONE)
		return;
	/* a SYN or a datagram: the class step 6 counted it in */
	if (cls != AN_DET_SYN_FLOOD && cls != AN_DET_UDP_FLOOD)
		return;
	swin = an_win_num(&r->wins->scan, r->now, sw);
	/*
	 * What this CPU judged in this window is not judged again: a known
	 * source's SYNs or datagrams to one port cost an array slot, not a
	 * hash lookup and a socket lookup each.
	 */
	h = r->src_hash ^ an_port_mix(pkt);
	idx = (__u32)h & (AN_SEEN_SLOTS - 1);
	seen_slot = bpf_map_lookup_elem(&seen, &idx);
	if (!seen_slot)
		return;
	if (seen_slot->tag == ((__u32)(h >> 32) | 1) &&
	    seen_slot->swin == swin + 1)
		return;
	/*
	 * A source with a scan entry used in this window has its tracked
	 * bit; one with a first closed port only, its first slot.  Neither:
	 * no entry to look up, and in a flood none is made.
	 */
	tracked = an_tracked_is(r->src_hash, swin);
	f = an_first_slot(r->src_hash, swin, &fkey);
	held = fkey != 0;
	if (r->flood && !tracked && !held) {
		r->st->scan_untracked++;
		return;
	}
	if (tracked) {
		an_key(&k, pkt->saddr, pkt->family);
		/* a port this source already tried in this window counts no more */
		s = bpf_map_lookup_elem(&scans, &k);
		if (s && s->win == swin &&
		    (*an_scan_word(s, pkt->dport, &mask) & mask)) {
			an_seen_set(seen_slot, h, swin);
			an_tracked_set(r->src_hash, swin);
			return;
		}
		if (!s && r->flood && !held) {
			r->st->scan_untracked++;
			return;
		}
	}
	fport = (__u16)fkey;
	if (held && !((fport ^ pkt->dport) & (AN_SCAN_BITS - 1))) {
		an_seen_set(seen_slot, h, swin);
		return;
	}
	if (an_sock_open(r, tcp)) {
		an_seen_set(seen_slot, h, swin);
		return;
	}
	if (!s) {
		/*
		 * A source's first closed port waits in its first slot: one
		 * that tries no second port (a forged source) makes no scan
		 * entry, so a flood of them evicts no scanner's.
		 */
		if (!held && f && r->cfg->scan_ports > 1) {
			*(volatile __u64 *)&f->key =
				(__u64)an_first_tag(r->src_hash, swin) << 32 |
				pkt->dport;
			an_seen_set(seen_slot, h, swin);
			return;
		}
		if (!tracked)
			an_key(&k, pkt->saddr, pkt->family);
		s = an_scan_get(&k, swin);
		if (!s)
			return;
		if (held && f)
			f->key = 0;	/* the entry has it now */
	}
	an_seen_set(seen_slot, h, swin);
	an_tracked_set(r->src_hash, swin);
	if (s->win != swin) {
		s->win = swin;
		s->ports = 0;
#pragma unroll
		for (int i = 0; i < AN_SCAN_BITS / 64; i++)
			s->bits[i] = 0;
	}
	if (held)
		an_scan_mark(r, s, fport, swin, sw);
	an_scan_mark(r, s, pkt->dport, swin, sw);
}

/* ---- steps 2 and 3 ---- */

static __always_inline int an_allowed(const struct ps_pkt *pkt)
{
	struct ps_lpm_key k = {
		.prefixlen = PS_LPM_KEY_FULL,
		.family = pkt->family,
	};

	__builtin_memcpy(k.addr, pkt->saddr, 16);
	return bpf_map_lookup_elem(&allow, &k) != NULL;
}

/* a live block's drop; plain adds: see struct an_block */
static __always_inline int an_block_drop(struct an_run *r, struct an_block *b)
{
	b->drops++;
	b->bytes += r->pkt->len;
	r->st->block_drops++;
	if (b->detector < AN_DET_MAX)
		r->st->drops[b->detector]++;
	return 1;
}

/*
 * The longest blocked prefix holding the source.  An expired one is
 * deleted (its length is in the entry: the key is the source's address
 * at that length) and the next shorter one tried, up to AN_BPFX_TRIES.
 */
#define AN_BPFX_TRIES	4

static __always_inline int an_blocked_prefix(struct an_run *r)
{
	struct ps_lpm_key k = { .family = r->pkt->family };
	struct an_block *b;

	__builtin_memcpy(k.addr, r->pkt->saddr, 16);
	for (int i = 0; i < AN_BPFX_TRIES; i++) {
		k.prefixlen = 8 + 128;
		b = bpf_map_lookup_elem(&bpfx, &k);
		if (!b)
			return 0;
		if ((__s64)(b->until_ns - r->now) > 0) {
			/* never one of the host's own addresses */
			if (an_is_own(r->cfg, r->pkt))
				return 0;
			return an_block_drop(r, b);
		}
		k.prefixlen = 8 + b->plen;
		bpf_map_delete_elem(&bpfx, &k);
		r->st->block_expired++;
	}
	return 0;
}

static __always_inline int an_bcache_is(const struct an_bcache *c,
					const struct ps_pkt *pkt)
{
	__u64 a[2], b[2];

	__builtin_memcpy(a, c->addr, 16);
	__builtin_memcpy(b, pkt->saddr, 16);
	return a[0] == b[0] && a[1] == b[1] && c->family == pkt->family;
}

/* a slot's counts to its block, if that block is still the one it was */
static __always_inline void an_bcache_flush(struct an_bcache *c)
{
	struct ps_addr_key k;
	struct an_block *b;

	if (!c->gen || !c->drops)
		return;
	an_key(&k, c->addr, c->family);
	b = bpf_map_lookup_elem(&blocks, &k);
	if (b && b->until_ns == c->until_ns) {
		__sync_fetch_and_add(&b->drops, c->drops);
		__sync_fetch_and_add(&b->bytes, c->bytes);
	}
	c->drops = c->bytes = 0;
}

/* a hit: this CPU dropped the source before, and nothing changed since */
static __always_inline int an_bcache_hit(struct an_run *r,
					 struct an_bcache *c)
{
	if (c->gen != r->cfg->block_gen + 1 || !an_bcache_is(c, r->pkt) ||
	    (__s64)(c->until_ns - r->now) <= 0)
		return 0;
	c->drops++;
	c->bytes += r->pkt->len;
	r->st->block_drops++;
	if (c->detector < AN_DET_MAX)
		r->st->drops[c->detector]++;
	return 1;
}

static __always_inline void an_bcache_fill(struct an_run *r,
					   struct an_bcache *c,
					   const struct an_block *b)
{
	if (c->gen && !an_bcache_is(c, r->pkt))
		an_bcache_flush(c);
	else if (c->gen && c->until_ns != b->until_ns)
		c->drops = c->bytes = 0;	/* a block no more */
	__builtin_memcpy(c->addr, r->pkt->saddr, 16);
	c->family = r->pkt->family;
	c->detector = b->detector;
	c->gen = r->cfg->block_gen + 1;
	c->until_ns = b->until_ns;
}

/* 1 when the source is blocked now: drop */
static __always_inline int an_blocked(struct an_run *r)
{
	__u32 idx;
	struct an_bcache *c;
	struct ps_addr_key k;
	struct an_block *b;

	/* the source's hash, which the rate step takes over */
	r->src_hash = an_hash(r->pkt->saddr, r->pkt->family, r->cfg->seed, 0);
	idx = (__u32)r->src_hash & (AN_BCACHE_SLOTS - 1);
	c = bpf_map_lookup_elem(&bcache, &idx);
	if (c && an_bcache_hit(r, c))
		return 1;
	an_key(&k, r->pkt->saddr, r->pkt->family);
	b = bpf_map_lookup_elem(&blocks, &k);
	if (b) {
		if ((__s64)(b->until_ns - r->now) > 0) {
			if (c)
				an_bcache_fill(r, c, b);
			return an_block_drop(r, b);
		}
		bpf_map_delete_elem(&blocks, &k);
		r->st->block_expired++;
	}
	return (r->cfg->flags & AN_F_BPFX) && an_blocked_prefix(r);
}

static __always_inline enum ps_verdict an_decide(struct ps_hook *h,
						 struct ps_pkt *pkt)
{
	struct an_run r = { .h = h, .pkt = pkt };
	__u32 zero = 0, why, cls;
	__u64 wl;

#ifdef AN_BENCH
	if (bench_new_src) {
		__u32 seq = ++bench_seq;

		pkt->saddr[1] = (__u8)(seq >> 16);
		pkt->saddr[2] = (__u8)(seq >> 8);
		pkt->saddr[3] = (__u8)seq;
	}
#endif
	r.cfg = bpf_map_lookup_elem(&config, &zero);
	r.st = bpf_map_lookup_elem(&stats, &zero);
	r.wins = bpf_map_lookup_elem(&wins, &zero);
	if (!r.cfg || !r.st || !r.wins)
		return PS_PASS;
	/* 1 */
	r.st->seen++;
	if (pkt->l3 != PS_L3_IPV4 && pkt->l3 != PS_L3_IPV6 &&
	    !(pkt->l3 == PS_L3_NONE && pkt->status == PS_PKT_TRUNCATED)) {
		r.st->not_ip++;
		return PS_PASS;
	}
	r.now = r.cfg->clock_ns ? r.cfg->clock_ns : ps_hook_coarse(h);
	wl = r.cfg->window_ns ? r.cfg->window_ns : AN_NSEC_PER_SEC;
	/* without a parsed IP header there is no source to look up */
	if (!pkt->family) {
		r.win = an_win_num(&r.wins->rate, r.now, wl);
		why = an_malformed(h, pkt);
		if (why)
			an_class_alert(&r, AN_DET_MALFORMED, why);
		return r.drop ? PS_DROP : PS_PASS;
	}
	/* 2 */
	if ((r.cfg->flags & AN_F_ALLOW) && an_allowed(pkt)) {
		r.st->allowed++;
		return PS_PASS;
	}
	/* 3 */
	if ((r.cfg->flags & (AN_F_BLOCK | AN_F_BLOCKS)) && an_blocked(&r))
		return PS_DROP;
	/* after the block check: a blocked packet needs no window */
	r.win = an_win_num(&r.wins->rate, r.now, wl);
	r.own = an_is_own(r.cfg, pkt);
	/* 4 */
	why = an_martian(&r);
	if (why)
		an_class_alert(&r, AN_DET_MARTIAN, why);
	/* 5 */
	why = an_malformed(h, pkt);
	if (why)
		an_class_alert(&r, AN_DET_MALFORMED, why);
	if (r.drop)
		return PS_DROP;
	/* 6 */
	cls = an_class(pkt);
	an_proto(&r);
	an_rate_src(&r, cls);
	an_rate_dst(&r, cls);
	an_rate_if(&r);
	/* 7 */
	an_scan(&r, cls);
	return PS_PASS;
}

PS_HOOK(an, an_decide)
