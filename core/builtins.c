// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Built-in objects: plugin, version, help, completion, batch, __complete. */
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "internal.h"

/* ---- plugin list / info ---- */

static int do_plugin_list(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "name", NULL, PS_LEFT },
		{ "version", NULL, PS_LEFT },
		{ "plugin_abi", "ABI", PS_RIGHT },
		{ "bpf", NULL, PS_LEFT },
		{ "file", NULL, PS_LEFT },
		{ "summary", NULL, PS_LEFT },
	};
	struct ps_table *t;

	(void)args;
	t = ps_table_new(ctx, "plugins", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ctx->nobjects; i++) {
		const struct ps_object *o = &ctx->objects[i];

		if (!o->plugin)
			continue;
		ps_table_str(t, o->name);
		ps_table_str(t, o->plugin->version ? o->plugin->version : "");
		ps_table_u64(t, o->plugin->abi_version);
		ps_table_bool(t, o->plugin->bpf_elf != NULL);
		ps_table_str(t, o->file);
		ps_table_str(t, o->summary);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	return PS_OK;
}

static void help_cmd_rows(struct ps_ctx *ctx, struct ps_table *t,
			  const char *path, const struct ps_cmd *cmds);

static const char *map_type_name(enum bpf_map_type type)
{
	const char *s = libbpf_bpf_map_type_str(type);

	return s ? s : "unknown";
}

static bool map_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Bytes of key and value storage a map can hold: its fixed footprint. */
static uint64_t map_bytes(const struct bpf_map *m)
{
	enum bpf_map_type t = bpf_map__type(m);
	uint64_t n = bpf_map__max_entries(m);
	uint64_t v = bpf_map__value_size(m), k = bpf_map__key_size(m);
	int ncpu = libbpf_num_possible_cpus();

	if (t == BPF_MAP_TYPE_RINGBUF)
		return n;
	if (map_is_percpu(t) && ncpu > 0)
		v *= (uint64_t)ncpu;
	if (t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY)
		k = 0;
	return n * (k + v);
}

int ps_object_map_bytes(struct bpf_object *obj, uint64_t *total)
{
	struct bpf_map *m;

	*total = 0;
	bpf_object__for_each_map(m, obj)
		*total += map_bytes(m);
	return 0;
}

static int do_plugin_info(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col ccols[] = {
		{ "command", NULL, PS_LEFT },
		{ "synopsis", NULL, PS_LEFT },
		{ "summary", NULL, PS_LEFT },
	};
	static const struct ps_col pcols[] = {
		{ "name", NULL, PS_LEFT },
		{ "section", NULL, PS_LEFT },
		{ "hook", NULL, PS_LEFT },
	};
	static const struct ps_col mcols[] = {
		{ "name", NULL, PS_LEFT },
		{ "type", NULL, PS_LEFT },
		{ "key", NULL, PS_RIGHT },
		{ "value", NULL, PS_RIGHT },
		{ "max_entries", "ENTRIES", PS_RIGHT },
		{ "bytes", "SIZE", PS_RIGHT },
	};
	const char *name = ps_arg_str(args, "name", NULL);
	const struct ps_object *o = ps_find_object(ctx, name);
	const struct ps_plugin *p = o ? o->plugin : NULL;
	struct ps_table *t;

	if (!p)
		return ps_err(ctx, "no plugin named '%s'", name);
	ps_out_str(ctx, "name", "Name", p->name);
	ps_out_str(ctx, "version", "Version", p->version);
	ps_out_u64(ctx, "plugin_abi", "Plugin ABI", p->abi_version);
	ps_out_str(ctx, "file", "File", o->file);
	ps_out_str(ctx, "summary", "Summary", p->summary);
	ps_out_text(ctx, "\nCommands:\n");
	t = ctx->json ? ps_table_new(ctx, "commands", ccols, ARRAY_SIZE(ccols)) :
			NULL;
	ctx->w.indent += 2;
	help_cmd_rows(ctx, t, o->name, ps_object_cmds(o));
	ctx->w.indent -= 2;
	if (t)
		ps_table_end(t);

	if (!p->bpf_elf) {
		ps_out_text(ctx, "\nNo BPF object.\n");
		return PS_OK;
	}
	ctx->plugin = p;
	struct bpf_object *obj = ps_bpf_open(ctx);
	if (!obj)
		return PS_ERR;	/* ps_bpf_open() said why */
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "programs", pcols, ARRAY_SIZE(pcols));
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		const char *pn = bpf_program__name(prog);
		const char *hook = "-";

		if (p->xdp_prog && !strcmp(pn, p->xdp_prog))
			hook = "xdp";
		else if (p->tc_prog && !strcmp(pn, p->tc_prog))
			hook = "tc/tcx";
		ps_table_str(t, pn);
		ps_table_str(t, bpf_program__section_name(prog));
		ps_table_str(t, hook);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "maps", mcols, ARRAY_SIZE(mcols));
	struct bpf_map *m;
	uint64_t total = 0;
	bpf_object__for_each_map(m, obj) {
		/* .rodata/.bss are internal: not pinned, still memory */
		ps_table_str(t, bpf_map__name(m));
		ps_table_str(t, map_type_name(bpf_map__type(m)));
		ps_table_u64(t, bpf_map__key_size(m));
		ps_table_u64(t, bpf_map__value_size(m));
		ps_table_u64(t, bpf_map__max_entries(m));
		ps_table_u64_human(t, map_bytes(m), ps_fmt_size);
		ps_table_end_row(t);
		total += map_bytes(m);
	}
	ps_table_end(t);
	ps_out_text(ctx, "\n");
	ps_out_u64_human(ctx, "map_bytes", "Map memory (fixed)", total,
			 ps_fmt_size);
	ps_out_u64(ctx, "possible_cpus", "Possible CPUs",
		   (uint64_t)libbpf_num_possible_cpus());
	bpf_object__close(obj);
	return PS_OK;
}

static const struct ps_arg_spec plugin_info_args[] = {
	{ "name", PS_KIND_PLUGIN, PS_ARG_REQUIRED | PS_ARG_POSITIONAL, "NAME",
	  "plugin to describe" },
	{ 0 }
};

const struct ps_cmd ps_plugin_cmds[] = {
	{ "list", "name, version, ABI, file and summary of every plugin", NULL,
	  do_plugin_list },
	{ "info", "a plugin's commands, BPF programs and maps", plugin_info_args,
	  do_plugin_info },
	{ 0 }
};

/* ---- version ---- */

static int do_version(struct ps_ctx *ctx, const struct ps_args *args)
{
	char dirs[8192], libbpf_ver[32];
	const char *features[8];
	size_t nf = 0;

	(void)args;
	snprintf(libbpf_ver, sizeof(libbpf_ver), "%u.%u",
		 libbpf_major_version(), libbpf_minor_version());
	features[nf++] = "json";
	features[nf++] = "readline";
	features[nf++] = "zlib";
	features[nf++] = "tcx";
	features[nf++] = "xdp";
#ifdef PKTSCOPE_SANITIZERS
	features[nf++] = "sanitizers";
#endif
	if (!ctx->json) {
		printf("%s v%s\nusing libbpf v%s, plugin ABI %d\n", PACKAGE_NAME,
		       PACKAGE_VERSION, libbpf_ver, PKTSCOPE_ABI_VERSION);
		printf("plugin path: %s\n",
		       ps_plugin_dirs(ctx, dirs, sizeof(dirs)));
		printf("features: ");
		for (size_t i = 0; i < nf; i++)
			printf("%s%s", i ? ", " : "", features[i]);
		printf("\n");
		return PS_OK;
	}
	ps_out_str(ctx, "version", NULL, PACKAGE_VERSION);
	ps_out_str(ctx, "libbpf_version", NULL, libbpf_ver);
	ps_out_u64(ctx, "plugin_abi", NULL, PKTSCOPE_ABI_VERSION);
	/* the JSON vocabulary (man pktscope, JSON VOCABULARY) */
	ps_out_u64(ctx, "json_schema", NULL, PS_JSON_SCHEMA);
	ps_out_str(ctx, "plugin_path", NULL, ps_plugin_dirs(ctx, dirs, sizeof(dirs)));
	ps_out_strv(ctx, "features", NULL, features, nf);
	return PS_OK;
}

const struct ps_cmd ps_version_cmd = {
	"version", "versions, plugin path and features", NULL, do_version,
};

/* ---- feature, status ---- */

static int do_feature(struct ps_ctx *ctx, const struct ps_args *args)
{
	(void)args;
	return ps_feature_run(ctx);
}

const struct ps_cmd ps_feature_cmd = {
	"feature", "probe what the kernel offers", NULL, do_feature,
};

static const struct ps_arg_spec status_args[] = {
	{ "dev", PS_KIND_IFACE, 0, NULL, "only this interface" },
	{ 0 }
};

const struct ps_cmd ps_status_cmd = {
	"status", "every pktscope attachment found in bpffs", status_args,
	ps_do_status,
};

/* ---- per-plugin core verbs ---- */

const struct ps_arg_spec ps_attach_core_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED, NULL,
	  "interface whose ingress to watch" },
	{ "mode", PS_KIND_CHOICE, 0, NULL,
	  "hook: tcx (default where the kernel has it, else tc), tc, xdp, xdp-native, xdp-generic",
	  ps_mode_choices },
	{ "replace", PS_KIND_FLAG, 0, NULL,
	  "replace this plugin's attachment on the interface" },
	{ 0 }
};

static const struct ps_arg_spec detach_args[] = {
	{ "dev", PS_KIND_IFACE, PS_ARG_REQUIRED | PS_ARG_ALL, NULL,
	  "interface, or all" },
	{ 0 }
};

const struct ps_cmd ps_core_bpf_cmds[] = {
	{ "attach", "load and attach to an interface's ingress; state pinned in bpffs",
	  ps_attach_core_args, ps_do_attach, NULL, PS_CMD_BPF },
	{ "detach", "detach and remove pins", detach_args, ps_do_detach, NULL,
	  PS_CMD_BPF },
	{ "status", "where this plugin is attached", status_args, ps_do_status },
	{ 0 }
};

/* ---- help ---- */

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
	struct ps_table *t;
	const char *pn = ctx->progname;

	ps_out_text(ctx,
		    "Usage: %s [OPTIONS] OBJECT COMMAND [ARGS...]\n"
		    "       %s [OPTIONS]                  interactive shell\n"
		    "       %s [OPTIONS] batch file FILE|-\n"
		    "       %s help OBJECT [COMMAND]\n\n"
		    "Objects and commands match by unambiguous prefix.\n\n",
		    pn, pn, pn, pn);
	ctx->w.indent += 2;
	t = ps_table_new(ctx, "objects", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ctx->nobjects; i++) {
		if (ctx->objects[i].hidden)
			continue;
		ps_table_str(t, ctx->objects[i].name);
		ps_table_str(t, ctx->objects[i].summary);
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

static void help_cmd_rows(struct ps_ctx *ctx, struct ps_table *t,
			  const char *path, const struct ps_cmd *cmds)
{
	for (; cmds && cmds->name; cmds++) {
		char full[256], syn[512];

		snprintf(full, sizeof(full), "%s %s", path, cmds->name);
		if (cmds->sub) {
			help_cmd_rows(ctx, t, full, cmds->sub);
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
	if (cmd && cmd->name && strcmp(cmd->name, "help") && cmd->run) {
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
		/* a group (`rule`) lists its own sub-commands: walk the path */
		const struct ps_cmd *start = ps_object_cmds(obj);
		for (const char *p = strchr(path, ' '); p && start;
		     p = strchr(p, ' ')) {
			size_t len = strcspn(++p, " ");
			const struct ps_cmd *c = start;

			while (c->name && (strlen(c->name) != len ||
					   strncmp(c->name, p, len)))
				c++;
			if (!c->name || !c->sub)
				break;
			start = c->sub;
		}
		help_cmd_rows(ctx, t, path, start);
		if (t)
			ps_table_end(t);
		ps_out_text(ctx, "\nSee '%s help %s COMMAND' for a command's arguments.\n",
			    ctx->progname, obj->name);
	}
	return PS_OK;
}

int ps_print_help(struct ps_ctx *ctx, const char *object, const char *unused)
{
	char **argv, err[64];
	int argc, r;

	(void)unused;
	if (!object) {
		help_top(ctx);
		return PS_OK;
	}
	/* object is a path the core made of names: its words split on blanks */
	if (ps_tokenize(object, &argc, &argv, err, sizeof(err)))
		return ps_usage_err(ctx, "%s", err);
	r = argc ? help_words(ctx, argc, argv) : (help_top(ctx), PS_OK);
	ps_free_tokens(argc, argv);
	return r;
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
	  "OBJECT [COMMAND]", "what to explain" },
	{ 0 }
};

const struct ps_cmd ps_help_cmd = {
	"help", "help on objects and commands", help_args, do_help,
};

/* ---- completion scripts, batch, __complete ---- */

static const char *const shells[] = { "bash", "zsh", NULL };

static int do_completion(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_value *v = ps_arg_get(args, "shell");

	if (ctx->json) {
		ps_out_str(ctx, "shell", NULL, v->str);
		ps_out_str(ctx, "script", NULL,
			   v->u ? ps_zsh_completion : ps_bash_completion);
		return PS_OK;
	}
	fputs(v->u ? ps_zsh_completion : ps_bash_completion, ctx->w.f);
	return PS_OK;
}

static const struct ps_arg_spec completion_args[] = {
	{ "shell", PS_KIND_CHOICE, PS_ARG_REQUIRED | PS_ARG_POSITIONAL, NULL,
	  "shell to print the script for", shells },
	{ 0 }
};

const struct ps_cmd ps_completion_cmd = {
	"completion", "print the bash or zsh completion script",
	completion_args, do_completion,
};

static int do_batch(struct ps_ctx *ctx, const struct ps_args *args)
{
	int r = ps_run_batch(ctx, ps_arg_str(args, "file", "-"));

	/* the batch's commands printed their own documents */
	if (ctx->json)
		ctx->w.stream = true;
	return r;
}

static const struct ps_arg_spec batch_args[] = {
	{ "file", PS_KIND_FILE, PS_ARG_REQUIRED, "FILE|-",
	  "commands, one a line; '#' starts a comment; - is stdin" },
	{ 0 }
};

const struct ps_cmd ps_batch_cmd = {
	"batch", "run commands from a file; stops at the first error",
	batch_args, do_batch,
};

static void emit_line(void *data, const char *cand)
{
	fprintf((FILE *)data, "%s\n", cand);
}

struct cand_list {
	char *store[256];
	size_t n;
};

static void emit_json(void *data, const char *cand)
{
	struct cand_list *l = data;

	if (l->n < ARRAY_SIZE(l->store) && (l->store[l->n] = strdup(cand)))
		l->n++;
}

/* plain lines for the shell scripts; under -j (a -j batch) one document */
static int do_complete(struct ps_ctx *ctx, const struct ps_args *args)
{
	size_t n = ps_arg_count(args, "words");
	struct cand_list l = { .n = 0 };
	char **words = NULL;

	if (n) {
		words = calloc(n, sizeof(*words));
		if (!words)
			return ps_err(ctx, "out of memory");
		for (size_t i = 0; i < n; i++)
			words[i] = (char *)ps_arg_nth(args, "words", i)->str;
	}
	/* the last word is the one being completed, maybe empty */
	ps_complete(ctx, n ? (int)n - 1 : 0, words, n ? words[n - 1] : "",
		    ctx->json ? emit_json : emit_line,
		    ctx->json ? (void *)&l : (void *)ctx->w.f);
	free(words);
	if (!ctx->json) {
		ctx->w.stream = true;
		return PS_OK;
	}
	ps_out_strv(ctx, "candidates", NULL, (const char *const *)l.store, l.n);
	for (size_t i = 0; i < l.n; i++)
		free(l.store[i]);
	return PS_OK;
}

static const struct ps_arg_spec complete_args[] = {
	{ "words", PS_KIND_WORD, PS_ARG_POSITIONAL | PS_ARG_REPEAT, "WORDS",
	  "the command line so far; the last word is completed" },
	{ 0 }
};

const struct ps_cmd ps_complete_cmd = {
	"__complete", "completion candidates, one a line", complete_args,
	do_complete,
};

/* ---- __man: the COMMANDS section of pktscope(8), from the declarations ---- */

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

	(void)args;
	for (size_t i = 0; i < ctx->nobjects; i++) {
		const struct ps_object *o = &ctx->objects[i];

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
