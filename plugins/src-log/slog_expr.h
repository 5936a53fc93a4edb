/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* src-log's tcpdump expression: compiled, linked in the kernel, shown. */
#ifndef PKTSCOPE_SLOG_EXPR_H
#define PKTSCOPE_SLOG_EXPR_H

#include <pktscope/plugin.h>
#include "src_log.h"

#define SLOG_EXPR_ARG							\
	{ "expr", PS_KIND_WORD, 0, "EXPR",				\
	  "tcpdump expression (pcap-filter(7)), run in the kernel" }

/*
 * Compiles expr (NULL: none) for att's hook and links it in place of the
 * stub, replacing the one linked before; sets or clears SLOG_F_EXPR and
 * the text in c.  Nothing changes when the expression is refused.
 */
int slog_expr_apply(struct ps_ctx *ctx, const struct ps_attachment *att,
		    const char *expr, struct slog_config *c);

#endif
