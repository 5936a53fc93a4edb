/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The shaping plugin's IFB device and HTB tree, through libnl-route-3.
 * Without libnl (configure says so) every call fails with a message that
 * says what to install.
 */
#ifndef PKTSCOPE_SHAPING_HTB_H
#define PKTSCOPE_SHAPING_HTB_H

#include <stdbool.h>
#include <stdint.h>
#include <pktscope/plugin.h>

struct shp_rule;

/* the IFB's name for interface ifname */
void shp_ifb_name(const char *ifname, char *buf, size_t len);

/*
 * Make the IFB (up, HTB root 1:) if missing, owned by the attachment
 * (ps_dev_own(): the core deletes it, qdiscs and classes with it); its
 * ifindex, or -1.
 */
int shp_ifb_ensure(struct ps_ctx *ctx, const struct ps_attachment *att,
		   const char *name);

/*
 * The HTB classes of rule r in slot on the IFB: its class (rate = ceil =
 * the rule's rate, HTB prio = the rule's prio) with a leaf queue, or for
 * a fair rule SHP_FAIR_CLASSES children sharing it.  All or nothing.
 * mtu: the shaped interface's, to turn IP rates into frame rates.
 */
int shp_htb_add(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		unsigned int slot, unsigned int mtu);
void shp_htb_del(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		 unsigned int slot);

/* the leaf queue and HTB burst a shaped rule of rate bit/s gets */
uint64_t shp_leaf_limit_bytes(uint64_t rate);

/* the leaf queues' tc statistics, read once for every rule (NULL: none) */
struct shp_leaves;
struct shp_leaves *shp_leaves_read(void);
void shp_leaves_free(struct shp_leaves *l);
/* drops and backlog of the rule's leaves, from l; false: none */
bool shp_htb_stats(const struct shp_leaves *l, int ifb,
		   const struct shp_rule *r, unsigned int slot,
		   uint64_t *drops, uint64_t *backlog_bytes);

#endif /* PKTSCOPE_SHAPING_HTB_H */
