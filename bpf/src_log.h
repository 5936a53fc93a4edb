/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout of the src-log BPF object, shared by bpf/src_log.bpf.c and the
 * src-log plugin.  One object instance is loaded per interface; the core
 * pins its maps as <bpffs>/pktscope/<if>/src-log/<map>.
 *
 * Maps:
 *
 *   events    RINGBUF          struct slog_event records
 *   config    ARRAY (mmap)     key __u32 0, value struct slog_config
 *   src_allow LPM_TRIE         key struct ps_lpm_key, value __u8 (1)
 *   src_deny  LPM_TRIE         key struct ps_lpm_key, value __u8 (1)
 *   flows     LRU_HASH         key struct slog_flow_key, value __u64
 *                              (ktime of the flow's last packet)
 *   sources   LRU_HASH         key struct ps_addr_key, value
 *                              struct slog_src_val
 *   stats     PERCPU_ARRAY     key __u32 0, value struct slog_stats
 *   rate      ARRAY            key __u32 0, value struct slog_rate
 *   expr_xdp, expr_tc          PROG_ARRAY, one per hook: SLOG_EXPR_SLOT the
 *                              expression; SLOG_CONT_SLOT, SLOG_REJECT_SLOT
 *                              where it goes on (programs of this object)
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
 *   5. No reader: if now - reader_ns > SLOG_READER_TIMEOUT_NS nobody has
 *      polled for a while: no_reader++, stop.  Nothing is produced while
 *      nobody reads.
 *   6. sample > 1: one packet in `sample` goes on (per-CPU counter), the
 *      rest sampled_out++.
 *   7. max_rate > 0: at most max_rate events a second (one-second windows
 *      shared by all CPUs), the excess rate_capped++.
 *   8. bpf_ringbuf_reserve fails: lost++.  Otherwise the event is
 *      submitted, events++, with BPF_RB_FORCE_WAKEUP if the ring then holds
 *      at least wakeup_bytes and less than wakeup_bytes + 16 records, else
 *      BPF_RB_NO_WAKEUP: one wake-up as the fill level crosses the mark,
 *      not one per record while a flood outruns the reader (a forced
 *      wake-up costs ~2 us here).  The reader also polls on a short
 *      timeout, so nothing waits long.
 *
 * So seen == not_ip + filtered + not_new + no_reader + sampled_out +
 * rate_capped + lost + events, summed over CPUs.
 */
#ifndef PKTSCOPE_BPF_SRC_LOG_H
#define PKTSCOPE_BPF_SRC_LOG_H

#include <linux/types.h>
#include <pktscope/bpf/keys.h>

/*
 * The maps' names, spelled once for both sides: the BPF object declares
 * each map by its macro, user space names it with PS_MAP_NAME().
 */
#define SLOG_MAP_EVENTS		events
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
 * With config.snaplen > 0 an event is followed in its ring record by a
 * struct slog_snap and snap_len bytes of the frame as it was on the wire
 * (at TC the offloaded outer VLAN tag put back at byte 12, as tcpdump
 * shows it).  The record is sizeof(event) + sizeof(snap) + a bucket of
 * SLOG_SNAP_SMALL or SLOG_SNAP_MAX bytes (the ring's reserve needs a
 * constant size).
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

/* a tcpdump expression, as given (the kernel runs its compiled form) */
#define SLOG_EXPR_MAX		256
#define SLOG_EXPR_SLOT		0
#define SLOG_CONT_SLOT		1
#define SLOG_REJECT_SLOT	2
#define SLOG_EXPR_SLOTS		3

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

struct slog_config {
	__u32 flags;
	__u32 sample;		/* 0 or 1: every packet; N: one in N */
	__u64 max_rate;		/* events per second, 0: no cap */
	__u16 sport_lo, sport_hi;	/* 0-65535 when not filtering */
	__u16 dport_lo, dport_hi;
	__u32 wakeup_bytes;	/* force a wake-up above this fill */
	__u64 flow_timeout_ns;	/* idle time after which a flow is new again */
	__u64 reader_ns;	/* ktime of the reader's last poll, 0: none */
	__u32 owner_pid;	/* watch's temporary attach: its pid, else 0 */
	__u32 reader_pid;	/* the one reader (watch, record), 0: none */
	__u32 snaplen;		/* > 0: events carry the packet's first bytes */
	__u32 pad;
	__u8 protos[32];	/* bitmap of IP protocols (SLOG_F_PROTO) */
	struct slog_nets allow;	/* SLOG_F_SRC_ALLOW, if used; else src_allow */
	struct slog_nets deny;	/* SLOG_F_SRC_DENY, if used; else src_deny */
	char expr[SLOG_EXPR_MAX];	/* SLOG_F_EXPR: its text, for `filter` */
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

struct slog_stats {
	__u64 seen;
	__u64 not_ip;
	__u64 filtered;
	__u64 not_new;
	__u64 no_reader;
	__u64 sampled_out;
	__u64 rate_capped;
	__u64 lost;
	__u64 events;
};

struct slog_rate {
	__u64 window_ns;	/* start of the current one-second window */
	__u64 count;		/* events in it (atomic) */
};

#ifndef __bpf__
#include <string.h>

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
