// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * proto-stats live: who sends how much right now.  Every interval the top
 * tables and counters are read, compared with the previous read, and the
 * heaviest sources, prefixes (IPv4 /24, IPv6 /64), destination ports or
 * protocols are shown by current packet or bit rate and share of the
 * interface's total.
 *
 * On a terminal the screen is redrawn in place (plain ANSI: the alternate
 * screen, sized to the terminal, redrawn on resize); `q` or Ctrl-C leaves
 * and restores the terminal.  Otherwise one snapshot per interval, text or
 * JSON Lines.  A verb of proto-stats, not of the core: the numbers are its
 * maps' (per-CPU cache and LRU tables merged by pstat_read_top()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pstat_read.h"

enum group { G_SOURCE, G_PREFIX24, G_PREFIX64, G_PORT, G_PROTO };

static const char *const group_choices[] = {
	"source", "/24", "/64", "port", "proto", NULL
};
static const char *const by_choices[] = { "packets", "bytes", NULL };

const struct ps_arg_spec pstat_live_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL, "interface" },
	{ "by", PS_KIND_CHOICE, 0, NULL, "order by current rate of (default packets)",
	  by_choices },
	{ "group", PS_KIND_CHOICE, 0, NULL,
	  "rows: source addresses, prefixes (/24 or /64: IPv4 /24 and IPv6 /64), destination ports or protocols (default source)",
	  group_choices },
	{ "interval", PS_KIND_DURATION, 0, NULL, "time between redraws (default 1s)",
	  NULL, 100000000ULL, 3600000000000ULL },
	{ "count", PS_KIND_COUNT, 0, NULL, "stop after N intervals", NULL, 1, 0 },
	{ "limit", PS_KIND_COUNT, 0, NULL,
	  "rows (default: what fits the terminal, else 10)", NULL, 1, 10000 },
	{ 0 }
};

struct row {
	char label[64];
	uint64_t packets, bytes;	/* counts so far */
	double pps, bps;		/* rates over the last interval */
};

struct snap {
	struct row *v;
	size_t n;
	uint64_t total_packets, total_bytes;
};

static int by_label(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->label,
		      ((const struct row *)b)->label);
}

static bool order_bytes;

static int by_rate(const void *a, const void *b, void *data)
{
	const struct row *x = a, *y = b;
	double u = order_bytes ? x->bps : x->pps, w = order_bytes ? y->bps : y->pps;

	(void)data;

	if (u != w)
		return u < w ? 1 : -1;
	return strcmp(x->label, y->label);
}

static int add_row(struct snap *s, size_t *cap, const char *label,
		   uint64_t packets, uint64_t bytes)
{
	if (s->n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct row *p = realloc(s->v, c * sizeof(*p));

		if (!p)
			return -1;
		s->v = p;
		*cap = c;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	snprintf(s->v[s->n].label, sizeof(s->v[0].label), "%s", label);
	s->v[s->n].packets = packets;
	s->v[s->n].bytes = bytes;
	s->n++;
	return 0;
}

static void src_label(const struct ps_addr_key *k, enum group g, char *buf,
		      size_t len)
{
	unsigned char a[16] = { 0 };
	char s[INET6_ADDRSTRLEN];
	int af = k->family == 10 ? AF_INET6 : AF_INET;

	memcpy(a, k->addr, 16);
	if (g == G_PREFIX24 || g == G_PREFIX64) {
		if (af == AF_INET)
			a[3] = 0;
		else
			memset(a + 8, 0, 8);
	}
	inet_ntop(af, a, s, sizeof(s));
	if (g == G_SOURCE)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%s/%d", s, af == AF_INET ? 24 : 64);
}

static const struct { const char *name; int idx; } protos[] = {
	{ "tcp", PSTAT_L4_TCP }, { "udp", PSTAT_L4_UDP },
	{ "icmp", PSTAT_L4_ICMP }, { "icmpv6", PSTAT_L4_ICMPV6 },
	{ "sctp", PSTAT_L4_SCTP }, { "gre", PSTAT_L4_GRE },
	{ "other-ip", PSTAT_L4_OTHER }, { "arp", PSTAT_L3_ARP },
	{ "other", PSTAT_L3_OTHER },
};

/* the counts so far, one row per label, sorted by label */
static int take(struct ps_ctx *ctx, const struct ps_attachment *att,
		enum group g, struct snap *s)
{
	struct pstat_counters c;
	struct top_list l = { 0 };
	size_t cap = 0;
	char label[64];

	memset(s, 0, sizeof(*s));
	if (pstat_read_counters(ctx, att, &c))
		return PS_ERR;
	s->total_packets = c.c[PSTAT_TOTAL].packets;
	s->total_bytes = c.c[PSTAT_TOTAL].bytes;
	if (g == G_PROTO) {
		for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (add_row(s, &cap, protos[i].name,
				    c.c[protos[i].idx].packets,
				    c.c[protos[i].idx].bytes))
				goto oom;
	} else {
		if (pstat_read_top(ctx, att, g != G_PORT, &l))
			return PS_ERR;
		for (size_t i = 0; i < l.n; i++) {
			if (g == G_PORT) {
				const struct pstat_port_key *k = (const void *)l.v[i].key;
				const char *name = ps_proto_name(k->proto);

				snprintf(label, sizeof(label), "%s/%u",
					 name ? name : "ip", k->port);
			} else {
				src_label((const void *)l.v[i].key, g, label,
					  sizeof(label));
			}
			if (add_row(s, &cap, label, l.v[i].v.packets,
				    l.v[i].v.bytes))
				goto oom;
		}
		free(l.v);
	}
	/* prefixes: one row each */
	if (s->n)
		qsort(s->v, s->n, sizeof(s->v[0]), by_label);
	size_t out = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (out && !strcmp(s->v[out - 1].label, s->v[i].label)) {
			s->v[out - 1].packets += s->v[i].packets;
			s->v[out - 1].bytes += s->v[i].bytes;
		} else {
			s->v[out++] = s->v[i];
		}
	}
	s->n = out;
	return PS_OK;
oom:
	free(l.v);
	return ps_err(ctx, "out of memory");
}

/* rates of cur against prev over secs; a key the LRU evicted starts over */
static void rates(struct snap *cur, const struct snap *prev, double secs)
{
	for (size_t i = 0; i < cur->n; i++) {
		struct row *r = &cur->v[i];
		const struct row *p = prev->n ?
			bsearch(r, prev->v, prev->n, sizeof(*r), by_label) : NULL;

		r->pps = ps_rate(r->packets, p ? p->packets : 0, secs);
		r->bps = 8.0 * ps_rate(r->bytes, p ? p->bytes : 0, secs);
	}
}

/* ---- the terminal ---- */

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

struct term {
	bool on;
	bool raw;
	struct termios saved;
};

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void term_enter(struct term *t)
{
	struct sigaction sa = { .sa_handler = on_winch };
	struct termios raw;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &t->saved)) {
		raw = t->saved;
		/* keys one by one, unechoed; Ctrl-C still a signal */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		t->raw = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	/* the alternate screen, no cursor */
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
	t->on = true;
}

static void term_leave(struct term *t)
{
	if (!t->on)
		return;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	signal(SIGWINCH, SIG_DFL);
	t->on = false;
}

/*
 * Waits up to ns for the next redraw; false to leave (q, Ctrl-C).  A
 * resize ends the wait early: the screen is redrawn at the new size.
 */
static bool term_wait(uint64_t ns)
{
	uint64_t end = ps_mono_ns() + ns;

	while (!ps_should_stop()) {
		uint64_t now = ps_mono_ns();
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		char ch;

		if (now >= end || resized)
			return true;
		if (poll(&pfd, 1, 50) > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
		    (ch == 'q' || ch == 'Q'))
			return false;
	}
	return false;
}

struct view {
	const char *ifname;
	const char *by, *group;
	uint64_t interval;
	size_t limit;
	bool temporary;
};

static const char *col_title(enum group g)
{
	switch (g) {
	case G_SOURCE: return "SOURCE";
	case G_PORT: return "DPORT";
	case G_PROTO: return "PROTOCOL";
	default: return "PREFIX";
	}
}

static void draw(const struct view *v, enum group g, const struct snap *s,
		 double tot_pps, double tot_bps)
{
	int rows, cols, line = 0;
	char a[32], b[32], hms[16], buf[512];
	time_t now = time(NULL);
	size_t n;

	term_size(&rows, &cols);
	if (cols > (int)sizeof(buf) - 1)
		cols = (int)sizeof(buf) - 1;
	strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
	fputs("\033[H\033[2J", stdout);
#define LINE(...) do {							\
		if (line < rows) {					\
			snprintf(buf, sizeof(buf), __VA_ARGS__);	\
			buf[cols] = 0;					\
			printf("%s%s", line ? "\r\n" : "", buf);	\
			line++;						\
		}							\
	} while (0)
	LINE("%s  %s  by %s  group %s  every %.1fs%s", hms, v->ifname, v->by,
	     v->group, (double)v->interval / 1e9,
	     v->temporary ? "  (proto-stats attached for this view)" : "");
	LINE("total %s pps  %s", ps_fmt_count(tot_pps, a, sizeof(a)),
	     ps_fmt_rate((uint64_t)tot_bps, b, sizeof(b)));
	LINE("%3s  %-40s %10s %12s %7s", "#", col_title(g), "PPS", "BIT/S", "SHARE");
	n = s->n;
	if (v->limit && n > v->limit)
		n = v->limit;
	for (size_t i = 0; i < n && line < rows - 1; i++) {
		const struct row *r = &s->v[i];
		double share = order_bytes ? (tot_bps > 0 ? 100.0 * r->bps / tot_bps : 0) :
			       (tot_pps > 0 ? 100.0 * r->pps / tot_pps : 0);

		LINE("%3zu  %-40s %10s %12s %6.1f%%", i + 1, r->label,
		     ps_fmt_count(r->pps, a, sizeof(a)),
		     ps_fmt_rate((uint64_t)r->bps, b, sizeof(b)), share);
	}
	while (line < rows - 1)
		LINE("%s", "");
	LINE("q: quit");
#undef LINE
	fflush(stdout);
}

/* what a redraw on resize needs while the poller waits */
struct redraw {
	const struct view *v;
	enum group g;
	const struct snap *shown;
	const double *tot_pps, *tot_bps;
};

/* the poller's wait on a terminal: a resize redraws the last numbers */
static bool live_wait(uint64_t ns, void *data)
{
	const struct redraw *w = data;
	uint64_t end = ps_mono_ns() + ns;

	for (;;) {
		uint64_t now = ps_mono_ns();

		if (!term_wait(now < end ? end - now : 0))
			return false;
		if (!resized)
			return true;
		resized = 0;
		if (w->shown->v)
			draw(w->v, w->g, w->shown, *w->tot_pps, *w->tot_bps);
	}
}

static void snapshot(struct ps_ctx *ctx, const struct view *v,
		     const struct snap *s, double tot_pps, double tot_bps)
{
	size_t n = s->n;
	char a[32], b[32];

	if (n > v->limit)
		n = v->limit;
	ps_record_begin(ctx);
	if (ps_json(ctx)) {
		ps_out_u64(ctx, "ts", NULL, (uint64_t)time(NULL));
		ps_out_str(ctx, "ifname", NULL, v->ifname);
		ps_out_str(ctx, "group", NULL, v->group);
		ps_out_f64(ctx, "total_packets_per_second", NULL, tot_pps);
		ps_out_f64(ctx, "total_bits_per_second", NULL, tot_bps);
		ps_out_list(ctx, "top", NULL);
		for (size_t i = 0; i < n; i++) {
			const struct row *r = &s->v[i];

			ps_out_item(ctx, NULL);
			ps_out_str(ctx, "key", NULL, r->label);
			ps_out_f64(ctx, "packets_per_second", NULL, r->pps);
			ps_out_f64(ctx, "bits_per_second", NULL, r->bps);
			ps_out_f64(ctx, "share_pct", NULL, order_bytes ?
				   (tot_bps > 0 ? 100.0 * r->bps / tot_bps : 0) :
				   (tot_pps > 0 ? 100.0 * r->pps / tot_pps : 0));
			ps_out_item_end(ctx);
		}
		ps_out_list_end(ctx);
	} else {
		time_t now = time(NULL);
		char hms[16];

		strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
		ps_record_text(ctx, "%s %s total %s pps %s", hms, v->ifname,
			       ps_fmt_count(tot_pps, a, sizeof(a)),
			       ps_fmt_rate((uint64_t)tot_bps, b, sizeof(b)));
		for (size_t i = 0; i < n; i++) {
			const struct row *r = &s->v[i];

			ps_record_text(ctx, "%3zu  %-40s %10s %12s", i + 1, r->label,
				       ps_fmt_count(r->pps, a, sizeof(a)),
				       ps_fmt_rate((uint64_t)r->bps, b, sizeof(b)));
		}
	}
	ps_record_end(ctx);
}

int pstat_do_live(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_value *bv = ps_arg_get(args, "by");
	const struct ps_value *gv = ps_arg_get(args, "group");
	enum group g = gv ? (enum group)gv->u : G_SOURCE;
	uint64_t count = ps_arg_u64(args, "count", 0);
	struct view v = {
		.ifname = ps_arg_str(args, "dev", NULL),
		.by = by_choices[bv ? bv->u : 0],
		.group = group_choices[g],
		.interval = ps_arg_u64(args, "interval", 1000000000ULL),
		.limit = (size_t)ps_arg_u64(args, "limit", 0),
	};
	bool tty = isatty(STDOUT_FILENO) && !ps_json(ctx);
	struct ps_attachment att;
	struct snap prev = { 0 }, cur, shown = { 0 };
	double tot_pps = 0, tot_bps = 0;
	struct redraw rd = { &v, g, &shown, &tot_pps, &tot_bps };
	struct ps_poll p = {
		.interval_ns = v.interval,
		.count = count,
		.wait = tty ? live_wait : NULL,
		.data = &rd,
	};
	struct term t = { 0 };
	int r = PS_OK;

	order_bytes = bv && bv->u == 1;
	if (!v.limit && !tty)
		v.limit = 10;
	/* attached for this view only when it is not: released when it ends */
	if (ps_attach_hold(ctx, v.ifname, NULL, &att, &v.temporary))
		return PS_ERR;
	r = take(ctx, &att, g, &prev);
	ps_poll_start(&p);
	if (!r && tty)
		term_enter(&t);
	while (!r && ps_poll_next(&p)) {
		r = take(ctx, &att, g, &cur);
		if (r)
			break;
		tot_pps = ps_rate(cur.total_packets, prev.total_packets, p.secs);
		tot_bps = 8.0 * ps_rate(cur.total_bytes, prev.total_bytes, p.secs);
		rates(&cur, &prev, p.secs);
		free(prev.v);
		prev = cur;
		/* prev stays sorted by label for the next round's lookups */
		free(shown.v);
		shown.n = cur.n;
		shown.v = malloc((cur.n ? cur.n : 1) * sizeof(*cur.v));
		if (!shown.v) {
			r = ps_err(ctx, "out of memory");
			break;
		}
		memcpy(shown.v, cur.v, cur.n * sizeof(*cur.v));
		shown.n = ps_top_rows(shown.v, shown.n, sizeof(*shown.v),
				      by_rate, NULL, v.limit);
		if (tty)
			draw(&v, g, &shown, tot_pps, tot_bps);
		else
			snapshot(ctx, &v, &shown, tot_pps, tot_bps);
	}
	term_leave(&t);
	free(shown.v);
	free(prev.v);
	ps_attach_release(ctx, &att, v.temporary);
	return r;
}
