/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Running a command: argv, a line, and the words of a line. */
#ifndef PKTSCOPE_CMD_H
#define PKTSCOPE_CMD_H

#include <stddef.h>

struct ps_ctx;

/* OBJECT COMMAND ARGS..., options already taken */
int ps_dispatch(struct ps_ctx *ctx, int argc, char **argv);
/* a command with its own options, which last for it alone */
int ps_run_argv(struct ps_ctx *ctx, int argc, char **argv);
int ps_run_line(struct ps_ctx *ctx, const char *line);
/* shell-like words: -1 with err set on a bad line */
int ps_tokenize(const char *line, int *argc, char ***argv, char *err,
		size_t errlen);
void ps_free_tokens(int argc, char **argv);

#endif
