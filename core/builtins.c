// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The table of built-in objects.  Each one's command lives in the file of
 * its concern: plugin_cmds.c, feature.c, verbs.c (status), metrics.c,
 * serve.c, help.c (help, __man), version.c, complete.c (completion,
 * __complete), batch.c.
 */
#include "internal.h"
#include "builtins.h"
#include "registry.h"

extern const struct ps_cmd ps_plugin_cmds[];
extern const struct ps_cmd ps_feature_cmd, ps_status_cmd, ps_metrics_cmd,
	ps_serve_cmd, ps_help_cmd, ps_version_cmd, ps_completion_cmd,
	ps_batch_cmd, ps_complete_cmd, ps_man_cmd;

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
	/* tcpdump users' and iftop users' word for the live view */
	{ .name = "top", .summary = "live view of the heaviest senders (proto-stats live)",
	  .alias_object = "proto-stats", .alias_verb = "live" },
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
