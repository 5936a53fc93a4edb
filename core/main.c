// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pktscope: a thin binary over libpktscope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "cmd.h"
#include "loader.h"
#include "options.h"
#include "repl.h"
#include "session.h"

static void complete_plugin_path(struct ps_ctx *ctx, int argc, char **argv)
{
	for (int i = 0; i < argc && argv[i][0] == '-'; i++) {
		const char *dir = NULL;

		if (!strcmp(argv[i], "--plugin-path") && i + 2 < argc)
			dir = argv[i + 1];
		else if (!strncmp(argv[i], "--plugin-path=", 14))
			dir = argv[i] + 14;
		if (dir && *dir) {
			free(ctx->plugin_path);
			ctx->plugin_path = strdup(dir);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct ps_ctx *ctx;
	int r;

	ctx = ps_ctx_new("pktscope");
	if (!ctx) {
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	argc--;
	argv++;
	r = ps_main_options(ctx, &argc, &argv);
	if (r > 0) {
		ps_out_doc_end(ctx);
		ps_ctx_free(ctx);
		return r;
	}
	ps_signals_install();
	ps_libbpf_log_setup(ctx);
	/* completing `pktscope --plugin-path DIR ...` needs DIR's plugins */
	if (argc > 0 && !strcmp(argv[0], "__complete"))
		complete_plugin_path(ctx, argc - 1, argv + 1);
	ps_load_plugins(ctx);

	if (r == -1) {			/* -V */
		r = ps_run_line(ctx, "version");
	} else if (r == -2) {		/* -h, after an object: its help */
		char *words[PS_MAX_ARGS + 1] = { "help" };
		int n = 1;

		for (int i = 0; i < argc && n < PS_MAX_ARGS; i++)
			words[n++] = argv[i];
		r = ps_run_argv(ctx, n, words);
	} else if (argc > 0) {
		r = ps_run_argv(ctx, argc, argv);
	} else if (isatty(STDIN_FILENO)) {
		r = ps_repl(ctx);
	} else {
		/* commands on stdin without a terminal: like batch */
		r = ps_run_line(ctx, "batch file -");
	}
	ps_ctx_free(ctx);
	free(argv);		/* ps_main_options() made it */
	return r;
}
