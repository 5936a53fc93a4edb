// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Completion from the same declarations that parse commands: the REPL's
 * Tab and the shell scripts (through `pktscope __complete WORDS...`) both
 * land here, so a third-party plugin completes like a built-in one.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "complete.h"
#include "options.h"
#include "registry.h"

struct emitter {
	const char *cur;
	void (*emit)(void *data, const char *cand);
	void *data;
};

static void offer(struct emitter *e, const char *cand)
{
	if (cand && !strncmp(cand, e->cur, strlen(e->cur)))
		e->emit(e->data, cand);
}

static void offer_dir(struct emitter *e, const char *path, bool dirs_only)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (dirs_only && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		offer(e, de->d_name);
	}
	closedir(d);
}

static void offer_ifaces(struct ps_ctx *ctx, struct emitter *e, bool all)
{
	char pins[4200];
	DIR *d;
	struct dirent *de;

	offer_dir(e, "/sys/class/net", false);
	/* interfaces that vanished but still have pins can be detached */
	snprintf(pins, sizeof(pins), "%s/pktscope", ctx->bpffs);
	d = opendir(pins);
	if (d) {
		char path[4500];

		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/net/%s", de->d_name);
			if (access(path, F_OK))
				offer(e, de->d_name);
		}
		closedir(d);
	}
	if (all)
		offer(e, "all");
}

static void offer_objects(struct ps_ctx *ctx, struct emitter *e,
			  bool plugins_only)
{
	size_t n;
	const struct ps_object *objs = ps_objects(ctx, &n);

	for (size_t i = 0; i < n; i++) {
		if (objs[i].hidden)
			continue;
		if (plugins_only && !objs[i].plugin)
			continue;
		offer(e, objs[i].name);
	}
}

static void offer_value(struct ps_ctx *ctx, struct emitter *e,
			const struct ps_arg_spec *spec)
{
	if (spec->flags & PS_ARG_OFF)
		offer(e, "off");
	switch (spec->kind) {
	case PS_KIND_IFACE:
		offer_ifaces(ctx, e, spec->flags & PS_ARG_ALL);
		break;
	case PS_KIND_CHOICE:
		for (size_t i = 0; spec->choices && spec->choices[i]; i++)
			offer(e, spec->choices[i]);
		break;
	case PS_KIND_PROTO:
		for (size_t i = 0; ps_proto_names[i]; i++)
			offer(e, ps_proto_names[i]);
		break;
	case PS_KIND_PLUGIN:
		offer_objects(ctx, e, true);
		break;
	case PS_KIND_OBJECT:
		offer_objects(ctx, e, false);
		break;
	case PS_KIND_FILE:
		/* the caller completes file names itself */
		e->emit(e->data, "@file");
		break;
	default:
		break;
	}
}

static int match_quiet(const char *word, const char *const *names, size_t n)
{
	int m = ps_match_word(word, names, n);

	return m < 0 ? -1 : m;
}

static void complete_args(struct ps_ctx *ctx, struct emitter *e,
			  const struct ps_arg_spec *specs, int nwords,
			  char **words)
{
	const char *kw[PS_MAX_ARGS];
	size_t kwidx[PS_MAX_ARGS], nkw = 0, nspec = 0;
	bool used[PS_MAX_ARGS] = { false };
	size_t next_pos = 0;

	while (specs && specs[nspec].keyword && nspec < PS_MAX_ARGS)
		nspec++;
	for (size_t i = 0; i < nspec; i++)
		if (!(specs[i].flags & PS_ARG_POSITIONAL)) {
			kwidx[nkw] = i;
			kw[nkw++] = specs[i].keyword;
		}
	for (int i = 0; i < nwords; i++) {
		int m = match_quiet(words[i], kw, nkw);

		if (m >= 0) {
			const struct ps_arg_spec *s = &specs[kwidx[m]];

			used[kwidx[m]] = true;
			if (s->kind == PS_KIND_FLAG)
				continue;
			if (i + 1 == nwords) {
				offer_value(ctx, e, s);
				return;
			}
			i++;
			continue;
		}
		while (next_pos < nspec &&
		       !(specs[next_pos].flags & PS_ARG_POSITIONAL))
			next_pos++;
		if (next_pos < nspec && !(specs[next_pos].flags & PS_ARG_REPEAT))
			used[next_pos++] = true;
	}
	for (size_t i = 0; i < nspec; i++) {
		if (specs[i].flags & PS_ARG_POSITIONAL)
			continue;
		if (!used[i] || (specs[i].flags & PS_ARG_REPEAT))
			offer(e, specs[i].keyword);
	}
	while (next_pos < nspec && !(specs[next_pos].flags & PS_ARG_POSITIONAL))
		next_pos++;
	if (next_pos < nspec)
		offer_value(ctx, e, &specs[next_pos]);
}

static void offer_options(struct emitter *e)
{
	char name[64];

	for (size_t k = 0; k < PS_OPT_COUNT; k++) {
		snprintf(name, sizeof(name), "--%s", ps_global_opts[k].long_name);
		offer(e, name);
	}
}

/*
 * The words without the global options (taken anywhere until `--`, as the
 * parser takes them) into out; 1 when the last word is an option that
 * waits for its value.
 */
static int strip_options(int nwords, char **words, char **out, int *nout)
{
	bool plain = false;

	*nout = 0;
	for (int i = 0; i < nwords; i++) {
		if (!plain && !strcmp(words[i], "--")) {
			plain = true;
			continue;
		}
		if (plain || !ps_is_option_word(words[i])) {
			out[(*nout)++] = words[i];
			continue;
		}
		int m = words[i][1] == '-' ? ps_match_long_option(words[i]) : -1;

		if (m >= 0 && ps_global_opts[m].metavar && !strchr(words[i], '=')) {
			if (i + 1 == nwords)
				return 1;
			i++;
		}
	}
	return 0;
}

static bool is_help(const struct ps_object *obj)
{
	return obj && obj->self && !strcmp(obj->self->name, "help");
}

int ps_complete(struct ps_ctx *ctx, int nwords, char **all, const char *cur,
		void (*emit)(void *data, const char *cand), void *data)
{
	struct emitter e = { cur, emit, data };
	const struct ps_object *obj;
	const struct ps_cmd *cmds, *cmd;
	char **words;
	int i, r = 0;

	words = calloc((size_t)nwords + 1, sizeof(*words));
	if (!words)
		return -1;
	if (strip_options(nwords, all, words, &nwords)) {
		emit(data, "@dir");
		goto out;
	}
	if (cur[0] == '-') {
		offer_options(&e);
		goto out;
	}
	/* `help WORDS` completes WORDS: a loop, since a line may hold many */
	i = 0;
	while (i < nwords && is_help(ps_lookup_object(ctx, words[i])))
		i++;
	if (i == nwords) {
		offer_objects(ctx, &e, false);
		goto out;
	}
	obj = ps_lookup_object(ctx, words[i]);
	if (!obj)
		goto out;
	cmd = obj->self;
	cmds = obj->self ? NULL : ps_object_cmds(obj);
	i++;
	while (cmds) {
		const char *names[65];
		size_t n = 0;
		int m;

		for (const struct ps_cmd *c = cmds; c->name && n < 64; c++)
			names[n++] = c->name;
		if (i == nwords) {
			for (size_t k = 0; k < n; k++)
				offer(&e, names[k]);
			offer(&e, "help");
			goto out;
		}
		m = match_quiet(words[i], names, n);
		if (m < 0)
			goto out;
		cmd = &cmds[m];
		cmds = cmd->sub;
		i++;
	}
	if (cmd) {
		/* `VERB help` is that verb's help (help.c), until an argument */
		if (i == nwords)
			offer(&e, "help");
		complete_args(ctx, &e, cmd->args, nwords - i, words + i);
	}
out:
	free(words);
	return r;
}

/* ---- the commands: `completion SHELL` and `__complete WORDS...` ---- */

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

static const struct ps_arg_spec complete_cmd_args[] = {
	{ "words", PS_KIND_WORD, PS_ARG_POSITIONAL | PS_ARG_REPEAT, "WORDS",
	  "the command line so far; the last word is completed" },
	{ 0 }
};

const struct ps_cmd ps_complete_cmd = {
	"__complete", "completion candidates, one a line", complete_cmd_args,
	do_complete,
};
