// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Network devices an attachment owns (shaping's IFB, ...).  ps_dev_own()
 * records the device in the attachment's pinned ps_res before it makes
 * it, so a process killed in between leaves a record, not a stray device.
 * The core deletes what is recorded after the plugin's teardown(),
 * wherever that runs: detach, `detach dev all`, an attach that fails after
 * configure(), a killed process's attachment at the next attach or detach.
 * Only a device of the recorded name and type is deleted: a device the
 * attachment did not make is never recorded, so never removed.  An
 * attach being built beside the published attachment of its plugin (a
 * replace, or two racing attaches) shares the published one's devices,
 * and neither's cleanup deletes a device the other still records.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "attach.h"

#define RES_PIN "ps_res"
#define RES_MAX 8

struct res_entry {
	char type[16];		/* the rtnetlink kind: "ifb", ... */
	char name[PS_IFNAMSIZ];
};

/* ps_res in dir: its fd, -ENOENT when there is none and !create */
static int res_open(struct ps_ctx *ctx, const char *dir, bool create)
{
	char path[PS_PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/" RES_PIN, dir) >=
	    (int)sizeof(path))
		return -ps_err(ctx, "pin path %s/%s is too long", dir, RES_PIN);
	fd = bpf_obj_get(path);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -ps_err(ctx, "opening %s: %s", path,
					       strerror(errno));
	if (!create)
		return -ENOENT;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, RES_PIN, sizeof(uint32_t),
			    sizeof(struct res_entry), RES_MAX, NULL);
	if (fd < 0)
		return -ps_err(ctx, "creating %s: %s", path, strerror(errno));
	if (pins_pin(ctx, fd, dir, RES_PIN)) {
		close(fd);
		return -PS_ERR;
	}
	return fd;
}

/* e's slot in the record fd, or -1; *empty: its first empty slot, or RES_MAX */
static int res_slot(int fd, const struct res_entry *e, uint32_t *empty)
{
	struct res_entry t;

	*empty = RES_MAX;
	for (uint32_t k = 0; k < RES_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, &t))
			continue;
		if (!memcmp(&t, e, sizeof(t)))
			return (int)k;
		if (!t.name[0] && *empty == RES_MAX)
			*empty = k;
	}
	return -1;
}

/* e into the record fd unless it is there: 0, or -1 (errno ENOSPC: full) */
static int res_add(int fd, const struct res_entry *e)
{
	uint32_t empty;

	if (res_slot(fd, e, &empty) >= 0)
		return 0;
	if (empty == RES_MAX) {
		errno = ENOSPC;
		return -1;
	}
	return bpf_map_update_elem(fd, &empty, e, BPF_ANY);
}

/* whether ps_res in dir records e */
static bool res_has(struct ps_ctx *ctx, const char *dir,
		    const struct res_entry *e)
{
	int fd = res_open(ctx, dir, false);
	uint32_t empty;
	bool have;

	if (fd < 0)
		return false;
	have = res_slot(fd, e, &empty) >= 0;
	close(fd);
	return have;
}

/*
 * Whether another folder of the same plugin on the interface records e:
 * the published attachment while dir is an attach being built (a replace,
 * or the loser of a race, takes it over), or an attach being built while
 * dir is the published one.  dir: <bpffs>/pktscope/<ifname>/<folder>.
 */
static bool recorded_elsewhere(struct ps_ctx *ctx, const char *dir,
			       const struct res_entry *e)
{
	char ifdir[PS_PATH_MAX], mine[64], plugin[64], other[PS_PATH_MAX];
	const char *base;
	uint32_t pid;
	uint64_t start;
	bool found = false;
	char **names;
	size_t n;

	snprintf(ifdir, sizeof(ifdir), "%s", dir);
	base = strrchr(dir, '/');
	if (!base || !strrchr(ifdir, '/'))
		return false;
	base++;
	*strrchr(ifdir, '/') = '\0';
	if (!pins_stage_parse(base, mine, sizeof(mine), &pid, &start))
		snprintf(mine, sizeof(mine), "%s", base);
	for (int hidden = 0; hidden < 2 && !found; hidden++) {
		n = pins_list(ifdir, &names, hidden);
		for (size_t i = 0; i < n && !found; i++) {
			if (!strcmp(names[i], base) ||
			    (hidden ? !pins_stage_parse(names[i], plugin,
							sizeof(plugin), &pid,
							&start) ||
				      strcmp(plugin, mine) :
				      strcmp(names[i], mine)) ||
			    pins_join(other, sizeof(other), ifdir, names[i]))
				continue;
			found = res_has(ctx, other, e);
		}
		pins_list_free(names, n);
	}
	return found;
}

struct nl_sock *ps_nl_route(struct ps_ctx *ctx)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk || nl_connect(sk, NETLINK_ROUTE)) {
		if (ctx)
			ps_err(ctx, "cannot open a route netlink socket");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/*
 * The address follower: libnl's socket, subscribed to the address groups.
 * The messages themselves are not parsed: any of them means the list
 * changed, and the plugin reads the list anew (getifaddrs()).
 */
struct ps_addr_follow {
	struct nl_sock *sk;
};

struct ps_addr_follow *ps_addrs_follow(struct ps_ctx *ctx)
{
	struct ps_addr_follow *f = calloc(1, sizeof(*f));

	if (!f || !(f->sk = nl_socket_alloc()))
		goto fail;
	nl_socket_disable_seq_check(f->sk);
	if (nl_connect(f->sk, NETLINK_ROUTE) ||
	    nl_socket_add_memberships(f->sk, RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV6_IFADDR, 0) ||
	    nl_socket_set_nonblocking(f->sk))
		goto fail;
	return f;
fail:
	if (ctx)
		ps_err(ctx, "cannot follow this host's address changes: no route netlink socket");
	ps_addrs_follow_free(f);
	return NULL;
}

int ps_addrs_changed(struct ps_addr_follow *f)
{
	char buf[8192];
	int changed = 0;

	for (;;) {
		ssize_t n = recv(nl_socket_get_fd(f->sk), buf, sizeof(buf),
				 MSG_DONTWAIT);

		if (n > 0) {
			changed = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* events lost: the socket's buffer overflowed */
		if (n < 0 && errno == ENOBUFS) {
			changed = 1;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		return changed;
	}
}

void ps_addrs_follow_free(struct ps_addr_follow *f)
{
	if (!f)
		return;
	nl_socket_free(f->sk);
	free(f);
}

/* the device's rtnetlink kind into type; 0, or -NLE_OBJ_NOTFOUND */
static int dev_type(struct nl_sock *sk, const char *name, char *type,
		    size_t len)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (!r)
		snprintf(type, len, "%s", rtnl_link_get_type(l) ?
			 rtnl_link_get_type(l) : "");
	rtnl_link_put(l);
	return r;
}

static int dev_make_up(struct nl_sock *sk, const char *name, const char *type)
{
	struct rtnl_link *l = rtnl_link_alloc(), *cur = NULL;
	int r = -NLE_NOMEM;

	if (!l)
		return r;
	rtnl_link_set_name(l, name);
	r = rtnl_link_set_type(l, type);
	if (!r)
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r == -NLE_EXIST)
		r = 0;
	if (!r)
		r = rtnl_link_get_kernel(sk, 0, name, &cur);
	rtnl_link_put(l);
	if (r)
		return r;
	/*
	 * Before it is up: no IPv6 link-local address, or the host sends its
	 * router solicitations out of the device, through whatever queues a
	 * plugin built there (shaping's counts were one packet off).  The
	 * kernel takes this only for a device that exists.
	 */
	l = rtnl_link_alloc();
	r = l ? rtnl_link_inet6_set_addr_gen_mode(l, IN6_ADDR_GEN_MODE_NONE) :
		-NLE_NOMEM;
	if (!r)
		r = rtnl_link_change(sk, cur, l, 0);
	rtnl_link_put(l);
	l = NULL;
	if (!r && !(l = rtnl_link_alloc()))
		r = -NLE_NOMEM;
	if (!r) {
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_change(sk, cur, l, 0);
	}
	rtnl_link_put(l);
	rtnl_link_put(cur);
	return r;
}

int ps_dev_own(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *name, const char *type)
{
	struct res_entry want = {};
	char have[sizeof(want.type)];
	uint32_t free_slot;
	bool recorded;
	struct nl_sock *sk;
	int fd, r, idx;

	if (!name[0] || strlen(name) >= sizeof(want.name) || !type[0] ||
	    strlen(type) >= sizeof(want.type))
		return -ps_err(ctx, "device name '%s' or type '%s' is empty or too long",
			       name, type);
	snprintf(want.name, sizeof(want.name), "%s", name);
	snprintf(want.type, sizeof(want.type), "%s", type);
	fd = res_open(ctx, att->pin_dir, true);
	if (fd < 0)
		return -PS_ERR;
	recorded = res_slot(fd, &want, &free_slot) >= 0;
	sk = ps_nl_route(ctx);
	if (!sk) {
		close(fd);
		return -PS_ERR;
	}
	r = dev_type(sk, name, have, sizeof(have));
	if (!recorded && !r && !recorded_elsewhere(ctx, att->pin_dir, &want)) {
		ps_err(ctx, "a device named %s exists and is not %s's on %s: left alone",
		       name, att->plugin, att->ifname);
		goto fail;
	}
	if (!recorded && free_slot == RES_MAX) {
		ps_err(ctx, "%s on %s owns %d devices already", att->plugin,
		       att->ifname, RES_MAX);
		goto fail;
	}
	/* recorded before it exists: whoever cleans up after us finds it */
	if (!recorded && bpf_map_update_elem(fd, &free_slot, &want, BPF_ANY)) {
		ps_err(ctx, "recording device %s in %s: %s", name,
		       att->pin_dir, strerror(errno));
		goto fail;
	}
	r = dev_make_up(sk, name, type);
	if (r) {
		ps_err(ctx, "creating %s device %s: %s", type, name,
		       nl_geterror(r));
		goto fail;
	}
	nl_socket_free(sk);
	close(fd);
	idx = (int)if_nametoindex(name);
	if (!idx)
		return -ps_err(ctx, "device %s went as it was made", name);
	ps_debug(ctx, "devices: %s (%s) is %s's on %s", name, type,
		 att->plugin, att->ifname);
	return idx;
fail:
	nl_socket_free(sk);
	close(fd);
	return -PS_ERR;
}

/* delete the device e names if it is of e's type; 0 or PS_ERR */
static int dev_delete(struct ps_ctx *ctx, struct nl_sock *sk,
		      const struct res_entry *e)
{
	char have[sizeof(e->type)];
	struct rtnl_link *l;
	int r;

	if (!if_nametoindex(e->name) ||
	    dev_type(sk, e->name, have, sizeof(have)))
		return 0;
	if (strcmp(have, e->type)) {
		ps_warn(ctx, "%s is a %s device now, not the %s one recorded; left alone",
			e->name, have[0] ? have : "plain", e->type);
		return 0;
	}
	l = rtnl_link_alloc();
	if (!l)
		return ps_err(ctx, "out of memory");
	rtnl_link_set_name(l, e->name);
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		return ps_err(ctx, "deleting device %s: %s", e->name,
			      nl_geterror(r));
	ps_debug(ctx, "devices: deleted %s (%s)", e->name, e->type);
	return 0;
}

int devices_remove(struct ps_ctx *ctx, const char *dir)
{
	struct nl_sock *sk = NULL;
	struct res_entry e;
	int fd = res_open(ctx, dir, false), ret = 0;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return PS_ERR;
	for (uint32_t k = 0; k < RES_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, &e) || !e.name[0] ||
		    !memchr(e.name, 0, sizeof(e.name)) ||
		    !memchr(e.type, 0, sizeof(e.type)) ||
		    !if_nametoindex(e.name) || recorded_elsewhere(ctx, dir, &e))
			continue;
		if (!sk && !(sk = ps_nl_route(ctx))) {
			ret = PS_ERR;
			break;
		}
		if (dev_delete(ctx, sk, &e))
			ret = PS_ERR;
	}
	nl_socket_free(sk);
	close(fd);
	return ret;
}

int ps_dev_release(struct ps_ctx *ctx, const struct ps_attachment *att,
		   const char *name, const char *type)
{
	struct res_entry none = {}, want = {};
	struct nl_sock *sk;
	bool mine = false;
	uint32_t empty;
	int fd, k, r = 0;

	snprintf(want.name, sizeof(want.name), "%s", name);
	snprintf(want.type, sizeof(want.type), "%s", type);
	fd = res_open(ctx, att->pin_dir, false);
	if (fd < 0 && fd != -ENOENT)
		return PS_ERR;
	if (fd >= 0) {
		k = res_slot(fd, &want, &empty);
		mine = k >= 0;
		if (mine)
			bpf_map_update_elem(fd, &k, &none, BPF_ANY);
		close(fd);
	}
	/* not ours, nor the replaced attachment's: never touched */
	if (!mine && !recorded_elsewhere(ctx, att->pin_dir, &want))
		return 0;
	sk = ps_nl_route(ctx);
	if (!sk)
		return PS_ERR;
	r = dev_delete(ctx, sk, &want);
	nl_socket_free(sk);
	return r;
}

int devices_carry(struct ps_ctx *ctx, const char *from, const char *to)
{
	struct res_entry e;
	int src = res_open(ctx, from, false), dst, ret = 0;

	if (src == -ENOENT)
		return 0;
	if (src < 0)
		return PS_ERR;
	dst = res_open(ctx, to, true);
	if (dst < 0) {
		close(src);
		return PS_ERR;
	}
	for (uint32_t k = 0; k < RES_MAX; k++) {
		if (bpf_map_lookup_elem(src, &k, &e) || !e.name[0])
			continue;
		if (res_add(dst, &e))
			ret = ps_err(ctx, "cannot hand device %s over to the new attachment",
				     e.name);
	}
	close(src);
	close(dst);
	return ret;
}
