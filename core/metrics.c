// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Metrics: every attachment's samples, from its plugin's metrics callback
 * (through ps_metric()) and from the core (verdict counters, program run
 * counts, attachment info), gathered into one set.  `pktscope metrics`
 * prints the set; `pktscope serve` writes it in the Prometheus text format
 * (serve.c).  The exporter knows no plugin: a plugin added later is
 * exported by the same loop.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <pktscope/bpf/hook.h>

#include "config.h"
#include "internal.h"
#include "registry.h"
#include "metrics.h"

/* core labels, in this order, before the plugin's own */
static const char *const core_labels[] = { "ifname", "plugin", "mode" };

static size_t str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int pool_grow(struct ps_strpool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 1024;
	char **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		size_t h;

		if (!p->slot[i])
			continue;
		for (h = str_hash(p->slot[i]) & (cap - 1); slot[h];
		     h = (h + 1) & (cap - 1))
			;
		slot[h] = p->slot[i];
	}
	free(p->slot);
	p->slot = slot;
	p->cap = cap;
	return 0;
}

/* the pool's copy of s (NULL: ""), NULL when out of memory */
static const char *pool_str(struct ps_strpool *p, const char *s)
{
	size_t h;

	if (!s)
		s = "";
	if (2 * (p->n + 1) > p->cap && pool_grow(p))
		return NULL;
	for (h = str_hash(s) & (p->cap - 1); p->slot[h];
	     h = (h + 1) & (p->cap - 1))
		if (!strcmp(p->slot[h], s))
			return p->slot[h];
	p->slot[h] = strdup(s);
	if (p->slot[h])
		p->n++;
	return p->slot[h];
}

void ps_metrics_free(struct ps_mset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->pool.cap; i++)
		free(set->pool.slot[i]);
	free(set->pool.slot);
	free(set->v);
	free(set->atts);
	memset(set, 0, sizeof(*set));
}

/* Prometheus: [a-zA-Z_][a-zA-Z0-9_]*; colons are for recording rules. */
static bool valid_name(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Why a plugin's sample is refused, or NULL. */
static const char *check_sample(const char *name, enum ps_metric_type type,
				const struct ps_label *labels, size_t nlabels)
{
	if (!valid_name(name) || strlen(name) > PS_METRIC_NAME_MAX)
		return "not a valid metric name";
	if (type != PS_METRIC_COUNTER && type != PS_METRIC_GAUGE)
		return "unknown metric type";
	/* FastNetMon's gauge named ..._total is the mistake to avoid */
	if (type == PS_METRIC_COUNTER && !ends_with(name, "_total"))
		return "a counter's name must end in _total";
	if (type == PS_METRIC_GAUGE && ends_with(name, "_total"))
		return "only a counter's name may end in _total";
	if (nlabels > PS_METRIC_LABELS_MAX - ARRAY_SIZE(core_labels))
		return "too many labels";
	for (size_t i = 0; i < nlabels; i++) {
		if (!valid_name(labels[i].name) || !labels[i].value ||
		    !strncmp(labels[i].name, "__", 2))
			return "not a valid label";
		for (size_t k = 0; k < ARRAY_SIZE(core_labels); k++)
			if (!strcmp(labels[i].name, core_labels[k]))
				return "a label the core sets";
		if (strlen(labels[i].value) > PS_METRIC_VALUE_MAX)
			return "a label value too long";
	}
	return NULL;
}

static int set_grow(struct ps_mset *set)
{
	if (set->n < set->cap)
		return 0;
	size_t cap = set->cap ? set->cap * 2 : 256;
	struct ps_msample *v = realloc(set->v, cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	set->v = v;
	set->cap = cap;
	return 0;
}

/* Add a sample; att NULL: a process-wide one (build info). */
static int add_sample(struct ps_mset *set, const struct ps_attachment *att,
		      const char *name, enum ps_metric_type type,
		      const char *help, double value,
		      const struct ps_label *labels, size_t nlabels)
{
	struct ps_msample *s;

	if (set_grow(set))
		return -ENOMEM;
	s = &set->v[set->n];
	memset(s, 0, sizeof(*s));
	s->name = pool_str(&set->pool, name);
	s->help = pool_str(&set->pool, help);
	s->type = type;
	s->value = value;
	s->att = att ? (int)set->natts - 1 : -1;
	s->seq = set->n;
	if (att) {
		const char *cv[] = { att->ifname, att->plugin,
				     ps_mode_name(att->mode) };

		for (size_t i = 0; i < ARRAY_SIZE(cv); i++) {
			s->labels[s->nlabels].name = core_labels[i];
			s->labels[s->nlabels++].value =
				pool_str(&set->pool, cv[i]);
		}
		s->own = s->nlabels;
	}
	for (size_t i = 0; i < nlabels; i++) {
		s->labels[s->nlabels].name = pool_str(&set->pool,
						      labels[i].name);
		s->labels[s->nlabels++].value = pool_str(&set->pool,
							 labels[i].value);
	}
	set->n++;
	for (size_t i = 0; i < s->nlabels; i++)
		if (!s->labels[i].name || !s->labels[i].value)
			return -ENOMEM;
	return s->name && s->help ? 0 : -ENOMEM;
}

/* what the sink needs while one plugin's callback runs */
struct sink_state {
	struct ps_mset *set;
	const struct ps_attachment *att;
	size_t count;
	int err;
};

static void plugin_sink(struct ps_ctx *ctx, void *data, const char *name,
			enum ps_metric_type type, const char *help,
			double value, const struct ps_label *labels,
			size_t nlabels)
{
	struct sink_state *st = data;
	const char *why = check_sample(name, type, labels, nlabels);

	if (!why && st->count >= PS_METRIC_PER_ATTACHMENT_MAX)
		why = "too many samples from one attachment";
	if (why) {
		st->set->rejected++;
		if (st->set->warn)
			ps_warn(ctx, "%s on %s: metric '%s' left out: %s",
				st->att->plugin, st->att->ifname,
				name ? name : "(null)", why);
		return;
	}
	st->count++;
	if (!st->err)
		st->err = add_sample(st->set, st->att, name, type, help, value,
				     labels, nlabels);
}

static const struct ps_plugin *plugin_of(struct ps_ctx *ctx,
					 const struct ps_attachment *att)
{
	struct ps_object *obj = ps_find_object(ctx, att->plugin);

	return obj ? obj->plugin : NULL;
}

/* ps_verdicts of the hook contract: every plugin built with PS_HOOK has it */
static int core_verdicts(struct ps_ctx *ctx, struct ps_mset *set,
			 const struct ps_attachment *att)
{
	static const char *const names[PS_VERDICT_MAX] = {
		[PS_PASS] = "pass", [PS_DROP] = "drop",
		[PS_REDIRECT] = "redirect",
	};
	char path[600];
	int fd, r = 0;

	(void)ctx;
	snprintf(path, sizeof(path), "%s/%s", att->pin_dir, PS_VERDICTS_MAP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;	/* an object without the hook contract */
	for (uint32_t v = 0; v < PS_VERDICT_MAX && !r; v++) {
		uint64_t sum[2];
		struct ps_label l = { "verdict", names[v] };

		if (ps_percpu_sum(fd, &v, sum, 2))
			break;
		r = add_sample(set, att, "verdict_packets_total",
			       PS_METRIC_COUNTER,
			       "Packets by the verdict of the attachment's program.",
			       (double)sum[0], &l, 1);
		if (!r)
			r = add_sample(set, att, "verdict_bytes_total",
				       PS_METRIC_COUNTER,
				       "Bytes (frames as seen at the hook) by verdict.",
				       (double)sum[1], &l, 1);
	}
	close(fd);
	return r;
}

static bool bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == '1';
}

/* attachment info, and the kernel's run counts when it keeps them */
static int core_info(struct ps_mset *set, const struct ps_attachment *att)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	char id[16], path[600];
	int fd, r;

	snprintf(id, sizeof(id), "%u", att->prog_id);
	struct ps_label l[] = { { "prog_id", id } };

	r = add_sample(set, att, "attachment_info", PS_METRIC_GAUGE,
		       "One per attachment of a plugin to an interface (value 1).",
		       1, l, 1);
	if (!r)
		r = add_sample(set, att, "attachment_start_time_seconds",
			       PS_METRIC_GAUGE,
			       "When the attachment was made, seconds since the epoch.",
			       (double)att->since, NULL, 0);
	if (r || !set->bpf_stats)
		return r;
	snprintf(path, sizeof(path), "%s/ps_prog", att->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		r = add_sample(set, att, "program_runs_total", PS_METRIC_COUNTER,
			       "Runs of the attachment's program (kernel.bpf_stats_enabled).",
			       (double)info.run_cnt, NULL, 0);
		if (!r)
			r = add_sample(set, att, "program_run_seconds_total",
				       PS_METRIC_COUNTER,
				       "Time spent in the attachment's program (kernel.bpf_stats_enabled).",
				       (double)info.run_time_ns / 1e9, NULL, 0);
	}
	close(fd);
	return r;
}

struct collect_state {
	struct ps_mset *set;
	const char *dev;
};

static int collect_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		       void *data)
{
	struct collect_state *cs = data;
	struct ps_mset *set = cs->set;
	const struct ps_plugin *p;
	struct ps_attachment *v;
	int r;

	if (!att->since)
		return 0;	/* half-made by a killed attach */
	if (cs->dev && strcmp(cs->dev, att->ifname))
		return 0;
	v = realloc(set->atts, (set->natts + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	set->atts = v;
	set->atts[set->natts++] = *att;
	att = &set->atts[set->natts - 1];

	r = core_info(set, att);
	if (!r)
		r = core_verdicts(ctx, set, att);
	p = plugin_of(ctx, att);
	if (r || !p || !p->metrics)
		return r;

	struct sink_state st = { .set = set, .att = att };
	const struct ps_plugin *saved = ctx->plugin;

	ctx->metric_sink = plugin_sink;
	ctx->metric_data = &st;
	ctx->plugin = p;
	/* a failing callback has reported; its samples so far still count */
	if (p->metrics(ctx, att))
		set->failed++;
	ctx->plugin = saved;
	ctx->metric_sink = NULL;
	ctx->metric_data = NULL;
	return st.err;
}

int ps_metrics_collect(struct ps_ctx *ctx, const char *dev,
		       struct ps_mset *set)
{
	struct collect_state cs = { .set = set, .dev = dev };
	int r;

	set->bpf_stats = bpf_stats_enabled();
	r = ps_attachment_foreach(ctx, NULL, collect_one, &cs);
	if (r)
		return ps_err(ctx, "collecting metrics: %s", strerror(-r));
	return PS_OK;
}

int ps_metrics_add_build_info(struct ps_mset *set)
{
	struct ps_label l[] = {
		{ "version", PACKAGE_VERSION },
		{ "abi", PS_STR(PKTSCOPE_ABI_VERSION) },
	};

	return add_sample(set, NULL, "build_info", PS_METRIC_GAUGE,
			  "pktscope's version and plugin ABI (value 1).", 1, l,
			  ARRAY_SIZE(l));
}

int ps_metrics_add_process(struct ps_mset *set, const char *name,
			   enum ps_metric_type type, const char *help,
			   double value)
{
	return add_sample(set, NULL, name, type, help, value, NULL, 0);
}

/* ---- families: samples of one name together, first type and help win ---- */

/* names are the pool's: one name, one pointer */
static int cmp_samples(const struct ps_msample *x, const struct ps_msample *y)
{
	if (x->name != y->name)
		return strcmp(x->name, y->name);
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_name(const void *a, const void *b)
{
	return cmp_samples(*(const struct ps_msample *const *)a,
			   *(const struct ps_msample *const *)b);
}

static int by_name_in_place(const void *a, const void *b)
{
	return cmp_samples(a, b);
}

/* samples are large: their addresses are sorted, then each moved once */
void ps_metrics_sort(struct ps_mset *set)
{
	struct ps_msample **order = calloc(set->n ? set->n : 1, sizeof(*order));
	struct ps_msample *v = calloc(set->cap ? set->cap : 1, sizeof(*v));

	if (order && v && set->n) {
		for (size_t i = 0; i < set->n; i++)
			order[i] = &set->v[i];
		qsort(order, set->n, sizeof(*order), by_name);
		for (size_t i = 0; i < set->n; i++)
			v[i] = *order[i];
		free(set->v);
		set->v = v;
		v = NULL;
	} else if (set->n) {
		/* no memory for the copy: the samples themselves, slower */
		qsort(set->v, set->n, sizeof(set->v[0]), by_name_in_place);
	}
	free(v);
	free(order);
	/* a name another plugin already uses with another type is left out */
	for (size_t i = 1; i < set->n; i++)
		set->v[i].clash = set->v[i].name == set->v[i - 1].name &&
				  (set->v[i].type != set->v[i - 1].type ||
				   set->v[i - 1].clash);
}

/* ---- the Prometheus text format, version 0.0.4 ---- */

/* an integer's digits, backwards from the end of buf */
static char *u64_digits(uint64_t v, char *end)
{
	*--end = '\0';
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Integers exactly, other values so that they read back the same. */
const char *ps_metric_value_str(double v, char *buf, size_t len)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == floor(v) && fabs(v) < 1e15) {
		/* counters are integers: digits without printf */
		if (len >= 24) {
			char *p = u64_digits((uint64_t)fabs(v), buf + len);

			if (v < 0)
				*--p = '-';
			return p;
		}
		snprintf(buf, len, "%.0f", v);
		return buf;
	}
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
	return buf;
}

/*
 * The exposition is built in memory and written once: ~10k samples with
 * stdio's per-call locking and printf parsing cost more than reading the
 * maps did.
 */
struct obuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void ob_put(struct obuf *b, const char *s, size_t len)
{
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->n + len)
			cap *= 2;
		p = b->oom ? NULL : realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

static void ob_str(struct obuf *b, const char *s)
{
	ob_put(b, s, strlen(s));
}

/* HELP escapes \ and newline; label values also " */
static void ob_escaped(struct obuf *b, const char *s, bool quote)
{
	const char *special = quote ? "\\\n\"" : "\\\n";

	for (;;) {
		size_t plain = strcspn(s, special);

		ob_put(b, s, plain);
		s += plain;
		if (!*s)
			return;
		ob_str(b, *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : "\\\"");
		s++;
	}
}

int ps_metrics_expose(const struct ps_mset *set, FILE *f)
{
	struct obuf b = { 0 };
	char num[64];
	int r = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct ps_msample *s = &set->v[i];

		if (s->clash)
			continue;
		if (!i || s->name != set->v[i - 1].name) {
			ob_str(&b, "# HELP pktscope_");
			ob_str(&b, s->name);
			ob_put(&b, " ", 1);
			ob_escaped(&b, s->help, false);
			ob_str(&b, "\n# TYPE pktscope_");
			ob_str(&b, s->name);
			ob_str(&b, s->type == PS_METRIC_COUNTER ? " counter\n" :
								  " gauge\n");
		}
		ob_str(&b, "pktscope_");
		ob_str(&b, s->name);
		for (size_t k = 0; k < s->nlabels; k++) {
			ob_put(&b, k ? "," : "{", 1);
			ob_str(&b, s->labels[k].name);
			ob_put(&b, "=\"", 2);
			ob_escaped(&b, s->labels[k].value, true);
			ob_put(&b, "\"", 1);
		}
		ob_str(&b, s->nlabels ? "} " : " ");
		ob_str(&b, ps_metric_value_str(s->value, num, sizeof(num)));
		ob_put(&b, "\n", 1);
	}
	if (b.oom)
		r = -ENOMEM;
	else if (b.n && fwrite(b.p, 1, b.n, f) != b.n)
		r = -EIO;
	free(b.p);
	if (!r && ferror(f))
		r = -EIO;
	return r;
}

/* ---- `pktscope metrics` ---- */

static int term_columns(struct ps_ctx *ctx)
{
	struct winsize ws;

	if (ioctl(fileno(ctx->w.f), TIOCGWINSZ, &ws) || !ws.ws_col)
		return 0;	/* not a terminal: no limit */
	return ws.ws_col;
}

static void own_labels(const struct ps_msample *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t k = s->own; k < s->nlabels && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%s",
					k > s->own ? "," : "",
					s->labels[k].name, s->labels[k].value);
}

/* Cut s to width columns (UTF-8 aware), ending in "..." when cut. */
static void cut(char *s, int width)
{
	int cols = 0;
	char *keep = NULL;

	if (width < 8)
		width = 8;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (++cols == width - 2)
			keep = p;	/* where "..." goes if it must */
	}
	if (cols > width && keep)
		strcpy(keep, "...");
}

static void text_attachment(struct ps_ctx *ctx, const struct ps_mset *set,
			    int att, int columns)
{
	static const struct ps_col cols[] = {
		{ "metric", NULL, PS_LEFT },
		{ "labels", NULL, PS_LEFT },
		{ "value", NULL, PS_RIGHT },
	};
	int wname = 6, wlabels = 6, wvalue = 5;
	const char *prefix = "pktscope_";
	char num[64], buf[1024];

	for (size_t i = 0; i < set->n; i++) {
		const struct ps_msample *s = &set->v[i];
		int w;

		if (s->att != att)
			continue;
		if ((int)strlen(s->name) > wname)
			wname = (int)strlen(s->name);
		own_labels(s, buf, sizeof(buf));
		if ((int)strlen(buf) > wlabels)
			wlabels = (int)strlen(buf);
		w = (int)strlen(ps_metric_value_str(s->value, num, sizeof(num)));
		if (w > wvalue)
			wvalue = w;
	}
	/* a narrow terminal: names without the prefix, then cut labels */
	if (columns && wname + 9 + wlabels + wvalue + 4 > columns)
		prefix = "";
	else
		wname += 9;
	struct ps_table *t = ps_table_new(ctx, "metrics", cols,
					  ARRAY_SIZE(cols));

	for (size_t i = 0; i < set->n; i++) {
		const struct ps_msample *s = &set->v[i];

		if (s->att != att)
			continue;
		snprintf(buf, sizeof(buf), "%s%s", prefix, s->name);
		ps_table_str(t, buf);
		own_labels(s, buf, sizeof(buf));
		if (columns)
			cut(buf, columns - wname - wvalue - 4);
		ps_table_str(t, buf);
		ps_table_str(t, ps_metric_value_str(s->value, num, sizeof(num)));
		ps_table_end_row(t);
	}
	ps_table_end(t);
}

/* text: one table per attachment, in the order the samples came */
static void print_text(struct ps_ctx *ctx, const struct ps_mset *set)
{
	int columns = term_columns(ctx);

	for (size_t a = 0; a < set->natts; a++) {
		const struct ps_attachment *att = &set->atts[a];

		ps_out_text(ctx, "%s%s  %s  mode %s%s\n", a ? "\n" : "",
			    att->ifname, att->plugin, ps_mode_name(att->mode),
			    att->ifindex ? "" : "  (interface gone)");
		text_attachment(ctx, set, (int)a, columns);
	}
}

static void json_value(struct ps_ctx *ctx, double v)
{
	if (v == floor(v) && v >= 0 && v < 1.8e19)
		ps_out_u64(ctx, "value", NULL, (uint64_t)v);
	else
		ps_out_f64(ctx, "value", NULL, v);
}

/* JSON: families as in Prometheus, full names, every label */
static void print_json(struct ps_ctx *ctx, struct ps_mset *set)
{
	ps_metrics_sort(set);
	ps_out_list(ctx, "metrics", NULL);
	for (size_t i = 0; i < set->n; i++) {
		const struct ps_msample *s = &set->v[i];
		char name[PS_METRIC_NAME_MAX + 16];

		if (s->clash)
			continue;
		if (!i || strcmp(s->name, set->v[i - 1].name)) {
			if (i) {
				ps_out_list_end(ctx);
				ps_out_item_end(ctx);
			}
			snprintf(name, sizeof(name), "pktscope_%s", s->name);
			ps_out_item(ctx, NULL);
			ps_out_str(ctx, "name", NULL, name);
			ps_out_str(ctx, "type", NULL,
				   s->type == PS_METRIC_COUNTER ? "counter" :
								  "gauge");
			ps_out_str(ctx, "help", NULL, s->help);
			ps_out_list(ctx, "samples", NULL);
		}
		ps_out_item(ctx, NULL);
		ps_out_section(ctx, "labels", NULL);
		for (size_t k = 0; k < s->nlabels; k++)
			ps_out_str(ctx, s->labels[k].name, NULL,
				   s->labels[k].value);
		ps_out_section_end(ctx);
		json_value(ctx, s->value);
		ps_out_item_end(ctx);
	}
	if (set->n) {
		ps_out_list_end(ctx);
		ps_out_item_end(ctx);
	}
	ps_out_list_end(ctx);
}

static int do_metrics(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *dev = ps_arg_str(args, "dev", NULL);
	struct ps_mset set = { .warn = true };
	int r;

	ctx->metric_top = (size_t)ps_arg_u64(args, "top", PS_METRIC_TOP_DEFAULT);
	r = ps_metrics_collect(ctx, dev, &set);
	if (!r && !set.natts)
		r = dev ? ps_err(ctx, "nothing is attached to %s", dev) :
			  ps_err(ctx, "nothing is attached (see '%s status')",
				 ctx->progname);
	if (!r) {
		if (ps_json(ctx))
			print_json(ctx, &set);
		else
			print_text(ctx, &set);
	}
	if (!r && set.failed)
		r = PS_ERR;	/* the plugin said why */
	ps_metrics_free(&set);
	return r;
}

size_t ps_metric_top_n(const struct ps_ctx *ctx)
{
	return ctx->metric_top ? ctx->metric_top : PS_METRIC_TOP_DEFAULT;
}

static const struct ps_arg_spec metrics_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL,
	  "only this interface's attachments" },
	{ "top", PS_KIND_COUNT, 0, "N",
	  "per-source series a plugin may give (default 20)", NULL, 1, 1000 },
	{ 0 }
};

const struct ps_cmd ps_metrics_cmd = {
	"metrics", "every attachment's metrics, from its plugin and the core",
	metrics_args, do_metrics, NULL, PS_CMD_BPF,
};
