/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The registry: the one list of objects on the command line (built-ins and
 * loaded plugins), their verbs, and the lookups by name and by prefix.  It
 * owns what a plugin's object holds (its handle, descriptor, merged verbs)
 * and releases it; it knows no particular object.
 */
#ifndef PKTSCOPE_REGISTRY_H
#define PKTSCOPE_REGISTRY_H

#include <stdbool.h>
#include <sys/types.h>
#include <pktscope/plugin.h>

/* An object on the command line: a built-in or a plugin. */
struct ps_object {
	const char *name;
	const char *summary;
	const struct ps_cmd *cmds;	/* verbs; NULL when the object is one */
	const struct ps_cmd *self;	/* object that is itself a command */
	const struct ps_plugin *plugin;	/* NULL for built-ins */
	char *file;			/* plugin: the file it came from */
	void *handle;			/* plugin: dlopen handle */
	int fd;				/* plugin: the descriptor it was loaded from */
	dev_t dev;			/* plugin: its file's inode */
	ino_t ino;
	struct ps_cmd *merged;		/* plugin: core verbs + its own (owned) */
	struct ps_arg_spec *attach_spec; /* plugin: merged attach args (owned) */
	bool hidden;			/* not listed, not completed */
	/* an alias ("top"): the plugin verb it stands for; once plugins
	 * are loaded, self is that verb and alias_plugin its plugin, or the
	 * alias stays hidden when the plugin is missing */
	const char *alias_object, *alias_verb;
	const struct ps_plugin *alias_plugin;
};

/* every object, in the order they were added */
const struct ps_object *ps_objects(const struct ps_ctx *ctx, size_t *n);
/* a copy of *o goes in; the registry owns what it points to from then */
struct ps_object *ps_registry_add(struct ps_ctx *ctx, const struct ps_object *o);
/* the last one added leaves, its resources released (a plugin whose
 * init() failed); fini is not called */
void ps_registry_drop_last(struct ps_ctx *ctx);
/* every object leaves; plugins' fini run first */
void ps_registry_clear(struct ps_ctx *ctx);

/* point every alias at its verb, now that the plugins are loaded */
void ps_registry_resolve_aliases(struct ps_ctx *ctx);

struct ps_object *ps_find_object(struct ps_ctx *ctx, const char *name);
/* the plugin loaded from this inode, or whose dlopen handle is h */
const struct ps_object *ps_find_plugin_inode(const struct ps_ctx *ctx,
					     dev_t dev, ino_t ino);
const struct ps_object *ps_find_plugin_handle(const struct ps_ctx *ctx,
					      const void *h);
/* object by unambiguous prefix; a usage error names the candidates */
int ps_match_object(struct ps_ctx *ctx, const char *word,
		    const struct ps_object **out);
/* the same without a message: NULL when none or ambiguous, hidden ones
 * never (completion) */
const struct ps_object *ps_lookup_object(struct ps_ctx *ctx, const char *word);

const struct ps_cmd *ps_object_cmds(const struct ps_object *obj);
/* the verb a bare object runs, like `bpftool prog` runs `show` */
const struct ps_cmd *ps_default_cmd(const struct ps_object *obj);
/* the verbs below a path of names ("src-log rule"); NULL if none */
const struct ps_cmd *ps_path_cmds(const struct ps_object *obj,
				  const char *path);
/* the `help` word at any level of a path: ps_resolve_cmd() gives this */
extern const struct ps_cmd ps_help_verb;
/*
 * Walk verbs (and sub-verbs) from *argv.  *cmd is &ps_help_verb when the
 * user asked for help at this level; NULL with PS_OK when no verb was
 * given.  path gets the object and the verbs' full names.
 */
int ps_resolve_cmd(struct ps_ctx *ctx, const struct ps_object *obj,
		   int *argc, char ***argv, const struct ps_cmd **cmd,
		   char *path, size_t pathlen, bool quiet);

#endif
