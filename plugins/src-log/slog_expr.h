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
 * Compiles expr (NULL: none) for att's hook and links it into the prog
 * array at key (SLOG_EXPR_SLOT: the attachment's, SLOG_REXPR_SLOT + i:
 * reader slot i's), replacing the one linked before; sets or clears
 * SLOG_F_EXPR in *flags and the text (SLOG_EXPR_MAX bytes).  Nothing
 * changes when the expression is refused.
 */
int slog_expr_apply(struct ps_ctx *ctx, const struct ps_attachment *att,
		    const char *expr, __u32 key, char *text, __u32 *flags);

#endif
