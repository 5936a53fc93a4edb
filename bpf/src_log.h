/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout of the src-log BPF object, shared by bpf/src_log.bpf.c and the
 * src-log plugin.  One object instance is loaded per interface; the core
 * pins its maps as <bpffs>/pktscope/<if>/src-log/<map>.
 *
 * Maps:
 *
 *   rings     ARRAY_OF_MAPS    SLOG_READERS_MAX RINGBUFs: reader slot i's
 *                              events in rings[i], a ring its reader made
 *                              when it claimed the slot
 *   config    ARRAY (mmap)     key __u32 0, value struct slog_config
 *   src_allow LPM_TRIE         key struct ps_lpm_key, value __u8 (1)
 *   src_deny  LPM_TRIE         key struct ps_lpm_key, value __u8 (1)
 *   flows     LRU_HASH         key struct slog_flow_key, value __u64
 *                              (ktime of the flow's last packet)
 *   sources   LRU_HASH         key struct ps_addr_key, value
 *                              struct slog_src_val
 *   stats     PERCPU_ARRAY     key __u32 0, value struct slog_stats
 *   rate      ARRAY            key reader slot, value struct slog_rate
 *   resume    PERCPU_ARRAY     key __u32 0, value struct slog_resume: where
 *                              a reader's expression goes on
 *   expr_xdp, expr_tc          PROG_ARRAY, one per hook: SLOG_EXPR_SLOT the
 *                              attachment's expression, SLOG_REXPR_SLOT + i
 *                              reader i's; SLOG_CONT_SLOT, SLOG_REJECT_SLOT,
 *                              SLOG_RCONT_SLOT, SLOG_RREJECT_SLOT where they
 *                              go on (programs of this object)
 *
 * The path of one packet, in this order, each step counted in stats:
 *
 *   1. seen++.  Parse (include/pktscope/bpf/parse.h).  Only IPv4 and IPv6 packets whose IP
 *      header parsed (truncated L4 included) go on; the rest: not_ip++.
 *   2. Filters (config): proto set, the allowed sources (if
 *      SLOG_F_SRC_ALLOW: the source must match one), the denied sources
 *      (if SLOG_F_SRC_DENY: must match none), sport/dport ranges (packets
 *      without ports fail a port filter), SLOG_F_SYN (TCP SYN without ACK
 *      only), and last SLOG_F_EXPR: a tcpdump expression compiled to
 *      eBPF (core/cbpf.c), reached by a tail call into
 *      expr_xdp or expr_tc [SLOG_EXPR_SLOT]; it tail-calls slog_cont_* (the packet
 *      matched: parsed again, on to step 3) or slog_reject_* (filtered++).
 *      An empty expression slot matches nothing.
 *      A packet failing any: filtered++, stop.
 *      Each family's part of a source list, while it has at most
 *      SLOG_NETS_MAX prefixes, is also kept in the config (struct
 *      slog_nets, used4 / used6 = 1) and compared there; a longer part
 *      has used = 0 and the packets of its family are looked up in the
 *      trie.  The tries always hold the whole lists (they are what
 *      `filter` shows).  A trie lookup costs ~25 ns, more than the parser;
 *      a few masked compares cost a few ns.
 *   3. sources table updated (packets, bytes, first/last seen, protocols).
 *   4. SLOG_F_NEW_FLOWS: a packet of a flow seen less than flow_timeout_ns
 *      ago is not_new++ and stops; otherwise the flow is (re)recorded.
 *   5. The readers: config.readers[i] is slot i, claimed by a watch or
 *      record (pid, by compare-and-swap), live while its beat_ns is less
 *      than SLOG_READER_TIMEOUT_NS old.  No live slot: no_reader++, stop.
 *      Nothing is produced while nobody reads.  Otherwise each live slot,
 *      in order, with its own counters (stats.rd[i]):
 *      a. its own filters (struct slog_reader: the keywords, short source
 *         lists only, and last its expression through a tail call into
 *         SLOG_REXPR_SLOT + i, which goes on in slog_rcont_* or
 *         slog_rreject_* at slot i, the slot saved in `resume`):
 *         filtered++;
 *      b. SLOG_F_NEW_FLOWS of its own: not a new flow (step 4's test,
 *         made once a packet): not_new++;
 *      c. sample > 1: one packet in `sample` of those that got this far
 *         (per-CPU), the rest sampled_out++;
 *      d. max_rate > 0: at most max_rate events a second (one-second
 *         windows shared by all CPUs, rate[i]), the excess rate_capped++;
 *      e. bpf_ringbuf_reserve in rings[i] fails: lost++.  Otherwise the
 *         event is submitted, events++, with BPF_RB_FORCE_WAKEUP if the
 *         ring then holds at least wakeup_bytes and less than wakeup_bytes
 *         + 16 records, else BPF_RB_NO_WAKEUP: one wake-up as the fill
 *         level crosses the mark, not one per record while a flood
 *         outruns the reader (a forced wake-up costs ~2 us here).  The
 *         reader also polls on a short timeout, so nothing waits long.
 *      One ring a reader, not one shared ring with a reader mask in each
 *      record: a ring buffer has one consumer position, so two processes
 *      reading one ring would each take records from the other.
 *
 * The global counters count steps 1 to 5; a slot's count steps a to e of
 * the packets offered to it.  The totals user space shows
 * (slog_stats_total()) add the slots' counters to the global ones, so with
 * one reader, as before there were several,
 * seen == not_ip + filtered + not_new + no_reader + sampled_out +
 * rate_capped + lost + events, summed over CPUs; with several readers a
 * packet offered to k of them is counted k times past step 5.
 */
#ifndef PKTSCOPE_BPF_SRC_LOG_H
#define PKTSCOPE_BPF_SRC_LOG_H

#include <linux/types.h>
#include <pktscope/bpf/keys.h>

/*
 * The maps' names, spelled once for both sides: the BPF object declares
 * each map by its macro, user space names it with PS_MAP_NAME().
 */
#define SLOG_MAP_RINGS		rings
#define SLOG_MAP_RESUME		resume
#define SLOG_MAP_CONFIG		config
#define SLOG_MAP_SRC_ALLOW	src_allow
#define SLOG_MAP_SRC_DENY	src_deny
#define SLOG_MAP_FLOWS		flows
#define SLOG_MAP_SOURCES	sources
#define SLOG_MAP_STATS		stats
#define SLOG_MAP_RATE		rate
#define SLOG_MAP_EXPR_XDP	expr_xdp
#define SLOG_MAP_EXPR_TC	expr_tc

#define SLOG_READER_TIMEOUT_NS	(2ULL * 1000000000ULL)
#define SLOG_RING_BYTES		(4U << 20)
#define SLOG_FLOWS_MAX		65536
#define SLOG_SOURCES_MAX	16384
#define SLOG_LPM_MAX		1024
#define SLOG_NETS_MAX		8	/* a short source list, per family */
#define SLOG_READERS_MAX	4	/* concurrent watch and record */

struct slog_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes; network order */
	__u8 daddr[16];
	__u32 len;		/* frame length at the hook */
	__u32 ifindex;
	__u16 sport;		/* host order; 0 without ports */
	__u16 dport;
	__u16 vlan_id;		/* outer VLAN id, 0 if none */
	__u8 family;		/* 2 or 10 */
	__u8 proto;		/* IP protocol (last IPv6 next-header) */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 status;		/* enum ps_pkt_status */
	__u8 frag;		/* enum ps_frag */
	__u8 vlan_count;
	__u8 pad[2];
};				/* 64 bytes */

/*
 * With a reader's snaplen > 0 an event is followed in its ring record by a
 * struct slog_snap and snap_len bytes of the frame as it was on the wire
 * (at TC the offloaded outer VLAN tag put back at byte 12, as tcpdump
 * shows it).  The record is sizeof(event) + sizeof(snap) + a bucket of
 * 64, 128, SLOG_SNAP_SMALL or SLOG_SNAP_MAX bytes, the smallest that holds
 * snap_len (the ring's reserve needs a constant size).
 */
struct slog_snap {
	__u32 wire_len;		/* the frame's length, tag included */
	__u32 snap_len;		/* bytes that follow */
};

#define SLOG_SNAP_SMALL		256
#define SLOG_SNAP_MAX		1536
#define SLOG_SNAP_DEFAULT	256

/* config.flags */
#define SLOG_F_SRC_ALLOW	(1U << 0)	/* src_allow must match */
#define SLOG_F_SRC_DENY		(1U << 1)	/* src_deny must not match */
#define SLOG_F_PROTO		(1U << 2)	/* proto bitmap must match */
#define SLOG_F_SYN		(1U << 3)	/* TCP SYN without ACK only */
#define SLOG_F_NEW_FLOWS	(1U << 4)	/* first packet of each flow */
#define SLOG_F_EXPR		(1U << 5)	/* the expression must match */
/* a port range was given: a reader's filters are looked at only with a flag */
#define SLOG_F_PORTS		(1U << 6)

/* a tcpdump expression, as given (the kernel runs its compiled form) */
#define SLOG_EXPR_MAX		256
#define SLOG_EXPR_SLOT		0
#define SLOG_CONT_SLOT		1
#define SLOG_REJECT_SLOT	2
#define SLOG_RCONT_SLOT		3
#define SLOG_RREJECT_SLOT	4
#define SLOG_REXPR_SLOT		5	/* + reader slot */
#define SLOG_EXPR_SLOTS		(SLOG_REXPR_SLOT + SLOG_READERS_MAX)

/* A short source list: addr already masked, all in network order. */
struct slog_nets {
	__u8 used4, used6;	/* 1: compare this family here; 0: the trie */
	__u8 n4, n6;		/* prefixes in v4[], v6[] */
	__u8 pad[4];
	struct {
		__u32 addr, mask;
	} v4[SLOG_NETS_MAX];
	struct {
		__u64 addr[2], mask[2];
	} v6[SLOG_NETS_MAX];
};

/*
 * A reader's slot.  Free while owner is 0; a reader claims it with a
 * compare-and-swap of owner, fills the rest, then beats.  owner holds the
 * pid and its process's start time (/proc/PID/stat), in one word so that
 * one compare-and-swap takes both: a dead owner's slot is told from a live
 * one whose pid was reused.  Source lists are the short ones only (no
 * trie of its own).
 */

struct slog_reader {
	__u64 owner;		/* ps_owner_self() of its reader, 0: free */
	__u32 flags;		/* SLOG_F_* of its own */
	__u32 pad;
	__u64 beat_ns;		/* ktime of its last poll, 0: not reading */
	__u32 sample;		/* 0: the config's; 1: every packet; N: 1 in N */
	__u32 snaplen;		/* > 0: events carry the packet's first bytes */
	__u64 max_rate;		/* events a second; 0: the config's (0: none) */
	__u16 sport_lo, sport_hi;	/* 0-65535 when not filtering */
	__u16 dport_lo, dport_hi;
	__u8 protos[32];	/* bitmap of IP protocols (SLOG_F_PROTO) */
	struct slog_nets allow;
	struct slog_nets deny;
	char expr[SLOG_EXPR_MAX];	/* SLOG_F_EXPR: its text */
};

/*
 * The attachment's filters (attach, filter) apply to every packet, the
 * sources table and every reader; a reader's own apply to its events.
 */
struct slog_config {
	__u32 flags;
	__u32 sample;		/* a reader's, unless it has its own */
	__u64 max_rate;		/* a reader's, unless it has its own */
	__u16 sport_lo, sport_hi;	/* 0-65535 when not filtering */
	__u16 dport_lo, dport_hi;
	__u32 wakeup_bytes;	/* force a wake-up above this fill */
	__u64 flow_timeout_ns;	/* idle time after which a flow is new again */
	__u32 owner_pid;	/* watch's temporary attach: its pid, else 0 */
	__u32 pad;
	__u8 protos[32];	/* bitmap of IP protocols (SLOG_F_PROTO) */
	struct slog_nets allow;	/* SLOG_F_SRC_ALLOW, if used; else src_allow */
	struct slog_nets deny;	/* SLOG_F_SRC_DENY, if used; else src_deny */
	char expr[SLOG_EXPR_MAX];	/* SLOG_F_EXPR: its text, for `filter` */
	struct slog_reader readers[SLOG_READERS_MAX];
};

/* where a reader's expression goes on: its slot, the packet's state */
struct slog_resume {
	__u64 now;		/* the packet's clock */
	__u32 slot;
	__s32 is_new;		/* -1: not asked yet; else slog_new_flow() */
};

/* One trie for both families: the family byte is part of the prefix. */
struct slog_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

/* slog_src_val.protos bits */
#define SLOG_P_TCP	(1U << 0)
#define SLOG_P_UDP	(1U << 1)
#define SLOG_P_ICMP	(1U << 2)
#define SLOG_P_ICMPV6	(1U << 3)
#define SLOG_P_SCTP	(1U << 4)
#define SLOG_P_GRE	(1U << 5)
#define SLOG_P_OTHER	(1U << 6)

struct slog_src_val {
	__u64 packets;		/* updated with atomic adds */
	__u64 bytes;
	__u64 first_ns;		/* ktime */
	__u64 last_ns;
	__u32 protos;		/* SLOG_P_* seen */
	__u32 pad;
};

/* a reader slot's outcomes (step 5) */
struct slog_rd_stats {
	__u64 filtered;
	__u64 not_new;
	__u64 sampled_out;
	__u64 rate_capped;
	__u64 lost;
	__u64 events;
};

struct slog_stats {
	__u64 seen;
	__u64 not_ip;
	__u64 filtered;
	__u64 not_new;
	__u64 no_reader;
	__u64 sampled_out;	/* the global ones of these four stay 0: */
	__u64 rate_capped;	/* the slots count them; slog_stats_total() */
	__u64 lost;		/* adds them up */
	__u64 events;
	struct slog_rd_stats rd[SLOG_READERS_MAX];
};

struct slog_rate {
	__u64 window_ns;	/* start of the current one-second window */
	__u64 count;		/* events in it (atomic) */
};

#ifndef __bpf__
#include <string.h>

/* s with every slot's outcomes added to the global counters */
static inline struct slog_stats slog_stats_total(const struct slog_stats *s)
{
	struct slog_stats t = *s;

	for (int i = 0; i < SLOG_READERS_MAX; i++) {
		t.filtered += s->rd[i].filtered;
		t.not_new += s->rd[i].not_new;
		t.sampled_out += s->rd[i].sampled_out;
		t.rate_capped += s->rd[i].rate_capped;
		t.lost += s->rd[i].lost;
		t.events += s->rd[i].events;
	}
	return t;
}

/*
 * Adds the prefix to its family's part of a short list and marks that
 * part used; -1 if the part is full (it is then the trie's alone: the
 * caller sets used4 or used6 to 0).
 */
static inline int slog_nets_add(struct slog_nets *l, int family,
				const void *addr, unsigned int plen)
{
	unsigned int len = family == 2 ? 4 : 16;
	__u8 *a, *m;

	if ((family == 2 ? l->n4 : l->n6) >= SLOG_NETS_MAX)
		return -1;
	if (family == 2) {
		a = (__u8 *)&l->v4[l->n4].addr;
		m = (__u8 *)&l->v4[l->n4++].mask;
	} else {
		a = (__u8 *)l->v6[l->n6].addr;
		m = (__u8 *)l->v6[l->n6++].mask;
	}
	memcpy(a, addr, len);
	/* byte by byte: network order whatever the host's */
	for (unsigned int i = 0; i < len; i++) {
		unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;

		m[i] = bits >= 8 ? 0xff : (__u8)(0xff00 >> bits);
		a[i] &= m[i];
	}
	if (family == 2)
		l->used4 = 1;
	else
		l->used6 = 1;
	return 0;
}
#endif

#endif /* PKTSCOPE_BPF_SRC_LOG_H */
