// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel's ingress hooks: tcx links placed in stage order, tc filters
 * at stage priorities, XDP links; whether an attachment still runs; and the
 * clsact qdisc that tc mode made, removed once nothing uses it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/classifier.h>

#include "attach.h"

/* the kernel's mprog flags (6.6+), absent from Debian 12's uapi headers */
#define PS_BPF_F_BEFORE (1U << 3)
#define PS_BPF_F_ID (1U << 5)

/* tc mode: observers' filter priorities, then enforcers' (lower runs first) */
#define TC_PRIO_OBSERVE 0x100
#define TC_PRIO_ENFORCE 0x4000
#define TC_PRIO_SPAN 0x100
#define PS_TC_HANDLE 1

bool mode_is_xdp(enum ps_mode m)
{
	return m == PS_MODE_XDP || m == PS_MODE_XDP_NATIVE ||
	       m == PS_MODE_XDP_GENERIC;
}

static int tcx_query(int ifindex, uint32_t *ids, uint32_t *cnt)
{
	__u32 flags = 0;

	return bpf_prog_query(ifindex, PS_BPF_TCX_INGRESS, 0, &flags, ids, cnt);
}

bool hooks_kernel_has_tcx(void)
{
	uint32_t cnt = 0;
	int lo = (int)if_nametoindex("lo");

	return lo && !tcx_query(lo, NULL, &cnt);
}

/*
 * BPF_LINK_CREATE's tcx layout (kernel 6.6+, include/uapi/linux/bpf.h):
 * libbpf 1.1 cannot place a tcx link, so the call is made here.
 */
struct tcx_link_create {
	uint32_t prog_fd;
	uint32_t target_ifindex;
	uint32_t attach_type;
	uint32_t flags;
	uint32_t relative_id;	/* tcx.relative_fd / relative_id */
	uint32_t pad;
	uint64_t expected_revision;
};

static bool is_observer(uint32_t id, const struct hook_peer *peers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (peers[i].prog_id == id)
			return peers[i].stage == PS_STAGE_OBSERVE;
	return false;
}

/*
 * An observer goes before the first program that is not one (an enforcer,
 * or another tool's program, which may end the chain); an enforcer goes
 * last.  Placed relative to that right neighbour, by program id.
 */
int hooks_link_tcx(struct ps_ctx *ctx, int prog_fd, int ifindex,
		   const char *ifname, enum ps_stage stage,
		   const struct hook_peer *peers, size_t npeers)
{
	struct tcx_link_create a = {
		.prog_fd = (uint32_t)prog_fd,
		.target_ifindex = (uint32_t)ifindex,
		.attach_type = PS_BPF_TCX_INGRESS,
	};
	uint32_t ids[64], cnt = 64;
	int fd;

	if (stage == PS_STAGE_OBSERVE && !tcx_query(ifindex, ids, &cnt)) {
		for (uint32_t i = 0; i < cnt && i < 64; i++) {
			if (is_observer(ids[i], peers, npeers))
				continue;
			a.flags = PS_BPF_F_BEFORE | PS_BPF_F_ID;
			a.relative_id = ids[i];
			break;
		}
	}
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (fd < 0)
		return -ps_err(ctx, "attaching tcx to %s: %s", ifname,
			       strerror(errno));
	if (a.relative_id)
		ps_debug(ctx, "tcx: %s: placed before prog id %u, the first that is not an observer",
			 ifname, a.relative_id);
	else
		ps_debug(ctx, "tcx: %s: placed last (%s)", ifname,
			 stage == PS_STAGE_OBSERVE ? "only observers run there" :
						     "an enforcer runs after the others");
	return fd;
}

static void describe_xdp_holder(int ifindex, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd;

	snprintf(buf, len, "another program");
	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return;
	memset(&info, 0, sizeof(info));
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "program '%s' (id %u)", info.name, q.prog_id);
	else
		snprintf(buf, len, "program id %u", q.prog_id);
	if (fd >= 0)
		close(fd);
}

static long if_mtu(const char *ifname)
{
	char path[64];
	long mtu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &mtu) != 1)
			mtu = -1;
		fclose(f);
	}
	return mtu;
}

int hooks_link_xdp(struct ps_ctx *ctx, int prog_fd, int ifindex,
		   const char *ifname, enum ps_mode *mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char holder[128];
	int fd, err;

	if (*mode == PS_MODE_XDP_NATIVE)
		opts.flags = XDP_FLAGS_DRV_MODE;
	else if (*mode == PS_MODE_XDP_GENERIC)
		opts.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd >= 0) {
		if (*mode == PS_MODE_XDP && !bpf_xdp_query(ifindex, 0, &q))
			*mode = q.attach_mode == XDP_ATTACHED_SKB ?
				PS_MODE_XDP_GENERIC : PS_MODE_XDP_NATIVE;
		ps_debug(ctx, "xdp: %s: linked in mode %s", ifname,
			 ps_mode_name(*mode));
		return fd;
	}
	err = errno;
	if (err == EBUSY || err == EEXIST) {
		describe_xdp_holder(ifindex, holder, sizeof(holder));
		return -ps_err(ctx,
			"the XDP hook of %s is held by %s; XDP has one program an interface (use mode tcx to share)",
			ifname, holder);
	}
	/* a driver's XDP takes frames of one page: veth says ERANGE */
	if (err == ERANGE)
		return -ps_err(ctx,
			"the MTU of %s (%ld) is too large for XDP in native mode; lower it (ip link set dev %s mtu 1500) or use mode xdp-generic or tcx",
			ifname, if_mtu(ifname), ifname);
	if (err == EOPNOTSUPP || err == EINVAL)
		return -ps_err(ctx, "%s does not support %s: %s", ifname,
			       ps_mode_name(*mode), strerror(err));
	return -ps_err(ctx, "attaching XDP to %s: %s", ifname, strerror(err));
}

/* ---- tc: filters at stage priorities, and the clsact qdisc ---- */

static int tc_query(int ifindex, uint32_t handle, uint32_t prio,
		    uint32_t *prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = prio);
	int r = bpf_tc_query(&hook, &q);

	if (!r)
		*prog_id = q.prog_id;
	return r;
}

static int clsact_marker(char *buf, size_t len, const char *ifdir)
{
	int n = snprintf(buf, len, "%s/_clsact", ifdir);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* the marker says pktscope made the qdisc; it holds the ifindex */
static bool marker_make(const char *path, int ifindex)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	uint32_t key = 0;
	int fd;
	bool ok;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ps_clsact", 4, 4, 1, &o);
	if (fd < 0)
		return false;
	ok = !bpf_map_update_elem(fd, &key, &ifindex, 0) && !bpf_obj_pin(fd, path);
	close(fd);
	return ok;
}

static int marker_ifindex(const char *path)
{
	uint32_t key = 0;
	int fd = bpf_obj_get(path), ifindex = 0;
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);

	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.value_size != 4 ||
	    info.key_size != 4 || bpf_map_lookup_elem(fd, &key, &ifindex))
		ifindex = 0;
	close(fd);
	return ifindex;
}

int hooks_tc_pick(struct ps_ctx *ctx, const char *ifdir, struct ps_meta *m)
{
	uint32_t base = m->stage == PS_STAGE_ENFORCE ? TC_PRIO_ENFORCE :
						       TC_PRIO_OBSERVE;
	uint32_t id;

	(void)ifdir;
	for (uint32_t prio = base; prio < base + TC_PRIO_SPAN; prio++) {
		/* -ENOENT, or no clsact qdisc yet: free */
		if (tc_query(m->ifindex, PS_TC_HANDLE, prio, &id)) {
			m->tc_handle = PS_TC_HANDLE;
			m->tc_priority = prio;
			return 0;
		}
	}
	return ps_err(ctx, "no free tc filter priority on %s (%u-%u taken)",
		      m->ifname, base, base + TC_PRIO_SPAN - 1);
}

/*
 * The filter's place is in the staged ps_meta before the filter exists, so
 * a kill at any point leaves it findable; a race for a priority moves on
 * to the next one.
 */
int hooks_tc_attach(struct ps_ctx *ctx, int prog_fd, const char *ifname,
		    const char *stage_dir, struct ps_meta *m)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	char ifdir[PS_PATH_MAX], marker[PS_PATH_MAX];
	bool made_marker = false;
	int r;

	snprintf(ifdir, sizeof(ifdir), "%s", stage_dir);
	*strrchr(ifdir, '/') = '\0';
	if (!clsact_marker(marker, sizeof(marker), ifdir) &&
	    access(marker, F_OK))
		made_marker = marker_make(marker, m->ifindex);
	r = bpf_tc_hook_create(&hook);
	if (r == -EEXIST && made_marker)
		unlink(marker);		/* someone else's qdisc */
	if (r && r != -EEXIST)
		return ps_err(ctx, "creating the clsact qdisc on %s: %s", ifname,
			      strerror(-r));
	for (int tries = 0; tries < TC_PRIO_SPAN; tries++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd,
				    .handle = m->tc_handle,
				    .priority = m->tc_priority);

		if (pins_meta_write(ctx, stage_dir, m, false))
			return PS_ERR;
		r = bpf_tc_attach(&hook, &opts);
		if (r != -EEXIST)
			break;
		m->tc_priority++;
	}
	if (r)
		return ps_err(ctx, "attaching tc filter to %s: %s", ifname,
			      strerror(-r));
	ps_debug(ctx, "tc: %s: filter at priority %u, handle %#x (%s priorities from %u)",
		 ifname, m->tc_priority, m->tc_handle,
		 m->stage == PS_STAGE_ENFORCE ? "enforcers'" : "observers'",
		 m->stage == PS_STAGE_ENFORCE ? TC_PRIO_ENFORCE : TC_PRIO_OBSERVE);
	return 0;
}

static int tc_filter_count(int ifindex, uint32_t parent)
{
	struct nl_sock *sk = ps_nl_route(NULL);
	struct nl_cache *cache = NULL;
	int n = -1;

	if (sk && !rtnl_cls_alloc_cache(sk, ifindex, parent, &cache))
		n = nl_cache_nitems(cache);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return n;
}

/* the clsact qdisc pktscope made goes when no filter is left on it */
static void clsact_cleanup(int ifindex, const char *ifdir)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char marker[PS_PATH_MAX], name[IF_NAMESIZE];
	int made;

	if (clsact_marker(marker, sizeof(marker), ifdir))
		return;
	made = marker_ifindex(marker);
	if (made < 0)
		return;
	if (made == ifindex && if_indextoname((unsigned)ifindex, name)) {
		/* < 0: no clsact there (a kill before it was made) */
		if (tc_filter_count(ifindex, TC_H_MAKE(TC_H_CLSACT,
						       TC_H_MIN_INGRESS)) > 0 ||
		    tc_filter_count(ifindex, TC_H_MAKE(TC_H_CLSACT,
						       TC_H_MIN_EGRESS)) > 0)
			return;
		bpf_tc_hook_destroy(&hook);
	}
	unlink(marker);
}

/* by ifindex: a renamed interface still has the filter */
void hooks_tc_remove(struct ps_ctx *ctx, const struct ps_meta *m,
		     const char *ifdir)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, d, .handle = m->tc_handle,
			    .priority = m->tc_priority);
	char name[IF_NAMESIZE];
	uint32_t id = 0;
	int r;

	if (!m->tc_priority || !if_indextoname((unsigned)m->ifindex, name))
		goto qdisc;
	/* only a filter that still runs our program */
	if (!tc_query(m->ifindex, m->tc_handle, m->tc_priority, &id) &&
	    id == m->prog_id) {
		r = bpf_tc_detach(&hook, &d);
		if (r)
			ps_warn(ctx, "removing the tc filter on %s: %s", name,
				strerror(-r));
	}
qdisc:
	clsact_cleanup(m->ifindex, ifdir);
}

/* ---- is it still running? ---- */

enum hook_state hooks_alive(const struct ps_meta *m, const char *dir)
{
	struct bpf_link_info info;
	__u32 ilen = sizeof(info);
	char path[PS_PATH_MAX], name[IF_NAMESIZE];
	uint32_t id = 0;
	int fd;
	bool alive;

	if (m->mode == PS_MODE_TC)
		return if_indextoname((unsigned)m->ifindex, name) &&
		       !tc_query(m->ifindex, m->tc_handle, m->tc_priority, &id) &&
		       id == m->prog_id ? HOOK_ALIVE : HOOK_GONE;
	snprintf(path, sizeof(path), "%s/ps_link", dir);
	fd = bpf_obj_get(path);
	/* in the interface's XDP chain: its link is the folder's */
	if (fd < 0 && mode_is_xdp((enum ps_mode)m->mode))
		return HOOK_IN_CHAIN;
	if (fd < 0)
		return HOOK_GONE;
	memset(&info, 0, sizeof(info));
	/* tcx and xdp links both start their union with the ifindex: 0 once
	 * the interface is gone */
	alive = !bpf_obj_get_info_by_fd(fd, &info, &ilen) &&
		info.prog_id == m->prog_id &&
		(int)info.xdp.ifindex == m->ifindex && m->ifindex;
	close(fd);
	return alive ? HOOK_ALIVE : HOOK_GONE;
}

unsigned int hooks_position(const struct ps_meta *m,
			    const struct hook_peer *peers, size_t npeers)
{
	uint32_t ids[64], cnt = 64;
	unsigned int pos = 1;

	if (mode_is_xdp((enum ps_mode)m->mode))
		return 1;
	if (m->mode == PS_MODE_TCX) {
		if (tcx_query(m->ifindex, ids, &cnt))
			return 0;
		for (uint32_t i = 0; i < cnt && i < 64; i++)
			if (ids[i] == m->prog_id)
				return i + 1;
		return 0;
	}
	for (size_t i = 0; i < npeers; i++)
		if (peers[i].mode == PS_MODE_TC &&
		    peers[i].tc_priority < m->tc_priority)
			pos++;
	return pos;
}
