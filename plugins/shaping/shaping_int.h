/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the shaping plugin's files share: the pinned maps of one
 * attachment, the lock around changes, how a rule is written out, and the
 * commands each file runs.
 */
#ifndef PKTSCOPE_SHAPING_INT_H
#define PKTSCOPE_SHAPING_INT_H

#include <stddef.h>
#include <stdint.h>
#include <pktscope/plugin.h>

#include "shaping.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NCOUNTERS (sizeof(struct shp_counters) / sizeof(uint64_t))

/* the choices of `action`, in enum shp_action order */
extern const char *const shp_action_choices[];

/* fds of an attachment's maps (shaping.h), -1 when closed */
struct maps {
	int config, rules, ports, buckets, counters, sources;
};

int maps_open(struct ps_ctx *ctx, const struct ps_attachment *att,
	      struct maps *m);
void maps_close(struct maps *m);
/* these return 0 or -errno */
int get_config(const struct maps *m, struct shp_config *c);
int put_config(const struct maps *m, const struct shp_config *c);
int get_rule(const struct maps *m, uint32_t slot, struct shp_rule *r);
int put_rule(const struct maps *m, uint32_t slot, const struct shp_rule *r);
int get_counters(const struct maps *m, uint32_t slot, struct shp_counters *c);
int zero_slot(const struct maps *m, uint32_t slot);
/* `ports` for the rules all[SHP_RULES_MAX] (slot-indexed) */
int put_port_table(const struct maps *m, const struct shp_rule *all);
/* the rules in config order, with their slots; *n of them */
int load_rules(const struct maps *m, struct shp_config *cfg,
	       struct shp_rule *rules, uint32_t *slots, size_t *n);

/* an fd holding the lock, or -1 (reported); lock_drop() releases it */
int lock_take(struct ps_ctx *ctx);
void lock_drop(int fd);

/* a rule's match, limit and burst as `rule list` shows them */
const char *fmt_match(const struct shp_rule *r, char *buf, size_t len);
const char *fmt_limit(const struct shp_rule *r, char *buf, size_t len);
const char *fmt_burst(const struct shp_rule *r, char *buf, size_t len);

/* rules.c */
int do_rule_add(struct ps_ctx *ctx, const struct ps_args *args);
int do_rule_del(struct ps_ctx *ctx, const struct ps_args *args);
/* view.c */
int do_rule_list(struct ps_ctx *ctx, const struct ps_args *args);
int do_show(struct ps_ctx *ctx, const struct ps_args *args);
int do_watch(struct ps_ctx *ctx, const struct ps_args *args);
int shp_metrics(struct ps_ctx *ctx, const struct ps_attachment *att);

#endif /* PKTSCOPE_SHAPING_INT_H */
