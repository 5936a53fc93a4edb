/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef PKTSCOPE_BATCH_H
#define PKTSCOPE_BATCH_H

struct ps_ctx;

/* each line of file ("-": stdin) as a command, until the first error */
int ps_run_batch(struct ps_ctx *ctx, const char *file);

#endif
