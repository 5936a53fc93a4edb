// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one output writer: every command writes each field once and it comes
 * out as indented text, as one JSON document per command (-j, -p), or as
 * JSON Lines for streams.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "internal.h"

#define LABEL_WIDTH 22

void ps_out_init(struct ps_ctx *ctx, FILE *f)
{
	memset(&ctx->w, 0, sizeof(ctx->w));
	ctx->w.f = f;
}

/* ---- JSON primitives ---- */

static void j_newline(struct ps_writer *w)
{
	if (w->compact || !w->f)
		return;
	fputc_unlocked('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs_unlocked("    ", w->f);
}

static bool pretty(const struct ps_ctx *ctx)
{
	return ctx->pretty && !ctx->w.compact;
}

/*
 * Flush the writer's stream.  A reader that went away (`| head`) ends the
 * command the way Ctrl-C does, so a stream stops cleanly and releases what
 * it holds: SIGPIPE is ignored, EPIPE is the sign.
 */
void ps_out_flush(struct ps_ctx *ctx)
{
	if (fflush(ctx->w.f) && errno == EPIPE)
		ps_stop_request();
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned int cp, min;

	if (*p < 0xc2 || *p > 0xf4)
		return 0;
	n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
	min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
	cp = *p & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON is UTF-8: a byte that is not part of a valid sequence becomes U+FFFD */
static void j_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;

	fputc_unlocked('"', f);
	while (p && *p) {
		/* plain characters go out in one write: streams are hot */
		for (run = p; *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\';
		     p++)
			;
		if (p > run)
			fwrite_unlocked(run, 1, (size_t)(p - run), f);
		if (!*p)
			break;
		if (*p >= 0x80) {
			size_t n = utf8_len(p);

			if (n)
				fwrite_unlocked(p, 1, n, f);
			else
				fputs_unlocked("\\ufffd", f);
			p += n ? n : 1;
			continue;
		}
		switch (*p) {
		case '"': fputs_unlocked("\\\"", f); break;
		case '\\': fputs_unlocked("\\\\", f); break;
		case '\n': fputs_unlocked("\\n", f); break;
		case '\r': fputs_unlocked("\\r", f); break;
		case '\t': fputs_unlocked("\\t", f); break;
		default: fprintf(f, "\\u%04x", *p);
		}
		p++;
	}
	fputc_unlocked('"', f);
}

/* separator and key before a value at the current depth */
static void j_key(struct ps_ctx *ctx, const char *key)
{
	struct ps_writer *w = &ctx->w;

	if (!w->first[w->depth])
		fputc_unlocked(',', w->f);
	w->first[w->depth] = false;
	if (pretty(ctx))
		j_newline(w);
	if (key) {
		j_string(w->f, key);
		fputs_unlocked(pretty(ctx) ? ": " : ":", w->f);
	}
}

static void j_open(struct ps_ctx *ctx, const char *key, char c)
{
	struct ps_writer *w = &ctx->w;

	j_key(ctx, key);
	fputc_unlocked(c, w->f);
	if (w->depth < PS_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void j_close(struct ps_ctx *ctx, char c)
{
	struct ps_writer *w = &ctx->w;
	bool empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (pretty(ctx) && !empty)
		j_newline(w);
	fputc_unlocked(c, w->f);
}

/* In JSON mode every field lands inside the command's one document. */
static void doc_open(struct ps_ctx *ctx)
{
	struct ps_writer *w = &ctx->w;

	if (w->doc_open || w->in_record)
		return;
	if (w->batch_array) {
		if (!w->batch_first)
			fputc_unlocked(',', w->f);
		w->batch_first = false;
		if (ctx->pretty)
			fputc_unlocked('\n', w->f);
	}
	w->depth = 0;
	w->first[0] = true;
	fputc_unlocked('{', w->f);
	w->first[0] = true;
	w->depth = 1;
	w->first[1] = true;
	w->doc_open = true;
}

void ps_out_doc_end(struct ps_ctx *ctx)
{
	struct ps_writer *w = &ctx->w;

	ps_out_to(ctx, NULL, false);	/* a command that forgot to restore */

	if (ctx->json && !w->doc_open && !w->stream) {
		/* a command that printed nothing still prints a document */
		doc_open(ctx);
	}
	if (w->doc_open) {
		w->depth = 1;
		j_close(ctx, '}');
		if (!w->batch_array)
			fputc_unlocked('\n', w->f);
	}
	w->doc_open = false;
	w->stream = false;
	w->in_record = false;
	w->compact = false;
	w->depth = 0;
	w->indent = 0;
	w->tdepth = 0;
	ps_out_flush(ctx);
}

void ps_out_batch_begin(struct ps_ctx *ctx)
{
	if (!ctx->json)
		return;
	ctx->w.batch_array = true;
	ctx->w.batch_first = true;
	fputc_unlocked('[', ctx->w.f);
}

void ps_out_batch_end(struct ps_ctx *ctx)
{
	if (!ctx->w.batch_array)
		return;
	ctx->w.batch_array = false;
	fputs_unlocked(ctx->pretty ? "\n]\n" : "]\n", ctx->w.f);
	ps_out_flush(ctx);
}

void ps_out_error_json(struct ps_ctx *ctx, const char *msg)
{
	struct ps_writer *w = &ctx->w;

	if (w->redirected)
		ps_out_to(ctx, NULL, false);

	if (!ctx->json)
		return;
	if (w->stream && !w->doc_open) {
		/* streams end with an error record */
		fputs_unlocked("{\"error\":", w->f);
		j_string(w->f, msg);
		fputs_unlocked("}\n", w->f);
		fflush(w->f);
		return;
	}
	if (w->in_record) {
		ps_record_end(ctx);
		ps_out_error_json(ctx, msg);
		return;
	}
	doc_open(ctx);
	w->depth = 1;
	j_key(ctx, "error");
	j_string(w->f, msg);
}

/* ---- text primitives ---- */

static void t_push(struct ps_ctx *ctx, bool indented)
{
	struct ps_writer *w = &ctx->w;

	if (w->tdepth < (int)sizeof(w->tstack))
		w->tstack[w->tdepth++] = indented;
	if (indented)
		w->indent += 2;
}

static void t_pop(struct ps_ctx *ctx)
{
	struct ps_writer *w = &ctx->w;

	if (w->tdepth > 0 && w->tstack[--w->tdepth] && w->indent >= 2)
		w->indent -= 2;
}

static void t_indent(struct ps_ctx *ctx)
{
	fprintf(ctx->w.f, "%*s", ctx->w.indent, "");
}

static void rec_append(struct ps_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (w->line_len + n + 1 > w->line_cap) {
		size_t cap = (w->line_cap + n + 1) * 2;
		char *p = realloc(w->line, cap);

		if (!p)
			return;
		w->line = p;
		w->line_cap = cap;
	}
	memcpy(w->line + w->line_len, s, n + 1);
	w->line_len += n;
}

/*
 * bytes a JSON string must escape: controls, '"' and '\\'; and bytes above
 * 0x7f, which j_string() checks for well-formed UTF-8
 */
static const bool j_escape[256] = {
	[0 ... 0x1f] = true, ['"'] = true, ['\\'] = true, [0x80 ... 0xff] = true,
};

/*
 * Copies s to dst if it needs no JSON escape and has at most max bytes;
 * returns its length, else -1.  One pass, no memcpy(): for strings this
 * short, the compiler's inline `rep movs` cost more than the record.
 */
static int copy_plain(char *dst, const char *s, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;

	/* the NUL ends it: j_escape[0] is true */
	for (; !j_escape[p[n]]; n++) {
		if (n == max)
			return -1;
		dst[n] = (char)p[n];
	}
	return p[n] ? -1 : n;
}

/*
 * A compact field of plain strings, the common case of a stream record,
 * in one write: a dozen stdio calls a field were most of a record's cost.
 * false (nothing written) for anything else.
 */
static bool j_field_fast(struct ps_ctx *ctx, const char *key,
			 const char *val, bool quote)
{
	struct ps_writer *w = &ctx->w;
	char buf[256], *p = buf + 1;	/* buf[0]: a comma, maybe */
	int n;

	if (pretty(ctx) || !key)
		return false;
	*p++ = '"';
	if ((n = copy_plain(p, key, 64)) < 0)
		return false;
	p += n;
	*p++ = '"';
	*p++ = ':';
	if (quote)
		*p++ = '"';
	/* unquoted values are the writer's own numbers and literals */
	if ((n = copy_plain(p, val, 160)) < 0)
		return false;
	p += n;
	if (quote)
		*p++ = '"';
	if (w->first[w->depth]) {
		w->first[w->depth] = false;
		fwrite_unlocked(buf + 1, 1, (size_t)(p - buf - 1), w->f);
	} else {
		buf[0] = ',';
		fwrite_unlocked(buf, 1, (size_t)(p - buf), w->f);
	}
	return true;
}

/* one scalar field: JSON value already formatted, text already formatted */
static void field(struct ps_ctx *ctx, const char *key, const char *label,
		  const char *json_val, bool json_quote, const char *text_val)
{
	struct ps_writer *w = &ctx->w;

	if (ctx->json) {
		doc_open(ctx);
		if (j_field_fast(ctx, key, json_val, json_quote))
			return;
		j_key(ctx, key);
		if (json_quote)
			j_string(w->f, json_val);
		else
			fputs_unlocked(json_val, w->f);
		return;
	}
	if (w->in_record) {
		if (w->line_len)
			rec_append(w, " ");
		rec_append(w, label ? label : key);
		rec_append(w, " ");
		rec_append(w, text_val);
		return;
	}
	t_indent(ctx);
	int width = LABEL_WIDTH - w->indent;
	if (width < 1)
		width = 1;
	fprintf(w->f, "%-*s %s\n", width, label ? label : key, text_val);
}

void ps_out_str(struct ps_ctx *ctx, const char *key, const char *label,
		const char *value)
{
	field(ctx, key, label, value ? value : "", true, value ? value : "-");
}

/* snprintf costs more than the rest of a stream record's field */
static const char *u64_str(uint64_t v, char buf[static 24])
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void ps_out_u64(struct ps_ctx *ctx, const char *key, const char *label,
		uint64_t value)
{
	char buf[24];
	const char *s = u64_str(value, buf);

	field(ctx, key, label, s, false, s);
}

void ps_out_s64(struct ps_ctx *ctx, const char *key, const char *label,
		int64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, value);
	field(ctx, key, label, buf, false, buf);
}

void ps_out_f64(struct ps_ctx *ctx, const char *key, const char *label,
		double value)
{
	char buf[64];

	if (!isfinite(value))
		value = 0;
	/*
	 * Enough digits for a rate of any size, never an exponent: every
	 * integer digit and up to three decimals from 1e5 on (1.95285e+10
	 * bit/s lost 5 digits), six significant digits below, and plain
	 * decimals for small values.
	 */
	if (fabs(value) >= 1e5) {
		char *p;

		snprintf(buf, sizeof(buf), "%.3f", value);
		p = buf + strlen(buf) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	} else if (fabs(value) >= 1e-4 || value == 0)
		snprintf(buf, sizeof(buf), "%.6g", value);
	else
		snprintf(buf, sizeof(buf), "%.10f", value);
	field(ctx, key, label, buf, false, buf);
}

void ps_out_bool(struct ps_ctx *ctx, const char *key, const char *label,
		 bool value)
{
	field(ctx, key, label, value ? "true" : "false", false,
	      value ? "yes" : "no");
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

void ps_out_number(struct ps_ctx *ctx, const char *key, const char *label,
		   const char *digits)
{
	/* JSON must stay valid whatever a plugin passes */
	if (!digits || !json_number(digits))
		digits = "0";
	field(ctx, key, label, digits, false, digits);
}

void ps_out_u64_human(struct ps_ctx *ctx, const char *key, const char *label,
		      uint64_t value,
		      const char *(*fmt)(uint64_t, char *, size_t))
{
	char raw[32], human[64];

	snprintf(raw, sizeof(raw), "%" PRIu64, value);
	field(ctx, key, label, raw, false, fmt(value, human, sizeof(human)));
}

void ps_out_strv(struct ps_ctx *ctx, const char *key, const char *label,
		 const char *const *values, size_t n)
{
	struct ps_writer *w = &ctx->w;

	if (ctx->json) {
		doc_open(ctx);
		j_key(ctx, key);
		fputc_unlocked('[', w->f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs_unlocked(pretty(ctx) ? ", " : ",", w->f);
			j_string(w->f, values[i]);
		}
		fputc_unlocked(']', w->f);
		return;
	}
	char buf[1024] = "";
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
				i ? ", " : "", values[i]);
	field(ctx, key, label, NULL, false, n ? buf : "-");
}

void ps_out_section(struct ps_ctx *ctx, const char *key, const char *title)
{
	if (ctx->json) {
		doc_open(ctx);
		j_open(ctx, key, '{');
		return;
	}
	if (ctx->w.in_record)
		return;
	t_indent(ctx);
	fprintf(ctx->w.f, "%s:\n", title ? title : key);
	t_push(ctx, true);
}

void ps_out_section_end(struct ps_ctx *ctx)
{
	if (ctx->json) {
		j_close(ctx, '}');
		return;
	}
	if (ctx->w.in_record)
		return;
	t_pop(ctx);
}

void ps_out_list(struct ps_ctx *ctx, const char *key, const char *title)
{
	if (ctx->json) {
		doc_open(ctx);
		j_open(ctx, key, '[');
		return;
	}
	if (ctx->w.in_record)
		return;
	if (title) {
		t_indent(ctx);
		fprintf(ctx->w.f, "%s:\n", title);
	}
	t_push(ctx, title != NULL);
}

void ps_out_list_end(struct ps_ctx *ctx)
{
	if (ctx->json) {
		j_close(ctx, ']');
		return;
	}
	if (!ctx->w.in_record)
		t_pop(ctx);
}

void ps_out_item(struct ps_ctx *ctx, const char *title)
{
	if (ctx->json) {
		j_open(ctx, NULL, '{');
		return;
	}
	if (ctx->w.in_record)
		return;
	if (title) {
		t_indent(ctx);
		fprintf(ctx->w.f, "%s\n", title);
	}
	t_push(ctx, title != NULL);
}

void ps_out_item_end(struct ps_ctx *ctx)
{
	if (ctx->json)
		j_close(ctx, '}');
	else if (!ctx->w.in_record)
		t_pop(ctx);
}

void ps_out_text(struct ps_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json)
		return;
	t_indent(ctx);
	va_start(ap, fmt);
	vfprintf(ctx->w.f, fmt, ap);
	va_end(ap);
}

void ps_out_bar(struct ps_ctx *ctx, const char *label, uint64_t value,
		uint64_t max, const char *suffix)
{
	static const char *const eighths[] = {
		"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
		"\u2589",
	};
	const int cols = 40;

	if (ctx->json)
		return;
	uint64_t units = max ? (value * cols * 8 + max - 1) / max : 0;
	if (value && !units)
		units = 1;
	t_indent(ctx);
	fprintf(ctx->w.f, "%-10s ", label);
	for (uint64_t i = 0; i < units / 8; i++)
		fputs_unlocked("\u2588", ctx->w.f);
	fputs_unlocked(eighths[units % 8], ctx->w.f);
	int pad = cols - (int)((units + 7) / 8);
	fprintf(ctx->w.f, "%*s %s\n", pad > 0 ? pad : 0, "", suffix ? suffix : "");
}

/* ---- records (streams) ---- */

void ps_record_begin(struct ps_ctx *ctx)
{
	struct ps_writer *w = &ctx->w;

	w->stream = true;
	w->in_record = true;
	w->line_len = 0;
	if (w->line)
		w->line[0] = '\0';
	if (ctx->json) {
		w->compact = true;
		w->depth = 0;
		w->first[0] = true;
		fputc_unlocked('{', w->f);
		w->depth = 1;
		w->first[1] = true;
	}
}

void ps_record_line(struct ps_ctx *ctx, const char *line, size_t len)
{
	struct ps_writer *w = &ctx->w;

	if (ctx->json)
		return;
	/* fields that follow are dropped: the plugin gave the whole line */
	w->in_record = false;
	w->stream = true;
	fwrite_unlocked(line, 1, len, w->f);
	fputc_unlocked('\n', w->f);
	if (!w->batching)
		ps_out_flush(ctx);
	w->line_len = (size_t)-1;
}

void ps_record_text(struct ps_ctx *ctx, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (ctx->json)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	ps_record_line(ctx, buf, (size_t)n < sizeof(buf) ? (size_t)n :
			sizeof(buf) - 1);
}

void ps_record_end(struct ps_ctx *ctx)
{
	struct ps_writer *w = &ctx->w;

	if (ctx->json) {
		w->depth = 1;
		fputs_unlocked("}\n", w->f);
		w->depth = 0;
		w->compact = false;
		w->in_record = false;
		if (!w->batching)
			ps_out_flush(ctx);
		return;
	}
	if (w->line_len == (size_t)-1) {
		w->line_len = 0;
		w->in_record = false;
		return;
	}
	if (w->in_record) {
		fprintf(w->f, "%s\n", w->line ? w->line : "");
		if (!w->batching)
			ps_out_flush(ctx);
	}
	w->in_record = false;
	w->line_len = 0;
}

/* ---- tables ---- */

struct ps_table {
	struct ps_ctx *ctx;
	const struct ps_col *cols;
	size_t ncols;
	size_t col;		/* next cell */
	char **cells;		/* text mode: rows * ncols */
	size_t rows, cap;
	bool row_open;
};

struct ps_table *ps_table_new(struct ps_ctx *ctx, const char *key,
			      const struct ps_col *cols, size_t ncols)
{
	struct ps_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ctx = ctx;
	t->cols = cols;
	t->ncols = ncols;
	if (ctx->json) {
		doc_open(ctx);
		j_open(ctx, key, '[');
	}
	return t;
}

static void cell(struct ps_table *t, const char *json_val, bool quote,
		 const char *text)
{
	struct ps_ctx *ctx;

	if (!t)
		return;
	ctx = t->ctx;
	if (t->col >= t->ncols)
		return;
	if (ctx->json) {
		if (!t->row_open) {
			j_open(ctx, NULL, '{');
			t->row_open = true;
		}
		j_key(ctx, t->cols[t->col].key);
		if (quote)
			j_string(ctx->w.f, json_val);
		else
			fputs_unlocked(json_val, ctx->w.f);
	} else {
		if (!t->row_open) {
			if (t->rows == t->cap) {
				size_t cap = t->cap ? t->cap * 2 : 16;
				char **p = realloc(t->cells,
						   cap * t->ncols * sizeof(*p));

				if (!p)
					return;
				t->cells = p;
				t->cap = cap;
			}
			memset(&t->cells[t->rows * t->ncols], 0,
			       t->ncols * sizeof(char *));
			t->row_open = true;
		}
		t->cells[t->rows * t->ncols + t->col] = strdup(text);
	}
	t->col++;
}

void ps_table_str(struct ps_table *t, const char *value)
{
	cell(t, value ? value : "", true, value && *value ? value : "-");
}

void ps_table_u64(struct ps_table *t, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	cell(t, buf, false, buf);
}

void ps_table_f64(struct ps_table *t, double value, int decimals)
{
	char buf[64], raw[64];

	if (!isfinite(value))
		value = 0;
	snprintf(buf, sizeof(buf), "%.*f", decimals, value);
	snprintf(raw, sizeof(raw), "%.6g", value);
	cell(t, raw, false, buf);
}

void ps_table_bool(struct ps_table *t, bool value)
{
	cell(t, value ? "true" : "false", false, value ? "yes" : "no");
}

void ps_table_u64_human(struct ps_table *t, uint64_t value,
			const char *(*fmt)(uint64_t, char *, size_t))
{
	char raw[32], human[64];

	snprintf(raw, sizeof(raw), "%" PRIu64, value);
	cell(t, raw, false, fmt(value, human, sizeof(human)));
}

void ps_table_end_row(struct ps_table *t)
{
	if (!t || !t->row_open)
		return;
	if (t->ctx->json)
		j_close(t->ctx, '}');
	else
		t->rows++;
	t->row_open = false;
	t->col = 0;
}

/* display width of UTF-8 text: count code points, not bytes */
static int text_width(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The width of the terminal f writes to, 0 when f is not a terminal:
 * pipes and files get full tables for scripts.  COLUMNS first, as ls and
 * ps read it, then the terminal's own size.
 */
static int term_cols(FILE *f)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int fd = f ? fileno(f) : -1;

	if (fd < 0 || !isatty(fd))
		return 0;
	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (!*end && v >= 20 && v <= 10000)
			return (int)v;
	}
	if (!ioctl(fd, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	return 0;
}

int ps_out_columns(struct ps_ctx *ctx)
{
	return ctx->json ? 0 : term_cols(ctx->w.f);
}

/* byte offset of the n-th code point of s (or its end) */
static size_t cp_offset(const char *s, int n)
{
	size_t i = 0;

	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n-- == 0)
			break;
	return i;
}

/*
 * s cut to w columns with an ellipsis where text is left out: at the
 * start for paths (their end names the file), at the end otherwise.
 */
static const char *trim_cell(const char *s, int w, char *buf, size_t len)
{
	int have = text_width(s);

	if (have <= w || w < 2)
		return s;
	int n;

	if (*s == '/')
		n = snprintf(buf, len, "\u2026%s", s + cp_offset(s, have - w + 1));
	else
		n = snprintf(buf, len, "%.*s\u2026", (int)cp_offset(s, w - 1), s);
	return n >= 0 && (size_t)n < len ? buf : s;
}

/*
 * Narrow the widest columns until the table fits cols (0: no limit), none
 * below its header or 8 columns; wide cells are then trimmed.  Returns
 * whether anything was narrowed.
 */
static bool fit_columns(int *width, const char (*hdr)[64], size_t nc,
			int indent, int cols)
{
	int total = indent;
	bool narrowed = false;

	for (size_t c = 0; c < nc; c++)
		total += width[c] + (c ? 2 : 0);
	while (cols && total > cols) {
		size_t wide = nc;
		int floor;

		for (size_t c = 0; c < nc; c++) {
			floor = text_width(hdr[c]) > 8 ? text_width(hdr[c]) : 8;
			if (width[c] > floor &&
			    (wide == nc || width[c] > width[wide]))
				wide = c;
		}
		if (wide == nc)
			break;
		floor = text_width(hdr[wide]) > 8 ? text_width(hdr[wide]) : 8;
		/* down to the next widest at most, so wide columns share it */
		int cut = total - cols, next = floor;

		for (size_t c = 0; c < nc; c++)
			if (c != wide && width[c] > next && width[c] < width[wide])
				next = width[c];
		if (cut > width[wide] - next)
			cut = width[wide] - next;
		if (cut < 1)
			cut = 1;
		width[wide] -= cut;
		total -= cut;
		narrowed = true;
	}
	return narrowed;
}

void ps_table_end(struct ps_table *t)
{
	struct ps_ctx *ctx;

	if (!t)
		return;
	ctx = t->ctx;
	ps_table_end_row(t);
	if (ctx->json) {
		j_close(ctx, ']');
		free(t);
		return;
	}

	int width[32] = { 0 };
	char hdr[32][64];
	size_t nc = t->ncols < 32 ? t->ncols : 32;

	for (size_t c = 0; c < nc; c++) {
		const char *h = t->cols[c].header;
		size_t i;

		if (!h) {
			for (i = 0; t->cols[c].key[i] && i < 63; i++)
				hdr[c][i] = toupper((unsigned char)t->cols[c].key[i]);
			hdr[c][i] = '\0';
		} else {
			snprintf(hdr[c], sizeof(hdr[c]), "%s", h);
		}
		width[c] = text_width(hdr[c]);
	}
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < nc; c++) {
			int wd = text_width(t->cells[r * t->ncols + c]);

			if (wd > width[c])
				width[c] = wd;
		}
	bool headless = true;
	bool trim = fit_columns(width, (const char (*)[64])hdr, nc,
				ctx->w.indent, term_cols(ctx->w.f));

	for (size_t c = 0; c < nc; c++)
		if (hdr[c][0])
			headless = false;
	for (size_t r = headless ? 1 : 0; r <= t->rows; r++) {
		t_indent(ctx);
		for (size_t c = 0; c < nc; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] :
					    hdr[c];
			char cut[256];
			int pad;

			if (!s)
				s = "-";
			if (trim)
				s = trim_cell(s, width[c], cut, sizeof(cut));
			pad = width[c] - text_width(s);
			if (c == nc - 1 && t->cols[c].align == PS_LEFT)
				pad = 0;	/* no trailing blanks */
			if (t->cols[c].align == PS_RIGHT)
				fprintf(ctx->w.f, "%*s%s", pad, "", s);
			else
				fprintf(ctx->w.f, "%s%*s", s, pad, "");
			if (c != nc - 1)
				fputs_unlocked("  ", ctx->w.f);
		}
		fputc_unlocked('\n', ctx->w.f);
	}
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ps_out_to(struct ps_ctx *ctx, FILE *f, bool json)
{
	struct ps_writer *w = &ctx->w;

	if (f) {
		if (!w->redirected) {
			w->saved_f = w->f;
			w->saved_json = ctx->json;
			w->redirected = true;
		}
		fflush(w->f);
		w->f = f;
		ctx->json = json;
		return;
	}
	if (!w->redirected)
		return;
	fflush(w->f);
	w->f = w->saved_f;
	ctx->json = w->saved_json;
	w->redirected = false;
}
