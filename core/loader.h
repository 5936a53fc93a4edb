/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The plugin loader and its trust rule (pktscope(8), SECURITY). */
#ifndef PKTSCOPE_LOADER_H
#define PKTSCOPE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ps_ctx;

/* every plugin of the search path into the registry; once */
int ps_load_plugins(struct ps_ctx *ctx);
/* the search path, colon-separated, as it is searched */
const char *ps_plugin_dirs(struct ps_ctx *ctx, char *buf, size_t len);
bool ps_running_from_build_tree(char *dir, size_t len);
/* 0 when dir and every folder up to / are safe from other users */
int ps_dir_trusted(const char *dir, uid_t also, char *why, size_t len);

#endif
