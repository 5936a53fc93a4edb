/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Help from the commands' declarations. */
#ifndef PKTSCOPE_HELP_H
#define PKTSCOPE_HELP_H

#include <pktscope/plugin.h>

/* path: NULL (the top), or an object and verbs by their full names */
int ps_print_help(struct ps_ctx *ctx, const char *path, const char *unused);
/* a synopsis and summary per verb below path (a table under -j) */
void ps_help_cmd_rows(struct ps_ctx *ctx, struct ps_table *t, const char *path,
		      const struct ps_cmd *cmds);

#endif
