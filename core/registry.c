// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The registry of objects.  Built-ins and plugins are added by whoever
 * makes them (session.c, loader.c); everything that looks an object or a
 * verb up comes here, so no module needs another's list.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "registry.h"

const struct ps_cmd ps_help_verb = { .name = "help" };

const struct ps_object *ps_objects(const struct ps_ctx *ctx, size_t *n)
{
	*n = ctx->nobjects;
	return ctx->objects;
}

struct ps_object *ps_registry_add(struct ps_ctx *ctx, const struct ps_object *o)
{
	struct ps_object *v = realloc(ctx->objects,
				      (ctx->nobjects + 1) * sizeof(*v));

	if (!v)
		return NULL;
	ctx->objects = v;
	v[ctx->nobjects] = *o;
	return &v[ctx->nobjects++];
}

static void release(struct ps_object *o)
{
	if (!o->plugin)
		return;
	free(o->file);
	free(o->merged);
	free(o->attach_spec);
	dlclose(o->handle);
	close(o->fd);
}

void ps_registry_resolve_aliases(struct ps_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nobjects; i++) {
		struct ps_object *a = &ctx->objects[i];

		if (!a->alias_object)
			continue;
		const struct ps_object *t = ps_find_object(ctx, a->alias_object);
		const struct ps_cmd *c = t && t->plugin ? ps_object_cmds(t) : NULL;

		for (; c && c->name && strcmp(c->name, a->alias_verb); c++)
			;
		a->self = c && c->name ? c : NULL;
		a->alias_plugin = a->self ? t->plugin : NULL;
		a->hidden = !a->self;
	}
}

void ps_registry_drop_last(struct ps_ctx *ctx)
{
	if (!ctx->nobjects)
		return;
	release(&ctx->objects[--ctx->nobjects]);
}

void ps_registry_clear(struct ps_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nobjects; i++) {
		struct ps_object *o = &ctx->objects[i];

		if (o->plugin && o->plugin->fini) {
			ctx->plugin = o->plugin;
			o->plugin->fini(ctx);
			ctx->plugin = NULL;
		}
		release(o);
	}
	free(ctx->objects);
	ctx->objects = NULL;
	ctx->nobjects = 0;
	ctx->plugins_loaded = false;
}

struct ps_object *ps_find_object(struct ps_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nobjects; i++)
		if (!strcmp(ctx->objects[i].name, name))
			return &ctx->objects[i];
	return NULL;
}

const struct ps_object *ps_find_plugin_inode(const struct ps_ctx *ctx,
					     dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < ctx->nobjects; i++)
		if (ctx->objects[i].plugin && ctx->objects[i].dev == dev &&
		    ctx->objects[i].ino == ino)
			return &ctx->objects[i];
	return NULL;
}

const struct ps_object *ps_find_plugin_handle(const struct ps_ctx *ctx,
					      const void *h)
{
	for (size_t i = 0; i < ctx->nobjects; i++)
		if (ctx->objects[i].plugin && ctx->objects[i].handle == h)
			return &ctx->objects[i];
	return NULL;
}

/* the names prefixes may match: hidden objects only by their full name */
static size_t listed_names(const struct ps_ctx *ctx, const char **names,
			   size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ctx->nobjects && n < max; i++)
		if (!ctx->objects[i].hidden)
			names[n++] = ctx->objects[i].name;
	return n;
}

const struct ps_object *ps_lookup_object(struct ps_ctx *ctx, const char *word)
{
	const char *names[256];
	size_t n = listed_names(ctx, names, ARRAY_SIZE(names));
	int m = ps_match_word(word, names, n);

	return m < 0 ? NULL : ps_find_object(ctx, names[m]);
}

int ps_match_object(struct ps_ctx *ctx, const char *word,
		    const struct ps_object **out)
{
	const char *names[256];
	size_t n;
	int m;

	*out = NULL;
	for (size_t i = 0; i < ctx->nobjects; i++) {
		if (ctx->objects[i].hidden && !strcmp(word, ctx->objects[i].name)) {
			*out = &ctx->objects[i];
			return PS_OK;
		}
	}
	n = listed_names(ctx, names, ARRAY_SIZE(names));
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

const struct ps_cmd *ps_object_cmds(const struct ps_object *obj)
{
	return obj->merged ? obj->merged : obj->cmds;
}

const struct ps_cmd *ps_default_cmd(const struct ps_object *obj)
{
	for (const struct ps_cmd *c = ps_object_cmds(obj); c && c->name; c++)
		if (!strcmp(c->name, "show") || !strcmp(c->name, "list"))
			return c;
	return NULL;
}

const struct ps_cmd *ps_path_cmds(const struct ps_object *obj,
				  const char *path)
{
	const struct ps_cmd *start = ps_object_cmds(obj);

	for (const char *p = strchr(path, ' '); p && start; p = strchr(p, ' ')) {
		size_t len = strcspn(++p, " ");
		const struct ps_cmd *c = start;

		while (c->name && (strlen(c->name) != len ||
				   strncmp(c->name, p, len)))
			c++;
		if (!c->name || !c->sub)
			break;
		start = c->sub;
	}
	return start;
}

static size_t cmd_names(const struct ps_cmd *cmds, const char **names,
			size_t max)
{
	size_t n = 0;

	for (; cmds && cmds->name && n < max; cmds++)
		names[n++] = cmds->name;
	return n;
}

static int no_such_cmd(struct ps_ctx *ctx, const char *word, const char *path,
		       const char **names, size_t n, int m)
{
	if (m == -2) {
		char list[512];

		ps_list_names(word, names, n, list, sizeof(list));
		return ps_usage_err(ctx, "ambiguous command '%s' for '%s': %s",
				    word, path, list);
	}
	const char *s = ps_suggest(word, names, n);

	if (s)
		return ps_usage_err(ctx,
			"unknown command '%s' for '%s'; did you mean '%s'?",
			word, path, s);
	return ps_usage_err(ctx, "unknown command '%s' for '%s' (see '%s help %s')",
			    word, path, ctx->progname, path);
}

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
		if (m < 0)
			return quiet ? PS_USAGE :
				       no_such_cmd(ctx, (*argv)[0], path, names, n, m);
		(*argc)--;
		(*argv)++;
		if ((size_t)m == n - 1) {
			*cmd = &ps_help_verb;
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
