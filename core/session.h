/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A session: a context with the built-in objects registered. */
#ifndef PKTSCOPE_SESSION_H
#define PKTSCOPE_SESSION_H

struct ps_ctx;

struct ps_ctx *ps_ctx_new(const char *progname);
void ps_ctx_free(struct ps_ctx *ctx);

#endif
