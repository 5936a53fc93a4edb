// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * anomaly: floods, scans, malformed packets and forged sources, detected
 * in the kernel at the packet that crosses the line (bpf/anomaly.bpf.c)
 * and, with `action block`, blocked there.  This side sets the thresholds
 * (live, in the pinned config map), the allowlist and manual blocks, and
 * reads the alerts: from the ring buffer as they happen (watch), from the
 * in-kernel log when nobody was watching (show).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pktscope/plugin.h>

#include "config.h"
#include <pktscope/bpf/parse.h>
#include "anomaly.h"
#include "anomaly.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC AN_NSEC_PER_SEC

static const char *const det_names[AN_DET_MAX] = {
	[AN_DET_SYN_FLOOD] = "syn-flood",
	[AN_DET_UDP_FLOOD] = "udp-flood",
	[AN_DET_ICMP_FLOOD] = "icmp-flood",
	[AN_DET_PPS] = "pps",
	[AN_DET_BPS] = "bytes",
	[AN_DET_TCP_FLOOD] = "tcp-flood",
	[AN_DET_TCP_BPS] = "tcp-bytes",
	[AN_DET_UDP_BPS] = "udp-bytes",
	[AN_DET_ICMP_BPS] = "icmp-bytes",
	[AN_DET_PORT_SCAN] = "port-scan",
	[AN_DET_SPIKE] = "spike",
	[AN_DET_MALFORMED] = "malformed",
	[AN_DET_MARTIAN] = "martian",
};

static const char *const reason_names[AN_R_MAX] = {
	[AN_R_IPV4_PKT_TOO_SMALL] = "ipv4.pkt_too_small",
	[AN_R_IPV4_WRONG_IP_VERSION] = "ipv4.wrong_ip_version",
	[AN_R_IPV4_HLEN_TOO_SMALL] = "ipv4.hlen_too_small",
	[AN_R_IPV4_IPLEN_SMALLER_THAN_HLEN] = "ipv4.iplen_smaller_than_hlen",
	[AN_R_IPV4_TRUNC_PKT] = "ipv4.trunc_pkt",
	[AN_R_IPV4_FRAG_TOO_SMALL] = "ipv4.frag_too_small",
	[AN_R_IPV6_PKT_TOO_SMALL] = "ipv6.pkt_too_small",
	[AN_R_IPV6_WRONG_IP_VERSION] = "ipv6.wrong_ip_version",
	[AN_R_IPV6_TRUNC_PKT] = "ipv6.trunc_pkt",
	[AN_R_IPV6_TRUNC_EXTHDR] = "ipv6.trunc_exthdr",
	[AN_R_IPV6_EXTHDR_INVALID] = "ipv6.exthdr_invalid",
	[AN_R_IPV6_EXTHDR_TOO_MANY] = "ipv6.exthdr_too_many",
	[AN_R_IPV6_FRAG_TOO_SMALL] = "ipv6.frag_too_small",
	[AN_R_TCP_PKT_TOO_SMALL] = "tcp.pkt_too_small",
	[AN_R_TCP_HLEN_TOO_SMALL] = "tcp.hlen_too_small",
	[AN_R_TCP_FLAGS_NULL] = "tcp.flags_null",
	[AN_R_TCP_FLAGS_XMAS] = "tcp.flags_xmas",
	[AN_R_TCP_FLAGS_SYN_FIN] = "tcp.flags_syn_fin",
	[AN_R_TCP_FLAGS_SYN_RST] = "tcp.flags_syn_rst",
	[AN_R_TCP_FLAGS_FIN_NO_ACK] = "tcp.flags_fin_no_ack",
	[AN_R_UDP_PKT_TOO_SMALL] = "udp.pkt_too_small",
	[AN_R_UDP_HLEN_TOO_SMALL] = "udp.hlen_too_small",
	[AN_R_UDP_HLEN_INVALID] = "udp.hlen_invalid",
	[AN_R_ICMP_PKT_TOO_SMALL] = "icmp.pkt_too_small",
	[AN_R_SCTP_PKT_TOO_SMALL] = "sctp.pkt_too_small",
	[AN_R_GRE_WRONG_VERSION] = "gre.wrong_version",
	[AN_R_GRE_PKT_TOO_SMALL] = "gre.pkt_too_small",
	[AN_R_VLAN_HEADER_TOO_SMALL] = "vlan.header_too_small",
	[AN_R_MALFORMED_OTHER] = "malformed.other",
	[AN_R_MARTIAN_ZERONET] = "martian.zeronet",
	[AN_R_MARTIAN_LOOPBACK] = "martian.loopback",
	[AN_R_MARTIAN_MULTICAST] = "martian.multicast",
	[AN_R_MARTIAN_BROADCAST] = "martian.broadcast",
	[AN_R_MARTIAN_CLASS_E] = "martian.class_e",
	[AN_R_MARTIAN_LOOPBACK6] = "martian.loopback6",
	[AN_R_MARTIAN_MULTICAST6] = "martian.multicast6",
	[AN_R_MARTIAN_V4MAPPED] = "martian.v4mapped",
	[AN_R_MARTIAN_LAND] = "martian.land",
	[AN_R_MARTIAN_OWN_ADDRESS] = "martian.own_address",
};

/* ---- thresholds: one declaration for attach and config ---- */

/* the rate keys: key, detector, scope, default a second (0: off) */
static const struct rate_key {
	const char *key;
	int det, scope;
	uint64_t def;
} rate_keys[] = {
	{ "syn-src", AN_DET_SYN_FLOOD, AN_SCOPE_SRC, 5000 },
	{ "syn-dst", AN_DET_SYN_FLOOD, AN_SCOPE_DST, 50000 },
	{ "udp-src", AN_DET_UDP_FLOOD, AN_SCOPE_SRC, 20000 },
	{ "udp-dst", AN_DET_UDP_FLOOD, AN_SCOPE_DST, 200000 },
	{ "icmp-src", AN_DET_ICMP_FLOOD, AN_SCOPE_SRC, 500 },
	{ "icmp-dst", AN_DET_ICMP_FLOOD, AN_SCOPE_DST, 5000 },
	{ "pps-src", AN_DET_PPS, AN_SCOPE_SRC, 100000 },
	{ "pps-dst", AN_DET_PPS, AN_SCOPE_DST, 1000000 },
	/* bit/s */
	{ "bytes-src", AN_DET_BPS, AN_SCOPE_SRC, 2000000000ULL },
	{ "bytes-dst", AN_DET_BPS, AN_SCOPE_DST, 20000000000ULL },
	/* per protocol: off until set (the packets cost nothing then) */
	{ "tcp-src", AN_DET_TCP_FLOOD, AN_SCOPE_SRC, 0 },
	{ "tcp-dst", AN_DET_TCP_FLOOD, AN_SCOPE_DST, 0 },
	{ "tcp-bytes-src", AN_DET_TCP_BPS, AN_SCOPE_SRC, 0 },
	{ "tcp-bytes-dst", AN_DET_TCP_BPS, AN_SCOPE_DST, 0 },
	{ "udp-bytes-src", AN_DET_UDP_BPS, AN_SCOPE_SRC, 0 },
	{ "udp-bytes-dst", AN_DET_UDP_BPS, AN_SCOPE_DST, 0 },
	{ "icmp-bytes-src", AN_DET_ICMP_BPS, AN_SCOPE_SRC, 0 },
	{ "icmp-bytes-dst", AN_DET_ICMP_BPS, AN_SCOPE_DST, 0 },
};

#define DEF_WINDOW_NS		NSEC
#define DEF_SCAN_WINDOW_NS	(300 * NSEC)
#define DEF_SCAN_PORTS		15
#define DEF_BLOCK_NS		(60 * NSEC)
#define DEF_ALERT_MAX		1000
#define DEF_SPIKE_FACTOR	10
/* packets a second, per scope: a spike is at least this */
static const struct spike_key {
	const char *key;
	int scope;
	uint64_t def;
} spike_keys[] = {
	{ "spike-min-src", AN_SCOPE_SRC, 10000 },
	{ "spike-min-dst", AN_SCOPE_DST, 10000 },
	{ "spike-min-if", AN_SCOPE_IF, 100000 },
};

#define PPS_KEY(k, what)						\
	{ k, PS_KIND_COUNT, PS_ARG_OFF, NULL,				\
	  what " a second, or off (default in show)", NULL, 1, 1000000000 }
#define BPS_KEY(k, what)						\
	{ k, PS_KIND_RATE, PS_ARG_OFF, NULL,				\
	  what " (bit/s, e.g. 500mbit), or off", NULL, 8, 32000000000ULL }
#define SPIKE_KEY(k, what)						\
	{ k, PS_KIND_COUNT, 0, NULL, what " a second (default in show)",	\
	  NULL, 1, 1000000000 }

#define THRESHOLD_ARGS							\
	PPS_KEY("syn-src", "TCP SYNs from one source"),			\
	PPS_KEY("syn-dst", "TCP SYNs to one destination"),		\
	PPS_KEY("udp-src", "UDP datagrams from one source"),		\
	PPS_KEY("udp-dst", "UDP datagrams to one destination"),		\
	PPS_KEY("icmp-src", "ICMP and ICMPv6 packets from one source"),	\
	PPS_KEY("icmp-dst", "ICMP and ICMPv6 packets to one destination"), \
	PPS_KEY("pps-src", "packets from one source"),			\
	PPS_KEY("pps-dst", "packets to one destination"),		\
	BPS_KEY("bytes-src", "traffic from one source"),		\
	BPS_KEY("bytes-dst", "traffic to one destination"),		\
	PPS_KEY("tcp-src", "TCP packets from one source (default off)"), \
	PPS_KEY("tcp-dst", "TCP packets to one destination (default off)"), \
	BPS_KEY("tcp-bytes-src", "TCP from one source (default off)"),	\
	BPS_KEY("tcp-bytes-dst", "TCP to one destination (default off)"), \
	BPS_KEY("udp-bytes-src", "UDP from one source (default off)"),	\
	BPS_KEY("udp-bytes-dst", "UDP to one destination (default off)"), \
	BPS_KEY("icmp-bytes-src", "ICMP from one source (default off)"), \
	BPS_KEY("icmp-bytes-dst", "ICMP to one destination (default off)"), \
	{ "scan-ports", PS_KIND_COUNT, 0, NULL,				\
	  "distinct closed ports that make a port scan (default 15)",	\
	  NULL, 2, AN_SCAN_BITS },					\
	{ "scan-window", PS_KIND_DURATION, 0, NULL,			\
	  "port-scan window (default 5m)", NULL, NSEC, 3600 * NSEC },	\
	{ "scan", PS_KIND_CHOICE, 0, NULL,				\
	  "port-scan detection (socket lookups; default on)", onoff },	\
	{ "spike-factor", PS_KIND_COUNT, 0, NULL,			\
	  "a source's, destination's or the interface's packets this many times its baseline make a spike (default 10)", \
	  NULL, 2, 1000 },						\
	SPIKE_KEY("spike-min-src", "the least packets of a source's spike"), \
	SPIKE_KEY("spike-min-dst", "the least packets of a destination's spike"), \
	SPIKE_KEY("spike-min-if", "the least packets of the interface's spike"), \
	{ "window", PS_KIND_DURATION, 0, NULL,				\
	  "rate window (default 1s)", NULL, 100000000ULL, NSEC },	\
	{ "alert-max", PS_KIND_COUNT, 0, NULL,				\
	  "alerts a window, every detector together (default 1000)",	\
	  NULL, 1, 1000000 },						\
	{ "action", PS_KIND_CHOICE, 0, NULL,				\
	  "alert (default): detect only; block: drop what alerts",	\
	  actions },							\
	{ "block-time", PS_KIND_DURATION, 0, NULL,			\
	  "how long action block blocks a source (default 60s)",	\
	  NULL, NSEC, 30ULL * 86400 * NSEC }

static const char *const onoff[] = { "on", "off", NULL };
static const char *const actions[] = { "alert", "block", NULL };

static const struct ps_arg_spec attach_args[] = {
	THRESHOLD_ARGS,
	{ 0 }
};

/* a limit in show: 0 is off (JSON keeps the 0) */
static const char *fmt_limit_count(uint64_t v, char *buf, size_t len)
{
	if (!v)
		return "off";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *fmt_limit_rate(uint64_t v, char *buf, size_t len)
{
	return v ? ps_fmt_rate(v, buf, len) : "off";
}

/* ---- maps ---- */

static int read_config(struct ps_ctx *ctx, const struct ps_attachment *att,
		       struct an_config *c)
{
	return ps_map_read_one(ctx, att, PS_MAP_NAME(AN_MAP_CONFIG),
			       0, c, sizeof(*c));
}

static int write_config(struct ps_ctx *ctx, const struct ps_attachment *att,
			const struct an_config *c)
{
	return ps_map_write_one(ctx, att, PS_MAP_NAME(AN_MAP_CONFIG),
				0, c, sizeof(*c));
}

static int read_stats(struct ps_ctx *ctx, const struct ps_attachment *att,
		      struct an_stats *s)
{
	return ps_map_read_one(ctx, att, PS_MAP_NAME(AN_MAP_STATS),
			       0, s, sizeof(*s));
}

static int64_t mono_to_real(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - (int64_t)m.tv_sec) * (int64_t)NSEC +
	       ((int64_t)r.tv_nsec - (int64_t)m.tv_nsec);
}

/* RFC 3339, UTC, microseconds: 2026-12-01T19:03:45.123456Z */
static void fmt_ts(uint64_t mono_ns, char *buf, size_t len)
{
	uint64_t real = mono_ns + (uint64_t)mono_to_real();
	time_t sec = (time_t)(real / NSEC);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ", (unsigned)(real % NSEC / 1000));
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == PS_AF_INET6 ? AF_INET6 : AF_INET, a, buf,
		  (socklen_t)len);
}

/* ---- the configuration ---- */

/* The host's own addresses (this namespace) into the config. */
static void fill_local(struct ps_ctx *ctx, struct an_config *c,
		       const char *ifname)
{
	struct ifaddrs *ifa, *i;
	bool over = false;

	c->n4 = c->n6 = 0;
	c->flags &= ~AN_F_LOOPBACK;
	if (getifaddrs(&ifa)) {
		ps_warn(ctx, "cannot list this host's addresses: %s",
			strerror(errno));
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (!strcmp(i->ifa_name, ifname) && (i->ifa_flags & IFF_LOOPBACK))
			c->flags |= AN_F_LOOPBACK;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *s = (void *)i->ifa_addr;

			if (c->n4 < AN_LOCAL_MAX)
				memcpy(&c->local4[c->n4++], &s->sin_addr, 4);
			else
				over = true;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *s = (void *)i->ifa_addr;

			if (c->n6 < AN_LOCAL_MAX)
				memcpy(c->local6[c->n6++], &s->sin6_addr, 16);
			else
				over = true;
		}
	}
	freeifaddrs(ifa);
	if (over)
		ps_warn(ctx, "this host has more than %d addresses of a family: only the first %d are protected as its own",
			AN_LOCAL_MAX, AN_LOCAL_MAX);
}

/*
 * The host's addresses into the attachment's config, when they changed
 * since it was written: addresses come and go (DHCP, a VIP moving to this
 * host), and only user space can list them.  Every command on an
 * attachment refreshes them, and a watch follows them while it runs.
 */
static int own_refresh(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	struct an_config c, was;

	if (read_config(ctx, att, &c))
		return PS_ERR;
	was = c;
	fill_local(ctx, &c, att->ifname);
	if (!memcmp(&was, &c, sizeof(c)))
		return PS_OK;
	return write_config(ctx, att, &c);
}

/* a rate a second into a limit a window; 0 (reported) when out of range */
static uint64_t per_window(uint64_t rate, int det, uint64_t window_ns)
{
	/* bytes: bit/s to bytes a window */
	long double v = (long double)rate * (long double)window_ns / NSEC;

	if (an_det_bytes(det))
		v /= 8;
	if (v < 1)
		v = 1;
	return v >= 4294967295.0L ? 0 : (uint64_t)(v + 0.5L);
}

static bool arg_u64_if(const struct ps_args *args, const char *key,
		    uint64_t *v)
{
	if (!ps_arg_has(args, key))
		return false;
	*v = ps_arg_get(args, key)->u;
	return true;
}

/*
 * Args into c, from defaults when fresh.  Checks what the declarations
 * cannot (a limit that does not fit in a window); on failure c is
 * half-changed and must not be written.
 */
static int apply_args(struct ps_ctx *ctx, struct an_config *c,
		      const struct ps_args *args, bool fresh)
{
	uint64_t v;

	if (fresh) {
		memset(c, 0, sizeof(*c));
		if (getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed))
			c->seed = (uint32_t)ps_mono_ns();
		c->window_ns = DEF_WINDOW_NS;
		c->scan_window_ns = DEF_SCAN_WINDOW_NS;
		c->scan_ports = DEF_SCAN_PORTS;
		c->block_ns = DEF_BLOCK_NS;
		c->alert_max = DEF_ALERT_MAX;
		c->spike_factor = DEF_SPIKE_FACTOR;
		for (size_t i = 0; i < ARRAY_SIZE(spike_keys); i++)
			c->spike_min_rate[spike_keys[i].scope] =
				spike_keys[i].def;
		for (size_t i = 0; i < ARRAY_SIZE(rate_keys); i++)
			c->rate[rate_keys[i].det][rate_keys[i].scope] =
				rate_keys[i].def;
	}
	if (arg_u64_if(args, "window", &v))
		c->window_ns = v;
	if (arg_u64_if(args, "scan-window", &v))
		c->scan_window_ns = v;
	if (arg_u64_if(args, "scan-ports", &v))
		c->scan_ports = (uint32_t)v;
	if (arg_u64_if(args, "alert-max", &v))
		c->alert_max = (uint32_t)v;
	if (arg_u64_if(args, "spike-factor", &v))
		c->spike_factor = (uint32_t)v;
	for (size_t i = 0; i < ARRAY_SIZE(spike_keys); i++) {
		int sc = spike_keys[i].scope;

		if (arg_u64_if(args, spike_keys[i].key, &v))
			c->spike_min_rate[sc] = v;
		c->spike_min[sc] = per_window(c->spike_min_rate[sc],
					      AN_DET_PPS, c->window_ns);
		if (!c->spike_min[sc])
			c->spike_min[sc] = ~0ULL;	/* out of reach */
	}
	if (arg_u64_if(args, "block-time", &v))
		c->block_ns = v;
	if (arg_u64_if(args, "action", &v))
		c->flags = v ? c->flags | AN_F_BLOCK : c->flags & ~AN_F_BLOCK;
	if (arg_u64_if(args, "scan", &v))
		c->flags = v ? c->flags | AN_F_NO_SCAN :
			       c->flags & ~AN_F_NO_SCAN;
	c->flags &= ~AN_F_PROTO;
	for (size_t i = 0; i < ARRAY_SIZE(rate_keys); i++) {
		const struct rate_key *k = &rate_keys[i];

		if (arg_u64_if(args, k->key, &v))
			c->rate[k->det][k->scope] = v;
		v = c->rate[k->det][k->scope];
		c->limit[k->det][k->scope] = v ? per_window(v, k->det,
							    c->window_ns) : 0;
		if (v && k->det >= AN_DET_FIRST_PROTO)
			c->flags |= AN_F_PROTO;
		if (v && !c->limit[k->det][k->scope]) {
			char w[32];

			return ps_usage_err(ctx,
				"%s is too high for a %s window: a window counts at most 2^32 packets or 4 GiB",
				k->key, ps_fmt_duration(c->window_ns, w,
							sizeof(w)));
		}
	}
	return PS_OK;
}

static int configure(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const struct ps_args *args, void *data)
{
	struct an_config c;

	(void)data;

	if (apply_args(ctx, &c, args, true))
		return PS_USAGE;
	fill_local(ctx, &c, att->ifname);
	return write_config(ctx, att, &c);
}

static int get_attached(struct ps_ctx *ctx, const char *dev,
			struct ps_attachment *att)
{
	if (ps_attachment_get(ctx, dev, att))
		return ps_err(ctx, "anomaly is not attached to %s (attach it with 'pktscope anomaly attach dev %s')",
			      dev, dev);
	return PS_OK;
}

static void out_config(struct ps_ctx *ctx, const struct an_config *c)
{
	static const struct ps_col cols[] = {
		{ "detector", NULL, PS_LEFT },
		{ "per_source", "PER SOURCE", PS_RIGHT },
		{ "per_destination", "PER DESTINATION", PS_RIGHT },
		{ "unit", NULL, PS_LEFT },
	};
	struct ps_table *t;

	ps_out_str(ctx, "action", "Action",
		   c->flags & AN_F_BLOCK ? "block" : "alert");
	ps_out_u64_human(ctx, "block_time_ns", "Block time", c->block_ns,
			 ps_fmt_duration);
	ps_out_u64_human(ctx, "window_ns", "Rate window", c->window_ns,
			 ps_fmt_duration);
	ps_out_bool(ctx, "port_scan", "Port-scan detection",
		    !(c->flags & AN_F_NO_SCAN));
	ps_out_u64(ctx, "scan_ports", "Scan: closed ports", c->scan_ports);
	ps_out_u64_human(ctx, "scan_window_ns", "Scan window",
			 c->scan_window_ns, ps_fmt_duration);
	ps_out_u64(ctx, "alert_max", "Alerts/window max", c->alert_max);
	ps_out_u64(ctx, "spike_factor", "Spike: x baseline", c->spike_factor);
	ps_out_u64(ctx, "spike_min_src_packets_per_second",
		   "Spike: source at least/s", c->spike_min_rate[AN_SCOPE_SRC]);
	ps_out_u64(ctx, "spike_min_dst_packets_per_second",
		   "Spike: dest. at least/s", c->spike_min_rate[AN_SCOPE_DST]);
	ps_out_u64(ctx, "spike_min_if_packets_per_second",
		   "Spike: iface at least/s", c->spike_min_rate[AN_SCOPE_IF]);
	ps_out_u64(ctx, "own_addresses", "Own addresses",
		   c->n4 + c->n6);
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "thresholds", cols, ARRAY_SIZE(cols));
	for (int d = 0; d < AN_RATE_N; d++) {
		ps_table_str(t, det_names[d]);
		for (int s = 0; s < 2; s++)
			ps_table_u64_human(t, c->rate[d][s],
					   an_det_bytes(d) ? fmt_limit_rate :
							     fmt_limit_count);
		ps_table_str(t, an_det_bytes(d) ? "bits_per_second" :
			     "packets_per_second");
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

static bool has_threshold_args(const struct ps_args *args)
{
	for (const struct ps_arg_spec *a = attach_args; a->keyword; a++)
		if (ps_arg_has(args, a->keyword))
			return true;
	return false;
}

static int do_config(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	struct ps_attachment att;
	struct an_config c;

	if (get_attached(ctx, dev, &att) || own_refresh(ctx, &att) ||
	    read_config(ctx, &att, &c))
		return PS_ERR;
	if (has_threshold_args(args)) {
		if (apply_args(ctx, &c, args, false))
			return PS_USAGE;
		if (write_config(ctx, &att, &c))
			return PS_ERR;
	}
	ps_out_str(ctx, "ifname", "Interface", att.ifname);
	out_config(ctx, &c);
	return PS_OK;
}

/* ---- alerts ---- */

struct reader {
	struct ps_ctx *ctx;
	struct ps_attachment att;
	uint64_t delivered;
	struct ps_addr_follow *addrs;
	struct an_watchers *watchers;	/* the map, mmap()ed */
	int slot;			/* in it, -1: none */
	int ring_fd;			/* the slot's ring, this watch's */
	uint64_t missed;		/* the slot's missed, last told */
};

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	const char *name = ps_proto_name(p);

	if (name)
		return name;
	snprintf(buf, len, "%u", p);
	return buf;
}

static const char *action_name(uint8_t a)
{
	return a == AN_ACT_BLOCK ? "block" : a == AN_ACT_DROP ? "drop" :
	       "alert";
}

/* one alert, as watch and show print it */
static void out_alert(struct ps_ctx *ctx, const char *ifname,
		      const struct an_alert *e, bool record)
{
	char ts[48], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[8];
	char until[48], win[32];
	const char *det = e->detector < AN_DET_MAX ? det_names[e->detector] :
			  "unknown";
	const char *why = e->reason && e->reason < AN_R_MAX ?
			  reason_names[e->reason] : NULL;
	const char *proto = proto_name(e->proto, pb, sizeof(pb));
	bool ports = e->proto == 6 || e->proto == 17 || e->proto == 132;
	double rate = e->window_ns ? (double)e->count * NSEC / e->window_ns :
			  0;

	fmt_ts(e->ts_ns, ts, sizeof(ts));
	addr_str(e->family, e->saddr, src, sizeof(src));
	addr_str(e->family, e->daddr, dst, sizeof(dst));
	if (e->block_until_ns)
		fmt_ts(e->block_until_ns, until, sizeof(until));
	ps_fmt_duration(e->window_ns, win, sizeof(win));
	if (record && !ps_json(ctx)) {
		ps_record_text(ctx, "%s %s %s%s%s %s %s -> %s %s%s%.0u: %llu in %s (threshold %llu)%s%s%s",
			       ts, ifname, det, why ? " " : "", why ? why : "",
			       e->scope == AN_SCOPE_DST ? "to" :
			       e->scope == AN_SCOPE_IF ? "on" : "from",
			       src, dst, proto, ports ? " port " : "",
			       ports ? e->dport : 0,
			       (unsigned long long)e->count, win,
			       (unsigned long long)e->threshold,
			       e->action == AN_ACT_BLOCK ? ", blocked until " :
			       e->action == AN_ACT_DROP ? ", dropped" : "",
			       e->action == AN_ACT_BLOCK ? until : "",
			       e->repeat ? " (again)" : "");
		return;
	}
	ps_out_str(ctx, "ts", "Time", ts);
	ps_out_str(ctx, "ifname", "Interface", ifname);
	ps_out_str(ctx, "detector", "Detector", det);
	if (why)
		ps_out_str(ctx, "reason", "Reason", why);
	ps_out_str(ctx, "scope", "Key",
		   e->scope == AN_SCOPE_DST ? "destination" :
		   e->scope == AN_SCOPE_IF ? "interface" : "source");
	ps_out_str(ctx, "src", "Source", src);
	ps_out_str(ctx, "dst", "Destination", dst);
	ps_out_str(ctx, "proto", "Protocol", proto);
	if (ports)
		ps_out_u64(ctx, "dport", "Port", e->dport);
	ps_out_u64(ctx, "count", "Count", e->count);
	ps_out_f64(ctx, "rate", "Rate a second", rate);
	ps_out_u64(ctx, "threshold", "Threshold", e->threshold);
	ps_out_u64(ctx, "window_ns", "Window", e->window_ns);
	ps_out_str(ctx, "action", "Action", action_name(e->action));
	if (e->block_until_ns)
		ps_out_str(ctx, "block_until", "Blocked until", until);
	ps_out_bool(ctx, "repeat", "Repeat", e->repeat);
}

static int on_alert(void *data, void *rec, size_t len)
{
	struct reader *rd = data;

	if (len < sizeof(struct an_alert))
		return 0;
	ps_record_begin(rd->ctx);
	out_alert(rd->ctx, rd->att.ifname, rec, true);
	ps_record_end(rd->ctx);
	rd->delivered++;
	return 0;
}

/* the watchers map's mmap() length: its one value, in whole pages */
static size_t watchers_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct an_watchers) + page - 1) & ~(page - 1);
}

_Static_assert(offsetof(struct an_watcher, owner) == 0,
	       "a slot begins with its owner word (ps_slot_claim)");

/*
 * Each watch reads a ring of its own, so that two see every alert (one
 * ring read by two would split them).  The slot is taken by
 * compare-and-swap of its owner, from free or from a dead owner; the
 * ring goes in, and only then does it beat (the BPF side skips a slot
 * that does not).
 */
static int watch_claim(struct ps_ctx *ctx, struct reader *rd)
{
	struct an_watcher *w;
	int fd, rings, i, e;
	__u32 key;
	void *m;

	fd = ps_map_open(ctx, &rd->att, PS_MAP_NAME(AN_MAP_WATCHERS));
	if (fd < 0)
		return PS_ERR;
	m = mmap(NULL, watchers_len(), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	e = errno;
	close(fd);
	if (m == MAP_FAILED)
		return ps_err(ctx, "mapping anomaly's watchers on %s: %s",
			      rd->att.ifname, strerror(e));
	rd->watchers = m;
	i = ps_slot_claim(rd->watchers->w, sizeof(*w), AN_WATCHERS_MAX);
	if (i < 0) {
		uint64_t owners[AN_WATCHERS_MAX];
		char list[AN_WATCHERS_MAX * 12];

		ps_owner_pids_str(owners,
				  ps_slot_owners(rd->watchers->w, sizeof(*w),
						 AN_WATCHERS_MAX, owners, NULL),
				  list, sizeof(list));
		return ps_err(ctx, "anomaly on %s has %d watches, the most it takes (pids %s): stop one first",
			      rd->att.ifname, AN_WATCHERS_MAX, list);
	}
	w = &rd->watchers->w[i];
	rd->slot = i;
	/* a dead owner's beat may be fresh: nothing reads the slot meanwhile */
	__atomic_store_n(&w->beat_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&w->missed, 0, __ATOMIC_RELEASE);
	key = (__u32)i;
	rings = ps_map_open(ctx, &rd->att, PS_MAP_NAME(AN_MAP_RINGS));
	if (rings < 0)
		return PS_ERR;
	rd->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0,
				     AN_RING_BYTES, NULL);
	if (rd->ring_fd < 0 ||
	    bpf_map_update_elem(rings, &key, &rd->ring_fd, BPF_ANY)) {
		e = errno;
		close(rings);
		return ps_err(ctx, "making watch %d's ring on %s: %s", i,
			      rd->att.ifname, strerror(e));
	}
	close(rings);
	__atomic_store_n(&w->beat_ns, ps_mono_ns(), __ATOMIC_RELEASE);
	return PS_OK;
}

/* the slot is freed last, after its beat stopped and its ring left it */
static void watch_release(struct reader *rd)
{
	struct an_watcher *w;
	__u32 key;
	int fd;

	if (rd->slot >= 0) {
		w = &rd->watchers->w[rd->slot];
		key = (__u32)rd->slot;
		__atomic_store_n(&w->beat_ns, 0, __ATOMIC_RELEASE);
		fd = ps_map_open(rd->ctx, &rd->att, PS_MAP_NAME(AN_MAP_RINGS));
		if (fd >= 0) {
			bpf_map_delete_elem(fd, &key);
			close(fd);
		}
		ps_slot_free(rd->watchers->w, sizeof(*w), rd->slot);
	}
	if (rd->ring_fd >= 0)
		close(rd->ring_fd);
	if (rd->watchers)
		munmap(rd->watchers, watchers_len());
}

/*
 * After each poll: a beat, what was missed while the last one was stale,
 * and the host's addresses if any came or went.  The beat stores this
 * slot's beat_ns alone.
 */
static int on_tick(void *data)
{
	struct reader *rd = data;
	struct an_watcher *w = &rd->watchers->w[rd->slot];
	uint64_t missed;

	__atomic_store_n(&w->beat_ns, ps_mono_ns(), __ATOMIC_RELEASE);
	missed = __atomic_load_n(&w->missed, __ATOMIC_ACQUIRE);
	if (missed != rd->missed) {
		ps_warn(rd->ctx, "%" PRIu64 " alert%s on %s missed: this watch was stalled over a second (anomaly show lists the recent ones)",
			missed - rd->missed, missed - rd->missed == 1 ? "" : "s",
			rd->att.ifname);
		rd->missed = missed;
	}
	if (rd->addrs && ps_addrs_changed(rd->addrs))
		own_refresh(rd->ctx, &rd->att);
	return 0;
}

static int pick_one(struct ps_ctx *ctx, const char *dev,
		    struct ps_attachment *att)
{
	struct ps_attachment *atts;
	size_t n;

	if (ps_attachments_select(ctx, dev, &atts, &n))
		return PS_ERR;
	if (n > 1) {
		free(atts);
		return ps_usage_err(ctx, "anomaly is attached to %zu interfaces: name one with 'dev IF'",
				    n);
	}
	*att = atts[0];
	free(atts);
	return PS_OK;
}

static int do_watch(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_ring_opts opts = {
		.count = ps_arg_u64(args, "count", 0),
		.duration_ns = ps_arg_u64(args, "duration", 0),
		.timeout_ms = 50,
		.tick = on_tick,
	};
	const char *dev = ps_arg_str(args, "dev", NULL);
	const struct ps_value *mv = ps_arg_get(args, "mode");
	/* a temporary attach has the defaults: it alerts, never blocks */
	struct ps_attach_opts o = {
		.mode = mv ? PS_MODE_FROM_CHOICE(mv->u) : PS_MODE_AUTO,
	};
	struct reader rd = { .ctx = ctx, .slot = -1, .ring_fd = -1 };
	bool temporary = false;
	int r;

	if (!dev && mv)
		return ps_usage_err(ctx, "'mode' is for a temporary attach: it needs 'dev IF'");
	/* dev: anomaly's attachment there, or one for as long as this runs */
	if (dev ? ps_attach_hold(ctx, dev, &o, &rd.att, &temporary) :
		  pick_one(ctx, NULL, &rd.att))
		return PS_ERR;
	/* subscribed before the refresh: no change falls in between */
	rd.addrs = ps_addrs_follow(ctx);
	r = rd.addrs && !own_refresh(ctx, &rd.att) &&
	    !watch_claim(ctx, &rd) ?
	    ps_ringbuf_run(ctx, rd.ring_fd, on_alert, &rd, &opts) : PS_ERR;
	watch_release(&rd);
	ps_addrs_follow_free(rd.addrs);
	if (dev)
		ps_attach_release(ctx, &rd.att, temporary);
	return r;
}

/* ---- show ---- */

static int cmp_alert_ts(const void *a, const void *b)
{
	const struct an_alert *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? 1 : x->ts_ns > y->ts_ns ? -1 : 0;
}

static void show_recent(struct ps_ctx *ctx, const struct ps_attachment *att,
			size_t limit)
{
	struct an_alert *all = calloc(AN_LOG_MAX, sizeof(*all));
	struct an_global g;
	size_t n = 0;
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_ALOG));

	if (fd < 0 || !all ||
	    ps_map_read_one(ctx, att, PS_MAP_NAME(AN_MAP_GLOBAL),
			    0, &g, sizeof(g))) {
		free(all);
		if (fd >= 0)
			close(fd);
		return;
	}
	for (uint32_t i = 0; i < AN_LOG_MAX && i < g.alog_head; i++)
		if (!bpf_map_lookup_elem(fd, &i, &all[n]) && all[n].ts_ns)
			n++;
	close(fd);
	qsort(all, n, sizeof(*all), cmp_alert_ts);
	ps_out_u64(ctx, "alerts_logged", "Alerts so far", g.alog_head);
	ps_out_list(ctx, "recent_alerts", "Recent alerts");
	for (size_t i = 0; i < n && i < limit; i++) {
		ps_out_item(ctx, NULL);
		out_alert(ctx, att->ifname, &all[i], false);
		ps_out_item_end(ctx);
	}
	ps_out_list_end(ctx);
	free(all);
}

struct block_row {
	uint8_t family, plen;	/* plen: full for one address */
	uint8_t addr[16];
	struct an_block v;
};

struct block_list {
	struct block_row *rows;
	size_t n, cap;
};

static int block_row_add(struct ps_ctx *ctx, struct block_list *l,
			 int family, const uint8_t *addr, unsigned int plen,
			 const struct an_block *v)
{
	struct block_row *row;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct block_row *p = realloc(l->rows, cap * sizeof(*p));

		if (!p)
			return ps_err(ctx, "out of memory");
		l->rows = p;
		l->cap = cap;
	}
	row = &l->rows[l->n++];
	row->family = (uint8_t)family;
	row->plen = (uint8_t)plen;
	memcpy(row->addr, addr, 16);
	row->v = *v;
	return PS_OK;
}

/* a row of ps_map_dump() over a block map: its key, either kind, and value */
struct block_entry {
	union {
		struct ps_addr_key a;	/* blocks */
		struct ps_lpm_key p;	/* bpfx */
	} key;
	struct an_block v;
};

/*
 * The live entries of one block map; expired ones are deleted on the way
 * (the program deletes them too, but only when their source comes back).
 */
static int block_walk(struct ps_ctx *ctx, int fd, bool prefixes,
		      struct block_list *l)
{
	const struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct block_entry, key, v),
	};
	struct block_entry *rows;
	uint64_t now = ps_coarse_ns();
	size_t n;
	int r = ps_map_dump(fd, &spec, (void **)&rows, &n);

	if (r)
		return ps_err(ctx, "reading the block table: %s", strerror(-r));
	for (size_t i = 0; !r && i < n; i++) {
		const struct block_entry *e = &rows[i];

		if ((int64_t)(e->v.until_ns - now) <= 0)
			bpf_map_delete_elem(fd, &e->key);
		else if (prefixes)
			r = block_row_add(ctx, l, e->key.p.family,
					  e->key.p.addr,
					  e->key.p.prefixlen - 8, &e->v);
		else
			r = block_row_add(ctx, l, e->key.a.family,
					  e->key.a.addr,
					  e->key.a.family == PS_AF_INET ?
					  32 : 128, &e->v);
	}
	free(rows);
	return r;
}

/*
 * The drops each CPU counted in its cache slot of a block (bcache,
 * anomaly.h), added to the row's: the slots of its address and until_ns.
 */
static int block_add_cached(struct ps_ctx *ctx,
			    const struct ps_attachment *att,
			    struct block_list *l)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct an_bcache *v;

	if (ncpu <= 0)
		return ps_err(ctx, "cannot count the CPUs");
	fd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_BCACHE));
	if (fd < 0)
		return PS_ERR;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v) {
		close(fd);
		return ps_err(ctx, "out of memory");
	}
	for (uint32_t i = 0; i < AN_BCACHE_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			for (size_t j = 0; v[c].gen && v[c].drops && j < l->n;
			     j++) {
				struct block_row *row = &l->rows[j];

				if (row->family != v[c].family ||
				    row->v.until_ns != v[c].until_ns ||
				    row->plen != (row->family == PS_AF_INET ?
						  32 : 128) ||
				    memcmp(row->addr, v[c].addr, 16))
					continue;
				row->v.drops += v[c].drops;
				row->v.bytes += v[c].bytes;
			}
	}
	free(v);
	close(fd);
	return PS_OK;
}

/* Every live block of an attachment, addresses and prefixes. */
static int list_blocks(struct ps_ctx *ctx, const struct ps_attachment *att,
		       struct block_row **out, size_t *n)
{
	struct block_list l = { 0 };
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_BLOCKS)), pfd, r;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return PS_ERR;
	pfd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_BPFX));
	if (pfd < 0) {
		close(fd);
		return PS_ERR;
	}
	r = block_walk(ctx, fd, false, &l);
	if (!r)
		r = block_add_cached(ctx, att, &l);
	if (!r)
		r = block_walk(ctx, pfd, true, &l);
	close(fd);
	close(pfd);
	if (r) {
		free(l.rows);
		return PS_ERR;
	}
	*out = l.rows;
	*n = l.n;
	return PS_OK;
}

/* 10.0.0.0/8, or the bare address of a one-address block */
static void block_str(const struct block_row *row, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(row->family, row->addr, a, sizeof(a));
	if (row->plen == (row->family == PS_AF_INET ? 32 : 128))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, row->plen);
}

static void out_blocks(struct ps_ctx *ctx, const char *ifname,
		       const struct block_row *rows, size_t n)
{
	static const struct ps_col cols[] = {
		{ "ifname", "INTERFACE", PS_LEFT },
		{ "addr", "SOURCE", PS_LEFT },
		{ "detector", "BY", PS_LEFT },
		{ "until", "BLOCKED UNTIL", PS_LEFT },
		{ "dropped_packets", "DROPPED", PS_RIGHT },
		{ "dropped_bytes", "BYTES", PS_RIGHT },
	};
	struct ps_table *t = ps_table_new(ctx, "blocks", cols, ARRAY_SIZE(cols));

	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN + 8], until[48];

		block_str(&rows[i], a, sizeof(a));
		fmt_ts(rows[i].v.until_ns, until, sizeof(until));
		ps_table_str(t, ifname);
		ps_table_str(t, a);
		ps_table_str(t, rows[i].v.detector < AN_DET_MAX ?
			     det_names[rows[i].v.detector] : "manual");
		ps_table_str(t, until);
		ps_table_u64(t, rows[i].v.drops);
		ps_table_u64_human(t, rows[i].v.bytes, ps_fmt_size);
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

struct off_row {
	struct ps_addr_key k;
	struct an_offender v;
};

static int cmp_off(const void *a, const void *b, void *data)
{
	const struct an_offender *x = &((const struct off_row *)a)->v;
	const struct an_offender *y = &((const struct off_row *)b)->v;

	(void)data;
	if (x->alerts != y->alerts)
		return x->alerts < y->alerts ? 1 : -1;
	return x->last_ns < y->last_ns ? 1 : x->last_ns > y->last_ns ? -1 : 0;
}

static void show_offenders(struct ps_ctx *ctx, const struct ps_attachment *att,
			   size_t limit)
{
	static const struct ps_col cols[] = {
		{ "addr", "SOURCE", PS_LEFT },
		{ "alerts", NULL, PS_RIGHT },
		{ "detector", "LAST DETECTOR", PS_LEFT },
		{ "count", "COUNT", PS_RIGHT },
		{ "last", "LAST ALERT", PS_LEFT },
	};
	struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct off_row, k, v), .cmp = cmp_off, .top = limit,
	};
	struct off_row *rows;
	void *dump;
	size_t n;
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_OFFENDERS)), r;
	struct ps_table *t;

	if (fd < 0)
		return;
	r = ps_map_dump(fd, &spec, &dump, &n);
	close(fd);
	if (r) {
		ps_err(ctx, "reading anomaly offenders on %s: %s", att->ifname,
		       strerror(-r));
		return;
	}
	rows = dump;
	t = ps_table_new(ctx, "top_offenders", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN], last[48];

		addr_str(rows[i].k.family, rows[i].k.addr, a, sizeof(a));
		fmt_ts(rows[i].v.last_ns, last, sizeof(last));
		ps_table_str(t, a);
		ps_table_u64(t, rows[i].v.alerts);
		ps_table_str(t, rows[i].v.detector < AN_DET_MAX ?
			     det_names[rows[i].v.detector] : "?");
		ps_table_u64(t, rows[i].v.count);
		ps_table_str(t, last);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	free(rows);
}

static void out_counters(struct ps_ctx *ctx, const struct an_stats *s)
{
	static const struct ps_col cols[] = {
		{ "detector", NULL, PS_LEFT },
		{ "alerts", NULL, PS_RIGHT },
		{ "dropped_packets", "DROPPED", PS_RIGHT },
	};
	static const struct ps_col rcols[] = {
		{ "reason", NULL, PS_LEFT },
		{ "packets", NULL, PS_RIGHT },
	};
	struct ps_table *t;

	ps_out_u64(ctx, "seen", "Packets seen", s->seen);
	ps_out_u64(ctx, "allowed", "Allowlisted", s->allowed);
	ps_out_u64(ctx, "block_drops", "Dropped: blocked",
		   s->block_drops);
	ps_out_u64(ctx, "blocks_expired", "Blocks expired", s->block_expired);
	ps_out_u64(ctx, "block_full", "Block table full",
		   s->block_full);
	ps_out_u64(ctx, "own_protected", "Own not blocked",
		   s->own_protected);
	ps_out_u64(ctx, "dst_full", "Dst table full",
		   s->dst_full);
	ps_out_u64(ctx, "deduped", "Alerts deduplicated", s->deduped);
	ps_out_u64(ctx, "alerts_capped", "Alerts capped",
		   s->alerts_capped);
	ps_out_u64(ctx, "ring_lost", "Alerts lost (ring)", s->ring_lost);
	ps_out_u64(ctx, "socket_lookups", "Socket lookups", s->lookups);
	ps_out_u64(ctx, "scan_untracked", "Scans untracked", s->scan_untracked);
	ps_out_u64(ctx, "socket_cached", "Socket lookups cached",
		   s->lookups_cached);
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "detectors", cols, ARRAY_SIZE(cols));
	for (int d = 0; d < AN_DET_MAX; d++) {
		ps_table_str(t, det_names[d]);
		ps_table_u64(t, s->alerts[d]);
		ps_table_u64(t, s->drops[d]);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "reasons", rcols, ARRAY_SIZE(rcols));
	for (int r = 1; r < AN_R_MAX; r++) {
		if (!s->reasons[r])
			continue;
		ps_table_str(t, reason_names[r]);
		ps_table_u64(t, s->reasons[r]);
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

/* the watches running now, one row each: each reads every alert */
static void show_watches(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	static const struct ps_col cols[] = {
		{ "slot", NULL, PS_RIGHT },
		{ "pid", NULL, PS_RIGHT },
		{ "running_ns", "RUNNING", PS_RIGHT },
		{ "missed", NULL, PS_RIGHT },
		{ "command", NULL, PS_LEFT },
	};
	uint64_t owners[AN_WATCHERS_MAX];
	int idx[AN_WATCHERS_MAX], n;
	struct an_watchers w;
	struct ps_table *t;

	if (ps_map_read_one(ctx, att, PS_MAP_NAME(AN_MAP_WATCHERS), 0, &w,
			    sizeof(w)))
		return;
	n = ps_slot_owners(w.w, sizeof(w.w[0]), AN_WATCHERS_MAX, owners, idx);
	ps_out_text(ctx, "Watches: %d of %d\n", n, AN_WATCHERS_MAX);
	/* text leaves out an empty table; JSON always has the list */
	if (n || ps_json(ctx)) {
		t = ps_table_new(ctx, "watches", cols, ARRAY_SIZE(cols));
		for (int i = 0; i < n; i++) {
			char cmd[512];

			ps_owner_cmdline(owners[i], cmd, sizeof(cmd));
			ps_table_u64(t, (uint64_t)idx[i]);
			ps_table_u64(t, PS_OWNER_PID(owners[i]));
			ps_table_u64_human(t, ps_owner_age_ns(owners[i]),
					   ps_fmt_duration);
			ps_table_u64(t, w.w[idx[i]].missed);
			ps_table_str(t, cmd);
			ps_table_end_row(t);
		}
		ps_table_end(t);
	}
	ps_out_text(ctx, "\n");
}

static int show_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		    void *data)
{
	struct an_config c;
	struct an_stats s;
	struct block_row *rows = NULL;
	size_t n;

	(void)data;
	if (own_refresh(ctx, att) || read_config(ctx, att, &c) ||
	    read_stats(ctx, att, &s) ||
	    list_blocks(ctx, att, &rows, &n))
		return PS_ERR;
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	ps_out_str(ctx, "mode", "Mode", ps_mode_name(att->mode));
	ps_out_section(ctx, "config", NULL);
	out_config(ctx, &c);
	ps_out_section_end(ctx);
	ps_out_text(ctx, "\n");
	ps_out_section(ctx, "counters", NULL);
	out_counters(ctx, &s);
	ps_out_section_end(ctx);
	ps_out_text(ctx, "\n");
	show_watches(ctx, att);
	show_recent(ctx, att, 10);
	ps_out_text(ctx, "\nActive blocks: %zu\n", n);
	out_blocks(ctx, att->ifname, rows, n);
	free(rows);
	ps_out_text(ctx, "\nTop offenders\n");
	show_offenders(ctx, att, 10);
	ps_out_item_end(ctx);
	return PS_OK;
}

static int do_show(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", PS_EACH_SPACED, show_one, NULL);
}

/* ---- allowlist and manual blocks ---- */

/* the attachments a list verb works on: dev's, or every one */
static int targets(struct ps_ctx *ctx, const struct ps_args *args,
		   struct ps_attachment **atts, size_t *n)
{
	return ps_attachments_select(ctx, ps_arg_str(args, "dev", NULL), atts,
				     n);
}

static const struct ps_cidr *arg_cidr(const struct ps_args *args)
{
	return &ps_arg_get(args, "cidr")->cidr;
}

/*
 * flags |= set, &= ~clear, in one read-modify-write of the config; with
 * stale, a block was deleted or changed: the CPUs' cached copies of every
 * block are stale (anomaly.h).
 */
static int config_change(struct ps_ctx *ctx, const struct ps_attachment *att,
			 uint32_t set, uint32_t clear, bool stale)
{
	struct an_config c;

	if (read_config(ctx, att, &c))
		return PS_ERR;
	c.flags = (c.flags | set) & ~clear;
	if (stale)
		c.block_gen++;
	return write_config(ctx, att, &c);
}

static int set_flags(struct ps_ctx *ctx, const struct ps_attachment *att,
		     uint32_t set, uint32_t clear)
{
	return config_change(ctx, att, set, clear, false);
}

static int allow_change(struct ps_ctx *ctx, const struct ps_args *args,
			bool add)
{
	const struct ps_cidr *cidr = arg_cidr(args);
	struct ps_attachment *atts;
	size_t n;
	int r = PS_OK;

	if (targets(ctx, args, &atts, &n))
		return PS_ERR;
	for (size_t i = 0; i < n && !r; i++) {
		struct ps_cidr *v = NULL;
		size_t left = 0;

		r = add ? ps_lpm_add(ctx, &atts[i], PS_MAP_NAME(AN_MAP_ALLOW),
				     cidr) :
			  ps_lpm_del(ctx, &atts[i], PS_MAP_NAME(AN_MAP_ALLOW),
				     cidr);
		if (r == -ENOENT)
			r = ps_err(ctx, "%s is not in the allowlist on %s",
				   ps_arg_get(args, "cidr")->str,
				   atts[i].ifname);
		/* the flag after the entry: never a flag without a list */
		if (!r)
			r = ps_lpm_list(ctx, &atts[i],
					PS_MAP_NAME(AN_MAP_ALLOW), &v, &left);
		if (!r)
			r = set_flags(ctx, &atts[i], left ? AN_F_ALLOW : 0,
				      left ? 0 : AN_F_ALLOW);
		free(v);
	}
	free(atts);
	return r;
}

static int do_allow_add(struct ps_ctx *ctx, const struct ps_args *args)
{
	return allow_change(ctx, args, true);
}

static int do_allow_del(struct ps_ctx *ctx, const struct ps_args *args)
{
	return allow_change(ctx, args, false);
}

static int do_allow_list(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "ifname", "INTERFACE", PS_LEFT },
		{ "prefix", NULL, PS_LEFT },
	};
	struct ps_attachment *atts;
	struct ps_table *t;
	size_t n;

	if (targets(ctx, args, &atts, &n))
		return PS_ERR;
	t = ps_table_new(ctx, "allow", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < n; i++) {
		struct ps_cidr *v;
		size_t nv;

		if (ps_lpm_list(ctx, &atts[i], PS_MAP_NAME(AN_MAP_ALLOW),
				&v, &nv))
			continue;
		for (size_t k = 0; k < nv; k++) {
			char p[PS_CIDR_STRLEN];

			ps_table_str(t, atts[i].ifname);
			ps_table_str(t, ps_fmt_cidr(&v[k], p, sizeof(p)));
			ps_table_end_row(t);
		}
		free(v);
	}
	ps_table_end(t);
	free(atts);
	return PS_OK;
}

/* the first of the host's own addresses in a, or NULL */
static const void *own_in(const struct an_config *c, const struct ps_cidr *a)
{
	if (a->family == AF_INET) {
		for (uint32_t i = 0; i < c->n4 && i < AN_LOCAL_MAX; i++)
			if (ps_cidr_contains(a, AF_INET, &c->local4[i]))
				return &c->local4[i];
	} else {
		for (uint32_t i = 0; i < c->n6 && i < AN_LOCAL_MAX; i++)
			if (ps_cidr_contains(a, AF_INET6, c->local6[i]))
				return c->local6[i];
	}
	return NULL;
}

static bool is_single(const struct ps_cidr *a)
{
	return a->prefixlen == (a->family == AF_INET ? 32 : 128);
}

/* whether an allowlisted prefix holds all of a (a lookup at a's length) */
static bool is_allowed(int allow_fd, const struct ps_cidr *a)
{
	struct ps_lpm_key k;
	uint8_t v;

	ps_lpm_key_set(&k, a->family, a->addr, a->prefixlen);
	return !bpf_map_lookup_elem(allow_fd, &k, &v);
}

/*
 * Refuse, before touching any table, what may never be blocked: the
 * host's own address, a prefix the allowlist holds whole.  A prefix with
 * own or allowlisted addresses in it is taken: the program never drops
 * those (allow is checked first, own addresses in the prefix path).
 */
static int block_check(struct ps_ctx *ctx, const struct ps_attachment *att,
		       const struct ps_cidr *a, const char *word)
{
	struct an_config c;
	const void *own;
	int fd;
	bool allowed;

	if (own_refresh(ctx, att) || read_config(ctx, att, &c))
		return PS_ERR;
	own = own_in(&c, a);
	if (own && is_single(a))
		return ps_err(ctx, "%s is this host's own address: it is never blocked",
			      word);
	fd = ps_map_open(ctx, att, PS_MAP_NAME(AN_MAP_ALLOW));
	if (fd < 0)
		return PS_ERR;
	allowed = is_allowed(fd, a);
	close(fd);
	if (allowed)
		return ps_err(ctx, "%s is in the allowlist on %s: it is never blocked",
			      word, att->ifname);
	if (own) {
		char s[INET6_ADDRSTRLEN];

		addr_str(a->family, own, s, sizeof(s));
		ps_warn(ctx, "%s holds this host's own address %s: that one is never blocked",
			word, s);
	}
	return PS_OK;
}

/* one block into its map: blocks for an address, bpfx for a prefix */
static int block_put(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const struct ps_cidr *a, const char *word,
		     const struct an_block *b)
{
	bool single = is_single(a);
	int fd = ps_map_open(ctx, att, single ? PS_MAP_NAME(AN_MAP_BLOCKS) :
					    PS_MAP_NAME(AN_MAP_BPFX)), r = PS_OK;
	struct ps_lpm_key pk;
	struct ps_addr_key k;

	if (fd < 0)
		return PS_ERR;
	ps_addr_key_set(&k, a->family, a->addr);
	ps_lpm_key_set(&pk, a->family, a->addr, a->prefixlen);
	if (bpf_map_update_elem(fd, single ? (void *)&k : (void *)&pk, b,
				BPF_ANY))
		r = ps_err(ctx, "blocking %s on %s: %s", word, att->ifname,
			   errno == E2BIG || errno == ENOSPC ?
			   "the block table is full" : strerror(errno));
	close(fd);
	if (!r)
		r = config_change(ctx, att, AN_F_BLOCKS |
				  (single ? 0 : AN_F_BPFX), 0, single);
	return r;
}

static int do_block_add(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_cidr *a = arg_cidr(args);
	const char *word = ps_arg_get(args, "cidr")->str;
	struct ps_attachment *atts;
	size_t n;
	int r = PS_OK;

	if (targets(ctx, args, &atts, &n))
		return PS_ERR;
	for (size_t i = 0; i < n && !r; i++)
		r = block_check(ctx, &atts[i], a, word);
	for (size_t i = 0; i < n && !r; i++) {
		struct an_config c;
		struct an_block b = { .detector = AN_DET_MAX,
				      .plen = a->prefixlen };

		r = read_config(ctx, &atts[i], &c);
		if (r)
			break;
		b.until_ns = ps_coarse_ns() +
			     ps_arg_u64(args, "ttl", c.block_ns);
		r = block_put(ctx, &atts[i], a, word, &b);
	}
	free(atts);
	return r;
}

/* 1 if a was blocked on att and is no more, 0 if it was not, -1: error */
static int block_drop(struct ps_ctx *ctx, const struct ps_attachment *att,
		      const struct ps_cidr *a)
{
	bool single = is_single(a);
	int fd = ps_map_open(ctx, att, single ? PS_MAP_NAME(AN_MAP_BLOCKS) :
					    PS_MAP_NAME(AN_MAP_BPFX)), gone;
	struct ps_lpm_key pk, next;
	struct ps_addr_key k;

	if (fd < 0)
		return -1;
	ps_addr_key_set(&k, a->family, a->addr);
	ps_lpm_key_set(&pk, a->family, a->addr, a->prefixlen);
	gone = !bpf_map_delete_elem(fd, single ? (void *)&k : (void *)&pk);
	/* the last prefix gone: the program stops looking */
	if (gone && !single && bpf_map_get_next_key(fd, NULL, &next) &&
	    set_flags(ctx, att, 0, AN_F_BPFX))
		gone = -1;
	if (gone > 0 && single && config_change(ctx, att, 0, 0, true))
		gone = -1;
	close(fd);
	return gone;
}

static int do_block_del(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_cidr *a = arg_cidr(args);
	struct ps_attachment *atts;
	size_t n, found = 0;
	int r = PS_OK;

	if (targets(ctx, args, &atts, &n))
		return PS_ERR;
	for (size_t i = 0; i < n && !r; i++) {
		int gone = block_drop(ctx, &atts[i], a);

		if (gone < 0)
			r = PS_ERR;
		else
			found += (size_t)gone;
	}
	free(atts);
	if (!r && !found)
		r = ps_err(ctx, "%s is not blocked", ps_arg_get(args, "cidr")->str);
	return r;
}

static int do_block_list(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_attachment *atts;
	size_t n;
	int r = PS_OK;

	if (targets(ctx, args, &atts, &n))
		return PS_ERR;
	ps_out_list(ctx, "interfaces", NULL);
	for (size_t i = 0; i < n && !r; i++) {
		struct block_row *rows = NULL;
		size_t nr;

		r = list_blocks(ctx, &atts[i], &rows, &nr);
		if (r)
			break;
		ps_out_item(ctx, NULL);
		ps_out_str(ctx, "ifname", "Interface", atts[i].ifname);
		out_blocks(ctx, atts[i].ifname, rows, nr);
		ps_out_item_end(ctx);
		free(rows);
	}
	ps_out_list_end(ctx);
	free(atts);
	return r;
}

/* ---- metrics ---- */

static int metrics(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	struct an_stats s;
	struct block_row *rows = NULL;
	size_t n = 0;

	if (read_stats(ctx, att, &s))
		return PS_ERR;
	for (int d = 0; d < AN_DET_MAX; d++) {
		struct ps_label l = { "detector", det_names[d] };

		ps_metric(ctx, "anomaly_alerts_total", PS_METRIC_COUNTER,
			  "alerts made, by detector", (double)s.alerts[d], &l, 1);
		ps_metric(ctx, "anomaly_dropped_packets_total",
			  PS_METRIC_COUNTER,
			  "packets dropped, by the detector that blocked them",
			  (double)s.drops[d], &l, 1);
	}
	for (int r = 1; r < AN_R_MAX; r++) {
		struct ps_label l = { "reason", reason_names[r] };

		if (s.reasons[r])
			ps_metric(ctx, "anomaly_classified_packets_total",
				  PS_METRIC_COUNTER,
				  "malformed packets and martian sources, by reason",
				  (double)s.reasons[r], &l, 1);
	}
	ps_metric(ctx, "anomaly_alerts_deduplicated_total", PS_METRIC_COUNTER,
		  "alerts suppressed as repeats within their window",
		  (double)s.deduped, NULL, 0);
	ps_metric(ctx, "anomaly_alerts_lost_total", PS_METRIC_COUNTER,
		  "alerts not delivered: ring full or over alert-max",
		  (double)(s.ring_lost + s.alerts_capped), NULL, 0);
	ps_metric(ctx, "anomaly_table_full_total", PS_METRIC_COUNTER,
		  "blocks or destinations not recorded: table full",
		  (double)(s.block_full + s.dst_full), NULL, 0);
	if (!list_blocks(ctx, att, &rows, &n))
		ps_metric(ctx, "anomaly_blocked_sources", PS_METRIC_GAUGE,
			  "sources blocked now", (double)n, NULL, 0);
	free(rows);
	return PS_OK;
}

/* ---- declarations ---- */

static const struct ps_arg_spec dev_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "one interface (default: every one attached)" },
	{ 0 }
};

static const struct ps_arg_spec watch_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "interface, attached for the watch (alerts only) if anomaly is not; needed when anomaly is on several" },
	{ "mode", PS_KIND_CHOICE, 0, NULL,
	  "hook for a temporary attach (default tcx, else tc)",
	  ps_mode_choices },
	{ "count", PS_KIND_COUNT, 0, NULL, "stop after N alerts", NULL, 1, 0 },
	{ "duration", PS_KIND_DURATION, 0, NULL, "stop after this long" },
	{ 0 }
};

static const struct ps_arg_spec config_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "attached interface" },
	THRESHOLD_ARGS,
	{ 0 }
};

static const struct ps_arg_spec allow_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "one interface (default: every one attached)" },
	{ "cidr", PS_KIND_CIDR, PS_ARG_POSITIONAL | PS_ARG_REQUIRED, NULL,
	  "IPv4 or IPv6 prefix" },
	{ 0 }
};

static const struct ps_arg_spec block_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "one interface (default: every one attached)" },
	{ "cidr", PS_KIND_CIDR, PS_ARG_POSITIONAL | PS_ARG_REQUIRED, NULL,
	  "an IPv4 or IPv6 address or prefix" },
	{ "ttl", PS_KIND_DURATION, 0, NULL,
	  "how long (default: the attachment's block-time)", NULL, NSEC,
	  30ULL * 86400 * NSEC },
	{ 0 }
};

static const struct ps_arg_spec block_del_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "one interface (default: every one attached)" },
	{ "cidr", PS_KIND_CIDR, PS_ARG_POSITIONAL | PS_ARG_REQUIRED, NULL,
	  "the blocked address or prefix" },
	{ 0 }
};

static const struct ps_cmd allow_cmds[] = {
	{ "add", "never alert on nor block sources in a prefix",
	  allow_args, do_allow_add, NULL, PS_CMD_BPF },
	{ "del", "remove a prefix from the allowlist",
	  allow_args, do_allow_del, NULL, PS_CMD_BPF },
	{ "list", "the allowlisted prefixes",
	  dev_args, do_allow_list, NULL, PS_CMD_BPF },
	{ 0 }
};

static const struct ps_cmd block_cmds[] = {
	{ "add", "drop the packets of a source or prefix until the ttl runs out",
	  block_args, do_block_add, NULL, PS_CMD_BPF },
	{ "del", "unblock a source or prefix",
	  block_del_args, do_block_del, NULL, PS_CMD_BPF },
	{ "list", "blocked sources, what blocked them, what they lost",
	  dev_args, do_block_list, NULL, PS_CMD_BPF },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "show", "counters, thresholds, recent alerts, blocks, top offenders",
	  dev_args, do_show, NULL, PS_CMD_BPF },
	{ "watch", "alerts as they happen",
	  watch_args, do_watch, NULL, PS_CMD_BPF | PS_CMD_STREAM },
	{ "config", "show or change thresholds live, without reloading",
	  config_args, do_config, NULL, PS_CMD_BPF },
	{ "allow", "the allowlist: prefixes never alerted on, never blocked",
	  NULL, NULL, allow_cmds, 0 },
	{ "block", "manual blocks, in the table action block uses",
	  NULL, NULL, block_cmds, 0 },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "anomaly",
	.version = PACKAGE_VERSION,
	.summary = "floods, scans, malformed and forged packets, caught and blocked in the kernel",
	.bpf_elf = anomaly__elf_bytes,
	.xdp_prog = "an_xdp",
	.tc_prog = "an_tc",
	.stage = PS_STAGE_ENFORCE,
	.cmds = cmds,
	.attach_args = attach_args,
	.configure = configure,
	.metrics = metrics,
);
