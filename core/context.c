// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The invocation context: its accessors, errors and warnings, privileges. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "internal.h"

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

/* every line "debug: ...", so -d output greps apart from the rest */
void ps_debug_text(struct ps_ctx *ctx, const char *text)
{
	if (!ctx->debug)
		return;
	fflush(ctx->w.f);
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(stderr, "debug: %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void ps_debug(struct ps_ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!ctx->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps_debug_text(ctx, msg);
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
