// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IFB + HTB for `action shape`, through libnl-route-3 (no tc subprocess).
 *
 *	<ifb> root 1: htb default 0 (unclassified packets go straight through)
 *	  1:(0x100 + slot)  rate = ceil = the rule's rate, prio = its prio
 *	    TBF leaf, handle 0x20 + slot, holding a pfifo_head_drop
 *	  fair: 1:(0x1000 + slot * 16 + k), k < 16, rate = rule / 16, ceil =
 *	    the rule's rate, each with a leaf: HTB lends what idle
 *	    children leave to the active ones in equal quanta, so N active
 *	    sources get 1/N each.
 *
 * A leaf queue is sized on purpose (shp_leaf_limit_bytes), not the IFB's
 * 32-packet default: deep enough for TCP to keep the class busy, shallow
 * enough that a full one delays by tens of ms, not seconds.  It sits in a
 * TBF that never holds a packet back (its rate is beyond any link): TBF is
 * the one qdisc of this kernel that cuts a GSO or GRO aggregate larger than
 * its burst into segments on enqueue (as CAKE's split-gso does), so a full
 * queue drops one segment, not the 40 of a 64 KiB aggregate that TCP would
 * then lose at once.  The queue drops at its head, not its tail: the
 * sender learns of the loss when the packets behind it arrive, not a full
 * queue's delay later, so it overshoots less and sends less again (this
 * kernel has no CoDel or RED to do better).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "htb.h"
#include "shaping.h"

#define LEAF_DELAY_MS	50		/* a full leaf holds this much time */
/* ~88 full frames: at a low rate 50 ms is a handful, too few for TCP */
#define LEAF_MIN_BYTES	(128U << 10)
#define HTB_QUANTUM	(64U << 10)
#define LEAF_TBF_RATE	(1ULL << 40)	/* bytes/s: a frame costs ~1 ns */
#define LEAF_L2_BYTES	(14U + 8U)	/* Ethernet and two VLAN tags */

void shp_ifb_name(const char *ifname, char *buf, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a: short, fixed, no ifindex */

	for (const char *p = ifname; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(buf, len, "psshp%08x", h);
}

uint64_t shp_leaf_limit_bytes(uint64_t rate)
{
	uint64_t b = rate / 8 * LEAF_DELAY_MS / 1000;

	return b < LEAF_MIN_BYTES ? LEAF_MIN_BYTES : b;
}

#ifdef HAVE_LIBNL

#include <net/if.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

static int htb_root(struct nl_sock *sk, int ifb)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifb);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(SHP_HTB_MAJOR, 0));
	rtnl_tc_set_kind(TC_CAST(q), "htb");
	rtnl_htb_set_defcls(q, 0);
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	/* there already, with the classes of the rules before this one */
	return r == -NLE_EXIST ? 0 : r;
}

int shp_ifb_ensure(struct ps_ctx *ctx, const struct ps_attachment *att,
		   const char *name)
{
	/* the core owns the device for the attachment and deletes it */
	int idx = ps_dev_own(ctx, att, name, "ifb"), r;
	struct nl_sock *sk;

	if (idx < 0)
		return -1;
	sk = ps_nl_route(ctx);
	if (!sk)
		return -1;
	r = htb_root(sk, idx);
	nl_socket_free(sk);
	if (r) {
		ps_dev_release(ctx, att, name, "ifb");
		return -ps_err(ctx, "setting up IFB device %s: %s", name,
			       nl_geterror(r));
	}
	return idx;
}

static int add_class(struct nl_sock *sk, int ifb, uint32_t parent,
		     uint32_t id, uint64_t rate, uint64_t ceil,
		     const struct shp_rule *r)
{
	struct rtnl_class *c = rtnl_class_alloc();
	uint64_t burst = r->burst > UINT32_MAX ? UINT32_MAX : r->burst;
	int e;

	if (!c)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), ifb);
	rtnl_tc_set_parent(TC_CAST(c), parent);
	rtnl_tc_set_handle(TC_CAST(c), id);
	rtnl_tc_set_kind(TC_CAST(c), "htb");
	/* libnl takes bytes a second */
	rtnl_htb_set_rate64(c, rate / 8);
	rtnl_htb_set_ceil64(c, ceil / 8);
	rtnl_htb_set_prio(c, r->prio > 7 ? 7 : r->prio);
	rtnl_htb_set_rbuffer(c, (uint32_t)burst);
	rtnl_htb_set_cbuffer(c, (uint32_t)burst);
	rtnl_htb_set_quantum(c, HTB_QUANTUM);
	e = rtnl_class_add(sk, c, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_class_put(c);
	return e;
}

static struct nl_msg *qdisc_msg(int ifb, uint32_t parent, uint32_t handle,
				 const char *kind)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifb,
		.tcm_handle = handle,
		.tcm_parent = parent,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWQDISC,
						NLM_F_CREATE | NLM_F_EXCL);

	if (msg && (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) ||
		    nla_put_string(msg, TCA_KIND, kind))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/*
 * The TBF, then the pfifo_head_drop of limit bytes in full frames that
 * replaces the bfifo tbf_change made.  By hand, not through libnl: its TBF
 * calls take a 32-bit rate and a burst rounded to whole microseconds, which
 * at this rate is 0, and it knows no pfifo_head_drop.
 * max_frame: TBF's burst, so the largest frame it passes whole; a larger
 * aggregate is cut into segments, a larger plain frame dropped.
 */
static int add_leaf(struct nl_sock *sk, int ifb, uint32_t parent,
		    uint32_t major, uint64_t limit, uint32_t max_frame)
{
	struct tc_tbf_qopt qopt = {
		.rate = { .rate = UINT32_MAX, .linklayer = TC_LINKLAYER_ETHERNET },
		.limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit,
	};
	struct tc_fifo_qopt fifo = { .limit = (uint32_t)(qopt.limit / max_frame) };
	struct nl_msg *msg = qdisc_msg(ifb, parent, TC_HANDLE(major, 0), "tbf");
	struct nlattr *opts;
	int e;

	if (!msg)
		return -NLE_NOMEM;
	if (!(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put(msg, TCA_TBF_PARMS, sizeof(qopt), &qopt) ||
	    nla_put_u64(msg, TCA_TBF_RATE64, LEAF_TBF_RATE) ||
	    nla_put_u32(msg, TCA_TBF_BURST, max_frame)) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nla_nest_end(msg, opts);
	e = nl_send_sync(sk, msg);	/* frees msg */
	if (e)
		return e;
	/* handle 0: the kernel picks one; the HTB class's deletion takes it */
	msg = qdisc_msg(ifb, TC_HANDLE(major, 1), 0, "pfifo_head_drop");
	if (!msg)
		return -NLE_NOMEM;
	if (nla_put(msg, TCA_OPTIONS, sizeof(fifo), &fifo)) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	return nl_send_sync(sk, msg);
}

static int del_class(struct nl_sock *sk, int ifb, uint32_t id)
{
	struct rtnl_class *c = rtnl_class_alloc();
	int e;

	if (!c)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), ifb);
	rtnl_tc_set_handle(TC_CAST(c), id);
	e = rtnl_class_delete(sk, c);
	rtnl_class_put(c);
	return e;
}

/* leaf qdisc majors: 0x20 + slot, and 0x100 + slot * 16 + k for fair */
#define LEAF_MAJOR(slot)	(0x20U + (slot))
#define FAIR_LEAF_MAJOR(slot, k) (0x100U + (slot) * SHP_FAIR_CLASSES + (k))

int shp_htb_add(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		unsigned int slot, unsigned int mtu)
{
	struct nl_sock *sk = ps_nl_route(ctx);
	uint32_t id = SHP_CLASSID(SHP_RULE_MINOR(slot));
	bool fair = r->flags & SHP_F_FAIR;
	/*
	 * The rule's rate counts IP bytes, HTB whole frames: one Ethernet
	 * header more a full-size packet makes them agree for bulk traffic.
	 */
	uint64_t rate = (uint64_t)((unsigned __int128)r->rate * (mtu + 14) /
				   (mtu ? mtu : 1500));
	uint32_t max_frame = (mtu > 1500 ? mtu : 1500) + LEAF_L2_BYTES;
	int e;

	if (!sk)
		return PS_ERR;
	e = add_class(sk, ifb, TC_HANDLE(SHP_HTB_MAJOR, 0), id, rate, rate, r);
	if (!e && !fair)
		e = add_leaf(sk, ifb, id, LEAF_MAJOR(slot),
			     shp_leaf_limit_bytes(rate), max_frame);
	for (unsigned int k = 0; fair && !e && k < SHP_FAIR_CLASSES; k++) {
		uint32_t cid = SHP_CLASSID(SHP_FAIR_MINOR(slot, k));
		uint64_t share = rate / SHP_FAIR_CLASSES;

		e = add_class(sk, ifb, id, cid, share ? share : 8, rate, r);
		if (!e)
			e = add_leaf(sk, ifb, cid, FAIR_LEAF_MAJOR(slot, k),
				     shp_leaf_limit_bytes(rate), max_frame);
	}
	nl_socket_free(sk);
	if (e) {
		shp_htb_del(ctx, ifb, r, slot);
		return ps_err(ctx, "creating HTB class %x:%x on the IFB: %s",
			      SHP_HTB_MAJOR, SHP_RULE_MINOR(slot),
			      nl_geterror(e));
	}
	return PS_OK;
}

void shp_htb_del(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		 unsigned int slot)
{
	struct nl_sock *sk = ps_nl_route(ctx);

	if (!sk)
		return;
	/* children first: HTB refuses to delete a class that has some */
	if (r->flags & SHP_F_FAIR)
		for (unsigned int k = 0; k < SHP_FAIR_CLASSES; k++)
			del_class(sk, ifb, SHP_CLASSID(SHP_FAIR_MINOR(slot, k)));
	del_class(sk, ifb, SHP_CLASSID(SHP_RULE_MINOR(slot)));
	nl_socket_free(sk);
}

/* the host's qdiscs (libnl 3.7 has no dump of one device's), once a view */
struct shp_leaves *shp_leaves_read(void)
{
	struct nl_sock *sk = ps_nl_route(NULL);
	struct nl_cache *cache = NULL;

	if (sk && rtnl_qdisc_alloc_cache(sk, &cache))
		cache = NULL;
	nl_socket_free(sk);
	return (struct shp_leaves *)cache;
}

void shp_leaves_free(struct shp_leaves *l)
{
	nl_cache_free((struct nl_cache *)l);
}

/*
 * From the leaf qdiscs, not the classes: a segment the bfifo drops after
 * TBF cut an aggregate counts in TBF's drops only (HTB saw the aggregate
 * enqueued).
 */
bool shp_htb_stats(const struct shp_leaves *l, int ifb,
		   const struct shp_rule *r, unsigned int slot,
		   uint64_t *drops, uint64_t *backlog)
{
	struct nl_cache *cache = (struct nl_cache *)l;
	bool fair = r->flags & SHP_F_FAIR;
	bool ok = false;

	*drops = *backlog = 0;
	for (unsigned int k = 0; cache && k < (fair ? SHP_FAIR_CLASSES : 1);
	     k++) {
		uint32_t major = fair ? FAIR_LEAF_MAJOR(slot, k) :
			LEAF_MAJOR(slot);
		struct rtnl_qdisc *q = rtnl_qdisc_get(cache, ifb,
						      TC_HANDLE(major, 0));

		if (!q)
			continue;
		*drops += rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
		*backlog += rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BACKLOG);
		rtnl_qdisc_put(q);
		ok = true;
	}
	return ok;
}

#else /* !HAVE_LIBNL */

#define NO_LIBNL "this pktscope was built without libnl-route-3, which " \
	"action shape needs (apt-get install libnl-route-3-dev, then " \
	"./configure and make again)"

int shp_ifb_ensure(struct ps_ctx *ctx, const struct ps_attachment *att,
		   const char *name)
{
	(void)att;
	(void)name;
	return -ps_err(ctx, NO_LIBNL);
}

int shp_htb_add(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		unsigned int slot, unsigned int mtu)
{
	(void)mtu;
	(void)ifb;
	(void)r;
	(void)slot;
	return ps_err(ctx, NO_LIBNL);
}

void shp_htb_del(struct ps_ctx *ctx, int ifb, const struct shp_rule *r,
		 unsigned int slot)
{
	(void)ctx;
	(void)ifb;
	(void)r;
	(void)slot;
}

struct shp_leaves *shp_leaves_read(void)
{
	return NULL;
}

void shp_leaves_free(struct shp_leaves *l)
{
	(void)l;
}

bool shp_htb_stats(const struct shp_leaves *l, int ifb,
		   const struct shp_rule *r, unsigned int slot,
		   uint64_t *drops, uint64_t *backlog)
{
	(void)l;
	(void)ifb;
	(void)r;
	(void)slot;
	*drops = *backlog = 0;
	return false;
}

#endif /* HAVE_LIBNL */
