// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A session of pktscope: its context with the built-ins registered first,
 * so that a plugin named like one is refused; plugins come after
 * (ps_load_plugins), and all leave with the context.
 */
#include <stdlib.h>

#include "internal.h"
#include "builtins.h"
#include "registry.h"
#include "session.h"

struct ps_ctx *ps_ctx_new(const char *progname)
{
	struct ps_ctx *ctx = calloc(1, sizeof(*ctx));
	const struct ps_object *b;
	size_t nb;

	if (!ctx)
		return NULL;
	ctx->progname = progname;
	ctx->bpffs = "/sys/fs/bpf";
	ps_out_init(ctx, stdout);
	b = ps_builtin_objects(&nb);
	for (size_t i = 0; i < nb; i++) {
		if (!ps_registry_add(ctx, &b[i])) {
			ps_ctx_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

void ps_ctx_free(struct ps_ctx *ctx)
{
	if (!ctx)
		return;
	ps_registry_clear(ctx);
	free(ctx->plugin_path);
	free(ctx->w.line);
	free(ctx);
}
