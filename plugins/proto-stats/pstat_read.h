/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* proto-stats' readers of its pinned maps, shared by its verbs. */
#ifndef PKTSCOPE_PSTAT_READ_H
#define PKTSCOPE_PSTAT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <pktscope/plugin.h>
#include "proto_stats.h"

/*
 * A key's count lives in two places: its top_src/top_port entry (summed
 * over CPUs) and any CPU's cache slot that holds it right now.  Both are
 * collected as (key, value) pairs, sorted by key and merged.
 */
struct top_entry {
	unsigned char key[sizeof(struct ps_addr_key)];
	struct pstat_val v;
};

struct top_list {
	struct top_entry *v;
	size_t n, cap;
};

int pstat_read_counters(struct ps_ctx *ctx, const struct ps_attachment *att,
			struct pstat_counters *c);
/* sources (is_src) or ports, one entry per key, sorted by key */
int pstat_read_top(struct ps_ctx *ctx, const struct ps_attachment *att,
		   bool is_src, struct top_list *l);

/* the live view (live.c) */
extern const struct ps_arg_spec pstat_live_args[];
int pstat_do_live(struct ps_ctx *ctx, const struct ps_args *args);

#endif
