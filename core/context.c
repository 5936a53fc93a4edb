// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The invocation context, errors and warnings, and stop requests. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "internal.h"

struct ps_ctx *ps_ctx_new(const char *progname)
{
	struct ps_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->progname = progname;
	ctx->bpffs = "/sys/fs/bpf";
	ps_out_init(ctx, stdout);
	return ctx;
}

void ps_ctx_free(struct ps_ctx *ctx)
{
	if (!ctx)
		return;
	ps_unload_plugins(ctx);
	free(ctx->plugin_path);
	free(ctx->w.line);
	free(ctx);
}

int ps_str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

bool ps_json(const struct ps_ctx *ctx)
{
	return ctx->json;
}

bool ps_verbose(const struct ps_ctx *ctx)
{
	return ctx->debug;
}

const char *ps_bpffs(const struct ps_ctx *ctx)
{
	return ctx->bpffs;
}

const struct ps_plugin *ps_current_plugin(const struct ps_ctx *ctx)
{
	return ctx->plugin;
}

void ps_err_set(struct ps_ctx *ctx, const char *msg)
{
	snprintf(ctx->last_error, sizeof(ctx->last_error), "%s", msg);
}

static void report(struct ps_ctx *ctx, const char *fmt, va_list ap)
{
	char msg[512];

	int off = ctx->err_where ?
			  snprintf(msg, sizeof(msg), "%s: ", ctx->err_where) : 0;

	if (off < 0 || (size_t)off >= sizeof(msg))
		off = 0;
	vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	ps_err_set(ctx, msg);
	/* stdout first, so interleaved output reads in order */
	fflush(ctx->w.f);
	fprintf(stderr, "Error: %s\n", msg);
	ps_out_error_json(ctx, msg);
}

int ps_err(struct ps_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ctx, fmt, ap);
	va_end(ap);
	return PS_ERR;
}

int ps_usage_err(struct ps_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ctx, fmt, ap);
	va_end(ap);
	return PS_USAGE;
}

void ps_warn(struct ps_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	fflush(ctx->w.f);
	fputs("Warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ps_debug(struct ps_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->debug)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- stopping ---- */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t signals_accepted;	/* PS_SIG_* */
static volatile sig_atomic_t signals_pending;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_request_signal(int sig)
{
	unsigned int req = sig == SIGHUP ? PS_SIG_REOPEN : PS_SIG_COUNTERS;

	if (signals_accepted & req)
		signals_pending |= req;
	else if (sig == SIGHUP)
		stop_requested = 1;
	/* an unaccepted SIGUSR1 is ignored: it must not kill a reader */
}

void ps_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking poll() must return to see the request */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_request_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void ps_stop_reset(void)
{
	stop_requested = 0;
	signals_accepted = 0;
	signals_pending = 0;
}

void ps_stop_request(void)
{
	stop_requested = 1;
}

bool ps_should_stop(void)
{
	return stop_requested;
}

void ps_signals_accept(unsigned int which)
{
	signals_accepted = (sig_atomic_t)(which & (PS_SIG_REOPEN | PS_SIG_COUNTERS));
}

unsigned int ps_signals_take(void)
{
	sigset_t set, old;
	unsigned int got;

	/* read and clear as one step against the handler */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	got = (unsigned int)signals_pending;
	signals_pending = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return got;
}

bool ps_sleep(uint64_t ns)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ns / 1000000000ULL);
	end.tv_nsec += (long)(ns % 1000000000ULL);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!stop_requested) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return true;
		/* short naps keep Ctrl-C prompt even if a signal is missed */
		struct timespec nap = { 0, 50 * 1000000L };
		nanosleep(&nap, NULL);
	}
	return false;
}

/* ---- privileges ---- */

static bool have_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const int cap_bpf = 39;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	bool net_admin = data[CAP_NET_ADMIN / 32].effective &
			 (1U << (CAP_NET_ADMIN % 32));
	bool bpf = data[cap_bpf / 32].effective & (1U << (cap_bpf % 32));
	bool sys_admin = data[CAP_SYS_ADMIN / 32].effective &
			 (1U << (CAP_SYS_ADMIN % 32));

	return net_admin && (bpf || sys_admin);
}

int ps_need_root(struct ps_ctx *ctx, const char *what)
{
	if (have_caps())
		return PS_OK;
	return ps_err(ctx, "'%s' needs root (CAP_BPF and CAP_NET_ADMIN); run it with sudo",
		      what);
}

void ps_metric(struct ps_ctx *ctx, const char *name, enum ps_metric_type type,
	       const char *help, double value, const struct ps_label *labels,
	       size_t nlabels)
{
	if (ctx->metric_sink)
		ctx->metric_sink(ctx, ctx->metric_data, name, type, help,
				 value, labels, nlabels);
}
