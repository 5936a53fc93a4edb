// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * src-log: who is sending to this host, packet by packet and flow by flow.
 * The BPF side (bpf/src_log.bpf.c) filters, samples and rate-caps in the
 * kernel and streams 64-byte events through a ring buffer; this side sets
 * the filters, reads the events into the terminal, JSON Lines or
 * compressed, rotated files, and accounts for every packet it did not
 * deliver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pktscope/plugin.h>

#include "config.h"
#include <pktscope/bpf/parse.h>
#include "src_log.h"
#include "src_log.skel.h"
#include "slog_expr.h"
#include "slog_pcapng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_FLOW_TIMEOUT_NS (30ULL * 1000000000ULL)

/* ---- filters: one declaration for attach, watch, record and filter ---- */

#define FILTER_ARGS							\
	{ "proto", PS_KIND_PROTO, PS_ARG_REPEAT, NULL,			\
	  "only this IP protocol (repeatable)" },			\
	{ "src", PS_KIND_CIDR, PS_ARG_REPEAT, NULL,			\
	  "only sources in this prefix (repeatable, IPv4 or IPv6; "	\
	  "over 8 of a family cost a trie lookup, ~25 ns a packet)" },	\
	{ "not-src", PS_KIND_CIDR, PS_ARG_REPEAT, NULL,			\
	  "never sources in this prefix (repeatable, as src)" },	\
	{ "dport", PS_KIND_PORT, 0, NULL, "destination port or range" },	\
	{ "sport", PS_KIND_PORT, 0, NULL, "source port or range" },	\
	{ "syn", PS_KIND_FLAG, 0, NULL,					\
	  "TCP connection attempts only (SYN without ACK)" },		\
	{ "new-flows", PS_KIND_FLAG, 0, NULL,				\
	  "only the first packet of each flow" },			\
	{ "flow-timeout", PS_KIND_DURATION, 0, NULL,			\
	  "idle time after which a flow is new again (default 30s)" },	\
	{ "sample", PS_KIND_COUNT, 0, NULL, "log one packet in N", NULL,	\
	  1, 1000000000 },						\
	{ "max-rate", PS_KIND_COUNT, 0, NULL,				\
	  "at most N events a second; the excess is counted", NULL,	\
	  1, 1000000000 },						\
	SLOG_EXPR_ARG


/* the filters alone: what `attach` adds to the core's keywords */
static const struct ps_arg_spec attach_args[] = {
	FILTER_ARGS,
	{ 0 }
};

/* any keyword of the filter declaration given? */
static bool has_filters(const struct ps_args *args)
{
	for (const struct ps_arg_spec *a = attach_args; a->keyword; a++)
		if (ps_arg_has(args, a->keyword))
			return true;
	return false;
}

/*
 * A source list in the config too, each family's part while it is short
 * enough to be compared there (bpf/src_log.h); a longer part is left
 * unused, and its family looked up in the trie.  Used and empty, a part
 * matches nothing, as the trie would.
 */
static void fill_nets(struct slog_nets *l, const struct ps_args *args,
		      const char *kw)
{
	bool over4 = false, over6 = false;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < ps_arg_count(args, kw); i++) {
		const struct ps_cidr *c = &ps_arg_nth(args, kw, i)->cidr;

		if (slog_nets_add(l, c->family, c->addr, c->prefixlen)) {
			if (c->family == AF_INET)
				over4 = true;
			else
				over6 = true;
		}
	}
	l->used4 = !over4;
	l->used6 = !over6;
}

static int fill_trie(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const char *map, const struct ps_args *args,
		     const char *kw)
{
	size_t n = ps_arg_count(args, kw);
	struct ps_cidr *v = calloc(n ? n : 1, sizeof(*v));
	int r;

	if (!v)
		return ps_err(ctx, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = ps_arg_nth(args, kw, i)->cidr;
	r = ps_lpm_fill(ctx, att, map, v, n);
	free(v);
	return r;
}

static int read_config(struct ps_ctx *ctx, const struct ps_attachment *att,
		       struct slog_config *c)
{
	return ps_map_read_one(ctx, att, PS_MAP_NAME(SLOG_MAP_CONFIG),
			       0, c, sizeof(*c));
}

static struct slog_config *map_config(int fd);
static void unmap_config(struct slog_config *c);

/* the keyword filters' fields, alike in the config and a reader's slot */
struct filter_fields {
	__u32 *flags;
	__u8 *protos;
	__u16 *sport_lo, *sport_hi, *dport_lo, *dport_hi;
	struct slog_nets *allow, *deny;
};

#define FILTER_FIELDS(f)						\
	((struct filter_fields){ &(f)->flags, (f)->protos,		\
				 &(f)->sport_lo, &(f)->sport_hi,	\
				 &(f)->dport_lo, &(f)->dport_hi,	\
				 &(f)->allow, &(f)->deny })

/* The keyword filters args names into f; the others stay as they are. */
static void set_filters(struct filter_fields f, const struct ps_args *args)
{
	if (ps_arg_has(args, "proto")) {
		memset(f.protos, 0, 32);
		for (size_t i = 0; i < ps_arg_count(args, "proto"); i++) {
			unsigned p = (unsigned)ps_arg_nth(args, "proto", i)->u;

			f.protos[p / 8] |= (uint8_t)(1U << (p % 8));
		}
		*f.flags |= SLOG_F_PROTO;
	}
	if (ps_arg_has(args, "src")) {
		*f.flags |= SLOG_F_SRC_ALLOW;
		fill_nets(f.allow, args, "src");
	}
	if (ps_arg_has(args, "not-src")) {
		*f.flags |= SLOG_F_SRC_DENY;
		fill_nets(f.deny, args, "not-src");
	}
	if (ps_arg_has(args, "syn"))
		*f.flags |= SLOG_F_SYN;
	if (ps_arg_has(args, "new-flows"))
		*f.flags |= SLOG_F_NEW_FLOWS;
	if (ps_arg_has(args, "dport") || ps_arg_has(args, "sport"))
		*f.flags |= SLOG_F_PORTS;
	if (ps_arg_has(args, "dport")) {
		*f.dport_lo = ps_arg_get(args, "dport")->port.lo;
		*f.dport_hi = ps_arg_get(args, "dport")->port.hi;
	}
	if (ps_arg_has(args, "sport")) {
		*f.sport_lo = ps_arg_get(args, "sport")->port.lo;
		*f.sport_hi = ps_arg_get(args, "sport")->port.hi;
	}
}

/* the part of the config that is the attachment's, not the readers' */
#define CONFIG_OWN_LEN offsetof(struct slog_config, readers)

/*
 * The attachment's part of the config, through the mmap()ed map: writing
 * the whole value would undo a reader's claim or beat made in between.
 */
static int write_config_own(struct ps_ctx *ctx,
			    const struct ps_attachment *att,
			    const struct slog_config *c)
{
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(SLOG_MAP_CONFIG));
	struct slog_config *m;

	if (fd < 0)
		return PS_ERR;
	m = map_config(fd);
	close(fd);
	if (!m)
		return ps_err(ctx, "cannot map src-log's config on %s: %s",
			      att->ifname, strerror(errno));
	memcpy(m, c, CONFIG_OWN_LEN);
	unmap_config(m);
	return PS_OK;
}

static void config_defaults(struct slog_config *c)
{
	memset(c, 0, CONFIG_OWN_LEN);
	c->sport_hi = c->dport_hi = 65535;
	c->flow_timeout_ns = DEFAULT_FLOW_TIMEOUT_NS;
}

/*
 * The attachment's filters: fresh (attach) from the defaults, clear back
 * to them, else (filter) the keys args names changed and the rest kept.
 * A temporary attach of a reader's takes only its flow-timeout (the flows
 * table is the attachment's); the reader's filters are its own.
 */
static int apply_filters(struct ps_ctx *ctx, const struct ps_attachment *att,
			 const struct ps_args *args, bool fresh)
{
	bool clear = ps_arg_has(args, "clear");
	bool reader = fresh && att->owner_pid;
	struct slog_config c;
	int r;

	if (!fresh && read_config(ctx, att, &c))
		return PS_ERR;
	if (fresh || clear) {
		/* shown by bpftool: the core's temporary owner, if any */
		uint32_t owner = fresh ? att->owner_pid : c.owner_pid;

		config_defaults(&c);
		c.owner_pid = owner;
	}
	if (ps_arg_has(args, "flow-timeout"))
		c.flow_timeout_ns = ps_arg_u64(args, "flow-timeout", 0);
	if (reader)
		return write_config_own(ctx, att, &c);
	set_filters(FILTER_FIELDS(&c), args);
	if (ps_arg_has(args, "sample"))
		c.sample = (uint32_t)ps_arg_u64(args, "sample", 1);
	if (ps_arg_has(args, "max-rate"))
		c.max_rate = ps_arg_u64(args, "max-rate", 0);
	if (fresh || clear || ps_arg_has(args, "expr")) {
		r = slog_expr_apply(ctx, att, ps_arg_str(args, "expr", NULL),
				    SLOG_EXPR_SLOT, c.expr, &c.flags);
		if (r)
			return r;
	}
	/* tries first: a flag must never point at a half-filled trie */
	r = PS_OK;
	if (fresh || clear || ps_arg_has(args, "src"))
		r = fill_trie(ctx, att, PS_MAP_NAME(SLOG_MAP_SRC_ALLOW), args, "src");
	if (!r && (fresh || clear || ps_arg_has(args, "not-src")))
		r = fill_trie(ctx, att, PS_MAP_NAME(SLOG_MAP_SRC_DENY), args,
			      "not-src");
	if (!r)
		r = write_config_own(ctx, att, &c);
	return r;
}

static int configure(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const struct ps_args *args, void *data)
{
	(void)data;
	return apply_filters(ctx, att, args, true);
}

/* ---- describing the filter set (filter, status) ---- */

static void out_filters(struct ps_ctx *ctx, const struct ps_attachment *att,
			const struct slog_config *c)
{
	const char *protos[256];
	char numbuf[256][4], ports[32];
	size_t np = 0;

	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	for (unsigned p = 0; p < 256; p++) {
		if (!(c->protos[p / 8] & (1U << (p % 8))))
			continue;
		if (ps_proto_name(p)) {
			protos[np++] = ps_proto_name(p);
		} else {
			snprintf(numbuf[p], sizeof(numbuf[p]), "%u", p);
			protos[np++] = numbuf[p];
		}
	}
	ps_out_strv(ctx, "proto", "Protocols", protos, np);
	for (int pass = 0; pass < 2; pass++) {
		const char *map = pass ? PS_MAP_NAME(SLOG_MAP_SRC_DENY) :
					 PS_MAP_NAME(SLOG_MAP_SRC_ALLOW);
		struct ps_cidr *v;
		char (*buf)[PS_CIDR_STRLEN];
		const char **str;
		size_t n;

		if (ps_lpm_list(ctx, att, map, &v, &n))
			continue;
		buf = calloc(n ? n : 1, sizeof(*buf));
		str = calloc(n ? n : 1, sizeof(*str));
		for (size_t i = 0; buf && str && i < n; i++)
			str[i] = ps_fmt_cidr(&v[i], buf[i], sizeof(buf[i]));
		if (buf && str)
			ps_out_strv(ctx, pass ? "not_src" : "src",
				    pass ? "Never from" : "Only from", str, n);
		else
			ps_err(ctx, "out of memory");
		free(str);
		free(buf);
		free(v);
	}
	snprintf(ports, sizeof(ports), "%u-%u", c->dport_lo, c->dport_hi);
	ps_out_str(ctx, "dport", "Destination ports", ports);
	snprintf(ports, sizeof(ports), "%u-%u", c->sport_lo, c->sport_hi);
	ps_out_str(ctx, "sport", "Source ports", ports);
	ps_out_bool(ctx, "syn", "SYN only", c->flags & SLOG_F_SYN);
	ps_out_bool(ctx, "new_flows", "New flows only", c->flags & SLOG_F_NEW_FLOWS);
	ps_out_u64_human(ctx, "flow_timeout_ns", "Flow idle timeout",
			 c->flow_timeout_ns ? c->flow_timeout_ns :
			 DEFAULT_FLOW_TIMEOUT_NS, ps_fmt_duration);
	ps_out_u64(ctx, "sample", "Sample 1 in", c->sample ? c->sample : 1);
	ps_out_u64(ctx, "max_rate", "Max events/s (0: none)", c->max_rate);
	ps_out_str(ctx, "expr", "Expression", c->flags & SLOG_F_EXPR ?
		   c->expr : "");
}

static int do_filter(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	struct ps_attachment att;
	struct slog_config c;

	if (ps_attachment_get(ctx, dev, &att))
		return ps_err(ctx, "src-log is not attached to %s (attach it with '%s src-log attach dev %s')",
			      dev, "pktscope", dev);
	if (has_filters(args) || ps_arg_has(args, "clear")) {
		if (ps_arg_has(args, "clear") && has_filters(args))
			return ps_usage_err(ctx, "'clear' takes no filters with it");
		int r = apply_filters(ctx, &att, args, false);


		if (r)
			return r;	/* a usage error stays one (exit 2) */
	}
	if (read_config(ctx, &att, &c))
		return PS_ERR;
	out_filters(ctx, &att, &c);
	return PS_OK;
}

/* ---- events: one formatter for terminal, JSON Lines and files ---- */

struct reader {
	struct ps_ctx *ctx;
	struct ps_attachment att;
	int config_fd;
	struct slog_config *config;	/* the map, mmap()ed */
	int ring_fd;		/* its own ring, in rings[slot] */
	int stats_fd;		/* held: read after a detach too */
	int64_t mono_to_real_ns;	/* realtime - monotonic at start */
	uint64_t delivered;	/* events handed to the writer */
	uint64_t unread;	/* taken from the ring after count, or a failed write */
	uint64_t count;		/* count N: deliver at most N */
	uint64_t lines_out;	/* record: event lines that reached the file */
	uint64_t last_beat;
	bool vanished;
	bool temporary;		/* the attachment is a temporary (shared) one */
	const char *gone;	/* why the attachment went away, or NULL */
	int slot;		/* its reader slot, -1: none yet */
	struct slog_reader want;	/* what it fills its slot with */
	/* record */
	const char *path;
	bool created;		/* the file is ours: we made it */
	bool regular;		/* a plain file (not a FIFO or a device) */
	int fd;
	gzFile gz;
	bool raw;		/* a plain (not gzip) log, on fd */
	FILE *out;		/* what the writer writes to */
	uint64_t rotate;	/* bytes, 0: never */
	uint64_t keep;
	uint64_t file_bytes;
	int write_err;
	char write_msg[128];	/* zlib's reason, when it had one */
	unsigned files;
	dev_t file_dev;		/* the file open now: is it still at path? */
	ino_t file_ino;
	struct slog_stats before;	/* at the start, for running counts */
	/* pcapng: the packets' first snaplen bytes, drops since the last */
	bool pcapng;
	const char *dev;	/* its if_name (open_log runs before attach) */
	uint32_t snaplen;
	uint64_t drops, lost_seen;
	/* the file open now: since when (real ns), its dropcounts, packets */
	uint64_t file_start_ns, file_dropped, file_packets;
	/* text lines: the local HH:MM:SS of one second, kept */
	time_t hms_sec;
	char hms[16];
};

/* per event: the core's names, looked up once each */
static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	static const char *names[256];
	static bool filled;

	if (!filled) {
		for (unsigned i = 0; i < 256; i++)
			names[i] = ps_proto_name(i);
		filled = true;
	}
	if (names[p])
		return names[p];
	snprintf(buf, len, "proto-%u", p);
	return buf;
}

static bool has_ports(uint8_t p)
{
	return p == 6 || p == 17 || p == 132;
}

static const char *tcp_flags_str(uint8_t f, char *buf)
{
	static const char letters[] = "FSRP.UEW";	/* tcpdump's order */
	static const int order[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (f & (1U << order[i]))
			buf[n++] = letters[order[i]];
	if (!n)
		return strcpy(buf, "none");	/* tcpdump's word */
	buf[n] = '\0';
	return buf;
}

static const char *icmp_name(const struct slog_event *e)
{
	if (e->proto == 1) {
		switch (e->icmp_type) {
		case 0: return "echo-reply";
		case 3: return "unreachable";
		case 8: return "echo-request";
		case 11: return "time-exceeded";
		}
	} else {
		switch (e->icmp_type) {
		case 1: return "unreachable";
		case 128: return "echo-request";
		case 129: return "echo-reply";
		case 133: return "router-solicit";
		case 134: return "router-advert";
		case 135: return "neighbor-solicit";
		case 136: return "neighbor-advert";
		}
	}
	return NULL;
}

/*
 * A flood is formatted at up to a million events a second: glibc's
 * inet_ntop() for IPv4 and snprintf() cost more than the rest of an event.
 */
static char *put_u(char *p, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static void addr_str(int af, const uint8_t *a, char buf[INET6_ADDRSTRLEN])
{
	char *p = buf;

	if (af == AF_INET6) {
		inet_ntop(af, a, buf, INET6_ADDRSTRLEN);
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_u(p, a[i], 1);
	}
	*p = '\0';
}

static void ts_str(uint64_t sec, unsigned usec, char buf[32])
{
	char *p = put_u(buf, sec, 1);

	*p++ = '.';
	p = put_u(p, usec, 6);
	*p = '\0';
}

static void write_event(struct reader *rd, const struct slog_event *e)
{
	struct ps_ctx *ctx = rd->ctx;
	int af = e->family == 10 ? AF_INET6 : AF_INET;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[16], fl[12];
	uint64_t real = e->ts_ns + (uint64_t)rd->mono_to_real_ns;
	time_t sec = (time_t)(real / 1000000000ULL);
	unsigned usec = (unsigned)((real / 1000ULL) % 1000000ULL);
	const char *proto = proto_name(e->proto, pb, sizeof(pb));
	bool ports = has_ports(e->proto) && e->frag != PS_FRAG_LATER &&
		     e->status == PS_PKT_OK;
	bool icmp = (e->proto == 1 || e->proto == 58) && e->status == PS_PKT_OK &&
		    e->frag != PS_FRAG_LATER;

	addr_str(af, e->saddr, src);
	addr_str(af, e->daddr, dst);
	ps_record_begin(ctx);
	if (!ps_json(ctx)) {
		/* tcpdump's one-liner, without printf: see put_u() */
		char line[384], *p = line;

		if (sec != rd->hms_sec || !rd->hms[0]) {
			struct tm tm;

			localtime_r(&sec, &tm);
			strftime(rd->hms, sizeof(rd->hms), "%H:%M:%S", &tm);
			rd->hms_sec = sec;
		}
		p = put_s(p, rd->hms);
		*p++ = '.';
		p = put_u(p, usec, 6);
		*p++ = ' ';
		p = put_s(p, rd->att.ifname);
		if (e->vlan_count) {
			p = put_s(p, " vlan ");
			p = put_u(p, e->vlan_id, 1);
		}
		p = put_s(p, af == AF_INET6 ? " IP6 " : " IP ");
		p = put_s(p, src);
		if (ports) {
			*p++ = '.';
			p = put_u(p, e->sport, 1);
		}
		p = put_s(p, " > ");
		p = put_s(p, dst);
		if (ports) {
			*p++ = '.';
			p = put_u(p, e->dport, 1);
		}
		p = put_s(p, ": ");
		p = put_s(p, proto);
		if (e->proto == 6 && ports) {
			p = put_s(p, " [");
			p = put_s(p, tcp_flags_str(e->tcp_flags, fl));
			*p++ = ']';
		} else if (icmp && icmp_name(e)) {
			*p++ = ' ';
			p = put_s(p, icmp_name(e));
		} else if (icmp) {
			p = put_s(p, " type ");
			p = put_u(p, e->icmp_type, 1);
			p = put_s(p, " code ");
			p = put_u(p, e->icmp_code, 1);
		}
		p = put_s(p, e->status == PS_PKT_TRUNCATED ? " (truncated)" :
			     e->status == PS_PKT_MALFORMED ? " (malformed)" :
			     e->frag == PS_FRAG_LATER ? " (fragment)" : "");
		p = put_s(p, " len ");
		p = put_u(p, e->len, 1);
		ps_record_line(ctx, line, (size_t)(p - line));
	} else {
		char ts[32];

		/* exact microseconds: a double would round them */
		ts_str((uint64_t)sec, usec, ts);
		ps_out_number(ctx, "ts", NULL, ts);
		ps_out_str(ctx, "ifname", NULL, rd->att.ifname);
		ps_out_str(ctx, "family", NULL, af == AF_INET6 ? "ipv6" : "ipv4");
		ps_out_str(ctx, "proto", NULL, proto);
		ps_out_str(ctx, "src", NULL, src);
		ps_out_str(ctx, "dst", NULL, dst);
		if (ports) {
			ps_out_u64(ctx, "sport", NULL, e->sport);
			ps_out_u64(ctx, "dport", NULL, e->dport);
		}
		if (e->proto == 6 && ports)
			ps_out_str(ctx, "tcp_flags", NULL,
				   tcp_flags_str(e->tcp_flags, fl));
		if (icmp) {
			ps_out_u64(ctx, "icmp_type", NULL, e->icmp_type);
			ps_out_u64(ctx, "icmp_code", NULL, e->icmp_code);
		}
		ps_out_u64(ctx, "len", NULL, e->len);
		if (e->vlan_count)
			ps_out_u64(ctx, "vlan", NULL, e->vlan_id);
		if (e->status != PS_PKT_OK)
			ps_out_str(ctx, "status", NULL,
				   e->status == PS_PKT_TRUNCATED ? "truncated" :
				   "malformed");
		if (e->frag)
			ps_out_str(ctx, "fragment", NULL,
				   e->frag == PS_FRAG_FIRST ? "first" : "later");
	}
	ps_record_end(ctx);
}

/* ---- the reader: heartbeat, files, the loop ---- */

static int64_t mono_to_real(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - (int64_t)m.tv_sec) * 1000000000LL +
	       ((int64_t)r.tv_nsec - (int64_t)m.tv_nsec);
}

/*
 * The BPF side makes events for a reader only while it beats: a crashed
 * reader's slot stops production within SLOG_READER_TIMEOUT_NS.  The beat
 * stores its slot's beat_ns alone, through the mmap()ed config: rewriting
 * the whole value could undo a `filter` or another reader's claim.
 */
static void heartbeat(struct reader *rd, bool alive)
{
	uint64_t now = alive ? ps_mono_ns() : 0;

	__atomic_store_n(&rd->config->readers[rd->slot].beat_ns, now,
			 __ATOMIC_RELEASE);
	rd->last_beat = ps_mono_ns();
}

/* the config map's mmap() length: its one value, in whole pages */
static size_t config_map_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct slog_config) + page - 1) & ~(page - 1);
}

static struct slog_config *map_config(int fd)
{
	void *m = mmap(NULL, config_map_len(), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

static void unmap_config(struct slog_config *c)
{
	if (c)
		munmap(c, config_map_len());
}

/*
 * zlib's deflate emits compressed data a block at a time, up to ~32 KiB of
 * it, so a .gz file's size jumps by that much: below twice a block a
 * rotate size is not honoured (`rotate 4k` never rotated in a short run).
 */
#define SLOG_GZ_BLOCK		(32 * 1024)
#define SLOG_GZ_ROTATE_MIN	(2 * SLOG_GZ_BLOCK)

static bool is_gz(const char *path)
{
	size_t n = strlen(path);

	return n > 3 && !strcmp(path + n - 3, ".gz");
}

/* x.ndjson.gz -> x.ndjson.N.gz; x.ndjson -> x.ndjson.N */
static void rotated_name(const char *path, unsigned n, char *buf, size_t len)
{
	if (is_gz(path))
		snprintf(buf, len, "%.*s.%u.gz", (int)(strlen(path) - 3), path, n);
	else
		snprintf(buf, len, "%s.%u", path, n);
}

/*
 * zlib keeps the first error and fails every later call without a system
 * call, so errno then says nothing: take the reason from gzerror(), which
 * formatted strerror() when the write failed.
 */
static void gz_failed(struct reader *rd)
{
	int zerr;
	const char *msg = gzerror(rd->gz, &zerr);
	const char *colon = msg ? strrchr(msg, ':') : NULL;

	if (rd->write_err)
		return;
	rd->write_err = EIO;
	if (zerr == Z_ERRNO && colon)
		snprintf(rd->write_msg, sizeof(rd->write_msg), "%s", colon + 2);
	else if (msg && *msg)
		snprintf(rd->write_msg, sizeof(rd->write_msg), "%s", msg);
}

static uint64_t count_lines(const char *buf, size_t n)
{
	uint64_t lines = 0;

	for (const char *p = buf; (p = memchr(p, '\n', n - (size_t)(p - buf)));
	     p++)
		lines++;
	return lines;
}

static ssize_t gz_cookie_write(void *cookie, const char *buf, size_t size)
{
	struct reader *rd = cookie;
	int n;

	if (!size)
		return 0;
	n = gzwrite(rd->gz, buf, (unsigned)size);
	if (n <= 0) {
		gz_failed(rd);
		errno = rd->write_err;
		return -1;
	}
	rd->lines_out += count_lines(buf, (size_t)n);
	rd->file_bytes = (uint64_t)gzoffset(rd->gz);
	return n;
}

/*
 * Straight to the descriptor, no second buffer: what write() took is
 * what reached the file, so the lines it held are the events delivered.
 */
static ssize_t raw_cookie_write(void *cookie, const char *buf, size_t size)
{
	struct reader *rd = cookie;
	size_t off = 0;

	while (off < size) {
		ssize_t n = write(rd->fd, buf + off, size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!rd->write_err)
				rd->write_err = n < 0 ? errno : ENOSPC;
			break;
		}
		off += (size_t)n;
	}
	rd->lines_out += count_lines(buf, off);
	rd->file_bytes += off;
	if (off < size) {
		errno = rd->write_err;
		return off ? (ssize_t)off : -1;
	}
	return (ssize_t)off;
}

#define RECORD_BUF (64 * 1024)

/*
 * Open the log only once the reader may run, so a refused record
 * destroys nothing: a file is made if missing (and then ours to remove),
 * an existing plain file is cut only after the checks, and a FIFO or a
 * device is written as it is.  O_NOFOLLOW: a root process is not walked
 * into a symbolic link; a plain file with another hard link, or another
 * user's, could be a trap laid for root: refused.
 */
static int open_log(struct reader *rd)
{
	cookie_io_functions_t io = { 0 };
	int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	struct stat st;
	int fd;

	fd = open(rd->path, flags | O_CREAT | O_EXCL, 0640);
	rd->created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(rd->path, flags);
	if (fd < 0)
		return ps_err(rd->ctx, "cannot write %s: %s", rd->path,
			      strerror(errno == ELOOP ? ELOOP : errno));
	if (fstat(fd, &st)) {
		close(fd);
		return ps_err(rd->ctx, "cannot write %s: %s", rd->path,
			      strerror(errno));
	}
	rd->regular = S_ISREG(st.st_mode);
	rd->file_dev = st.st_dev;
	rd->file_ino = st.st_ino;
	if (rd->regular && st.st_nlink > 1) {
		close(fd);
		return ps_err(rd->ctx, "cannot write %s: it has another hard link",
			      rd->path);
	}
	/* root does not write into a file another user made for it */
	if (rd->regular && !rd->created && st.st_uid != geteuid()) {
		close(fd);
		return ps_err(rd->ctx, "cannot write %s: it belongs to uid %u",
			      rd->path, (unsigned)st.st_uid);
	}
	if ((rd->regular && !rd->created && ftruncate(fd, 0)) ||
	    fcntl(fd, F_SETFL, O_WRONLY)) {
		close(fd);
		return ps_err(rd->ctx, "cannot write %s: %s", rd->path,
			      strerror(errno));
	}
	rd->file_bytes = 0;
	if (is_gz(rd->path)) {
		rd->gz = gzdopen(fd, "wb6");
		if (!rd->gz) {
			close(fd);
			return ps_err(rd->ctx, "cannot start gzip stream in %s",
				      rd->path);
		}
		io.write = gz_cookie_write;
	} else {
		rd->fd = fd;
		rd->raw = true;
		io.write = raw_cookie_write;
	}
	rd->out = fopencookie(rd, "w", io);
	if (!rd->out)
		return ps_err(rd->ctx, "cannot write %s: %s", rd->path,
			      strerror(errno));
	setvbuf(rd->out, NULL, _IOFBF, RECORD_BUF);
	rd->files++;
	rd->file_start_ns = ps_mono_ns() + (uint64_t)rd->mono_to_real_ns;
	rd->file_dropped = rd->file_packets = 0;
	if (rd->pcapng)
		return slog_pcapng_begin(rd->out, RECORD_BUF, rd->dev,
					 rd->snaplen) ?
		       ps_err(rd->ctx, "cannot write %s: %s", rd->path,
			      strerror(errno)) : PS_OK;
	ps_out_to(rd->ctx, rd->out, true);
	return PS_OK;
}

static int reader_stats(struct reader *rd, struct slog_stats *s);

/* pcapng: events lost since the last look go into the next dropcount */
static void pcapng_take_lost(struct reader *rd)
{
	struct slog_stats st;

	if (rd->slot < 0 || reader_stats(rd, &st))
		return;
	if (st.rd[rd->slot].lost > rd->lost_seen)
		rd->drops += st.rd[rd->slot].lost - rd->lost_seen;
	rd->lost_seen = st.rd[rd->slot].lost;
}

/* Close the current log so that it is complete on disk. */
static int close_log(struct reader *rd)
{
	int r = PS_OK;

	if (!rd->out)
		return PS_OK;
	if (rd->pcapng) {
		/* losses after the last packet are the file's too */
		pcapng_take_lost(rd);
		if (slog_pcapng_end(rd->out, RECORD_BUF, rd->file_start_ns,
				    ps_mono_ns() + (uint64_t)rd->mono_to_real_ns,
				    rd->file_dropped + rd->drops,
				    rd->file_packets) && !rd->write_err)
			rd->write_err = errno ? errno : EIO;
		rd->drops = 0;
	}
	ps_out_to(rd->ctx, NULL, false);
	if (fclose(rd->out) && !rd->write_err)
		rd->write_err = errno ? errno : EIO;
	rd->out = NULL;
	if (rd->gz) {
		if (gzflush(rd->gz, Z_FINISH) != Z_OK)
			gz_failed(rd);
		if (gzclose(rd->gz) != Z_OK && !rd->write_err)
			rd->write_err = EIO;
		rd->gz = NULL;
	}
	if (rd->raw) {
		/* fsync() is for files: a FIFO or a device says EINVAL */
		if (((rd->regular && fsync(rd->fd)) || close(rd->fd)) &&
		    !rd->write_err)
			rd->write_err = errno ? errno : EIO;
		rd->raw = false;
		rd->fd = -1;
	}
	if (rd->write_err)
		r = ps_err(rd->ctx, "writing %s: %s", rd->path,
			   rd->write_msg[0] ? rd->write_msg :
			   strerror(rd->write_err));
	return r;
}

static int rotate_log(struct reader *rd)
{
	char from[4200], to[4200];

	if (close_log(rd))
		return PS_ERR;
	/* keep N finished files: path.1 is the newest */
	rotated_name(rd->path, (unsigned)rd->keep, to, sizeof(to));
	unlink(to);
	for (unsigned i = (unsigned)rd->keep; i > 1; i--) {
		rotated_name(rd->path, i - 1, from, sizeof(from));
		rotated_name(rd->path, i, to, sizeof(to));
		rename(from, to);
	}
	rotated_name(rd->path, 1, to, sizeof(to));
	if (rd->keep && rename(rd->path, to))
		return ps_err(rd->ctx, "rotating %s: %s", rd->path, strerror(errno));
	if (!rd->keep)
		unlink(rd->path);
	return open_log(rd);
}

/*
 * SIGHUP, as logrotate sends it after moving the file away: finish the
 * file (complete on disk, a gzip trailer) and go on in a new one at the
 * path.  If nothing was moved the file open now is still the one at the
 * path: going on in it loses nothing, where a reopen would cut it.
 */
static int reopen_log(struct reader *rd)
{
	struct stat st;

	if (!rd->out)
		return PS_OK;
	if (!lstat(rd->path, &st) && st.st_dev == rd->file_dev &&
	    st.st_ino == rd->file_ino)
		return PS_OK;
	if (close_log(rd))
		return PS_ERR;
	return open_log(rd);
}

static int read_stats(struct ps_ctx *ctx, const struct ps_attachment *att,
		      struct slog_stats *s);
static void print_counts(struct reader *rd, const struct slog_stats *now,
			 const char *what);

static int on_event(void *data, void *rec, size_t len)
{
	struct reader *rd = data;

	if (len < sizeof(struct slog_event))
		return 0;
	uint64_t drops = rd->drops;

	if (!rd->pcapng) {
		write_event(rd, rec);
	} else if (slog_pcapng_event(rd->out, RECORD_BUF, rd->mono_to_real_ns,
				     rec, len, &rd->drops)) {
		if (!rd->write_err)
			rd->write_err = errno ? errno : EIO;
	} else {
		rd->file_dropped += drops;
		rd->file_packets++;
	}
	rd->delivered++;
	/* a long drain (a slow terminal) must not look like a dead reader */
	if (!(rd->delivered & 1023) &&
	    ps_mono_ns() - rd->last_beat > 200000000ULL)
		heartbeat(rd, true);
	if (rd->out) {
		if (rd->write_err)
			return -1;
		/* plain files: what is written plus what waits in the buffer */
		uint64_t size = rd->file_bytes + (rd->gz ? 0 : __fpending(rd->out));

		/* close_log() ends the file (pcapng: its statistics) and the
		 * gzip stream */
		if (rd->rotate && size >= rd->rotate) {
			if (rotate_log(rd))
				return -1;
		}
	}
	return 0;
}

/*
 * A detach under a reader removes the pins it reads through; the reader
 * stops with an error rather than read a ring nothing writes to.  A
 * shared temporary attach whose owner was killed is taken over here.
 */
static int check_attachment(struct reader *rd)
{
	struct ps_attachment now;

	if (ps_attachment_get(rd->ctx, rd->att.ifname, &now)) {
		rd->gone = "was detached";
		return -1;
	}
	if (now.prog_id != rd->att.prog_id) {
		rd->gone = "was replaced";
		return -1;
	}
	if (rd->temporary && now.orphaned)
		ps_attach_hand_over(rd->ctx, &now, (uint32_t)getpid());
	return 0;
}

static int on_tick(void *data)
{
	struct reader *rd = data;
	char name[IF_NAMESIZE];
	unsigned int req = ps_signals_take();

	if ((req & PS_SIG_REOPEN) && reopen_log(rd))
		return -1;
	if (req & PS_SIG_COUNTERS) {
		struct slog_stats now;

		if (rd->out)
			fflush(rd->out);
		if (!reader_stats(rd, &now))
			print_counts(rd, &now, "so far");
	}
	if (rd->out) {
		/* what is flushed survives a crash: zcat reads up to here */
		if (fflush(rd->out) || rd->write_err)
			return -1;
		if (rd->gz && gzflush(rd->gz, Z_SYNC_FLUSH) != Z_OK) {
			gz_failed(rd);
			return -1;
		}
	}
	/* a round can be a millisecond: the rest every 200 ms is enough */
	if (ps_mono_ns() - rd->last_beat <= 200000000ULL)
		return 0;
	heartbeat(rd, true);
	if (rd->pcapng)
		pcapng_take_lost(rd);
	/* if_indextoname() is a socket, an ioctl and a close */
	if (!if_indextoname((unsigned)rd->att.ifindex, name) ||
	    strcmp(name, rd->att.ifname)) {
		rd->vanished = true;
		return -1;
	}
	return check_attachment(rd);
}

static int read_stats(struct ps_ctx *ctx, const struct ps_attachment *att,
		      struct slog_stats *s)
{
	return ps_map_read_one(ctx, att, PS_MAP_NAME(SLOG_MAP_STATS),
			       0, s, sizeof(*s));
}

/* a reader's read, through the fd it holds: 0, or -1 (errno) */
static int reader_stats(struct reader *rd, struct slog_stats *s)
{
	__u32 zero = 0;

	return ps_percpu_sum(rd->stats_fd, &zero, (uint64_t *)s,
			     sizeof(*s) / sizeof(uint64_t));
}

/* the counters with every reader's outcomes added (show, counters, metrics) */
static int read_totals(struct ps_ctx *ctx, const struct ps_attachment *att,
		       struct slog_stats *s)
{
	struct slog_stats raw;

	if (read_stats(ctx, att, &raw))
		return PS_ERR;
	*s = slog_stats_total(&raw);
	return PS_OK;
}

#define STAT_FIELDS(X)							\
	X(seen, "Packets seen")						\
	X(not_ip, "Not IP")						\
	X(filtered, "Filtered out")					\
	X(not_new, "Not a new flow")					\
	X(no_reader, "No reader")					\
	X(sampled_out, "Sampled out")					\
	X(rate_capped, "Rate-capped")					\
	X(lost, "Lost (ring full)")					\
	X(events, "Events made")

static void out_stats(struct ps_ctx *ctx, const struct slog_stats *s)
{
#define OUT(f, label) ps_out_u64(ctx, #f, label, s->f);
	STAT_FIELDS(OUT)
#undef OUT
}

/*
 * What one reader's summary says, from the counters before and after it
 * ran: the global steps' and its slot's, added up as slog_stats_total()
 * does for one slot.  Packets it was not offered (before its first beat,
 * after its last) are its "without reader", so its counts add up to the
 * packets seen while it ran, whatever the other readers did.
 */
static void reader_view(struct slog_stats *d, const struct slog_stats *a,
			const struct slog_stats *b, int slot)
{
	const struct slog_rd_stats *x = &a->rd[slot], *y = &b->rd[slot];
	uint64_t offered;

	memset(d, 0, sizeof(*d));
	d->seen = b->seen - a->seen;
	d->not_ip = b->not_ip - a->not_ip;
	d->filtered = b->filtered - a->filtered + y->filtered - x->filtered;
	d->not_new = b->not_new - a->not_new + y->not_new - x->not_new;
	d->sampled_out = y->sampled_out - x->sampled_out;
	d->rate_capped = y->rate_capped - x->rate_capped;
	d->lost = y->lost - x->lost;
	d->events = y->events - x->events;
	offered = d->not_ip + d->filtered + d->not_new + d->sampled_out +
		  d->rate_capped + d->lost + d->events;
	d->no_reader = d->seen > offered ? d->seen - offered : 0;
}

/* the live readers of the attachment whose config c maps: their number */
static int live_readers(const struct slog_config *c, uint64_t *owners)
{
	return ps_slot_owners(c->readers, sizeof(c->readers[0]),
			      SLOG_READERS_MAX, owners, NULL);
}

/*
 * The events that reached the output: for a JSON Lines file the lines
 * written, so that a failed write counts its events unwritten.  A pcapng
 * file is binary and has no lines to count: a failed write fails the
 * record, and its events count as delivered.
 */
static uint64_t events_out(const struct reader *rd)
{
	return rd->path && !rd->pcapng ? rd->lines_out : rd->delivered;
}

/*
 * The counts since the reader started, one line on stderr as tcpdump
 * prints its own: at the end (what == NULL) and on SIGUSR1 ("so far").
 */
static void print_counts(struct reader *rd, const struct slog_stats *now,
			 const char *what)
{
	uint64_t events = events_out(rd);
	struct slog_stats d;

	reader_view(&d, &rd->before, now, rd->slot);
	fprintf(stderr,
		"%s%s%llu %s delivered, %llu unread, %llu unwritten (%llu made); %llu filtered, %llu sampled out, %llu rate-capped, %llu lost, %llu not new, %llu not IP, %llu without reader (%llu %s seen)\n",
		what ? what : "", what ? ": " : "",
		(unsigned long long)events, events == 1 ? "event" : "events",
		(unsigned long long)rd->unread,
		(unsigned long long)(rd->delivered - events),
		(unsigned long long)d.events,
		(unsigned long long)d.filtered,
		(unsigned long long)d.sampled_out,
		(unsigned long long)d.rate_capped,
		(unsigned long long)d.lost,
		(unsigned long long)d.not_new,
		(unsigned long long)d.not_ip,
		(unsigned long long)d.no_reader,
		(unsigned long long)d.seen, d.seen == 1 ? "packet" : "packets");
}

_Static_assert(offsetof(struct slog_reader, owner) == 0,
	       "a slot begins with its owner word (ps_slot_claim)");

/*
 * Several readers an attachment, each in its own slot with its own ring:
 * one ring read by two processes would split the events between them.
 * A slot is taken by compare-and-swap of its owner word, from free or
 * from a dead owner; then filled, given a new ring, and only then beat
 * for (the BPF side skips a slot that does not beat).
 */
static int claim_slot(struct ps_ctx *ctx, struct reader *rd)
{
	const size_t head = offsetof(struct slog_reader, sample);
	struct slog_reader *r;
	int i, rings, ring = -1;
	__u32 key;

	i = ps_slot_claim(rd->config->readers, sizeof(*r), SLOG_READERS_MAX);
	if (i < 0) {
		uint64_t owners[SLOG_READERS_MAX];
		char list[SLOG_READERS_MAX * 12];
		int n = live_readers(rd->config, owners);

		ps_owner_pids_str(owners, n, list, sizeof(list));
		return ps_err(ctx, "src-log on %s has %d readers, the most it takes (%d; pids %s): stop one first",
			      rd->att.ifname, n, SLOG_READERS_MAX, list);
	}
	r = &rd->config->readers[i];
	rd->slot = i;
	/* a dead owner's beat may be fresh: nothing reads the slot meanwhile */
	__atomic_store_n(&r->beat_ns, 0, __ATOMIC_RELEASE);
	r->flags = rd->want.flags & ~SLOG_F_EXPR;
	memcpy((char *)r + head, (const char *)&rd->want + head,
	       sizeof(*r) - head);
	key = (__u32)i;
	rings = ps_map_open(ctx, &rd->att, PS_MAP_NAME(SLOG_MAP_RINGS));
	if (rings < 0)
		return PS_ERR;
	ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, SLOG_RING_BYTES,
			      NULL);
	if (ring < 0 || bpf_map_update_elem(rings, &key, &ring, BPF_ANY)) {
		int e = errno;

		close(rings);
		if (ring >= 0)
			close(ring);
		return ps_err(ctx, "making reader %d's ring on %s: %s", i,
			      rd->att.ifname, strerror(e));
	}
	close(rings);
	rd->ring_fd = ring;
	if (rd->want.flags & SLOG_F_EXPR)
		return slog_expr_apply(ctx, &rd->att, rd->want.expr,
				       SLOG_REXPR_SLOT + key, r->expr, &r->flags);
	return PS_OK;
}

/*
 * The slot is freed last, after its beat stopped and its ring and
 * expression left it.  The last reader of a shared temporary attach
 * removes it: one that leaves others running hands it to one of them.
 */
static void release_slot(struct reader *rd)
{
	uint32_t me = (uint32_t)getpid();
	uint64_t owners[SLOG_READERS_MAX];
	struct slog_reader *r = &rd->config->readers[rd->slot];
	uint64_t cur = __atomic_load_n(&r->owner, __ATOMIC_ACQUIRE);
	__u32 key = (__u32)rd->slot, pkey = SLOG_REXPR_SLOT + key;
	bool xdp = rd->att.mode == PS_MODE_XDP ||
		   rd->att.mode == PS_MODE_XDP_NATIVE ||
		   rd->att.mode == PS_MODE_XDP_GENERIC;
	int fd;

	if (PS_OWNER_PID(cur) != me)
		return;
	__atomic_store_n(&r->beat_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->flags, 0, __ATOMIC_RELEASE);
	fd = ps_map_open(rd->ctx, &rd->att,
			 xdp ? PS_MAP_NAME(SLOG_MAP_EXPR_XDP) :
			       PS_MAP_NAME(SLOG_MAP_EXPR_TC));
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &pkey);
		close(fd);
	}
	fd = ps_map_open(rd->ctx, &rd->att, PS_MAP_NAME(SLOG_MAP_RINGS));
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &key);
		close(fd);
	}
	ps_slot_free(rd->config->readers, sizeof(*r), rd->slot);
	if (rd->temporary && live_readers(rd->config, owners))
		ps_attach_hand_over(rd->ctx, &rd->att, PS_OWNER_PID(owners[0]));
}

static int drain_one(void *data, void *rec, size_t len)
{
	struct reader *rd = data;

	if ((rd->count && rd->delivered >= rd->count) || rd->write_err) {
		rd->unread++;
		return 0;
	}
	on_event(rd, rec, len);
	return 0;
}

/*
 * After the last beat the BPF side makes no more events: what the ring
 * still holds is delivered (duration, a signal) or counted unread (past
 * count, after a failed write), so made = events + unread + unwritten.
 */
static void drain_rest(struct reader *rd, int ring_fd)
{
	struct ring_buffer *rb;

	/* a packet already past the reader check may still submit */
	usleep(2000);
	rb = ring_buffer__new(ring_fd, drain_one, rd, NULL);
	if (!rb)
		return;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
}

/*
 * Metrics: every packet seen ends in exactly one outcome (the path in
 * bpf/src_log.h), so sum(packets_total) by outcome == seen_packets_total.
 */
#define OUTCOME_FIELDS(X)						\
	X(not_ip) X(filtered) X(not_new) X(no_reader) X(sampled_out)	\
	X(rate_capped) X(lost)

static int metrics(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	struct slog_stats s;

	if (read_totals(ctx, att, &s))
		return PS_ERR;
	ps_metric(ctx, "src_log_seen_packets_total", PS_METRIC_COUNTER,
		  "Packets the src-log program saw.", (double)s.seen, NULL, 0);
#define OUTCOME(f) {							\
		struct ps_label l = { "outcome", #f };			\
		ps_metric(ctx, "src_log_packets_total", PS_METRIC_COUNTER,	\
			  "Packets seen, by where each went (event: logged).", \
			  (double)s.f, &l, 1);				\
	}
	OUTCOME_FIELDS(OUTCOME)
#undef OUTCOME
	struct ps_label ev = { "outcome", "event" };

	ps_metric(ctx, "src_log_packets_total", PS_METRIC_COUNTER,
		  "Packets seen, by where each went (event: logged).",
		  (double)s.events, &ev, 1);
	return PS_OK;
}

/*
 * The attachment a reader works on: src-log's own on the interface, or a
 * temporary attach of the core's for as long as the reader runs.
 */
/*
 * The attachment a reader works on: src-log's own on the interface, a
 * temporary attach of the core's for as long as its readers run, made by
 * the first of them and shared by the others.
 */
static int reader_attach(struct ps_ctx *ctx, const struct ps_args *args,
			 struct ps_attachment *att, bool *temporary)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	const struct ps_value *mv = ps_arg_get(args, "mode");
	struct ps_attach_opts o = {
		.mode = mv ? PS_MODE_FROM_CHOICE(mv->u) : PS_MODE_AUTO,
		.flags = PS_ATTACH_SHARED,
		.args = args,
	};
	struct slog_config c;
	int r = ps_attach_hold(ctx, dev, &o, att, temporary);

	if (r)
		return r;
	/* the flows table is the attachment's: one idle time for all */
	if (ps_arg_has(args, "flow-timeout") &&
	    !(*temporary && att->owner_pid == (uint32_t)getpid()) &&
	    !read_config(ctx, att, &c) &&
	    c.flow_timeout_ns != ps_arg_u64(args, "flow-timeout", 0)) {
		char d[32];

		ps_usage_err(ctx,
			"flow-timeout is the attachment's, %s on %s; change it with 'src-log filter dev %s flow-timeout ...'",
			ps_fmt_duration(c.flow_timeout_ns, d, sizeof(d)), dev, dev);
		return PS_USAGE;
	}
	return PS_OK;
}

/*
 * What a reader's own filters put in its slot.  Its source lists are
 * compared in the slot: at most SLOG_NETS_MAX prefixes a family (longer
 * lists are the attachment's, whose tries hold any number).
 */
static int fill_reader(struct ps_ctx *ctx, const struct ps_args *args,
		       struct slog_reader *w)
{
	static const char *const kws[] = { "src", "not-src" };

	for (size_t k = 0; k < 2; k++) {
		size_t n4 = 0, n6 = 0;

		for (size_t i = 0; i < ps_arg_count(args, kws[k]); i++) {
			if (ps_arg_nth(args, kws[k], i)->cidr.family == AF_INET)
				n4++;
			else
				n6++;
		}
		if (n4 > SLOG_NETS_MAX || n6 > SLOG_NETS_MAX)
			return ps_usage_err(ctx,
				"a watch or record takes at most %d '%s' prefixes of a family; more go on the attachment ('src-log attach' or 'src-log filter')",
				SLOG_NETS_MAX, kws[k]);
	}
	memset(w, 0, sizeof(*w));
	w->sport_hi = w->dport_hi = 65535;
	set_filters(FILTER_FIELDS(w), args);
	w->sample = (uint32_t)ps_arg_u64(args, "sample", 0);
	w->max_rate = ps_arg_u64(args, "max-rate", 0);
	if (ps_arg_has(args, "expr")) {
		const char *e = ps_arg_str(args, "expr", NULL);

		if (strlen(e) >= SLOG_EXPR_MAX)
			return ps_usage_err(ctx, "expr: at most %d characters",
					    SLOG_EXPR_MAX - 1);
		snprintf(w->expr, sizeof(w->expr), "%s", e);
		w->flags |= SLOG_F_EXPR;
	}
	return PS_OK;
}

static int run_reader(struct ps_ctx *ctx, const struct ps_args *args,
		      struct reader *rd)
{
	struct ps_ring_opts opts = {
		.count = ps_arg_u64(args, "count", 0),
		.duration_ns = ps_arg_u64(args, "duration", 0),
		.timeout_ms = 100,
		.tick = on_tick,
	};
	struct slog_stats after, d;
	bool temporary = false;
	int r;

	rd->config_fd = -1;
	rd->config = NULL;
	rd->fd = -1;
	rd->ring_fd = -1;
	rd->stats_fd = -1;
	rd->slot = -1;
	rd->count = opts.count;
	if (!if_nametoindex(ps_arg_str(args, "dev", NULL)))
		return ps_err(ctx, "interface '%s' not found",
			      ps_arg_str(args, "dev", NULL));
	r = fill_reader(ctx, args, &rd->want);
	if (r)
		return r;
	if (rd->pcapng)
		rd->want.snaplen = rd->snaplen;
	r = reader_attach(ctx, args, &rd->att, &temporary);
	if (r)
		return r;
	rd->temporary = temporary;
	rd->ctx = ctx;
	rd->mono_to_real_ns = mono_to_real();
	rd->config_fd = ps_map_open(ctx, &rd->att,
				    PS_MAP_NAME(SLOG_MAP_CONFIG));
	rd->stats_fd = ps_map_open(ctx, &rd->att,
				   PS_MAP_NAME(SLOG_MAP_STATS));
	if (rd->config_fd < 0 || rd->stats_fd < 0) {
		r = PS_ERR;
		goto out;
	}
	rd->config = map_config(rd->config_fd);
	if (!rd->config) {
		r = ps_err(ctx, "cannot map src-log's config on %s: %s",
			   rd->att.ifname, strerror(errno));
		goto out;
	}
	r = claim_slot(ctx, rd);
	if (r)
		goto out;
	/* only now that the reader can run: nothing is cut before */
	if (rd->path && (r = open_log(rd)))
		goto out;
	if (rd->path && rd->rotate && !rd->regular) {
		r = ps_usage_err(ctx, "rotate needs a plain file; %s is not one",
				 rd->path);
		goto out;
	}
	/* its counters from its first beat: its slot's are still until then */
	if (reader_stats(rd, &rd->before)) {
		r = ps_err(ctx, "reading src-log's counters on %s: %s",
			   rd->att.ifname, strerror(errno));
		goto out;
	}
	if (rd->pcapng)
		rd->lost_seen = rd->before.rd[rd->slot].lost;
	/* a file is reopened on SIGHUP (logrotate); a watch's SIGHUP stops it */
	ps_signals_accept(PS_SIG_COUNTERS | (rd->path ? PS_SIG_REOPEN : 0));
	heartbeat(rd, true);
	r = ps_ringbuf_run(ctx, rd->ring_fd, on_event, rd, &opts);
	ps_signals_accept(0);
	heartbeat(rd, false);
	drain_rest(rd, rd->ring_fd);
	if (close_log(rd) && !r)
		r = PS_ERR;
	if (!r && rd->vanished)
		r = ps_err(ctx, "interface %s vanished", rd->att.ifname);
	if (!r && rd->gone)
		r = ps_err(ctx, "src-log on %s %s while this %s ran: stopped",
			   rd->att.ifname, rd->gone, rd->path ? "record" : "watch");
	if (!reader_stats(rd, &after)) {
		/* a file: the lines that reached it; the rest was not written */
		uint64_t events = events_out(rd);
		uint64_t unwritten = rd->delivered - events;

		reader_view(&d, &rd->before, &after, rd->slot);
		if (!ps_json(ctx)) {
			/* like tcpdump's: on stderr, the stream stays events only */
			print_counts(rd, &after, NULL);
		} else {
			/* the summary is the stream's last record */
			ps_record_begin(ctx);
			ps_out_section(ctx, "summary", NULL);
			ps_out_u64(ctx, "events", NULL, events);
			ps_out_u64(ctx, "unread", NULL, rd->unread);
			ps_out_u64(ctx, "unwritten", NULL, unwritten);
			ps_out_u64(ctx, "lost", NULL, d.lost);
			ps_out_u64(ctx, "filtered", NULL, d.filtered);
			ps_out_u64(ctx, "sampled_out", NULL, d.sampled_out);
			ps_out_u64(ctx, "rate_capped", NULL, d.rate_capped);
			ps_out_u64(ctx, "not_new", NULL, d.not_new);
			ps_out_u64(ctx, "not_ip", NULL, d.not_ip);
			ps_out_u64(ctx, "no_reader", NULL, d.no_reader);
			ps_out_u64(ctx, "seen", NULL, d.seen);
			ps_out_u64(ctx, "made", NULL, d.events);
			if (rd->path) {
				ps_out_str(ctx, "file", NULL, rd->path);
				ps_out_u64(ctx, "files", NULL, rd->files);
			}
			ps_out_section_end(ctx);
			ps_record_end(ctx);
		}
	}
out:
	close_log(rd);
	/* a file we made and wrote nothing to goes; nothing else does */
	if (r && rd->created && !rd->delivered)
		unlink(rd->path);
	if (rd->slot >= 0 && !rd->gone)
		release_slot(rd);
	unmap_config(rd->config);
	if (rd->config_fd >= 0)
		close(rd->config_fd);
	if (rd->ring_fd >= 0)
		close(rd->ring_fd);
	if (rd->stats_fd >= 0)
		close(rd->stats_fd);
	if (!rd->gone)
		ps_attach_release(ctx, &rd->att, temporary);
	return r;
}

static int do_watch(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct reader rd;

	memset(&rd, 0, sizeof(rd));
	return run_reader(ctx, args, &rd);
}

static int do_record(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct reader rd;

	memset(&rd, 0, sizeof(rd));
	rd.ctx = ctx;
	rd.path = ps_arg_str(args, "file", NULL);
	rd.rotate = ps_arg_u64(args, "rotate", 0);
	rd.keep = ps_arg_u64(args, "keep", 5);
	rd.pcapng = slog_is_pcapng(rd.path);
	rd.dev = ps_arg_str(args, "dev", NULL);
	if (ps_arg_has(args, "snaplen") && !rd.pcapng)
		return ps_usage_err(ctx, "snaplen is for pcapng files (a name ending in .pcapng or .pcapng.gz)");
	rd.snaplen = (uint32_t)ps_arg_u64(args, "snaplen", SLOG_SNAP_DEFAULT);
	if (rd.rotate && rd.rotate < SLOG_GZ_ROTATE_MIN && is_gz(rd.path)) {
		char got[32], min[32];

		return ps_usage_err(ctx, "rotate %s is too small for a .gz file: it grows a compressed block (up to 32KiB) at a time; use at least %s",
				    ps_fmt_size(rd.rotate, got, sizeof(got)),
				    ps_fmt_size(SLOG_GZ_ROTATE_MIN, min, sizeof(min)));
	}
	return run_reader(ctx, args, &rd);
}

static int counters_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		       void *data)
{
	struct slog_stats s;

	(void)data;
	if (read_totals(ctx, att, &s))
		return PS_ERR;
	ps_out_item(ctx, att->ifname);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	out_stats(ctx, &s);
	ps_out_item_end(ctx);
	return PS_OK;
}

static int do_counters(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", 0, counters_cb, NULL);
}

/* ---- sources ---- */

struct src_row {
	struct ps_addr_key k;
	struct slog_src_val v;
};

/* the order of `sources ... by`: 0 packets, 1 bytes, 2 last-seen */
static int cmp_src(const void *a, const void *b, void *data)
{
	const struct slog_src_val *x = &((const struct src_row *)a)->v;
	const struct slog_src_val *y = &((const struct src_row *)b)->v;
	int by = *(const int *)data;
	uint64_t p = by == 0 ? x->packets : by == 1 ? x->bytes : x->last_ns;
	uint64_t q = by == 0 ? y->packets : by == 1 ? y->bytes : y->last_ns;

	return p < q ? 1 : p > q ? -1 : 0;
}

/* the IP protocol of each SLOG_P_* bit but SLOG_P_OTHER, in bit order */
static const uint8_t slog_p_protos[] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
	IPPROTO_GRE,
};
_Static_assert(SLOG_P_OTHER == 1U << ARRAY_SIZE(slog_p_protos),
	       "one IP protocol per SLOG_P_* bit before SLOG_P_OTHER");

static void protos_str(uint32_t bits, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= ARRAY_SIZE(slog_p_protos) && off < len; i++) {
		const char *name = i < ARRAY_SIZE(slog_p_protos) ?
			ps_proto_name(slog_p_protos[i]) : "other";

		if (bits & (1U << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "," : "", name);
	}
}

static void fmt_ktime(uint64_t ns, int64_t off, char *buf, size_t len)
{
	uint64_t real = ns + (uint64_t)off;
	time_t sec = (time_t)(real / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

static int sources_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		       size_t limit, int by)
{
	static const struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct src_row, k, v),
	};
	static const struct ps_col cols[] = {
		{ "addr", "SOURCE", PS_LEFT },
		{ "packets", NULL, PS_RIGHT },
		{ "bytes", NULL, PS_RIGHT },
		{ "protocols", NULL, PS_LEFT },
		{ "first_seen", "FIRST SEEN", PS_LEFT },
		{ "last_seen", "LAST SEEN", PS_LEFT },
	};
	struct src_row *rows;
	void *dump;
	size_t n = 0, shown;
	int newest = 2;
	int64_t off = mono_to_real();
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(SLOG_MAP_SOURCES)), r;

	if (fd < 0)
		return PS_ERR;
	r = ps_map_dump(fd, &spec, &dump, &n);
	close(fd);
	if (r)
		return ps_err(ctx, "reading src-log sources on %s: %s",
			      att->ifname, strerror(-r));
	rows = dump;
	/* a walk under churn spans more than one table: the newest it holds */
	if (n > SLOG_SOURCES_MAX)
		n = ps_top_rows(rows, n, sizeof(*rows), cmp_src, &newest,
				SLOG_SOURCES_MAX);
	shown = ps_top_rows(rows, n, sizeof(*rows), cmp_src, &by, limit);
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	ps_out_u64(ctx, "distinct", "Distinct sources", n);
	ps_out_u64(ctx, "capacity", "Table capacity", SLOG_SOURCES_MAX);
	ps_out_text(ctx, "\n");
	struct ps_table *t = ps_table_new(ctx, "sources", cols, ARRAY_SIZE(cols));

	for (size_t i = 0; i < shown; i++) {
		char a[INET6_ADDRSTRLEN], pr[64], f[32], l[32];

		inet_ntop(rows[i].k.family == 10 ? AF_INET6 : AF_INET,
			  rows[i].k.addr, a, sizeof(a));
		protos_str(rows[i].v.protos, pr, sizeof(pr));
		fmt_ktime(rows[i].v.first_ns, off, f, sizeof(f));
		fmt_ktime(rows[i].v.last_ns, off, l, sizeof(l));
		ps_table_str(t, a);
		ps_table_u64(t, rows[i].v.packets);
		ps_table_u64_human(t, rows[i].v.bytes, ps_fmt_size);
		ps_table_str(t, pr);
		ps_table_str(t, f);
		ps_table_str(t, l);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ps_out_item_end(ctx);
	free(rows);
	return PS_OK;
}

static int sources_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	const struct ps_args *args = data;

	const struct ps_value *by = ps_arg_get(args, "by");

	return sources_one(ctx, att, (size_t)ps_arg_u64(args, "limit", 20),
			   by ? (int)by->u : 0);
}

static int do_sources(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", PS_EACH_SPACED, sources_cb,
				   (void *)args);
}

/* The watches and records running on the attachment: one row each. */
static int out_readers(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	static const struct ps_col cols[] = {
		{ "slot", NULL, PS_RIGHT },
		{ "pid", NULL, PS_RIGHT },
		{ "running_ns", "RUNNING", PS_RIGHT },
		{ "events", NULL, PS_RIGHT },
		{ "lost", NULL, PS_RIGHT },
		{ "filtered", NULL, PS_RIGHT },
		{ "snaplen", NULL, PS_RIGHT },
		{ "command", NULL, PS_LEFT },
	};
	struct slog_config c;
	struct slog_stats st;
	struct ps_table *t;
	uint64_t n = 0;

	if (read_config(ctx, att, &c) || read_stats(ctx, att, &st))
		return PS_ERR;
	for (int i = 0; i < SLOG_READERS_MAX; i++)
		n += ps_owner_alive(c.readers[i].owner);
	ps_out_u64(ctx, "readers_running", "Readers running", n);
	/* text leaves out an empty table; JSON always has the list */
	if (!n && !ps_json(ctx))
		return PS_OK;
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "readers", cols, ARRAY_SIZE(cols));
	for (int i = 0; i < SLOG_READERS_MAX; i++) {
		const struct slog_reader *rd = &c.readers[i];
		char cmd[512];

		if (!ps_owner_alive(rd->owner))
			continue;
		ps_owner_cmdline(rd->owner, cmd, sizeof(cmd));
		ps_table_u64(t, (uint64_t)i);
		ps_table_u64(t, PS_OWNER_PID(rd->owner));
		ps_table_u64_human(t, ps_owner_age_ns(rd->owner),
				   ps_fmt_duration);
		ps_table_u64(t, st.rd[i].events);
		ps_table_u64(t, st.rd[i].lost);
		ps_table_u64(t, st.rd[i].filtered);
		ps_table_u64(t, rd->snaplen);
		ps_table_str(t, cmd);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	return PS_OK;
}

static int show_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		   void *data)
{
	struct slog_stats st;
	int r;

	(void)data;
	if (read_totals(ctx, att, &st))
		return PS_ERR;
	ps_out_item(ctx, NULL);
	ps_out_text(ctx, "%s (%s)\n", att->ifname, ps_mode_name(att->mode));
	/* text names them in the line above */
	if (ps_json(ctx)) {
		ps_out_str(ctx, "ifname", NULL, att->ifname);
		ps_out_str(ctx, "mode", NULL, ps_mode_name(att->mode));
	}
	ps_out_section(ctx, "counters", "Counters");
	out_stats(ctx, &st);
	ps_out_section_end(ctx);
	ps_out_text(ctx, "\n");
	if (out_readers(ctx, att))
		return PS_ERR;
	ps_out_text(ctx, "\n");
	ps_out_list(ctx, "top", NULL);
	r = sources_one(ctx, att, 10, 0);
	ps_out_list_end(ctx);
	ps_out_item_end(ctx);
	return r;
}

static int do_show(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", PS_EACH_SPACED, show_cb, NULL);
}

/* ---- declarations ---- */

#define READER_ARGS							\
	{ "mode", PS_KIND_CHOICE, 0, NULL,				\
	  "hook for a temporary attach (default tcx, else tc)",		\
	  ps_mode_choices },						\
	{ "count", PS_KIND_COUNT, 0, NULL, "stop after N events", NULL, 1, 0 }, \
	{ "duration", PS_KIND_DURATION, 0, NULL, "stop after this long" }

static const struct ps_arg_spec watch_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "interface to watch" },
	FILTER_ARGS,
	READER_ARGS,
	{ 0 }
};

static const struct ps_arg_spec record_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "interface to record" },
	{ "file", PS_KIND_FILE, PS_ARG_REQUIRED, NULL,
	  "JSON Lines file; pcapng (the packets) when it ends in .pcapng; gzip-compressed when it ends in .gz (x.ndjson.gz, x.pcapng.gz)" },
	{ "snaplen", PS_KIND_COUNT, 0, NULL,
	  "pcapng: bytes of each packet, copied in the kernel (default 256)",
	  NULL, 1, SLOG_SNAP_MAX },
	{ "rotate", PS_KIND_SIZE, 0, NULL,
	  "start a new file past this size (for .gz: compressed bytes, which grow up to 32k at a time; 64k at least)",
	  NULL, 4096, 0 },
	{ "keep", PS_KIND_COUNT, 0, NULL, "finished files to keep (default 5)",
	  NULL, 0, 10000 },
	FILTER_ARGS,
	READER_ARGS,
	{ 0 }
};

static const struct ps_arg_spec filter_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "attached interface" },
	{ "clear", PS_KIND_FLAG, 0, NULL, "reset every filter to its default" },
	FILTER_ARGS,
	{ 0 }
};

static const char *const by_choices[] = {
	"packets", "bytes", "last-seen", NULL,
};

static const struct ps_arg_spec sources_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ "limit", PS_KIND_COUNT, 0, NULL, "rows (default 20)", NULL, 1, 1000000 },
	{ "by", PS_KIND_CHOICE, 0, NULL, "sort order (default packets)",
	  by_choices },
	{ 0 }
};

static const struct ps_arg_spec dev_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "show", "counters, the running watches and records, and the busiest sources",
	  dev_args, do_show, NULL, PS_CMD_BPF },
	{ "watch", "print each packet's source as it arrives",
	  watch_args, do_watch, NULL, PS_CMD_BPF | PS_CMD_STREAM },
	{ "record", "write events to JSON Lines files, gzip and rotation",
	  record_args, do_record, NULL, PS_CMD_BPF | PS_CMD_STREAM },
	{ "sources", "distinct sources: packets, bytes, protocols, first and last seen",
	  sources_args, do_sources, NULL, PS_CMD_BPF },
	{ "filter", "show or change the attachment's filters live: only those named change",
	  filter_args, do_filter, NULL, PS_CMD_BPF },
	{ "counters", "what happened to every packet the hook saw",
	  dev_args, do_counters, NULL, PS_CMD_BPF },
	{ 0 }
};

/*
 * Nothing beyond the program and its maps to remove; but readers that
 * still run on the attachment lose it: say so before they stop (each
 * stops with an error, see check_attachment()).
 */
static int teardown(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	uint64_t owners[SLOG_READERS_MAX];
	char list[SLOG_READERS_MAX * 12];
	struct slog_config *c;
	int fd, n;

	fd = ps_map_open(ctx, att, PS_MAP_NAME(SLOG_MAP_CONFIG));
	if (fd < 0)
		return PS_OK;	/* half-made: no reader there */
	c = map_config(fd);
	close(fd);
	if (!c)
		return PS_OK;
	n = live_readers(c, owners);
	unmap_config(c);
	ps_owner_pids_str(owners, n, list, sizeof(list));
	if (n)
		ps_warn(ctx, "%d reader%s running on %s (pid%s %s), %s will stop",
			n, n == 1 ? "" : "s", att->ifname, n == 1 ? "" : "s",
			list, n == 1 ? "it" : "they");
	return PS_OK;
}

PKTSCOPE_PLUGIN(
	.name = "src-log",
	.version = PACKAGE_VERSION,
	.summary = "who sends to this host: per-packet source log, filtered in the kernel",
	.bpf_elf = src_log__elf_bytes,
	.xdp_prog = "slog_xdp",
	.tc_prog = "slog_tc",
	.stage = PS_STAGE_OBSERVE,
	.cmds = cmds,
	.attach_args = attach_args,
	.configure = configure,
	.metrics = metrics,
	.teardown = teardown,
);
