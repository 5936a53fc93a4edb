// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Help at every level (`help OBJECT COMMAND...`, `OBJECT ... help`) and the
 * man page's COMMANDS section, both from the commands' declarations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "help.h"
#include "options.h"
#include "registry.h"

static void help_options(struct ps_ctx *ctx)
{
	static const struct ps_col cols[] = {
		{ "option", "", PS_LEFT },
		{ "help", "", PS_LEFT },
	};
	struct ps_table *t;

	ps_out_text(ctx, "\nOptions:\n");
	ctx->w.indent += 2;
	t = ps_table_new(ctx, "options", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < PS_OPT_COUNT; i++) {
		const struct ps_global_opt *o = &ps_global_opts[i];
		char name[64];

		if (o->short_name)
			snprintf(name, sizeof(name), "-%c, --%s", o->short_name,
				 o->long_name);
		else
			snprintf(name, sizeof(name), "--%s%s%s", o->long_name,
				 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		ps_table_str(t, name);
		ps_table_str(t, o->help);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ctx->w.indent -= 2;
}

static void help_top(struct ps_ctx *ctx)
{
	static const struct ps_col cols[] = {
		{ "name", "", PS_LEFT },
		{ "summary", "", PS_LEFT },
	};
	const struct ps_object *objs;
	const char *pn = ctx->progname;
	struct ps_table *t;
	size_t n;

	ps_out_text(ctx,
		    "Usage: %s [OPTIONS] OBJECT COMMAND [ARGS...]\n"
		    "       %s [OPTIONS]                  interactive shell\n"
		    "       %s [OPTIONS] batch file FILE|-\n"
		    "       %s help OBJECT [COMMAND]\n\n"
		    "Objects and commands match by unambiguous prefix.\n\n",
		    pn, pn, pn, pn);
	ctx->w.indent += 2;
	t = ps_table_new(ctx, "objects", cols, ARRAY_SIZE(cols));
	objs = ps_objects(ctx, &n);
	for (size_t i = 0; i < n; i++) {
		if (objs[i].hidden)
			continue;
		ps_table_str(t, objs[i].name);
		ps_table_str(t, objs[i].summary);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ctx->w.indent -= 2;
	help_options(ctx);
}

static void help_cmd_args(struct ps_ctx *ctx, const struct ps_arg_spec *specs)
{
	static const struct ps_col cols[] = {
		{ "keyword", "ARGUMENT", PS_LEFT },
		{ "kind", NULL, PS_LEFT },
		{ "help", "", PS_LEFT },
	};
	struct ps_table *t;

	if (!specs || !specs[0].keyword)
		return;
	ps_out_text(ctx, "\nArguments:\n");
	ctx->w.indent += 2;
	t = ps_table_new(ctx, "arguments", cols, ARRAY_SIZE(cols));
	for (; specs->keyword; specs++) {
		char mv[256], kw[300];

		if (specs->flags & PS_ARG_POSITIONAL)
			snprintf(kw, sizeof(kw), "%s",
				 ps_kind_metavar(specs, mv, sizeof(mv)));
		else if (specs->kind == PS_KIND_FLAG)
			snprintf(kw, sizeof(kw), "%s", specs->keyword);
		else
			snprintf(kw, sizeof(kw), "%s %s", specs->keyword,
				 ps_kind_metavar(specs, mv, sizeof(mv)));
		ps_table_str(t, ctx->json ? specs->keyword : kw);
		ps_table_str(t, ps_kind_name(specs->kind));
		ps_table_str(t, specs->help ? specs->help : "");
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ctx->w.indent -= 2;
}

void ps_help_cmd_rows(struct ps_ctx *ctx, struct ps_table *t,
		      const char *path, const struct ps_cmd *cmds)
{
	for (; cmds && cmds->name; cmds++) {
		char full[256], syn[512];

		snprintf(full, sizeof(full), "%s %s", path, cmds->name);
		if (cmds->sub) {
			ps_help_cmd_rows(ctx, t, full, cmds->sub);
			continue;
		}
		ps_synopsis(cmds->args, syn, sizeof(syn));
		if (!ctx->json) {
			/* synopses are long: each on its line, summary below */
			ps_out_text(ctx, "%s %s%s%s\n      %s\n", ctx->progname,
				    full, *syn ? " " : "", syn,
				    cmds->summary ? cmds->summary : "");
			continue;
		}
		ps_table_str(t, full);
		ps_table_str(t, syn);
		ps_table_str(t, cmds->summary ? cmds->summary : "");
		ps_table_end_row(t);
	}
}

/* help on OBJECT [COMMAND...]: words as given, prefixes allowed */
static int help_words(struct ps_ctx *ctx, int argc, char **argv)
{
	const struct ps_object *obj;
	const struct ps_cmd *cmd;
	char path[256];
	int r;

	r = ps_match_object(ctx, argv[0], &obj);
	if (r)
		return r;
	int n = argc - 1;
	char **rest = argv + 1;

	r = ps_resolve_cmd(ctx, obj, &n, &rest, &cmd, path, sizeof(path), false);
	if (r)
		return r;
	if (cmd && cmd != &ps_help_verb && cmd->run) {
		char syn[512];

		ps_synopsis(cmd->args, syn, sizeof(syn));
		ps_out_text(ctx, "Usage: %s %s%s%s\n\n%s\n", ctx->progname, path,
			    *syn ? " " : "", syn, cmd->summary ? cmd->summary : "");
		if (ctx->json) {
			ps_out_str(ctx, "command", NULL, path);
			ps_out_str(ctx, "synopsis", NULL, syn);
			ps_out_str(ctx, "summary", NULL, cmd->summary);
		}
		if (cmd->flags & PS_CMD_BPF)
			ps_out_text(ctx, "Needs root (CAP_BPF and CAP_NET_ADMIN).\n");
		help_cmd_args(ctx, cmd->args);
	} else {
		static const struct ps_col jcols[] = {
			{ "command", NULL, PS_LEFT },
			{ "synopsis", NULL, PS_LEFT },
			{ "summary", NULL, PS_LEFT },
		};
		struct ps_table *t = NULL;

		ps_out_text(ctx, "%s: %s\n\n", obj->name, obj->summary);
		if (ctx->json)
			ps_out_str(ctx, "object", NULL, obj->name);
		if (ctx->json)
			t = ps_table_new(ctx, "commands", jcols, ARRAY_SIZE(jcols));
		/* a group (`rule`) lists its own sub-commands */
		ps_help_cmd_rows(ctx, t, path, ps_path_cmds(obj, path));
		if (t)
			ps_table_end(t);
		ps_out_text(ctx, "\nSee '%s help %s COMMAND' for a command's arguments.\n",
			    ctx->progname, obj->name);
	}
	return PS_OK;
}

int ps_print_help(struct ps_ctx *ctx, const char *path, const char *unused)
{
	char buf[256], *words[PS_MAX_ARGS], *save = NULL;
	int n = 0;

	(void)unused;
	if (!path) {
		help_top(ctx);
		return PS_OK;
	}
	/* a path the core made of names: its words split on blanks */
	if (ps_str_copy(buf, sizeof(buf), path))
		return ps_usage_err(ctx, "command path too long");
	for (char *w = strtok_r(buf, " ", &save); w && n < PS_MAX_ARGS;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (!n) {
		help_top(ctx);
		return PS_OK;
	}
	return help_words(ctx, n, words);
}

static int do_help(struct ps_ctx *ctx, const struct ps_args *args)
{
	size_t n = ps_arg_count(args, "words");
	char *words[PS_MAX_ARGS];

	if (!n)
		return ps_print_help(ctx, NULL, NULL);
	for (size_t i = 0; i < n && i < PS_MAX_ARGS; i++)
		words[i] = (char *)ps_arg_nth(args, "words", i)->str;
	return help_words(ctx, (int)n, words);
}

static const struct ps_arg_spec help_args[] = {
	{ "words", PS_KIND_WORD, PS_ARG_POSITIONAL | PS_ARG_REPEAT,
	  "OBJECT [COMMAND]",
	  "what to explain, by prefix ('OBJECT COMMAND help' says the same)" },
	{ 0 }
};

const struct ps_cmd ps_help_cmd = {
	"help", "help on objects and commands", help_args, do_help,
};

/* ---- __man: the COMMANDS section of pktscope(8) ---- */

static void roff(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_one(FILE *f, const char *full, const struct ps_cmd *cmd)
{
	char syn[512];

	ps_synopsis(cmd->args, syn, sizeof(syn));
	fputs(".TP\n.B pktscope ", f);
	roff(f, full);
	if (*syn) {
		fputc(' ', f);
		roff(f, syn);
	}
	fputc('\n', f);
	roff(f, cmd->summary);
	/* a sentence of its own: summaries have no final period */
	if (cmd->flags & PS_CMD_BPF)
		fputs(".\nNeeds root.", f);
	fputc('\n', f);
	for (const struct ps_arg_spec *a = cmd->args; a && a->keyword; a++) {
		char mv[256];

		fputs(".RS\n.TP\n.I ", f);
		if (a->flags & PS_ARG_POSITIONAL)
			roff(f, ps_kind_metavar(a, mv, sizeof(mv)));
		else
			roff(f, a->keyword);
		fputc('\n', f);
		roff(f, a->help);
		fputs("\n.RE\n", f);
	}
}

static void man_cmds(FILE *f, const char *path, const struct ps_cmd *cmds)
{
	for (; cmds && cmds->name; cmds++) {
		char full[256];

		snprintf(full, sizeof(full), "%s %s", path, cmds->name);
		if (cmds->sub)
			man_cmds(f, full, cmds->sub);
		else
			man_one(f, full, cmds);
	}
}

static int do_man(struct ps_ctx *ctx, const struct ps_args *args)
{
	FILE *f = ctx->w.f;
	const struct ps_object *objs;
	size_t n;

	(void)args;
	objs = ps_objects(ctx, &n);
	for (size_t i = 0; i < n; i++) {
		const struct ps_object *o = &objs[i];

		if (o->hidden)
			continue;
		fputs(".SS ", f);
		roff(f, o->name);
		fputs("\n", f);
		roff(f, o->summary);
		fputs("\n", f);
		if (o->self) {
			man_one(f, o->name, o->self);
			continue;
		}
		man_cmds(f, o->name, ps_object_cmds(o));
	}
	ctx->w.stream = true;
	return PS_OK;
}

const struct ps_cmd ps_man_cmd = {
	"__man", "pktscope(8) COMMANDS section in roff", NULL, do_man,
};
