// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * shaping: what the rules did, from the per-CPU counters and the sources
 * map: `rule list`, `show`, `watch` and the metrics callback.  Current
 * rates come from two readings some time apart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pktscope/plugin.h>

#include "config.h"
#include "htb.h"
#include "shaping.h"
#include "shaping_int.h"

#define SAMPLE_NS	(200ULL * 1000000)	/* default `interval` */

/* ---- reading: counters and rates ---- */

struct rule_view {
	struct shp_rule r;
	uint32_t slot;
	struct shp_counters c;
	double bps, pps, drop_pps;	/* over the sample */
	uint64_t q_drops, q_backlog;	/* HTB leaves (shape) */
	bool q_ok;
};

struct view {
	struct ps_attachment att;
	struct shp_config cfg;
	struct rule_view rules[SHP_RULES_MAX];
	size_t n;
	struct shp_counters unmatched;
};

static int view_read(struct ps_ctx *ctx, const struct ps_attachment *att,
		     struct view *v)
{
	struct shp_rule rules[SHP_RULES_MAX];
	uint32_t slots[SHP_RULES_MAX];
	struct shp_leaves *leaves = NULL;
	bool leaves_read = false;
	struct maps m;
	int e;

	memset(v, 0, sizeof(*v));
	v->att = *att;
	if (maps_open(ctx, att, &m))
		return PS_ERR;
	e = load_rules(&m, &v->cfg, rules, slots, &v->n);
	for (size_t i = 0; !e && i < v->n; i++) {
		struct rule_view *rv = &v->rules[i];

		rv->r = rules[i];
		rv->slot = slots[i];
		e = get_counters(&m, slots[i], &rv->c);
		if (e || rv->r.action != SHP_ACT_SHAPE || !v->cfg.ifb_ifindex)
			continue;
		if (!leaves_read) {
			leaves = shp_leaves_read();
			leaves_read = true;
		}
		rv->q_ok = shp_htb_stats(leaves, (int)v->cfg.ifb_ifindex,
					 &rv->r, rv->slot, &rv->q_drops,
					 &rv->q_backlog);
	}
	shp_leaves_free(leaves);
	if (!e)
		e = get_counters(&m, SHP_RULES_MAX, &v->unmatched);
	maps_close(&m);
	if (e)
		return ps_err(ctx, "reading the rules of %s: %s", att->ifname,
			      strerror(e < 0 ? -e : e));
	return PS_OK;
}

/* rates of cur against prev (same rules by id), over secs */
static void view_rates(struct view *cur, const struct view *prev, double secs)
{
	for (size_t i = 0; i < cur->n; i++) {
		struct rule_view *c = &cur->rules[i];

		for (size_t j = 0; j < prev->n; j++) {
			const struct rule_view *p = &prev->rules[j];

			if (p->r.id != c->r.id)
				continue;
			c->bps = 8.0 * ps_rate(c->c.passed_bytes +
					       c->c.queued_bytes,
					       p->c.passed_bytes +
					       p->c.queued_bytes, secs);
			c->pps = ps_rate(c->c.passed_packets +
					 c->c.queued_packets,
					 p->c.passed_packets +
					 p->c.queued_packets, secs);
			c->drop_pps = ps_rate(c->c.dropped_packets,
					      p->c.dropped_packets, secs);
		}
	}
}

/* every selected attachment read twice, sample_ns apart */
static int views_sample(struct ps_ctx *ctx, const char *dev,
			uint64_t sample_ns, struct view **out, size_t *n)
{
	struct ps_poll p = { .interval_ns = sample_ns, .count = 1 };
	struct ps_attachment *atts;
	struct view *prev, *cur;
	bool sampled;
	int e = PS_OK;

	*out = NULL;
	if (ps_attachments_select(ctx, dev, &atts, n))
		return PS_ERR;
	prev = calloc(*n, sizeof(*prev));
	cur = calloc(*n, sizeof(*cur));
	if (!prev || !cur) {
		e = ps_err(ctx, "out of memory");
		goto out;
	}
	ps_poll_start(&p);
	for (size_t i = 0; i < *n && !e; i++)
		e = view_read(ctx, &atts[i], &prev[i]);
	sampled = !e && sample_ns && ps_poll_next(&p);
	for (size_t i = 0; i < *n && !e; i++) {
		e = view_read(ctx, &atts[i], &cur[i]);
		if (!e && sampled)
			view_rates(&cur[i], &prev[i], p.secs);
	}
out:
	free(prev);
	free(atts);
	if (e) {
		free(cur);
		return e;
	}
	*out = cur;
	return PS_OK;
}

static const struct ps_col rule_cols[] = {
	{ "ifname", "INTERFACE", PS_LEFT },
	{ "id", "ID", PS_RIGHT },
	{ "name", NULL, PS_LEFT },
	{ "match", NULL, PS_LEFT },
	{ "limit", NULL, PS_LEFT },
	{ "burst", NULL, PS_RIGHT },
	{ "action", NULL, PS_LEFT },
	{ "prio", NULL, PS_RIGHT },
	{ "passed_packets", "PASS", PS_RIGHT },
	{ "passed_bytes", "PASS_B", PS_RIGHT },
	{ "dropped_packets", "DROP", PS_RIGHT },
	{ "dropped_bytes", "DROP_B", PS_RIGHT },
	{ "queued_packets", "QUEUED", PS_RIGHT },
	{ "queue_drops_packets", "QDROP", PS_RIGHT },
	{ "current_bits_per_second", "RATE", PS_RIGHT },
	{ "current_packets_per_second", "PPS", PS_RIGHT },
};

static const char *fmt_rate_u64(uint64_t v, char *buf, size_t len)
{
	return ps_fmt_rate(v, buf, len);
}

static const char *fmt_size_u64(uint64_t v, char *buf, size_t len)
{
	return ps_fmt_size(v, buf, len);
}

static void rule_row(struct ps_table *t, const struct view *v,
		     const struct rule_view *rv)
{
	char mb[256], lb[64], bb[32];

	ps_table_str(t, v->att.ifname);
	ps_table_u64(t, rv->r.id);
	ps_table_str(t, rv->r.name);
	ps_table_str(t, fmt_match(&rv->r, mb, sizeof(mb)));
	ps_table_str(t, fmt_limit(&rv->r, lb, sizeof(lb)));
	ps_table_str(t, fmt_burst(&rv->r, bb, sizeof(bb)));
	ps_table_str(t, shp_action_choices[rv->r.action]);
	ps_table_u64(t, rv->r.prio);
	ps_table_u64(t, rv->c.passed_packets);
	ps_table_u64_human(t, rv->c.passed_bytes, fmt_size_u64);
	ps_table_u64(t, rv->c.dropped_packets);
	ps_table_u64_human(t, rv->c.dropped_bytes, fmt_size_u64);
	ps_table_u64(t, rv->c.queued_packets);
	ps_table_u64(t, rv->q_drops);
	ps_table_u64_human(t, (uint64_t)rv->bps, fmt_rate_u64);
	ps_table_u64(t, (uint64_t)rv->pps);
	ps_table_end_row(t);
}

int do_rule_list(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct view *v;
	struct ps_table *t;
	size_t n, rows = 0;

	if (views_sample(ctx, ps_arg_str(args, "dev", NULL),
			 ps_arg_u64(args, "interval", SAMPLE_NS), &v, &n))
		return PS_ERR;
	t = ps_table_new(ctx, "rules", rule_cols, ARRAY_SIZE(rule_cols));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i].n; j++, rows++)
			rule_row(t, &v[i], &v[i].rules[j]);
	ps_table_end(t);
	if (!rows)
		ps_out_text(ctx, "(no rules)\n");
	free(v);
	return PS_OK;
}

/* ---- show: rules, then the busiest limited sources ---- */

struct src_row {
	struct shp_src_key k;
	struct shp_src s;
	double bps, pps;
};

static int cmp_src_rate(const void *a, const void *b, void *data)
{
	const struct src_row *x = a, *y = b;

	(void)data;
	if (x->bps != y->bps)
		return x->bps < y->bps ? 1 : -1;
	return x->s.passed_bytes < y->s.passed_bytes ? 1 :
	       x->s.passed_bytes > y->s.passed_bytes ? -1 : 0;
}

static int cmp_src_key(const void *a, const void *b)
{
	return memcmp(&((const struct src_row *)a)->k,
		      &((const struct src_row *)b)->k, sizeof(struct shp_src_key));
}

static int read_sources(struct ps_ctx *ctx, const struct ps_attachment *att,
			int fd, struct src_row **rows, size_t *n)
{
	static const struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct src_row, k, s),
	};
	void *dump;
	int r = ps_map_dump(fd, &spec, &dump, n);

	if (r)
		return ps_err(ctx, "reading the shaping sources of %s: %s",
			      att->ifname, strerror(-r));
	*rows = dump;
	return PS_OK;
}

/* rates of cur against old (sorted by key here), over secs */
static void src_rates(struct src_row *cur, size_t n, struct src_row *old,
		      size_t nold, double secs)
{
	if (nold)
		qsort(old, nold, sizeof(*old), cmp_src_key);
	for (size_t i = 0; i < n; i++) {
		const struct src_row *o = nold ? bsearch(&cur[i], old, nold,
							 sizeof(*old),
							 cmp_src_key) : NULL;

		if (!o)
			continue;
		cur[i].bps = 8.0 * ps_rate(cur[i].s.passed_bytes,
					   o->s.passed_bytes, secs);
		cur[i].pps = ps_rate(cur[i].s.passed_packets,
				     o->s.passed_packets, secs);
	}
}

static const char *rule_name_of(const struct view *v, uint32_t id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->rules[i].r.id == id)
			return v->rules[i].r.name;
	return NULL;
}

static void show_sources(struct ps_ctx *ctx, const struct view *v,
			 struct src_row *rows, size_t n, size_t limit)
{
	static const struct ps_col cols[] = {
		{ "ifname", "INTERFACE", PS_LEFT },
		{ "rule", NULL, PS_LEFT },
		{ "source", NULL, PS_LEFT },
		{ "passed_packets", "PASSED", PS_RIGHT },
		{ "passed_bytes", "BYTES", PS_RIGHT },
		{ "fair_class", "CLASS", PS_RIGHT },
		{ "current_bits_per_second", "RATE", PS_RIGHT },
		{ "current_packets_per_second", "PPS", PS_RIGHT },
	};
	struct ps_table *t = ps_table_new(ctx, "sources", cols,
					  ARRAY_SIZE(cols));
	size_t kept = 0;

	/* a deleted rule's sources are ageing out: not shown */
	for (size_t i = 0; i < n; i++)
		if (rule_name_of(v, rows[i].k.rule_id))
			rows[kept++] = rows[i];
	n = ps_top_rows(rows, kept, sizeof(*rows), cmp_src_rate, NULL, limit);
	for (size_t i = 0; i < n; i++) {
		const char *rn = rule_name_of(v, rows[i].k.rule_id);
		char a[INET6_ADDRSTRLEN], cls[16] = "-";

		inet_ntop(rows[i].k.family == 2 ? AF_INET : AF_INET6,
			  rows[i].k.addr, a, sizeof(a));
		for (size_t j = 0; j < v->n; j++)
			if (v->rules[j].r.id == rows[i].k.rule_id &&
			    (v->rules[j].r.flags & SHP_F_FAIR))
				snprintf(cls, sizeof(cls), "%u",
					 rows[i].s.fair_class);
		ps_table_str(t, v->att.ifname);
		ps_table_str(t, rn);
		ps_table_str(t, a);
		ps_table_u64(t, rows[i].s.passed_packets);
		ps_table_u64_human(t, rows[i].s.passed_bytes, fmt_size_u64);
		ps_table_str(t, cls);
		ps_table_u64_human(t, (uint64_t)rows[i].bps, fmt_rate_u64);
		ps_table_u64(t, (uint64_t)rows[i].pps);
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

static int show_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		    uint64_t sample_ns, size_t limit)
{
	struct src_row *a = NULL, *b = NULL;
	struct view *v0 = calloc(1, sizeof(*v0)), *v1 = calloc(1, sizeof(*v1));
	struct ps_poll p = { .interval_ns = sample_ns, .count = 1 };
	size_t na = 0, nb = 0;
	int fd = -1, e = PS_ERR;

	if (!v0 || !v1) {
		ps_err(ctx, "out of memory");
		goto out;
	}
	fd = ps_map_open(ctx, att, PS_MAP_NAME(SHP_MAP_SOURCES));
	if (fd < 0)
		goto out;
	ps_poll_start(&p);
	if (view_read(ctx, att, v0) || read_sources(ctx, att, fd, &a, &na))
		goto out;
	ps_poll_next(&p);
	if (view_read(ctx, att, v1) || read_sources(ctx, att, fd, &b, &nb))
		goto out;
	view_rates(v1, v0, p.secs);
	src_rates(b, nb, a, na, p.secs);

	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Interface", att->ifname);
	ps_out_str(ctx, "ifb", "IFB device", v1->cfg.ifb_ifindex ?
		   v1->cfg.ifb_name : "-");
	ps_out_u64(ctx, "unmatched_packets", "Unmatched packets",
		   v1->unmatched.passed_packets);
	ps_out_u64(ctx, "unmatched_bytes", "Unmatched bytes",
		   v1->unmatched.passed_bytes);
	struct ps_table *t = ps_table_new(ctx, "rules", rule_cols,
					  ARRAY_SIZE(rule_cols));
	for (size_t j = 0; j < v1->n; j++)
		rule_row(t, v1, &v1->rules[j]);
	ps_table_end(t);
	show_sources(ctx, v1, b, nb, limit);
	ps_out_item_end(ctx);
	e = PS_OK;
out:
	if (fd >= 0)
		close(fd);
	free(a);
	free(b);
	free(v0);
	free(v1);
	return e;
}

int do_show(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_attachment *atts;
	size_t n;
	int e = PS_OK;

	if (ps_attachments_select(ctx, ps_arg_str(args, "dev", NULL), &atts,
				  &n))
		return PS_ERR;
	ps_out_list(ctx, "interfaces", NULL);
	for (size_t i = 0; i < n && !e; i++)
		e = show_one(ctx, &atts[i], ps_arg_u64(args, "interval",
						       SAMPLE_NS),
			     ps_arg_u64(args, "limit", 10));
	ps_out_list_end(ctx);
	free(atts);
	return e;
}

/* ---- watch: rates per rule over time ---- */

static void watch_record(struct ps_ctx *ctx, const char *hms, const char *ts,
			 const struct view *v, const struct rule_view *rv,
			 double secs, const struct rule_view *old)
{
	double dpps = rv->drop_pps;
	double dbps = old ? 8.0 * ps_rate(rv->c.dropped_bytes,
					  old->c.dropped_bytes, secs) : 0;
	char a[32], b[32], c[32], d[32];

	ps_record_begin(ctx);
	if (!ps_json(ctx)) {
		ps_record_text(ctx, "%-8s  %-12s %4u %-16s %10s %10s %10s %10s",
			       hms, v->att.ifname, rv->r.id, rv->r.name,
			       ps_fmt_rate((uint64_t)rv->bps, a, sizeof(a)),
			       ps_fmt_count(rv->pps, b, sizeof(b)),
			       ps_fmt_rate((uint64_t)dbps, c, sizeof(c)),
			       ps_fmt_count(dpps, d, sizeof(d)));
		ps_record_end(ctx);
		return;
	}
	ps_out_str(ctx, "time", NULL, ts);
	ps_out_str(ctx, "ifname", NULL, v->att.ifname);
	ps_out_u64(ctx, "id", NULL, rv->r.id);
	ps_out_str(ctx, "name", NULL, rv->r.name);
	ps_out_u64(ctx, "passed_bits_per_second", NULL, (uint64_t)rv->bps);
	ps_out_u64(ctx, "passed_packets_per_second", NULL, (uint64_t)rv->pps);
	ps_out_u64(ctx, "dropped_bits_per_second", NULL, (uint64_t)dbps);
	ps_out_u64(ctx, "dropped_packets_per_second", NULL, (uint64_t)dpps);
	ps_record_end(ctx);
}

static const struct rule_view *find_old(const struct view *v, uint32_t id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->rules[i].r.id == id)
			return &v->rules[i];
	return NULL;
}

int do_watch(struct ps_ctx *ctx, const struct ps_args *args)
{
	struct ps_poll p = {
		.interval_ns = ps_arg_u64(args, "interval", 1000000000ULL),
		.count = ps_arg_u64(args, "count", 0),
	};
	struct ps_attachment *atts;
	struct view *prev, *cur;
	size_t n;
	int e = PS_OK;

	if (ps_attachments_select(ctx, ps_arg_str(args, "dev", NULL), &atts,
				  &n))
		return PS_ERR;
	prev = calloc(n, sizeof(*prev));
	cur = calloc(n, sizeof(*cur));
	if (!prev || !cur) {
		e = ps_err(ctx, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !e; i++)
		e = view_read(ctx, &atts[i], &prev[i]);
	ps_poll_start(&p);
	while (!e && ps_poll_next(&p)) {
		time_t now = (time_t)(p.wall_ns / 1000000000ULL);
		char hms[16], ts[40];

		strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
		ps_fmt_time(p.wall_ns, 3, ts, sizeof(ts));
		if (!ps_json(ctx) && (p.round - 1) % 20 == 0)
			ps_out_text(ctx, "%-8s  %-12s %4s %-16s %10s %10s %10s %10s\n",
				    "TIME", "INTERFACE", "ID", "NAME",
				    "PASSED", "PPS", "DROPPED", "DROP PPS");
		for (size_t i = 0; i < n && !e; i++) {
			e = view_read(ctx, &atts[i], &cur[i]);
			if (e)
				break;
			view_rates(&cur[i], &prev[i], p.secs);
			for (size_t j = 0; j < cur[i].n; j++)
				watch_record(ctx, hms, ts, &cur[i],
					     &cur[i].rules[j], p.secs,
					     find_old(&prev[i],
						      cur[i].rules[j].r.id));
			prev[i] = cur[i];
		}
	}
out:
	free(prev);
	free(cur);
	free(atts);
	return e;
}

int shp_metrics(struct ps_ctx *ctx, const struct ps_attachment *att)
{
	static const char *const verdicts[] = { "passed", "dropped", "queued" };
	struct view *v = calloc(1, sizeof(*v));
	int e;

	if (!v)
		return PS_ERR;
	e = view_read(ctx, att, v);
	for (size_t i = 0; !e && i < v->n; i++) {
		const struct rule_view *rv = &v->rules[i];
		char id[16];
		const uint64_t *c = (const uint64_t *)&rv->c;

		snprintf(id, sizeof(id), "%u", rv->r.id);
		for (size_t k = 0; k < ARRAY_SIZE(verdicts); k++) {
			struct ps_label l[] = {
				{ "rule", rv->r.name }, { "id", id },
				{ "verdict", verdicts[k] },
			};

			ps_metric(ctx, "shaping_rule_packets_total",
				  PS_METRIC_COUNTER,
				  "Packets a shaping rule matched, by what it did with them",
				  (double)c[2 * k], l, ARRAY_SIZE(l));
			ps_metric(ctx, "shaping_rule_bytes_total",
				  PS_METRIC_COUNTER,
				  "Bytes a shaping rule matched, by what it did with them",
				  (double)c[2 * k + 1], l, ARRAY_SIZE(l));
		}
		if (rv->q_ok) {
			struct ps_label l[] = { { "rule", rv->r.name },
						{ "id", id } };

			ps_metric(ctx, "shaping_queue_drops_total",
				  PS_METRIC_COUNTER,
				  "Packets the HTB queues of a shaped rule dropped",
				  (double)rv->q_drops, l, ARRAY_SIZE(l));
			ps_metric(ctx, "shaping_queue_backlog_bytes",
				  PS_METRIC_GAUGE,
				  "Bytes waiting in the HTB queues of a shaped rule",
				  (double)rv->q_backlog, l, ARRAY_SIZE(l));
		}
	}
	free(v);
	return e;
}
