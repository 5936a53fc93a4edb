// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One way to run a command: argv (one-shot), batch lines and REPL lines all
 * end in ps_run_argv(), which takes per-command options, finds the object
 * and the verb by unambiguous prefix, parses the arguments against the
 * verb's declaration and runs it.  Nothing here exits the process.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct ps_object builtin_objects[] = {
	{ .name = "plugin", .summary = "list and inspect loaded plugins",
	  .cmds = ps_plugin_cmds },
	{ .name = "feature", .summary = "probe what the kernel offers",
	  .self = &ps_feature_cmd },
	{ .name = "status", .summary = "every pktscope attachment in bpffs",
	  .self = &ps_status_cmd },
	{ .name = "metrics", .summary = "every attachment's metrics (text, JSON)",
	  .self = &ps_metrics_cmd },
	{ .name = "serve", .summary = "Prometheus metrics: HTTP, or a textfile",
	  .self = &ps_serve_cmd },
	{ .name = "help", .summary = "help on objects and commands",
	  .self = &ps_help_cmd },
	{ .name = "version", .summary = "versions, plugin directory, features",
	  .self = &ps_version_cmd },
	{ .name = "completion", .summary = "print the bash or zsh completion script",
	  .self = &ps_completion_cmd },
	{ .name = "batch", .summary = "run commands from a file, one a line",
	  .self = &ps_batch_cmd },
	{ .name = "__complete", .summary = "completion candidates (for scripts)",
	  .self = &ps_complete_cmd, .hidden = true },
	{ .name = "__man", .summary = "generated part of the man page",
	  .self = &ps_man_cmd, .hidden = true },
};

const struct ps_object *ps_builtin_objects(size_t *n)
{
	*n = ARRAY_SIZE(builtin_objects);
	return builtin_objects;
}

const struct ps_cmd *ps_object_cmds(const struct ps_object *obj)
{
	return obj->merged ? obj->merged : obj->cmds;
}

struct ps_object *ps_find_object(struct ps_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nobjects; i++)
		if (!strcmp(ctx->objects[i].name, name))
			return &ctx->objects[i];
	return NULL;
}

/* ---- options ---- */

struct opt_state {
	bool json, pretty, debug, quiet;
	const char *bpffs;
};

static void opts_save(struct ps_ctx *ctx, struct opt_state *s)
{
	s->json = ctx->json;
	s->pretty = ctx->pretty;
	s->debug = ctx->debug;
	s->quiet = ctx->quiet;
	s->bpffs = ctx->bpffs;
}

static void opts_restore(struct ps_ctx *ctx, const struct opt_state *s)
{
	ctx->json = s->json;
	ctx->pretty = s->pretty;
	ctx->debug = s->debug;
	ctx->quiet = s->quiet;
	ctx->bpffs = s->bpffs;
}

enum { OPT_NONE, OPT_VERSION, OPT_HELP };

/* The global options: parsing, help and completion all read this table. */
const struct ps_global_opt ps_global_opts[] = {
	[PS_OPT_JSON] = { 'j', "json", NULL, "JSON output (streams: JSON Lines)" },
	[PS_OPT_PRETTY] = { 'p', "pretty", NULL, "indented JSON" },
	[PS_OPT_DEBUG] = { 'd', "debug", NULL, "libbpf and loader diagnostics" },
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
	case PS_OPT_VERSION: *special = OPT_VERSION; break;
	case PS_OPT_HELP: *special = OPT_HELP; break;
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
 * Options anywhere on the line, as bpftool takes them, until `--`; the
 * other words stay in order in *rest (a new array of the same strings,
 * the caller frees it).  stop_at: a word after which nothing is an option
 * (`__complete`: its words are a line being typed).  at_startup:
 * --plugin-path is allowed (it decides what loads).
 */
static int parse_options(struct ps_ctx *ctx, int argc, char **argv,
			 bool at_startup, int *special, int *nrest,
			 char ***rest)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	bool plain = false;
	int n = 0, r = PS_OK;

	*special = OPT_NONE;
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

	r = parse_options(ctx, *argc, *argv, true, &special, argc, argv);
	if (r)
		return r;
	if (special == OPT_VERSION)
		return -OPT_VERSION;
	if (special == OPT_HELP)
		return -OPT_HELP;
	return PS_OK;
}

/* ---- resolving object and verb ---- */

int ps_match_object(struct ps_ctx *ctx, const char *word,
		    const struct ps_object **out)
{
	*out = NULL;
	const char *names[256];
	size_t n = 0;
	int m;

	for (size_t i = 0; i < ctx->nobjects && n < ARRAY_SIZE(names); i++) {
		if (ctx->objects[i].hidden) {
			if (!strcmp(word, ctx->objects[i].name)) {
				*out = &ctx->objects[i];
				return PS_OK;
			}
			continue;
		}
		names[n++] = ctx->objects[i].name;
	}
	m = ps_match_word(word, names, n);
	if (m == -2) {
		char list[512];

		ps_list_names(word, names, n, list, sizeof(list));
		return ps_usage_err(ctx, "ambiguous object '%s': %s", word, list);
	}
	if (m < 0) {
		const char *s = ps_suggest(word, names, n);

		if (s)
			return ps_usage_err(ctx,
				"unknown object '%s'; did you mean '%s'?", word, s);
		return ps_usage_err(ctx, "unknown object '%s' (see '%s help')",
				    word, ctx->progname);
	}
	*out = ps_find_object(ctx, names[m]);
	return PS_OK;
}

static size_t cmd_names(const struct ps_cmd *cmds, const char **names,
			size_t max)
{
	size_t n = 0;

	for (; cmds && cmds->name && n < max; cmds++)
		names[n++] = cmds->name;
	return n;
}

static const struct ps_cmd help_verb = { .name = "help" };

/*
 * Walk verbs (and sub-verbs) from *argv.  *cmd is &help_verb when the user
 * asked for help at this level; NULL with PS_OK when no verb was given.
 */
int ps_resolve_cmd(struct ps_ctx *ctx, const struct ps_object *obj,
		   int *argc, char ***argv, const struct ps_cmd **cmd,
		   char *path, size_t pathlen, bool quiet)
{
	const struct ps_cmd *cmds = ps_object_cmds(obj);

	snprintf(path, pathlen, "%s", obj->name);
	*cmd = NULL;
	if (obj->self) {
		*cmd = obj->self;
		return PS_OK;
	}
	while (cmds) {
		const char *names[65];
		size_t n;
		int m;

		if (*argc == 0)
			return PS_OK;
		n = cmd_names(cmds, names, 64);
		names[n++] = "help";
		m = ps_match_word((*argv)[0], names, n);
		if (m == -2) {
			char list[512];

			if (quiet)
				return PS_USAGE;
			ps_list_names((*argv)[0], names, n, list, sizeof(list));
			return ps_usage_err(ctx, "ambiguous command '%s' for '%s': %s",
					    (*argv)[0], path, list);
		}
		if (m < 0) {
			const char *s = ps_suggest((*argv)[0], names, n);

			if (quiet)
				return PS_USAGE;
			if (s)
				return ps_usage_err(ctx,
					"unknown command '%s' for '%s'; did you mean '%s'?",
					(*argv)[0], path, s);
			return ps_usage_err(ctx, "unknown command '%s' for '%s' (see '%s help %s')",
					    (*argv)[0], path, ctx->progname, path);
		}
		(*argc)--;
		(*argv)++;
		if ((size_t)m == n - 1) {
			*cmd = &help_verb;
			return PS_OK;
		}
		*cmd = &cmds[m];
		size_t off = strlen(path);
		snprintf(path + off, pathlen - off, " %s", cmds[m].name);
		cmds = cmds[m].sub;
		if (cmds)
			*cmd = NULL;
	}
	return PS_OK;
}

/* the verb a bare object runs, like `bpftool prog` runs `show` */
static const struct ps_cmd *default_cmd(const struct ps_object *obj)
{
	for (const struct ps_cmd *c = ps_object_cmds(obj); c && c->name; c++)
		if (!strcmp(c->name, "show") || !strcmp(c->name, "list"))
			return c;
	return NULL;
}

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
	argc--;
	argv++;
	r = ps_resolve_cmd(ctx, obj, &argc, &argv, &cmd, path, sizeof(path),
			   false);
	if (r)
		return r;
	if (cmd == &help_verb)
		return ps_print_help(ctx, path, NULL);
	if (!cmd) {
		cmd = strchr(path, ' ') ? NULL : default_cmd(obj);
		if (!cmd)
			return ps_print_help(ctx, path, NULL);
		size_t off = strlen(path);
		snprintf(path + off, sizeof(path) - off, " %s", cmd->name);
	}
	if (!obj->self && argc == 1 && !strcmp(argv[0], "help"))
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
		ctx->plugin = obj->plugin;
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
	struct opt_state saved;
	char **rest = NULL;
	int special, nrest, r;

	opts_save(ctx, &saved);
	r = parse_options(ctx, argc, argv, false, &special, &nrest, &rest);
	if (!r) {
		if (special == OPT_VERSION)
			r = ps_version_cmd.run(ctx, NULL);
		else if (special == OPT_HELP)
			r = ps_print_help(ctx, NULL, NULL);
		else
			r = ps_dispatch(ctx, nrest, rest);
	}
	free(rest);
	ps_out_doc_end(ctx);
	opts_restore(ctx, &saved);
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

static bool in_batch;

/*
 * One line of a batch file into buf (PS_MAX_LINE bytes and a NUL): 1 read,
 * 0 at the end or when asked to stop, -1 (bad line) or -2 (read error)
 * with err set.  Bounded, so an
 * endless line is an error and not all memory; a signal that interrupts
 * the read is looked at, so a batch waiting on a pipe can be stopped.
 */
static int read_line(FILE *f, char *buf, char *err, size_t errlen)
{
	size_t n = 0;
	bool nul = false;
	int c;

	for (;;) {
		if (ps_should_stop())
			return 0;
		c = getc(f);
		if (c == EOF) {
			if (ferror(f) && errno == EINTR) {
				clearerr(f);
				continue;
			}
			if (ferror(f)) {
				snprintf(err, errlen, "%s", strerror(errno));
				return -2;
			}
			if (!n)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (n == PS_MAX_LINE) {
			snprintf(err, errlen, "line longer than %d bytes",
				 PS_MAX_LINE);
			return -1;
		}
		nul |= c == '\0';
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (nul) {
		snprintf(err, errlen, "a NUL byte in the line");
		return -1;
	}
	return 1;
}

int ps_run_batch(struct ps_ctx *ctx, const char *file)
{
	FILE *f;
	char *line, where[PATH_MAX + 32];
	unsigned long lineno = 0, done = 0;
	int r = PS_OK;

	if (in_batch)
		return ps_usage_err(ctx, "batch cannot run inside a batch");
	line = malloc(PS_MAX_LINE + 1);
	if (!line)
		return ps_err(ctx, "out of memory");
	if (!strcmp(file, "-")) {
		f = stdin;
	} else {
		f = fopen(file, "re");
		if (!f) {
			free(line);
			return ps_err(ctx, "cannot open batch file '%s': %s", file,
				      strerror(errno));
		}
	}
	in_batch = true;
	ps_out_batch_begin(ctx);
	for (;;) {
		char err[128];
		char **argv;
		int argc, got;

		got = read_line(f, line, err, sizeof(err));
		if (!got)
			break;
		if (got == -2) {
			r = ps_err(ctx, "reading batch file '%s': %s", file, err);
			ps_out_doc_end(ctx);
			break;
		}
		lineno++;
		/* every error of this line names it: FILE:LINE: ... */
		snprintf(where, sizeof(where), "%s:%lu", file, lineno);
		ctx->err_where = where;
		if (got < 0 || ps_tokenize(line, &argc, &argv, err, sizeof(err))) {
			r = ps_usage_err(ctx, "%s", err);
			ps_out_doc_end(ctx);
			break;
		}
		if (!argc) {
			ps_free_tokens(argc, argv);
			continue;
		}
		r = ps_run_argv(ctx, argc, argv);
		ps_free_tokens(argc, argv);
		if (r) {
			/* the command's Error: line named FILE:LINE already */
			fflush(ctx->w.f);
			fprintf(stderr, "Stopped at %s (%lu command%s done)\n",
				where, done, done == 1 ? "" : "s");
			break;
		}
		done++;
		if (ps_should_stop())
			break;
	}
	ctx->err_where = NULL;
	ps_out_batch_end(ctx);
	in_batch = false;
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}
