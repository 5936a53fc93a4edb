// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One way to run a command: argv (one-shot), batch lines and REPL lines all
 * end in ps_run_argv(), which takes per-command options, finds the object
 * and the verb by unambiguous prefix, parses the arguments against the
 * verb's declaration and runs it.  Nothing here exits the process.
 * Objects and verbs are looked up in the registry (registry.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "cmd.h"
#include "help.h"
#include "options.h"
#include "registry.h"

int ps_dispatch(struct ps_ctx *ctx, int argc, char **argv)
{
	const struct ps_object *obj = NULL;
	const struct ps_cmd *cmd;
	struct ps_args *args;
	char path[256];
	int r;

	if (argc < 1)
		return ps_print_help(ctx, NULL, NULL);
	r = ps_match_object(ctx, argv[0], &obj);
	if (r)
		return r;
	if (obj->alias_object && !obj->self)
		return ps_err(ctx, "'%s' is '%s %s', and the %s plugin is not loaded",
			      obj->name, obj->alias_object, obj->alias_verb,
			      obj->alias_object);
	argc--;
	argv++;
	r = ps_resolve_cmd(ctx, obj, &argc, &argv, &cmd, path, sizeof(path),
			   false);
	if (r)
		return r;
	if (cmd == &ps_help_verb)
		return ps_print_help(ctx, path, NULL);
	if (!cmd) {
		cmd = strchr(path, ' ') ? NULL : ps_default_cmd(obj);
		if (!cmd)
			return ps_print_help(ctx, path, NULL);
		size_t off = strlen(path);
		snprintf(path + off, sizeof(path) - off, " %s", cmd->name);
	}
	/* `status help` as `plugin list help`; a hidden command's words
	 * are its data */
	if (argc == 1 && !strcmp(argv[0], "help") && !obj->hidden)
		return ps_print_help(ctx, path, NULL);

	args = calloc(1, sizeof(*args));
	if (!args)
		return ps_err(ctx, "out of memory");
	r = ps_args_parse(ctx, path, cmd->args, argc, argv, args);
	if (!r && (cmd->flags & PS_CMD_BPF))
		r = ps_need_root(ctx, path);
	if (!r && (cmd->flags & PS_CMD_BPF))
		r = pins_bpffs_check(ctx);	/* a --bpffs that is not one */
	if (!r) {
		ctx->plugin = obj->plugin ? obj->plugin : obj->alias_plugin;
		ctx->object = obj;
		/* a stream is JSON Lines from the start: stopped before its
		 * first record, it printed nothing, not an empty document */
		if (cmd->flags & PS_CMD_STREAM)
			ctx->w.stream = true;
		ps_stop_reset();
		r = cmd->run(ctx, args);
		ctx->plugin = NULL;
		ctx->object = NULL;
	}
	free(args);
	return r;
}

int ps_run_argv(struct ps_ctx *ctx, int argc, char **argv)
{
	struct ps_opt_state saved;
	char **rest = NULL;
	int special, nrest, r;

	ps_opts_save(ctx, &saved);
	r = ps_parse_options(ctx, argc, argv, false, &special, &nrest, &rest);
	if (!r) {
		if (special == PS_OPTS_VERSION)
			r = ps_dispatch(ctx, 1, (char *[]){ "version", NULL });
		else if (special == PS_OPTS_HELP)
			r = ps_print_help(ctx, NULL, NULL);
		else
			r = ps_dispatch(ctx, nrest, rest);
	}
	free(rest);
	ps_out_doc_end(ctx);
	ps_opts_restore(ctx, &saved);
	return r;
}


/* ---- lines ---- */

void ps_free_tokens(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Shell-like words: blanks split, '' and "" quote, \ escapes, # comments. */
int ps_tokenize(const char *line, int *argc_out, char ***argv_out, char *err,
		size_t errlen)
{
	size_t cap = 8, n = 0, len = strlen(line);
	char **argv = calloc(cap + 1, sizeof(char *));
	char *word = malloc(len + 1);
	const char *p = line;

	if (!argv || !word)
		goto oom;
	for (;;) {
		size_t wl = 0;
		bool have = false;
		char quote = 0;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		while (*p && (quote || !isspace((unsigned char)*p))) {
			if (quote) {
				if (*p == quote) {
					quote = 0;
				} else if (*p == '\\' && quote == '"' && p[1]) {
					word[wl++] = *++p;
				} else {
					word[wl++] = *p;
				}
			} else if (*p == '\'' || *p == '"') {
				quote = *p;
				have = true;
			} else if (*p == '\\' && p[1]) {
				word[wl++] = *++p;
			} else {
				word[wl++] = *p;
			}
			p++;
		}
		if (quote) {
			snprintf(err, errlen, "unterminated %s quote",
				 quote == '"' ? "double" : "single");
			ps_free_tokens((int)n, argv);
			free(word);
			return -1;
		}
		if (!wl && !have)
			continue;
		word[wl] = '\0';
		if (n == cap) {
			char **q = realloc(argv, (cap * 2 + 1) * sizeof(char *));

			if (!q)
				goto oom;
			argv = q;
			cap *= 2;
		}
		argv[n] = strdup(word);
		if (!argv[n])
			goto oom;
		n++;
		argv[n] = NULL;
	}
	free(word);
	*argc_out = (int)n;
	*argv_out = argv;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	if (argv)
		ps_free_tokens((int)n, argv);
	free(word);
	return -1;
}

int ps_run_line(struct ps_ctx *ctx, const char *line)
{
	char err[128];
	char **argv;
	int argc, r;

	if (strlen(line) > PS_MAX_LINE) {
		r = ps_usage_err(ctx, "line longer than %d bytes", PS_MAX_LINE);
		ps_out_doc_end(ctx);
		return r;
	}
	if (ps_tokenize(line, &argc, &argv, err, sizeof(err))) {
		r = ps_usage_err(ctx, "%s", err);
		ps_out_doc_end(ctx);
		return r;
	}
	r = argc ? ps_run_argv(ctx, argc, argv) : PS_OK;
	ps_free_tokens(argc, argv);
	return r;
}
