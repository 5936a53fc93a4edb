// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * proto-stats: traffic patterns on an interface's ingress -- packets and
 * bytes per protocol, TCP flag patterns, sizes, top talkers, rates.  The
 * BPF side (bpf/proto_stats.bpf.c) counts in per-CPU maps pinned by the
 * core; every verb here reads them from bpffs, so `show` works in any
 * process after `attach`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pktscope/plugin.h>

#include "config.h"
#include "proto_stats.h"
#include "proto_stats.skel.h"
#include "pstat_read.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct group {
	const char *key;	/* JSON key of the object */
	const char *title;
	struct {
		const char *key;
		int idx;
	} rows[8];
};

/* The JSON schema lives here: group keys, then row keys. */
static const struct group l3_group = { "l3", "Layer 3", {
	{ "ipv4", PSTAT_L3_IPV4 }, { "ipv6", PSTAT_L3_IPV6 },
	{ "arp", PSTAT_L3_ARP }, { "other", PSTAT_L3_OTHER }, { NULL, 0 } } };
static const struct group l4_group = { "l4", "Layer 4", {
	{ "tcp", PSTAT_L4_TCP }, { "udp", PSTAT_L4_UDP },
	{ "icmp", PSTAT_L4_ICMP }, { "icmpv6", PSTAT_L4_ICMPV6 },
	{ "sctp", PSTAT_L4_SCTP }, { "gre", PSTAT_L4_GRE },
	{ "other", PSTAT_L4_OTHER }, { NULL, 0 } } };
static const struct group tcp_group = { "tcp_flags", "TCP flags", {
	{ "syn", PSTAT_TCP_SYN }, { "synack", PSTAT_TCP_SYNACK },
	{ "fin", PSTAT_TCP_FIN }, { "rst", PSTAT_TCP_RST },
	{ "ack", PSTAT_TCP_ACK }, { "other", PSTAT_TCP_OTHER },
	{ NULL, 0 } } };
static const struct group size_group = { "sizes", "Frame sizes", {
	{ "le64", PSTAT_SIZE_64 }, { "65-127", PSTAT_SIZE_127 },
	{ "128-255", PSTAT_SIZE_255 }, { "256-511", PSTAT_SIZE_511 },
	{ "512-1023", PSTAT_SIZE_1023 }, { "1024-1518", PSTAT_SIZE_1518 },
	{ "jumbo", PSTAT_SIZE_JUMBO }, { NULL, 0 } } };

int pstat_read_counters(struct ps_ctx *ctx, const struct ps_attachment *att,
			struct pstat_counters *c)
{
	return ps_map_read_one(ctx, att, PS_MAP_NAME(PSTAT_MAP_COUNTERS),
			       0, c, sizeof(*c));
}

static void out_val(struct ps_ctx *ctx, const char *key,
		    const struct pstat_val *v)
{
	ps_out_section(ctx, key, key);
	ps_out_u64(ctx, "packets", NULL, v->packets);
	ps_out_u64(ctx, "bytes", NULL, v->bytes);
	ps_out_section_end(ctx);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* JSON: {key: {packets, bytes}}; text: one aligned table per group */
static void out_group(struct ps_ctx *ctx, const struct group *g,
		      const struct pstat_counters *c, uint64_t of)
{
	static const struct ps_col cols[] = {
		{ "name", "", PS_LEFT },
		{ "packets", NULL, PS_RIGHT },
		{ "pct", "%", PS_RIGHT },
		{ "bytes", NULL, PS_RIGHT },
	};

	if (ps_json(ctx)) {
		ps_out_section(ctx, g->key, NULL);
		for (size_t i = 0; g->rows[i].key; i++)
			out_val(ctx, g->rows[i].key, &c->c[g->rows[i].idx]);
		ps_out_section_end(ctx);
		return;
	}
	ps_out_text(ctx, "%s:\n", g->title);
	struct ps_table *t = ps_table_new(ctx, g->key, cols, ARRAY_SIZE(cols));

	for (size_t i = 0; g->rows[i].key; i++) {
		const struct pstat_val *v = &c->c[g->rows[i].idx];

		ps_table_str(t, g->rows[i].key);
		ps_table_u64(t, v->packets);
		ps_table_f64(t, pct(v->packets, of), 1);
		ps_table_u64_human(t, v->bytes, ps_fmt_size);
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

static void out_sizes(struct ps_ctx *ctx, const struct pstat_counters *c)
{
	static const char *const labels[] = {
		"<=64", "65-127", "128-255", "256-511", "512-1023", "1024-1518",
		"jumbo",
	};
	uint64_t max = 0;

	if (ps_json(ctx)) {
		ps_out_section(ctx, size_group.key, NULL);
		for (size_t i = 0; size_group.rows[i].key; i++)
			out_val(ctx, size_group.rows[i].key,
				&c->c[size_group.rows[i].idx]);
		ps_out_section_end(ctx);
		return;
	}
	for (int i = PSTAT_SIZE_64; i <= PSTAT_SIZE_JUMBO; i++)
		if (c->c[i].packets > max)
			max = c->c[i].packets;
	ps_out_text(ctx, "Frame sizes on the wire (bytes, packets; GRO aggregates as their frames):\n");
	for (int i = PSTAT_SIZE_64; i <= PSTAT_SIZE_JUMBO; i++) {
		char suffix[64];

		snprintf(suffix, sizeof(suffix), "%llu (%.1f%%)",
			 (unsigned long long)c->c[i].packets,
			 pct(c->c[i].packets, c->c[PSTAT_TOTAL].packets));
		ps_out_bar(ctx, labels[i - PSTAT_SIZE_64], c->c[i].packets, max,
			   suffix);
	}
}

/* ---- top talkers ---- */

static int by_packets(const void *a, const void *b, void *data)
{
	const struct top_entry *x = a, *y = b;

	(void)data;
	if (x->v.packets != y->v.packets)
		return x->v.packets < y->v.packets ? 1 : -1;
	return x->v.bytes < y->v.bytes ? 1 : x->v.bytes > y->v.bytes ? -1 : 0;
}

static int by_bytes(const void *a, const void *b, void *data)
{
	const struct top_entry *x = a, *y = b;

	(void)data;
	if (x->v.bytes != y->v.bytes)
		return x->v.bytes < y->v.bytes ? 1 : -1;
	return x->v.packets < y->v.packets ? 1 :
	       x->v.packets > y->v.packets ? -1 : 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(((const struct top_entry *)a)->key,
		      ((const struct top_entry *)b)->key,
		      sizeof(((const struct top_entry *)a)->key));
}

static int top_add(struct top_list *l, const void *key, size_t ksz,
		   const struct pstat_val *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct top_entry *p = realloc(l->v, cap * sizeof(*p));

		if (!p)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	memcpy(l->v[l->n].key, key, ksz);
	l->v[l->n].v = *v;
	l->n++;
	return 0;
}

/* the keys every CPU's cache holds now, one entry each, sorted by key */
static int read_cache(struct ps_ctx *ctx, const struct ps_attachment *att,
		      bool is_src, struct top_list *c)
{
	size_t ksz = is_src ? sizeof(struct ps_addr_key) :
			      sizeof(struct pstat_port_key);
	int ncpu = libbpf_num_possible_cpus();
	struct pstat_cache *cache;
	uint32_t zero = 0;
	size_t out = 0;
	int fd, r = PS_OK;

	memset(c, 0, sizeof(*c));
	fd = ps_map_open(ctx, att, PS_MAP_NAME(PSTAT_MAP_CACHE));
	if (fd < 0)
		return PS_ERR;
	cache = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*cache));
	if (!cache)
		r = ps_err(ctx, "out of memory");
	else if (bpf_map_lookup_elem(fd, &zero, cache))
		ncpu = 0;	/* read as empty, as before a packet came */
	for (int cpu = 0; !r && cpu < ncpu; cpu++) {
		const struct pstat_cache *k = &cache[cpu];

		for (size_t i = 0; !r && is_src && i < ARRAY_SIZE(k->src); i++)
			if (k->src[i].val.packets &&
			    top_add(c, &k->src[i].key, ksz, &k->src[i].val))
				r = ps_err(ctx, "out of memory");
		for (size_t i = 0; !r && !is_src && i < ARRAY_SIZE(k->port); i++)
			if (k->port[i].val.packets &&
			    top_add(c, &k->port[i].key, ksz, &k->port[i].val))
				r = ps_err(ctx, "out of memory");
	}
	free(cache);
	close(fd);
	if (r) {
		free(c->v);
		return r;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(c->v[0]), by_key);
	for (size_t i = 0; i < c->n; i++) {
		if (out && !by_key(&c->v[out - 1], &c->v[i])) {
			c->v[out - 1].v.packets += c->v[i].v.packets;
			c->v[out - 1].v.bytes += c->v[i].v.bytes;
		} else {
			c->v[out++] = c->v[i];
		}
	}
	c->n = out;
	return PS_OK;
}

int pstat_read_top(struct ps_ctx *ctx, const struct ps_attachment *att,
		   bool is_src, struct top_list *l)
{
	static const struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct top_entry, key, v),
	};
	const char *map = is_src ? PS_MAP_NAME(PSTAT_MAP_TOP_SRC) :
				   PS_MAP_NAME(PSTAT_MAP_TOP_PORT);
	struct top_list c;
	void *rows;
	size_t n, ksz = is_src ? sizeof(struct ps_addr_key) :
				 sizeof(struct pstat_port_key);
	int fd, r;

	memset(l, 0, sizeof(*l));
	fd = ps_map_open(ctx, att, map);
	if (fd < 0)
		return PS_ERR;
	r = ps_map_dump(fd, &spec, &rows, &n);
	close(fd);
	if (r)
		return ps_err(ctx, "reading %s of proto-stats on %s: %s", map,
			      att->ifname, strerror(-r));
	*l = (struct top_list){ rows, n, n };
	if (read_cache(ctx, att, is_src, &c)) {
		free(l->v);
		return PS_ERR;
	}
	/* a key in the table and in a cache: one row, both counts */
	for (size_t i = 0; i < l->n && c.n; i++) {
		struct top_entry *e = bsearch(&l->v[i], c.v, c.n, sizeof(*c.v),
					      by_key);

		if (!e)
			continue;
		l->v[i].v.packets += e->v.packets;
		l->v[i].v.bytes += e->v.bytes;
		e->v.packets = 0;	/* taken */
	}
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].v.packets && top_add(l, c.v[i].key, ksz, &c.v[i].v)) {
			free(c.v);
			free(l->v);
			return ps_err(ctx, "out of memory");
		}
	free(c.v);
	return PS_OK;
}

static const char *proto_name(uint8_t p)
{
	const char *name = ps_proto_name(p);

	return name ? name : "other";
}

static void out_top(struct ps_ctx *ctx, const struct ps_attachment *att,
		    bool is_src, bool bytes, size_t limit)
{
	static const struct ps_col src_cols[] = {
		{ "src", "SOURCE", PS_LEFT },
		{ "packets", NULL, PS_RIGHT },
		{ "bytes", NULL, PS_RIGHT },
	};
	static const struct ps_col port_cols[] = {
		{ "proto", NULL, PS_LEFT },
		{ "dport", "DPORT", PS_RIGHT },
		{ "packets", NULL, PS_RIGHT },
		{ "bytes", NULL, PS_RIGHT },
	};
	struct top_list l;
	struct top_entry *v;
	size_t n;

	if (pstat_read_top(ctx, att, is_src, &l))
		return;
	v = l.v;
	n = ps_top_rows(v, l.n, sizeof(*v), bytes ? by_bytes : by_packets,
			NULL, limit);
	ps_out_text(ctx, "%s:\n", is_src ? "Top sources" : "Top destination ports");
	struct ps_table *t = is_src ?
		ps_table_new(ctx, "top_sources", src_cols, ARRAY_SIZE(src_cols)) :
		ps_table_new(ctx, "top_dst_ports", port_cols, ARRAY_SIZE(port_cols));
	for (size_t i = 0; i < n; i++) {
		if (is_src) {
			const struct ps_addr_key *k = (const void *)v[i].key;
			char a[INET6_ADDRSTRLEN];

			inet_ntop(k->family == 10 ? AF_INET6 : AF_INET, k->addr,
				  a, sizeof(a));
			ps_table_str(t, a);
		} else {
			const struct pstat_port_key *k = (const void *)v[i].key;

			ps_table_str(t, proto_name(k->proto));
			ps_table_u64(t, k->port);
		}
		ps_table_u64(t, v[i].v.packets);
		ps_table_u64_human(t, v[i].v.bytes, ps_fmt_size);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	free(v);
}

/*
 * When the counters started: the last reset, else the attach.  An
 * attachment made before reset_at existed has no such pin: the attach.
 */
static uint64_t counting_since(const struct ps_attachment *att, bool *reset)
{
	char path[sizeof(att->pin_dir) + 16];
	uint64_t when = 0;
	uint32_t key = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/" PS_MAP_NAME(PSTAT_MAP_RESET_AT),
		 att->pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_map_lookup_elem(fd, &key, &when))
			when = 0;
		close(fd);
	}
	*reset = when != 0;
	return when ? when : att->since;
}

static int mark_reset(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	uint64_t now = (uint64_t)time(NULL);
	uint32_t key = 0;
	int fd = ps_map_open(ctx, att, PS_MAP_NAME(PSTAT_MAP_RESET_AT)),
			     r = PS_OK;

	if (fd < 0)
		return PS_ERR;
	if (bpf_map_update_elem(fd, &key, &now, BPF_ANY))
		r = ps_err(ctx, "resetting reset_at of %s: %s", att->ifname,
			   strerror(errno));
	close(fd);
	return r;
}

static int show_one(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	struct pstat_counters c;
	bool reset;
	time_t since = (time_t)counting_since(att, &reset);
	char when[32];

	if (pstat_read_counters(ctx, att, &c))
		return PS_ERR;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&since));
	if (!ps_json(ctx)) {
		char b[32];

		ps_out_text(ctx, "%s  mode %s  %llu packets  %s%s\n",
			    att->ifname, ps_mode_name(att->mode),
			    (unsigned long long)c.c[PSTAT_TOTAL].packets,
			    ps_fmt_size(c.c[PSTAT_TOTAL].bytes, b, sizeof(b)),
			    att->ifindex ? "" : "  (interface gone)");
		ps_out_text(ctx, "counting since %s (%s)\n", when,
			    reset ? "reset" : "attach");
		ps_out_text(ctx, "\n");
	} else {
		ps_out_item(ctx, NULL);
		ps_out_str(ctx, "ifname", NULL, att->ifname);
		ps_out_u64(ctx, "ifindex", NULL, (uint64_t)att->ifindex);
		ps_out_str(ctx, "mode", NULL, ps_mode_name(att->mode));
		ps_out_str(ctx, "counting_since", NULL, when);
		ps_out_str(ctx, "counting_from", NULL, reset ? "reset" : "attach");
		out_val(ctx, "total", &c.c[PSTAT_TOTAL]);
	}
	out_group(ctx, &l3_group, &c, c.c[PSTAT_TOTAL].packets);
	ps_out_text(ctx, "\n");
	out_group(ctx, &l4_group, &c, c.c[PSTAT_L3_IPV4].packets +
		  c.c[PSTAT_L3_IPV6].packets);
	ps_out_text(ctx, "\n");
	out_group(ctx, &tcp_group, &c, c.c[PSTAT_L4_TCP].packets);
	ps_out_text(ctx, "\n");
	out_sizes(ctx, &c);
	ps_out_text(ctx, "\n");
	if (ps_json(ctx)) {
		out_val(ctx, "malformed", &c.c[PSTAT_MALFORMED]);
		out_val(ctx, "truncated", &c.c[PSTAT_TRUNCATED]);
		out_val(ctx, "vlan", &c.c[PSTAT_VLAN]);
		out_val(ctx, "fragments", &c.c[PSTAT_FRAG]);
		out_val(ctx, "untracked_sources", &c.c[PSTAT_SRC_SKIP]);
		out_val(ctx, "untracked_ports", &c.c[PSTAT_PORT_SKIP]);
	} else {
		ps_out_text(ctx, "Malformed %llu, truncated %llu, VLAN-tagged %llu, fragments %llu\n\n",
			    (unsigned long long)c.c[PSTAT_MALFORMED].packets,
			    (unsigned long long)c.c[PSTAT_TRUNCATED].packets,
			    (unsigned long long)c.c[PSTAT_VLAN].packets,
			    (unsigned long long)c.c[PSTAT_FRAG].packets);
	}
	out_top(ctx, att, true, false, 5);
	ps_out_text(ctx, "\n");
	out_top(ctx, att, false, false, 5);
	ps_out_item_end(ctx);
	return PS_OK;
}

static int show_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		   void *data)
{
	(void)data;
	return show_one(ctx, att);
}

static int do_show(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", PS_EACH_SPACED, show_cb, NULL);
}

static int top_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		  void *data)
{
	const struct ps_args *args = data;
	const struct ps_value *by = ps_arg_get(args, "by");
	size_t limit = (size_t)ps_arg_u64(args, "limit", 10);

	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	ps_out_str(ctx, "mode", "Mode", ps_mode_name(att->mode));
	ps_out_text(ctx, "\n");
	out_top(ctx, att, true, by && by->u == 1, limit);
	ps_out_text(ctx, "\n");
	out_top(ctx, att, false, by && by->u == 1, limit);
	ps_out_item_end(ctx);
	return PS_OK;
}

static int do_top(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL),
				   "interfaces", PS_EACH_SPACED, top_cb,
				   (void *)args);
}

/* ---- reset ---- */

static int reset_cb(struct ps_ctx *ctx, const struct ps_attachment *att,
		    void *data)
{
	static const char *const maps[] = {
		PS_MAP_NAME(PSTAT_MAP_COUNTERS), PS_MAP_NAME(PSTAT_MAP_CACHE),
		PS_MAP_NAME(PSTAT_MAP_TOP_SRC), PS_MAP_NAME(PSTAT_MAP_TOP_PORT),
	};
	int r = PS_OK;

	(void)data;
	for (size_t m = 0; m < ARRAY_SIZE(maps) && !r; m++)
		r = ps_map_zero(ctx, att, maps[m]);
	if (!r)
		r = mark_reset(ctx, att);
	if (r)
		return r;
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Reset", att->ifname);
	ps_out_str(ctx, "mode", NULL, ps_mode_name(att->mode));
	ps_out_item_end(ctx);
	return PS_OK;
}

static int do_reset(struct ps_ctx *ctx, const struct ps_args *args)
{
	return ps_attachments_each(ctx, ps_arg_str(args, "dev", NULL), "reset",
				   0, reset_cb, NULL);
}

/* ---- watch ---- */

static const struct {
	const char *key;
	int idx;
} watch_cols[] = {
	{ "ipv4", PSTAT_L3_IPV4 }, { "ipv6", PSTAT_L3_IPV6 },
	{ "arp", PSTAT_L3_ARP }, { "tcp", PSTAT_L4_TCP },
	{ "udp", PSTAT_L4_UDP }, { "icmp", PSTAT_L4_ICMP },
	{ "icmpv6", PSTAT_L4_ICMPV6 }, { "bad", -1 },
};

/* packets a second of a column, over secs */
static double col_rate(const struct pstat_counters *now,
		       const struct pstat_counters *then, int idx, double secs)
{
	if (idx < 0)
		return ps_rate(now->c[PSTAT_MALFORMED].packets,
			       then->c[PSTAT_MALFORMED].packets, secs) +
		       ps_rate(now->c[PSTAT_TRUNCATED].packets,
			       then->c[PSTAT_TRUNCATED].packets, secs);
	return ps_rate(now->c[idx].packets, then->c[idx].packets, secs);
}

/*
 * Text rows: TIME (with milliseconds when the interval is below a second,
 * so two rows of one second differ), the interface, packets/s and bits/s
 * in total, then packets/s per protocol.  On a terminal the protocol
 * columns that do not fit are left out (JSON has them all).
 */
struct watch_fmt {
	int ifw;		/* interface column width */
	bool ms;		/* TIME with milliseconds */
	size_t ncols;		/* protocol columns shown */
};

#define WATCH_COL_W	7	/* " icmpv6", " 1.00k" */

static void watch_fmt_init(struct ps_ctx *ctx, struct watch_fmt *wf,
			   const struct ps_attachment *atts, size_t n,
			   uint64_t interval)
{
	int cols = ps_out_columns(ctx), used;

	wf->ifw = 9;		/* "INTERFACE" */
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(atts[i].ifname) > wf->ifw)
			wf->ifw = (int)strlen(atts[i].ifname);
	wf->ms = interval < 1000000000ULL;
	used = (wf->ms ? 12 : 8) + 1 + wf->ifw + 7 + 9;
	wf->ncols = ARRAY_SIZE(watch_cols);
	while (cols && wf->ncols &&
	       used + (int)wf->ncols * WATCH_COL_W > cols)
		wf->ncols--;
}

static void watch_header(struct ps_ctx *ctx, const struct watch_fmt *wf)
{
	char line[512];
	int off;

	off = snprintf(line, sizeof(line), "%-*s %-*s %6s %8s",
		       wf->ms ? 12 : 8, "TIME", wf->ifw, "INTERFACE", "PPS",
		       "BIT/S");
	for (size_t i = 0; i < wf->ncols && off < (int)sizeof(line); i++)
		off += snprintf(line + off, sizeof(line) - (size_t)off, " %6s",
				watch_cols[i].key);
	ps_record_begin(ctx);
	ps_record_text(ctx, "%s", line);
	ps_record_end(ctx);
}

/*
 * One interface: proto-stats' attachment there, or a temporary one for as
 * long as the watch runs.  None given: every live attachment; gone ones
 * are skipped with a warning.
 */
static int watch_select(struct ps_ctx *ctx, const struct ps_args *args,
			struct ps_attachment **atts, size_t *n, bool *temporary)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	const struct ps_value *mv = ps_arg_get(args, "mode");
	struct ps_attach_opts o = {
		.mode = mv ? PS_MODE_FROM_CHOICE(mv->u) : PS_MODE_AUTO,
		.args = args,
	};
	size_t k = 0;

	if (dev) {
		*atts = malloc(sizeof(**atts));
		if (!*atts)
			return ps_err(ctx, "out of memory");
		*n = 1;
		if (ps_attach_hold(ctx, dev, &o, *atts, temporary)) {
			free(*atts);
			return PS_ERR;
		}
		return PS_OK;
	}
	if (mv)
		return ps_usage_err(ctx, "'mode' is for a temporary attach: it needs 'dev IF'");
	if (ps_attachments_select(ctx, NULL, atts, n))
		return PS_ERR;
	for (size_t i = 0; i < *n; i++) {
		if (!(*atts)[i].ifindex) {
			ps_warn(ctx, "%s is attached to %s, which is gone; not watching it",
				(*atts)[i].plugin, (*atts)[i].ifname);
			continue;
		}
		(*atts)[k++] = (*atts)[i];
	}
	*n = k;
	if (!k) {
		free(*atts);
		return ps_err(ctx, "proto-stats is attached to no interface that is still there");
	}
	return PS_OK;
}

/* one row of the watch: an interface's rates over the last interval */
static void watch_row(struct ps_ctx *ctx, const struct watch_fmt *wf,
		      const struct ps_poll *p, const char *hms,
		      const struct ps_attachment *att,
		      const struct pstat_counters *cur,
		      const struct pstat_counters *prev)
{
	double pps = ps_rate(cur->c[PSTAT_TOTAL].packets,
			     prev->c[PSTAT_TOTAL].packets, p->secs);
	double bps = 8.0 * ps_rate(cur->c[PSTAT_TOTAL].bytes,
				   prev->c[PSTAT_TOTAL].bytes, p->secs);

	ps_record_begin(ctx);
	if (!ps_json(ctx)) {
		char line[512], a[32], b[32];
		int off = snprintf(line, sizeof(line), "%-*s %-*s %6s %8s",
				   wf->ms ? 12 : 8, hms, wf->ifw, att->ifname,
				   ps_fmt_count(pps, a, sizeof(a)),
				   ps_fmt_rate((uint64_t)bps, b, sizeof(b)));

		for (size_t k = 0; k < wf->ncols; k++)
			off += snprintf(line + off, sizeof(line) - (size_t)off,
					" %6s",
					ps_fmt_count(col_rate(cur, prev,
							      watch_cols[k].idx,
							      p->secs),
						     a, sizeof(a)));
		ps_record_text(ctx, "%s", line);
	} else {
		char when[40];

		ps_fmt_time(p->wall_ns, 3, when, sizeof(when));
		ps_out_str(ctx, "ts", NULL, when);
		ps_out_str(ctx, "ifname", NULL, att->ifname);
		ps_out_str(ctx, "mode", NULL, ps_mode_name(att->mode));
		ps_out_f64(ctx, "interval_seconds", NULL, p->secs);
		ps_out_section(ctx, "total", NULL);
		ps_out_f64(ctx, "packets_per_second", NULL, pps);
		ps_out_f64(ctx, "bits_per_second", NULL, bps);
		ps_out_section_end(ctx);
		ps_out_section(ctx, "packets_per_second", NULL);
		for (size_t k = 0; k < ARRAY_SIZE(watch_cols); k++)
			ps_out_f64(ctx, watch_cols[k].key, NULL,
				   col_rate(cur, prev, watch_cols[k].idx,
					    p->secs));
		ps_out_section_end(ctx);
	}
	ps_record_end(ctx);
}

static int do_watch(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_poll p = {
		.interval_ns = ps_arg_u64(args, "interval", 1000000000ULL),
		.count = ps_arg_u64(args, "count", 0),
	};
	const char *dev = ps_arg_str(args, "dev", NULL);
	struct ps_attachment *atts;
	struct pstat_counters *prev, cur;
	struct watch_fmt wf;
	size_t n, rows = 0;
	bool temporary = false;
	int r = PS_OK;

	if (watch_select(ctx, args, &atts, &n, &temporary))
		return PS_ERR;
	prev = calloc(n, sizeof(*prev));
	if (!prev) {
		ps_attach_release(ctx, &atts[0], temporary);
		free(atts);
		return ps_err(ctx, "out of memory");
	}
	for (size_t i = 0; i < n && !r; i++)
		r = pstat_read_counters(ctx, &atts[i], &prev[i]);
	watch_fmt_init(ctx, &wf, atts, n, p.interval_ns);
	ps_poll_start(&p);
	while (!r && ps_poll_next(&p)) {
		time_t now = (time_t)(p.wall_ns / 1000000000ULL);
		char hms[24];
		size_t hl;

		hl = strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
		if (wf.ms)
			snprintf(hms + hl, sizeof(hms) - hl, ".%03u",
				 (unsigned)(p.wall_ns / 1000000 % 1000));
		if (!ps_json(ctx) && rows % 20 == 0)
			watch_header(ctx, &wf);
		for (size_t i = 0; i < n && !r; i++) {
			char ifn[IF_NAMESIZE];

			if (!if_indextoname((unsigned)atts[i].ifindex, ifn) ||
			    strcmp(ifn, atts[i].ifname)) {
				if (dev) {
					r = ps_err(ctx, "interface %s vanished; its pins stay until 'detach dev %s'",
						   atts[i].ifname, atts[i].ifname);
					break;
				}
				/* watching them all: the others go on */
				ps_warn(ctx, "interface %s vanished; watching the others",
					atts[i].ifname);
				atts[i] = atts[--n];
				prev[i] = prev[n];
				i--;
				if (!n)
					r = ps_err(ctx, "no attached interface is left to watch");
				continue;
			}
			r = pstat_read_counters(ctx, &atts[i], &cur);
			if (r)
				break;
			watch_row(ctx, &wf, &p, hms, &atts[i], &cur, &prev[i]);
			prev[i] = cur;
			rows++;
		}
	}
	if (temporary)
		ps_attach_release(ctx, &atts[0], temporary);
	free(prev);
	free(atts);
	return r;
}

/* ---- metrics (pktscope metrics, serve) ---- */

static void metric_pair(struct ps_ctx *ctx, const char *base,
			const char *what, const struct pstat_val *v,
			const struct ps_label *l, size_t nl)
{
	char name[96], help[160];

	snprintf(name, sizeof(name), "proto_stats_%spackets_total", base);
	snprintf(help, sizeof(help), "Packets %s.", what);
	ps_metric(ctx, name, PS_METRIC_COUNTER, help, (double)v->packets, l, nl);
	snprintf(name, sizeof(name), "proto_stats_%sbytes_total", base);
	snprintf(help, sizeof(help), "Bytes (whole frames) %s.", what);
	ps_metric(ctx, name, PS_METRIC_COUNTER, help, (double)v->bytes, l, nl);
}

static void metric_group(struct ps_ctx *ctx, const struct group *g,
			 const char *base, const char *label, const char *what,
			 const struct pstat_counters *c)
{
	for (size_t i = 0; g->rows[i].key; i++) {
		struct ps_label l = { label, g->rows[i].key };

		metric_pair(ctx, base, what, &c->c[g->rows[i].idx], &l, 1);
	}
}

/* the busiest sources and ports only: never one series per address seen */
static void metric_top(struct ps_ctx *ctx, const struct ps_attachment *att,
		       bool is_src)
{
	size_t limit = ps_metric_top_n(ctx);
	struct top_list l;
	size_t n;

	if (pstat_read_top(ctx, att, is_src, &l))
		return;
	n = ps_top_rows(l.v, l.n, sizeof(l.v[0]), by_packets, NULL, limit);
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN], port[8];
		struct ps_label lb[2];
		size_t nl;

		if (is_src) {
			const struct ps_addr_key *k = (const void *)l.v[i].key;

			inet_ntop(k->family == 10 ? AF_INET6 : AF_INET, k->addr,
				  a, sizeof(a));
			lb[0] = (struct ps_label){ "source", a };
			nl = 1;
		} else {
			const struct pstat_port_key *k = (const void *)l.v[i].key;

			snprintf(port, sizeof(port), "%u", k->port);
			lb[0] = (struct ps_label){ "proto", proto_name(k->proto) };
			lb[1] = (struct ps_label){ "port", port };
			nl = 2;
		}
		metric_pair(ctx, is_src ? "top_source_" : "top_port_",
			    is_src ? "from one of the busiest sources (top-N by packets)" :
				     "to one of the busiest destination ports (top-N by packets)",
			    &l.v[i].v, lb, nl);
	}
	free(l.v);
}

static int metrics(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	static const struct {
		const char *base, *what;
		int idx;
	} singles[] = {
		{ "", "seen at the hook", PSTAT_TOTAL },
		{ "malformed_", "the parser found malformed", PSTAT_MALFORMED },
		{ "truncated_", "cut short before a header ended", PSTAT_TRUNCATED },
		{ "vlan_", "with at least one VLAN tag", PSTAT_VLAN },
		{ "fragment_", "that are IP fragments", PSTAT_FRAG },
		{ "untracked_source_", "not counted in the top sources table",
		  PSTAT_SRC_SKIP },
		{ "untracked_port_", "not counted in the top ports table",
		  PSTAT_PORT_SKIP },
	};
	struct pstat_counters c;

	if (pstat_read_counters(ctx, att, &c))
		return PS_ERR;
	for (size_t i = 0; i < ARRAY_SIZE(singles); i++)
		metric_pair(ctx, singles[i].base, singles[i].what,
			    &c.c[singles[i].idx], NULL, 0);
	metric_group(ctx, &l3_group, "l3_", "proto", "by EtherType", &c);
	metric_group(ctx, &l4_group, "l4_", "proto",
		     "by IP protocol (IPv4 and IPv6)", &c);
	metric_group(ctx, &tcp_group, "tcp_", "flags",
		     "of TCP by flags (exclusive, first match)", &c);
	metric_group(ctx, &size_group, "size_", "size",
		     "by frame size in bytes", &c);
	metric_top(ctx, att, true);
	metric_top(ctx, att, false);
	return PS_OK;
}

/* ---- declarations ---- */

static const struct ps_arg_spec dev_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ 0 }
};

static const struct ps_arg_spec watch_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "one interface, attached for the watch if proto-stats is not (default: every one attached)" },
	{ "mode", PS_KIND_CHOICE, 0, NULL,
	  "hook for a temporary attach (default tcx, else tc)",
	  ps_mode_choices },
	{ "interval", PS_KIND_DURATION, 0, NULL, "time between rows (default 1s)",
	  NULL, 10000000ULL, 3600000000000ULL },
	{ "count", PS_KIND_COUNT, 0, NULL, "stop after N rows", NULL, 1, 0 },
	{ 0 }
};

static const char *const by_choices[] = { "packets", "bytes", NULL };

static const struct ps_arg_spec top_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "one interface (default: every one attached)" },
	{ "by", PS_KIND_CHOICE, 0, NULL, "sort order (default packets)",
	  by_choices },
	{ "limit", PS_KIND_COUNT, 0, NULL, "rows per table (default 10)", NULL,
	  1, 100000 },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "show", "counters per protocol, TCP flags, sizes, top talkers",
	  dev_args, do_show, NULL, PS_CMD_BPF },
	{ "watch", "rates per interval (pps, bit/s) per protocol", watch_args,
	  do_watch, NULL, PS_CMD_BPF | PS_CMD_STREAM },
	{ "top", "top source addresses and destination ports", top_args,
	  do_top, NULL, PS_CMD_BPF },
	{ "reset", "zero the counters and top tables", dev_args, do_reset,
	  NULL, PS_CMD_BPF },
	{ "live", "live view: heaviest sources, prefixes, ports or protocols by current rate",
	  pstat_live_args, pstat_do_live, NULL, PS_CMD_BPF | PS_CMD_STREAM },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "proto-stats",
	.version = PACKAGE_VERSION,
	.summary = "traffic patterns: protocols, TCP flags, sizes, top talkers, rates",
	.bpf_elf = proto_stats__elf_bytes,
	.xdp_prog = "ps_xdp",
	.tc_prog = "ps_tc",
	.stage = PS_STAGE_OBSERVE,
	.cmds = cmds,
	.metrics = metrics,
);
