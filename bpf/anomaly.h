/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout of the anomaly BPF object, shared by bpf/anomaly.bpf.c and the
 * anomaly plugin.  One object instance per interface; the core pins its
 * maps as <bpffs>/pktscope/<if>/anomaly/<map>.
 *
 * Maps:
 *
 *   config    ARRAY         key 0, struct an_config (thresholds, live)
 *   stats     PERCPU_ARRAY  key 0, struct an_stats
 *   rings     ARRAY_OF_MAPS AN_WATCHERS_MAX RINGBUFs of struct an_alert:
 *                           watcher slot i's alerts, in a ring its watch
 *                           made
 *   watchers  ARRAY         key 0, struct an_watchers (mmap()able): who
 *                           holds each slot, and its last beat
 *   alog      ARRAY         AN_LOG_MAX struct an_alert: the recent alerts,
 *                           slot = alog_head % AN_LOG_MAX (struct an_global)
 *   global    ARRAY         key 0, struct an_global (shared by all CPUs)
 *   sketch    ARRAY         AN_CMS_ROWS * AN_CMS_COLS struct an_cell: the
 *                           per-source counts (count-min sketch)
 *   psketch   ARRAY         the same cells' per-protocol counts, struct
 *                           an_pcell (AN_F_PROTO only)
 *   dsts      ARRAY         AN_DSTS_MAX struct an_dst: exact
 *                           per-destination counts, a destination in one
 *                           of the two slots its hash names (the tag says
 *                           which); both taken: dst_full++
 *   pdsts     ARRAY         the same slots' per-protocol counts, struct
 *                           an_pdst (AN_F_PROTO only)
 *   wins      PERCPU_ARRAY  key 0, struct an_wins: the rate and scan
 *                           windows this CPU is in, so that a packet
 *                           needs no division to find its window
 *   iface     ARRAY         key 0, struct an_rate: the interface's packets
 *                           a window and their baseline (spike)
 *   dedup     ARRAY         AN_DEDUP_SLOTS __u64: the window an alert of a
 *                           (detector, scope, key hash) was last made in
 *   scans     LRU_HASH      key struct ps_addr_key, value struct an_scan
 *   offenders LRU_HASH      key struct ps_addr_key, value struct an_offender:
 *                           the sources that alerted most recently
 *   blocks    HASH          key struct ps_addr_key, value struct an_block;
 *                           full: block_full++ (never evicts)
 *   bpfx      LPM_TRIE      key struct ps_lpm_key, value struct an_block:
 *                           blocked prefixes (block add of a CIDR; a
 *                           single address goes to blocks)
 *   allow     LPM_TRIE      key struct ps_lpm_key, value __u8: never
 *                           alerted on, never blocked
 *   seen      PERCPU_ARRAY  AN_SEEN_SLOTS struct an_seen: the (source,
 *                           port, protocol) this CPU judged in the scan
 *                           window, open or counted: no second look
 *   tracked   ARRAY         AN_TRACKED_SLOTS struct an_tracked: a bit a
 *                           source hash, set while it has a scan entry
 *                           used in the scan window
 *   scratch   PERCPU_ARRAY  key 0: an alert or a new scan entry being
 *                           made (the stack is the parser's too)
 *   bcache    PERCPU_ARRAY  AN_BCACHE_SLOTS struct an_bcache: the blocked
 *                           sources this CPU dropped (the bottom of this
 *                           file)
 *   first     ARRAY         AN_FIRST_SLOTS struct an_first: a source's
 *                           first closed port in the scan window, while
 *                           it has no scan entry (the slot of its hash)
 *   socks     PERCPU_ARRAY  AN_SOCK_SLOTS struct an_sockc: this CPU's
 *                           recent socket judgements of a (protocol,
 *                           destination, port), AN_SOCK_TTL_NS each
 *
 * The path of one IP packet (ARP and other EtherTypes pass untouched):
 *
 *   1. seen++.  The clock: config.clock_ns when set (tests), else the
 *      hook's coarse clock (CLOCK_MONOTONIC_COARSE), read once.
 *   2. allowlist (only while AN_F_ALLOW): a match passes, allowed++.
 *   3. block table (only while AN_F_BLOCK or AN_F_BLOCKS): a source blocked
 *      until later than now is dropped (the entry's drops and the
 *      detector's drops counted; this CPU's bcache slot of the source,
 *      when it holds the block, drops and counts without the lookup); an
 *      expired entry is deleted.  Then,
 *      only while AN_F_BPFX, the longest blocked prefix holding the
 *      source, likewise (an expired one is deleted and the next longer
 *      one tried); a prefix never drops one of the host's own addresses.
 *   4. martian source (own address included): reason counted, alert; with
 *      action block the packet is dropped (the source is not blocked: it
 *      is forged).
 *   5. malformed (the parser's status, TCP flags, UDP length): likewise.
 *   6. rate detectors per source (sketch) and per destination (dsts):
 *      syn-flood (TCP SYN without ACK), udp-flood, icmp-flood (ICMP and
 *      ICMPv6), pps and bytes, and while AN_F_PROTO each protocol's
 *      packets (TCP) and bytes (TCP, UDP, ICMP), each counted in fixed
 *      windows of window_ns.
 *      A count that reaches its limit makes the alert, at that packet.
 *   7. port-scan: a TCP SYN without ACK or a UDP datagram that finds no
 *      socket (bpf_skc_lookup_tcp / bpf_sk_lookup_udp) marks its port in
 *      the source's scan entry; the scan_ports-th distinct port in a
 *      scan window makes the alert.  A source's first closed port in the
 *      window waits in its first slot, and its second makes the entry
 *      with both: a forged source that tries one port makes none, so a
 *      flood of them evicts no scanner's entry (another source taking
 *      the slot in between makes that count low by one, never high).
 *      A judgement that holds for every source (a TCP listener or an
 *      unconnected UDP socket: open; no socket: closed) is kept in this
 *      CPU's socks slot of the (protocol, destination, port) for
 *      AN_SOCK_TTL_NS of the packets' clock, and used for any source
 *      instead of a lookup: a port opened or closed within that time is
 *      judged by its state before, and a socket that takes one peer's
 *      packets only (a connection, a connected UDP socket) is not seen
 *      for that peer while the slot says closed (a scan count of that
 *      peer one high for each such port).  A (source, port, protocol)
 *      this CPU already judged in the scan window, open or counted, skips
 *      both the scan entry and the socket lookup (the seen slot of its hash; a
 *      colliding tag, 1 in 2^32, or a port opened or closed since, makes a
 *      scan count low, never high).  While its destination is over its
 *      SYN (UDP) flood limit, a source with neither a scan entry nor a
 *      first port is not judged (scan_untracked++).  Its tracked bit says
 *      so without a hash lookup, at any time (no bit: no scans lookup); a
 *      source whose entry was last used in an earlier scan window counts
 *      as without one.
 *   8. spike, per source, per destination and for the interface: a
 *      window's packets reaching spike_factor times the key's baseline
 *      (an average over its past windows, 7/8 old and 1/8 new at each
 *      window, halved for each window of a gap), and at least
 *      spike_min[scope]; no baseline, no spike.  A source's count and baseline are its
 *      sketch cells' (the least of each): colliding sources add to both.
 *      The interface counts every packet that reaches step 6, with plain
 *      adds as the destinations do.
 *   With action block, a per-source rate, spike or scan alert blocks the
 *   source for block_ns, unless it is one of the host's own addresses.  A
 *   destination is never blocked: it is the victim.
 *
 * One alert per (detector, scope, key) and window: the dedup slot of the
 * key's hash holds the window it alerted in (a colliding key in the same
 * window is suppressed too: AN_DEDUP_SLOTS per detector and scope make
 * that rare, and it is counted as deduped).  At most alert_max alerts a
 * window in all, the rest counted in alerts_capped, so a flood of forged
 * martian sources cannot flood the ring.
 *
 * The sketch: AN_CMS_ROWS rows of AN_CMS_COLS cells, each cell a window
 * number and the counts of that window.  A source's estimate is the least
 * of its cells; it never undercounts (but see races below) and, for a
 * window holding N packets in all, it overcounts by more than
 * e * N / AN_CMS_COLS with probability at most e^-AN_CMS_ROWS (Cormode and
 * Muthukrishnan 2005); by Markov's bound a row, more than x with
 * probability at most (N / (AN_CMS_COLS * x))^AN_CMS_ROWS: with 16384
 * columns and 2 rows, 1 M packets in a window overcount a source by more
 * than 332 packets with a probability under 3.4% (4 rows of 8192: 1.8%,
 * at twice the cache lines a new source touches).  Its memory is fixed
 * (1 MiB: 32-byte cells) whatever the number of sources.  The
 * per-protocol counts (AN_F_PROTO) are in cells of their own, psketch
 * (1 MiB more), at the same indices: while none of their limits is set,
 * a packet touches none of them.
 * The cells are updated without atomics, as rakelimit's: two CPUs updating
 * one cell at the same instant can lose an increment, so an estimate may
 * lag by the number of concurrent updates.  Per-destination counts are
 * plain adds too: each is written as a count read plus the packet's, so
 * the first packet to reach a limit crosses it and no alert is lost; a
 * count lags by the adds other CPUs made to it at the same instant, and a
 * window's reset by the CPU that starts it can lose theirs too.
 */
#ifndef PKTSCOPE_BPF_ANOMALY_H
#define PKTSCOPE_BPF_ANOMALY_H

#include <linux/types.h>
#include <pktscope/bpf/keys.h>

/*
 * The maps' names, spelled once for both sides: the BPF object declares
 * each map by its macro, user space names it with PS_MAP_NAME().
 */
#define AN_MAP_CONFIG		config
#define AN_MAP_STATS		stats
#define AN_MAP_RINGS		rings
#define AN_MAP_WATCHERS		watchers
#define AN_MAP_ALOG		alog
#define AN_MAP_GLOBAL		global
#define AN_MAP_SKETCH		sketch
#define AN_MAP_DSTS		dsts
#define AN_MAP_IFACE		iface
#define AN_MAP_DEDUP		dedup
#define AN_MAP_SCANS		scans
#define AN_MAP_OFFENDERS	offenders
#define AN_MAP_BLOCKS		blocks
#define AN_MAP_BPFX		bpfx
#define AN_MAP_ALLOW		allow
#define AN_MAP_SEEN		seen
#define AN_MAP_TRACKED		tracked
#define AN_MAP_SCRATCH		scratch
#define AN_MAP_BCACHE		bcache
#define AN_MAP_FIRST		first
#define AN_MAP_SOCKS		socks
#define AN_MAP_PSKETCH		psketch
#define AN_MAP_PDSTS		pdsts
#define AN_MAP_WINS		wins

#define AN_NSEC_PER_SEC		1000000000ULL
#define AN_RING_BYTES		(256U << 10)
#define AN_LOG_MAX		256
#define AN_WATCHERS_MAX		4	/* concurrent watches an attachment */
#define AN_WATCH_TIMEOUT_NS	AN_NSEC_PER_SEC	/* a beat older: not read */
#define AN_CMS_ROWS		2
#define AN_CMS_COLS		16384	/* a power of two */
#define AN_DEDUP_BITS		12
#define AN_DEDUP_PER		(1U << AN_DEDUP_BITS)
#define AN_DSTS_MAX		4096
#define AN_SCANS_MAX		4096
#define AN_OFFENDERS_MAX	1024
#define AN_BLOCKS_MAX		16384
#define AN_BPFX_MAX		1024	/* blocked prefixes */
#define AN_ALLOW_MAX		1024
#define AN_LOCAL_MAX		64	/* own addresses per family, in config */
#define AN_SCAN_BITS		1024	/* port bitmap per scanning source */
#define AN_SEEN_SLOTS		4096	/* per CPU; a power of two */
#define AN_TRACKED_SLOTS	1024	/* of 64 bits; a power of two */
#define AN_FIRST_SLOTS		8192	/* a power of two */
#define AN_SOCK_SLOTS		256	/* per CPU; a power of two */
#define AN_SOCK_TTL_NS		10000000ULL	/* 10 ms */

/* detectors; the first AN_RATE_N are the windowed rate counters */
enum an_detector {
	AN_DET_SYN_FLOOD = 0,
	AN_DET_UDP_FLOOD,
	AN_DET_ICMP_FLOOD,
	AN_DET_PPS,
	AN_DET_BPS,		/* bytes per window */
	/* per protocol, counted only while one of their limits is set */
	AN_DET_TCP_FLOOD,	/* every TCP packet */
	AN_DET_TCP_BPS,		/* TCP bytes */
	AN_DET_UDP_BPS,
	AN_DET_ICMP_BPS,	/* ICMP and ICMPv6 */
	AN_RATE_N,
	AN_DET_FIRST_PROTO = AN_DET_TCP_FLOOD,	/* to AN_RATE_N: AN_F_PROTO's */
	AN_PROTO_N = AN_RATE_N - AN_DET_FIRST_PROTO,
	AN_DET_PORT_SCAN = AN_RATE_N,
	AN_DET_SPIKE,		/* a destination's packets over its baseline */
	AN_DET_MALFORMED,
	AN_DET_MARTIAN,
	AN_DET_MAX,
};

enum an_scope {
	AN_SCOPE_SRC = 0,
	AN_SCOPE_DST,
	AN_SCOPE_IF,		/* the interface (spike only) */
	AN_SCOPES,
};

#define AN_DEDUP_SLOTS		(AN_DET_MAX * AN_SCOPES * AN_DEDUP_PER)

/* a rate detector that counts bytes, not packets */
static inline int an_det_bytes(int det)
{
	return det == AN_DET_BPS || det == AN_DET_TCP_BPS ||
	       det == AN_DET_UDP_BPS || det == AN_DET_ICMP_BPS;
}

/* why a packet is malformed or its source martian (Suricata's names) */
enum an_reason {
	AN_R_NONE = 0,
	AN_R_IPV4_PKT_TOO_SMALL,
	AN_R_IPV4_WRONG_IP_VERSION,
	AN_R_IPV4_HLEN_TOO_SMALL,
	AN_R_IPV4_IPLEN_SMALLER_THAN_HLEN,
	AN_R_IPV4_TRUNC_PKT,
	AN_R_IPV4_FRAG_TOO_SMALL,
	AN_R_IPV6_PKT_TOO_SMALL,
	AN_R_IPV6_WRONG_IP_VERSION,
	AN_R_IPV6_TRUNC_PKT,
	AN_R_IPV6_TRUNC_EXTHDR,
	AN_R_IPV6_EXTHDR_INVALID,
	AN_R_IPV6_EXTHDR_TOO_MANY,
	AN_R_IPV6_FRAG_TOO_SMALL,
	AN_R_TCP_PKT_TOO_SMALL,
	AN_R_TCP_HLEN_TOO_SMALL,
	AN_R_TCP_FLAGS_NULL,
	AN_R_TCP_FLAGS_XMAS,
	AN_R_TCP_FLAGS_SYN_FIN,
	AN_R_TCP_FLAGS_SYN_RST,
	AN_R_TCP_FLAGS_FIN_NO_ACK,
	AN_R_UDP_PKT_TOO_SMALL,
	AN_R_UDP_HLEN_TOO_SMALL,
	AN_R_UDP_HLEN_INVALID,
	AN_R_ICMP_PKT_TOO_SMALL,
	AN_R_SCTP_PKT_TOO_SMALL,
	AN_R_GRE_WRONG_VERSION,
	AN_R_GRE_PKT_TOO_SMALL,
	AN_R_VLAN_HEADER_TOO_SMALL,
	AN_R_MALFORMED_OTHER,
	/* martian sources */
	AN_R_MARTIAN_ZERONET,
	AN_R_MARTIAN_LOOPBACK,
	AN_R_MARTIAN_MULTICAST,
	AN_R_MARTIAN_BROADCAST,
	AN_R_MARTIAN_CLASS_E,
	AN_R_MARTIAN_LOOPBACK6,
	AN_R_MARTIAN_MULTICAST6,
	AN_R_MARTIAN_V4MAPPED,
	AN_R_MARTIAN_LAND,
	AN_R_MARTIAN_OWN_ADDRESS,
	AN_R_MAX,
};

#define AN_R_FIRST_MARTIAN	AN_R_MARTIAN_ZERONET

/* config.flags */
#define AN_F_BLOCK	(1U << 0)	/* action block */
#define AN_F_ALLOW	(1U << 1)	/* the allowlist has entries */
#define AN_F_BLOCKS	(1U << 2)	/* manual blocks exist (alert mode) */
#define AN_F_LOOPBACK	(1U << 3)	/* on a loopback device: 127/8 is fine */
#define AN_F_NO_SCAN	(1U << 4)	/* port-scan off: no socket lookups */
#define AN_F_BPFX	(1U << 5)	/* blocked prefixes exist */
#define AN_F_PROTO	(1U << 6)	/* a per-protocol pps or bytes limit is
					   set: count those (else not counted) */

struct an_config {
	__u32 flags;
	__u32 seed;		/* of the key hash, random at attach */
	__u64 clock_ns;		/* tests only: the clock when != 0 */
	__u64 window_ns;	/* rate windows (default 1 s) */
	__u64 scan_window_ns;	/* port-scan window */
	__u64 block_ns;		/* how long action block blocks */
	__u32 scan_ports;	/* distinct closed ports that make a scan */
	__u32 alert_max;	/* alerts a window, all detectors */
	__u32 spike_factor;	/* 0: spike off */
	__u32 block_gen;	/* bumped when a block is deleted or changed */
	__u64 spike_min[AN_SCOPES];	/* packets a window, per scope */
	__u64 spike_min_rate[AN_SCOPES]; /* the same a second, as set */
	/* limits a window: [detector][scope]; 0 is off */
	__u64 limit[AN_RATE_N][2];
	/* the same as the user set them, a second (bytes: bit/s); for show */
	__u64 rate[AN_RATE_N][2];
	/* own addresses, network order */
	__u32 n4, n6;
	__u32 local4[AN_LOCAL_MAX];
	__u8 local6[AN_LOCAL_MAX][16];
};

struct an_alert {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (config.clock_ns in tests) */
	__u64 count;		/* in the window, at the crossing packet */
	__u64 threshold;	/* the limit a window */
	__u64 window_ns;
	__u64 block_until_ns;	/* 0: not blocked */
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 ifindex;
	__u16 dport;		/* 0 without ports */
	__u8 family;
	__u8 proto;		/* IP protocol */
	__u8 detector;		/* enum an_detector */
	__u8 scope;		/* enum an_scope */
	__u8 reason;		/* enum an_reason, malformed and martian */
	__u8 action;		/* AN_ACT_* */
	__u8 repeat;		/* the same key alerted in the window before */
	__u8 tcp_flags;
	__u8 pad[6];
};				/* 96 bytes */

#define AN_ACT_ALERT	0
#define AN_ACT_BLOCK	1	/* the source is now blocked */
#define AN_ACT_DROP	2	/* this packet is dropped (martian, malformed) */

struct an_stats {
	__u64 seen;
	__u64 not_ip;
	__u64 allowed;		/* allowlisted: passed before any counter */
	__u64 block_drops;	/* dropped because the source is blocked */
	__u64 block_expired;
	__u64 block_full;	/* a block not made: table full */
	__u64 dst_full;		/* a destination not counted: table full */
	__u64 own_protected;	/* a block not made: own address */
	__u64 deduped;		/* an alert suppressed in its window */
	__u64 alerts_capped;	/* past alert_max in a window */
	__u64 ring_lost;	/* a watch's ring was full (each counts) */
	__u64 lookups;		/* socket lookups made (port-scan) */
	__u64 scan_untracked;	/* a new scanning source not tracked: flood */
	__u64 lookups_cached;	/* socket judgements taken from socks */
	__u64 alerts[AN_DET_MAX];
	__u64 drops[AN_DET_MAX];	/* packets dropped, by detector */
	__u64 reasons[AN_R_MAX];	/* packets, by reason */
};

/*
 * A watch's slot: free while owner is 0; a watch claims it with a
 * compare-and-swap of owner (ps_owner_self()), puts its ring in rings[i],
 * then beats at each poll.  Each alert goes to every ring whose beat is
 * recent, so that two watches both see it and a killed one's ring, which
 * nobody drains, does not count alerts lost.  A watch stalled past the
 * timeout (its output blocked, SIGSTOP) finds what it missed in missed.
 */
struct an_watcher {
	__u64 owner;
	__u64 beat_ns;		/* CLOCK_MONOTONIC of its last poll, 0: none */
	__u64 missed;		/* alerts not written: its beat was stale */
};

struct an_watchers {
	struct an_watcher w[AN_WATCHERS_MAX];
};

struct an_global {
	__u64 alog_head;	/* alerts written to alog so far */
	__u64 alert_win;	/* window of alert_count */
	__u64 alert_count;
};

/*
 * A sketch cell: the window it counts, its counts (the detectors before
 * AN_DET_FIRST_PROTO), its packets' baseline; the per-protocol counts
 * are in the an_pcell of the same index, with a window of their own.
 */
struct an_cell {
	__u32 win;
	__u32 cnt[AN_DET_FIRST_PROTO];
	__u32 base;
	__u32 pad;
};				/* 32 bytes */

struct an_pcell {
	__u32 win;
	__u32 cnt[AN_PROTO_N];	/* detector AN_DET_FIRST_PROTO + i */
	__u32 pad[3];
};				/* 32 bytes */

/* a window cache: now in [start, start + len) is window num */
struct an_win {
	__u64 start;
	__u64 len;
	__u64 num;
};

struct an_wins {
	struct an_win rate;
	struct an_win scan;
};

/* the interface's packets a window */
struct an_rate {
	__u64 win;
	__u64 cnt;
	__u64 base;
};

/*
 * A destination's slot: one cache line.  The tag is the key's hash (odd:
 * 0 is an empty slot); two destinations of one tag, 1 in 2^63, share a
 * count.  A slot whose destination had no packet in this window nor the
 * one before is taken by the next destination that needs it (counted
 * from zero, without a baseline).  Its per-protocol counts (AN_F_PROTO)
 * are in the an_pdst of the same index, which names the tag and window
 * it counts for: another's are counted from zero.
 */
struct an_dst {
	__u64 tag;
	__u64 win;		/* 64 bits: no 32-bit atomics (see local.mk) */
	__u64 base;		/* packets a window, moving average */
	__u64 cnt[AN_DET_FIRST_PROTO];
};				/* 64 bytes */

struct an_pdst {
	__u64 tag;
	__u64 win;
	__u64 cnt[AN_PROTO_N];	/* detector AN_DET_FIRST_PROTO + i */
	__u64 pad[2];
};				/* 64 bytes */

struct an_scan {
	__u64 win;
	__u64 ports;		/* distinct closed ports in the window */
	__u64 bits[AN_SCAN_BITS / 64];
};

/* 64 tracked bits, valid in scan window swin + 1 */
struct an_tracked {
	__u64 swin;
	__u64 bits;
};

/* a seen slot: the key's tag (its hash's top half, never 0), the window + 1 */
struct an_seen {
	__u32 tag;
	__u32 swin;
};

/*
 * A source's first closed port in a scan window, while it has no scan
 * entry, in one word (read and written whole: no CPU sees half of one):
 * the top half a tag, the source's hash's top half xor the window's
 * (never 0; 1 in 2^31 an earlier window's matches), the bottom the port.
 */
struct an_first {
	__u64 key;
};

/*
 * A CPU's recent socket judgement of a (protocol, destination, port), for
 * any source, until until_ns (coarse clock): a socket that takes every
 * source's packets (a TCP listener, an unconnected UDP socket) is open,
 * none is closed; one that takes only one peer's is not kept.
 */
struct an_sockc {
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 proto;
	__u8 open;
	__u8 pad[3];
	__u64 until_ns;
};

struct an_offender {
	__u64 last_ns;		/* the last alert */
	__u64 count;		/* its count */
	__u64 alerts;
	__u8 detector;
	__u8 pad[7];
};

/*
 * drops and bytes are added to without atomics (the drop path's cost): two
 * CPUs dropping one source at the same instant can lose one's add.  The
 * exact count of blocked drops is an_stats.block_drops (per CPU).
 */
struct an_block {
	__u64 until_ns;		/* same clock as the packets' */
	__u64 drops;
	__u64 bytes;
	__u8 detector;		/* AN_DET_MAX: manual */
	__u8 plen;		/* in bpfx: the prefix's length (delete) */
	__u8 pad[6];
};

/*
 * A CPU's recent blocked sources (bcache, a per-CPU array indexed by the
 * source's hash): a hit drops without the blocks lookup, and counts in the
 * slot.  A slot is a block as it was (until_ns names it) in one
 * config.block_gen: user space bumps that when it deletes or changes a
 * block, so no slot outlives it.  A slot's counts go to its block when the
 * slot is taken by another, or refilled; until then user space adds them
 * to the entry's (the slots of that address and until_ns).
 */
#define AN_BCACHE_SLOTS		256	/* a power of two */

struct an_bcache {
	__u8 addr[16];
	__u8 family;
	__u8 detector;
	__u16 pad;
	__u32 gen;		/* config.block_gen + 1; 0: empty */
	__u64 until_ns;
	__u64 drops;
	__u64 bytes;
};

#endif /* PKTSCOPE_BPF_ANOMALY_H */
