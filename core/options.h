/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The global options (-j, -d, --bpffs DIR, ...): one table. */
#ifndef PKTSCOPE_OPTIONS_H
#define PKTSCOPE_OPTIONS_H

#include <stdbool.h>

struct ps_ctx;

enum ps_opt_id {
	PS_OPT_JSON, PS_OPT_PRETTY, PS_OPT_DEBUG, PS_OPT_QUIET, PS_OPT_VERSION,
	PS_OPT_HELP, PS_OPT_PLUGIN_PATH, PS_OPT_BPFFS, PS_OPT_COUNT
};
/* a global option: -short, --long[=VALUE] or --long VALUE */
struct ps_global_opt {
	char short_name;	/* 0: none */
	const char *long_name;	/* without the dashes */
	const char *metavar;	/* takes a value; NULL: a flag */
	const char *help;
	bool startup_only;	/* only on the command line (--plugin-path) */
};
extern const struct ps_global_opt ps_global_opts[];	/* PS_OPT_COUNT */

bool ps_is_option_word(const char *word);
int ps_match_long_option(const char *word);	/* index, -1 none, -2 ambiguous */

/* what -V and -h ask for: the line does something else than a command */
enum { PS_OPTS_NONE, PS_OPTS_VERSION, PS_OPTS_HELP };
/*
 * Options anywhere on the line until `--`; the other words stay in order
 * in *rest (a new array of the same strings, the caller frees it).
 * at_startup: --plugin-path is allowed (it decides what loads).
 */
int ps_parse_options(struct ps_ctx *ctx, int argc, char **argv,
		     bool at_startup, int *special, int *nrest, char ***rest);
/* the binary's command line: -PS_OPTS_VERSION, -PS_OPTS_HELP, or as above */
int ps_main_options(struct ps_ctx *ctx, int *argc, char ***argv);

/* a command's own options last for that command only */
struct ps_opt_state {
	bool json, pretty, debug, quiet;
	const char *bpffs;
};
void ps_opts_save(struct ps_ctx *ctx, struct ps_opt_state *s);
void ps_opts_restore(struct ps_ctx *ctx, const struct ps_opt_state *s);

#endif
