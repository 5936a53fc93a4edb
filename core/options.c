// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The global options, in one table that parsing, help and completion
 * read; taken anywhere on a line, as bpftool takes them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "options.h"

void ps_opts_save(struct ps_ctx *ctx, struct ps_opt_state *s)
{
	s->json = ctx->json;
	s->pretty = ctx->pretty;
	s->debug = ctx->debug;
	s->quiet = ctx->quiet;
	s->bpffs = ctx->bpffs;
}

void ps_opts_restore(struct ps_ctx *ctx, const struct ps_opt_state *s)
{
	ctx->json = s->json;
	ctx->pretty = s->pretty;
	ctx->debug = s->debug;
	ctx->quiet = s->quiet;
	ctx->bpffs = s->bpffs;
}

/* The global options: parsing, help and completion all read this table. */
const struct ps_global_opt ps_global_opts[] = {
	[PS_OPT_JSON] = { 'j', "json", NULL, "JSON output (streams: JSON Lines)" },
	[PS_OPT_PRETTY] = { 'p', "pretty", NULL, "indented JSON" },
	[PS_OPT_DEBUG] = { 'd', "debug", NULL, "libbpf's log and the core's decisions (stderr, 'debug: ')" },
	[PS_OPT_QUIET] = { 'q', "quiet", NULL, "no warnings" },
	[PS_OPT_VERSION] = { 'V', "version", NULL, "version and exit" },
	[PS_OPT_HELP] = { 'h', "help", NULL, "this help" },
	[PS_OPT_PLUGIN_PATH] = { 0, "plugin-path", "DIR[:DIR]",
				 "look for plugins here first", true },
	[PS_OPT_BPFFS] = { 0, "bpffs", "DIR", "bpffs mount (default /sys/fs/bpf)" },
	{ 0 }
};

/* A word the option parser takes: -x..., --x...; not "-", "--" or "-1". */
bool ps_is_option_word(const char *w)
{
	return w[0] == '-' && w[1] && strcmp(w, "--") &&
	       !isdigit((unsigned char)w[1]) &&
	       !(w[1] == '.' && isdigit((unsigned char)w[2]));
}

/* the table entry for "--name[=...]" by unambiguous prefix; -1, -2 */
int ps_match_long_option(const char *word)
{
	const char *names[PS_OPT_COUNT];
	char name[64];
	const char *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);

	if (len < 2 || len - 2 >= sizeof(name))
		return -1;
	memcpy(name, word + 2, len - 2);
	name[len - 2] = '\0';
	for (size_t i = 0; i < PS_OPT_COUNT; i++)
		names[i] = ps_global_opts[i].long_name;
	return ps_match_word(name, names, PS_OPT_COUNT);
}

static int set_option(struct ps_ctx *ctx, int id, const char *val,
		      bool at_startup, int *special)
{
	switch (id) {
	case PS_OPT_JSON: ctx->json = true; break;
	case PS_OPT_PRETTY: ctx->json = ctx->pretty = true; break;
	case PS_OPT_DEBUG: ctx->debug = true; break;
	case PS_OPT_QUIET: ctx->quiet = true; break;
	case PS_OPT_VERSION: *special = PS_OPTS_VERSION; break;
	case PS_OPT_HELP: *special = PS_OPTS_HELP; break;
	case PS_OPT_PLUGIN_PATH: {
		char *p;

		if (!at_startup)
			return ps_usage_err(ctx,
				"--plugin-path is only taken at start-up");
		p = strdup(val);
		if (!p)
			return ps_err(ctx, "out of memory");
		free(ctx->plugin_path);
		ctx->plugin_path = p;
		break;
	}
	case PS_OPT_BPFFS: ctx->bpffs = val; break;
	}
	return PS_OK;
}

/* one long option at argv[*i]; its value may be the next word */
static int long_option(struct ps_ctx *ctx, int argc, char **argv, int *i,
		       bool at_startup, int *special)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	const struct ps_global_opt *o;
	const char *val = NULL;
	int m = ps_match_long_option(a);

	if (m == -2)
		return ps_usage_err(ctx, "ambiguous option '%s'", a);
	if (m < 0) {
		const char *names[PS_OPT_COUNT];
		char name[64];

		for (size_t k = 0; k < PS_OPT_COUNT; k++)
			names[k] = ps_global_opts[k].long_name;
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? eq - a - 2 : (int)strlen(a) - 2), a + 2);
		const char *s = ps_suggest(name, names, PS_OPT_COUNT);

		if (s)
			return ps_usage_err(ctx,
				"unknown option '%s'; did you mean '--%s'?", a, s);
		return ps_usage_err(ctx, "unknown option '%s'", a);
	}
	o = &ps_global_opts[m];
	if (o->metavar) {
		if (eq)
			val = eq + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		if (!val || !*val)
			return ps_usage_err(ctx, "option '--%s' needs a directory",
					    o->long_name);
		if (strlen(val) >= 4096)
			return ps_usage_err(ctx,
				"option '--%s': the value is too long (at most 4095 bytes)",
				o->long_name);
	} else if (eq) {
		return ps_usage_err(ctx, "option '--%s' takes no value",
				    o->long_name);
	}
	return set_option(ctx, m, val, at_startup, special);
}

static int short_options(struct ps_ctx *ctx, const char *a, bool at_startup,
			 int *special)
{
	for (const char *p = a + 1; *p; p++) {
		size_t k = 0;

		while (k < PS_OPT_COUNT && ps_global_opts[k].short_name != *p)
			k++;
		if (k == PS_OPT_COUNT)
			return ps_usage_err(ctx,
				"unknown option '-%c' (see '%s help')",
				*p, ctx->progname);
		int r = set_option(ctx, (int)k, NULL, at_startup, special);

		if (r)
			return r;
	}
	return PS_OK;
}

/*
 * Words after `__complete` are a line being typed, not options: they are
 * its data.
 */
int ps_parse_options(struct ps_ctx *ctx, int argc, char **argv,
		     bool at_startup, int *special, int *nrest, char ***rest)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	bool plain = false;
	int n = 0, r = PS_OK;

	*special = PS_OPTS_NONE;
	if (!out)
		return ps_err(ctx, "out of memory");
	for (int i = 0; i < argc && !r; i++) {
		char *a = argv[i];

		if (!plain && !strcmp(a, "--")) {
			/* at start-up the line is parsed again: keep the mark */
			if (at_startup)
				out[n++] = a;
			plain = true;
			continue;
		}
		if (plain || !ps_is_option_word(a)) {
			out[n++] = a;
			/* a hidden command's words are its data */
			if (n == 1 && !strcmp(a, "__complete"))
				plain = true;
			continue;
		}
		if (a[1] == '-')
			r = long_option(ctx, argc, argv, &i, at_startup, special);
		else
			r = short_options(ctx, a, at_startup, special);
	}
	if (r) {
		free(out);
		return r;
	}
	*nrest = n;
	*rest = out;
	return PS_OK;
}

int ps_main_options(struct ps_ctx *ctx, int *argc, char ***argv)
{
	int special, r;

	r = ps_parse_options(ctx, *argc, *argv, true, &special, argc, argv);
	if (r)
		return r;
	if (special == PS_OPTS_VERSION)
		return -PS_OPTS_VERSION;
	if (special == PS_OPTS_HELP)
		return -PS_OPTS_HELP;
	return PS_OK;
}
