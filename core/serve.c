// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `pktscope serve`: the metrics of every attachment in the Prometheus text
 * format (0.0.4), over HTTP (libmicrohttpd) or as a textfile for
 * node_exporter, rewritten atomically.
 *
 * The HTTP side runs libmicrohttpd's epoll loop from this thread, so the
 * plugins' metrics callbacks run where every other command runs them and
 * nothing here needs a lock.  libmicrohttpd parses requests and enforces
 * the connection limit, the per-connection memory (which bounds a request)
 * and the idle timeout.  A client that trickles its request a byte at a
 * time is never idle, so a request must also be complete within
 * REQUEST_DEADLINE_S of the connection's start or of the previous
 * response, or its socket is shut down.
 *
 * Once listening (or with the textfile open for writing), the process gives
 * up every capability: reading pinned maps needs only the owner's access
 * to the root-owned pins.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "config.h"
#include "internal.h"
#include "metrics.h"

#ifdef HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

#define DEFAULT_LISTEN		"127.0.0.1:9877"
#define HTTP_INTERVAL_NS	(5ULL * 1000000000ULL)
#define TEXTFILE_INTERVAL_NS	(15ULL * 1000000000ULL)
#define MAX_CONNECTIONS		64
#define CONNECTION_MEMORY	(32 * 1024)	/* a request is smaller */
#define IDLE_TIMEOUT_S		10
#define REQUEST_DEADLINE_S	10
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct exposition {
	char *buf;
	size_t len;
	uint64_t at_ns;		/* when it was collected */
	uint64_t took_ns;	/* how long that took */
};

/* process-wide counters of the exporter itself */
struct serve_stats {
	uint64_t collections;
	uint64_t rejected;	/* samples a plugin gave that broke the rules */
	uint64_t failed;	/* metrics callbacks that failed */
	uint64_t last_ns;	/* duration of the last collection */
};

static int add_self(struct ps_mset *set, const struct serve_stats *st)
{
	struct { const char *name, *help; enum ps_metric_type type; double v; }
	self[] = {
		{ "collections_total", "Metric collections by this exporter.",
		  PS_METRIC_COUNTER, (double)st->collections },
		{ "rejected_samples_total",
		  "Samples plugins gave that broke the naming rules, left out.",
		  PS_METRIC_COUNTER, (double)st->rejected },
		{ "collect_errors_total",
		  "Plugin metrics callbacks that reported an error.",
		  PS_METRIC_COUNTER, (double)st->failed },
		{ "collect_duration_seconds",
		  "How long the previous collection took.", PS_METRIC_GAUGE,
		  (double)st->last_ns / 1e9 },
	};
	int r = ps_metrics_add_build_info(set);

	for (size_t i = 0; i < ARRAY_SIZE(self) && !r; i++)
		r = ps_metrics_add_process(set, self[i].name, self[i].type,
					   self[i].help, self[i].v);
	return r;
}

/* One collection, written in the text format into a new buffer. */
static int expose(struct ps_ctx *ctx, struct serve_stats *st,
		  struct exposition *e)
{
	struct ps_mset set = { 0 };
	uint64_t t0 = ps_mono_ns();
	FILE *f;
	int r;

	memset(e, 0, sizeof(*e));
	r = ps_metrics_collect(ctx, NULL, &set);
	st->collections++;
	st->rejected += set.rejected;
	st->failed += set.failed;
	if (!r && add_self(&set, st))
		r = ps_err(ctx, "out of memory");
	if (r) {
		ps_metrics_free(&set);
		return r;
	}
	ps_metrics_sort(&set);
	f = open_memstream(&e->buf, &e->len);
	if (!f) {
		ps_metrics_free(&set);
		return ps_err(ctx, "out of memory");
	}
	r = ps_metrics_expose(&set, f);
	if (fclose(f) || r) {
		free(e->buf);
		e->buf = NULL;
		ps_metrics_free(&set);
		return ps_err(ctx, "out of memory");
	}
	ps_metrics_free(&set);
	e->at_ns = ps_mono_ns();
	e->took_ns = e->at_ns - t0;
	st->last_ns = e->took_ns;
	return PS_OK;
}

/* ---- privileges ---- */

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = 40;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last;
}

/*
 * Keep the uid (the pins are root's, mode 0600), give up every capability
 * for good: bounding set, ambient, permitted, effective; no new privileges
 * through exec.
 */
static int drop_privileges(struct ps_ctx *ctx)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int last = cap_last();

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return ps_err(ctx, "prctl(PR_SET_NO_NEW_PRIVS): %s",
			      strerror(errno));
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL &&
		    errno != EPERM)
			return ps_err(ctx, "dropping capability %d: %s", c,
				      strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data))
		return ps_err(ctx, "dropping capabilities: %s", strerror(errno));
	ps_debug(ctx, "serve: every capability dropped");
	return PS_OK;
}

/* ---- textfile ---- */

/*
 * Write atomically: a temporary file in the same directory (a name
 * node_exporter's *.prom glob skips), then rename() over the target, so a
 * reader sees the old file or the new one, never part of one.
 */
static int write_textfile(struct ps_ctx *ctx, const char *path,
			  const struct exposition *e)
{
	char dirbuf[4096], basebuf[4096], tmp[4096 + 32];
	size_t off = 0;
	int fd;

	if (ps_str_copy(dirbuf, sizeof(dirbuf), path) ||
	    ps_str_copy(basebuf, sizeof(basebuf), path))
		return ps_err(ctx, "textfile path too long");
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(dirbuf),
		 basename(basebuf));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ps_err(ctx, "cannot create a temporary file beside %s: %s",
			      path, strerror(errno));
	while (off < e->len) {
		ssize_t w = write(fd, e->buf + off, e->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	/* node_exporter runs as its own user: the file must be readable */
	if (fchmod(fd, 0644) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	return PS_OK;
fail:
	off = (size_t)errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ps_err(ctx, "writing %s: %s", path, strerror((int)off));
}

static int check_textfile_dir(struct ps_ctx *ctx, const char *path)
{
	char dirbuf[4096];
	struct stat st;

	if (ps_str_copy(dirbuf, sizeof(dirbuf), path))
		return ps_err(ctx, "textfile path too long");
	const char *dir = dirname(dirbuf);

	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return ps_err(ctx, "textfile directory %s does not exist", dir);
	/* someone else could swap the file between rename and read */
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return ps_err(ctx, "textfile directory %s is writable by anyone",
			      dir);
	return PS_OK;
}

static int serve_textfile(struct ps_ctx *ctx, const char *path,
			  uint64_t interval, uint64_t count)
{
	struct serve_stats st = { 0 };
	int r;

	r = check_textfile_dir(ctx, path);
	if (r)
		return r;
	if (strlen(path) < 5 || strcmp(path + strlen(path) - 5, ".prom"))
		ps_warn(ctx, "node_exporter reads only files ending in .prom");
	r = drop_privileges(ctx);
	if (r)
		return r;
	ps_record_begin(ctx);
	ps_out_str(ctx, "textfile", "Writing", path);
	ps_out_u64_human(ctx, "interval_ns", "every", interval,
			 ps_fmt_duration);
	ps_record_end(ctx);
	for (uint64_t n = 0; !count || n < count; n++) {
		struct exposition e;

		if (n && !ps_sleep(interval))
			break;
		r = expose(ctx, &st, &e);
		if (!r)
			r = write_textfile(ctx, path, &e);
		free(e.buf);
		if (r)
			return r;
	}
	return PS_OK;
}

/* ---- HTTP ---- */

#ifdef HAVE_MICROHTTPD

/* a connection, for the request deadline */
struct conn {
	int fd;
	uint64_t wait_from_ns;	/* 0: its request is being answered */
	bool shut;
	struct conn *next, **pprev;
};

struct server {
	struct ps_ctx *ctx;
	struct MHD_Daemon *d;
	uint64_t interval;
	struct exposition e;
	struct MHD_Response *metrics;	/* of e, shared by every scrape */
	struct MHD_Response *index, *not_found, *bad_method;
	struct serve_stats st;
	struct conn *conns;
};

static const char index_page[] =
	"<!DOCTYPE html>\n<html><head><title>pktscope</title></head><body>\n"
	"<h1>pktscope</h1>\n<p><a href=\"/metrics\">Metrics</a></p>\n"
	"</body></html>\n";

static struct MHD_Response *static_response(const char *body,
					    const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

/* the exposition at most interval old; NULL after a failed collection */
static struct MHD_Response *metrics_response(struct server *s)
{
	struct exposition e;

	if (s->metrics && ps_mono_ns() - s->e.at_ns < s->interval)
		return s->metrics;
	if (expose(s->ctx, &s->st, &e))
		return NULL;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		e.len, e.buf, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(e.buf);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	/* scrapes still sending the old one keep it until they are done */
	if (s->metrics)
		MHD_destroy_response(s->metrics);
	s->metrics = r;
	s->e = e;
	return r;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	struct server *s = cls;
	struct conn *cn = conn_of(c);
	struct MHD_Response *r;
	unsigned int code = MHD_HTTP_OK;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req;
	if (cn)
		cn->wait_from_ns = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = s->bad_method;
	} else if (!strcmp(url, "/metrics")) {
		r = metrics_response(s);
		if (!r)
			return MHD_NO;	/* reported; the client sees a close */
	} else if (!strcmp(url, "/")) {
		r = s->index;
	} else {
		code = MHD_HTTP_NOT_FOUND;
		r = s->not_found;
	}
	return MHD_queue_response(c, code, r);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sock,
			  enum MHD_ConnectionNotificationCode what)
{
	struct server *s = cls;
	struct conn *cn = *sock;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return;	/* not tracked: MHD's idle timeout still holds */
		cn->fd = i ? i->connect_fd : -1;
		cn->wait_from_ns = ps_mono_ns();
		cn->next = s->conns;
		cn->pprev = &s->conns;
		if (s->conns)
			s->conns->pprev = &cn->next;
		s->conns = cn;
		*sock = cn;
	} else if (cn) {
		*cn->pprev = cn->next;
		if (cn->next)
			cn->next->pprev = cn->pprev;
		free(cn);
		*sock = NULL;
	}
}

/* a response sent: the connection waits for its next request from now */
static void on_completed(void *cls, struct MHD_Connection *c, void **req,
			 enum MHD_RequestTerminationCode why)
{
	struct conn *cn = conn_of(c);

	(void)cls;
	(void)req;
	(void)why;
	if (cn)
		cn->wait_from_ns = ps_mono_ns();
}

/* shut the socket of a request that takes too long to arrive */
static void sweep_slow(struct server *s)
{
	uint64_t now = ps_mono_ns();

	for (struct conn *cn = s->conns; cn; cn = cn->next)
		if (!cn->shut && cn->fd >= 0 && cn->wait_from_ns &&
		    now - cn->wait_from_ns > REQUEST_DEADLINE_S * 1000000000ULL) {
			shutdown(cn->fd, SHUT_RDWR);
			cn->shut = true;
		}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct ps_ctx *ctx = cls;
	char msg[512];

	if (!ps_verbose(ctx))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ps_debug(ctx, "serve: %s", msg);
}

/* "127.0.0.1:9877", "[::1]:9877", "localhost:9877", "9877" (loopback) */
static int parse_listen(struct ps_ctx *ctx, const char *spec,
			struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *res;
	int r;

	if (!strchr(spec, ':'))
		snprintf(host, sizeof(host), "127.0.0.1:%s", spec);
	else if (ps_str_copy(host, sizeof(host), spec))
		return ps_usage_err(ctx, "listen address too long");
	port = strrchr(host, ':');
	*port++ = '\0';
	char *h = host;

	if (*h == '[') {
		size_t n = strlen(h);

		if (n < 2 || h[n - 1] != ']')
			return ps_usage_err(ctx, "bad listen address '%s' (IPv6: [::1]:9877)",
					    spec);
		h[n - 1] = '\0';
		h++;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) > 65535)
		return ps_usage_err(ctx, "bad port in listen address '%s'", spec);
	r = getaddrinfo(*h ? h : NULL, port, &hints, &res);
	if (r)
		return ps_usage_err(ctx, "listen address '%s': %s", spec,
				    gai_strerror(r));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return PS_OK;
}

static void server_free(struct server *s)
{
	if (s->d)
		MHD_stop_daemon(s->d);
	while (s->conns) {
		struct conn *cn = s->conns;

		s->conns = cn->next;
		free(cn);
	}
	if (s->metrics)
		MHD_destroy_response(s->metrics);
	if (s->index)
		MHD_destroy_response(s->index);
	if (s->not_found)
		MHD_destroy_response(s->not_found);
	if (s->bad_method)
		MHD_destroy_response(s->bad_method);
}

static int server_start(struct ps_ctx *ctx, struct server *s,
			const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int r;

	r = parse_listen(ctx, listen, &ss, &sslen);
	if (r)
		return r;
	s->index = static_response(index_page, "text/html; charset=utf-8");
	s->not_found = static_response("Not found: try /metrics\n",
				       "text/plain; charset=utf-8");
	s->bad_method = static_response("Only GET and HEAD\n",
					"text/plain; charset=utf-8");
	if (!s->index || !s->not_found || !s->bad_method)
		return ps_err(ctx, "out of memory");
	MHD_add_response_header(s->bad_method, MHD_HTTP_HEADER_ALLOW,
				"GET, HEAD");
	s->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ctx,
		MHD_OPTION_END);
	if (!s->d)
		return ps_err(ctx, "cannot listen on %s: %s", listen,
			      strerror(errno ? errno : EADDRINUSE));
	return PS_OK;
}

static void print_listening(struct ps_ctx *ctx, struct server *s,
			    const char *listen)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	char url[320], host[256];
	char *colon;

	/* the port the kernel chose for `listen 127.0.0.1:0` */
	snprintf(host, sizeof(host), "%s", strchr(listen, ':') ? listen : "127.0.0.1:");
	colon = strrchr(host, ':');
	*colon = '\0';
	snprintf(url, sizeof(url), "http://%s:%u/metrics", host,
		 i ? i->port : 0);
	ps_record_begin(ctx);
	ps_out_str(ctx, "url", "Listening on", url);
	ps_out_u64(ctx, "port", "port", i ? i->port : 0);
	ps_record_end(ctx);
}

static int serve_http(struct ps_ctx *ctx, const char *listen,
		      uint64_t interval)
{
	struct server s = { .ctx = ctx, .interval = interval };
	int r;

	r = server_start(ctx, &s, listen);
	if (!r)
		r = drop_privileges(ctx);
	if (r) {
		server_free(&s);
		return r;
	}
	print_listening(ctx, &s, listen);
	const union MHD_DaemonInfo *ep =
		MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd pfd = { .fd = ep->epoll_fd, .events = POLLIN };

	while (!ps_should_stop()) {
		MHD_UNSIGNED_LONG_LONG to;
		int ms = 1000;	/* the deadline sweep's period */

		if (MHD_get_timeout(s.d, &to) == MHD_YES && to < (unsigned)ms)
			ms = (int)to;
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
			r = ps_err(ctx, "poll: %s", strerror(errno));
			break;
		}
		MHD_run(s.d);
		sweep_slow(&s);
	}
	server_free(&s);
	return r;
}

#else

static int serve_http(struct ps_ctx *ctx, const char *listen,
		      uint64_t interval)
{
	(void)listen;
	(void)interval;
	return ps_err(ctx, "this pktscope was built without libmicrohttpd, so it has no HTTP server; 'serve textfile PATH' works (rebuild with libmicrohttpd-dev installed for 'serve listen')");
}

#endif

static int do_serve(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *textfile = ps_arg_str(args, "textfile", NULL);
	const char *listen = ps_arg_str(args, "listen", NULL);
	uint64_t count = ps_arg_u64(args, "count", 0);

	ctx->metric_top = (size_t)ps_arg_u64(args, "top", PS_METRIC_TOP_DEFAULT);
	if (geteuid())
		ps_warn(ctx, "serve runs as uid %u, but the pins are root's (mode 0600): it will see no attachment",
			(unsigned)geteuid());
	if (textfile && listen)
		return ps_usage_err(ctx, "serve: give 'listen' or 'textfile', not both");
	if (textfile)
		return serve_textfile(ctx, textfile,
				      ps_arg_u64(args, "interval",
						 TEXTFILE_INTERVAL_NS), count);
	if (count)
		return ps_usage_err(ctx, "serve: 'count' goes with 'textfile'");
	return serve_http(ctx, listen ? listen : DEFAULT_LISTEN,
			  ps_arg_u64(args, "interval", HTTP_INTERVAL_NS));
}

static const struct ps_arg_spec serve_args[] = {
	{ "listen", PS_KIND_WORD, 0, "ADDR:PORT",
	  "HTTP address (default 127.0.0.1:9877; port 0: any free one)" },
	{ "textfile", PS_KIND_FILE, 0, "PATH",
	  "write PATH (for node_exporter's textfile collector) instead" },
	{ "interval", PS_KIND_DURATION, 0, NULL,
	  "collect at most this often (default 5s; textfile: rewrite period, 15s)",
	  NULL, 0, 3600000000000ULL },
	{ "top", PS_KIND_COUNT, 0, "N",
	  "per-source series a plugin may give (default 20)", NULL, 1, 1000 },
	{ "count", PS_KIND_COUNT, 0, NULL,
	  "textfile: stop after N writes", NULL, 1, 0 },
	{ 0 }
};

const struct ps_cmd ps_serve_cmd = {
	"serve", "Prometheus metrics over HTTP, or a textfile for node_exporter",
	serve_args, do_serve, NULL, PS_CMD_STREAM,
};
