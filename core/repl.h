/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef PKTSCOPE_REPL_H
#define PKTSCOPE_REPL_H

struct ps_ctx;
int ps_repl(struct ps_ctx *ctx);

#endif
