// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP chain (include/pktscope/bpf/hook.h): XDP holds one program an
 * interface, so pktscope's plugins there form a chain of tail calls
 * through a program array pinned per interface:
 *
 *	<bpffs>/pktscope/<ifname>/
 *		_xdp_chain     program array: [i] = the first program whose
 *		               slot is >= i (what slot i - 1 tail-calls)
 *		_xdp_slots     array: [slot] = id of the program that has it
 *		_xdp_link      the XDP link, on the program of the lowest slot
 *
 * A program's slot is fixed at load (ps_xdp_slot, in its own rodata map),
 * so a slot is taken once: observers get 0-7, enforcers 8-15, each after
 * the last one of its stage on the interface.  A chain changes under an
 * flock() of the interface's directory.  (libxdp's dispatcher would do
 * this with freplace programs, which this kernel refuses: EPERM.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <pktscope/bpf/hook.h>
#include "attach.h"

/* pinned hidden (a leading _), so attachment listings pass them by */
#define CHAIN_PIN	"_xdp_chain"
#define SLOTS_MAP	"_xdp_slots"
#define LINK_PIN	"_xdp_link"

static int if_dir(struct ps_ctx *ctx, const char *ifname, char *buf,
		  size_t len)
{
	int n = snprintf(buf, len, "%s/pktscope/%s", ctx->bpffs, ifname);

	if (n < 0 || (size_t)n >= len)
		return ps_err(ctx, "pin path under %s is too long", ctx->bpffs);
	return 0;
}

static int obj_get_at(const char *dir, const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

static void unpin_at(const char *dir, const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* a pinned map, only if it is of the type and size we made it with */
static int map_get_checked(const char *dir, const char *name,
			   enum bpf_map_type type, uint32_t value_size)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int fd = obj_get_at(dir, name);

	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != type ||
	    info.key_size != 4 || info.value_size != value_size ||
	    info.max_entries != PS_XDP_CHAIN_MAX) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static uint32_t prog_id_of_fd(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static void read_slots(int fd, uint32_t ids[PS_XDP_CHAIN_MAX])
{
	for (uint32_t i = 0; i < PS_XDP_CHAIN_MAX; i++)
		if (fd < 0 || bpf_map_lookup_elem(fd, &i, &ids[i]))
			ids[i] = 0;
}

/*
 * chain[i] = the program of the first taken slot >= i, for every i, from
 * the slots map.  A slot whose program is gone (freed) is cleared.
 */
static int rebuild_chain(int chain_fd, int slots_fd)
{
	uint32_t ids[PS_XDP_CHAIN_MAX], zero = 0;
	int fds[PS_XDP_CHAIN_MAX], next = -1, r = 0;
	int i;

	read_slots(slots_fd, ids);
	for (i = 0; i < PS_XDP_CHAIN_MAX; i++) {
		fds[i] = ids[i] ? bpf_prog_get_fd_by_id(ids[i]) : -1;
		if (ids[i] && fds[i] < 0)
			bpf_map_update_elem(slots_fd, &i, &zero, 0);
	}
	for (i = PS_XDP_CHAIN_MAX - 1; i >= 0; i--) {
		uint32_t k = (uint32_t)i;

		if (fds[i] >= 0)
			next = fds[i];
		if (next >= 0) {
			if (bpf_map_update_elem(chain_fd, &k, &next, 0))
				r = -errno;
		} else {
			bpf_map_delete_elem(chain_fd, &k);
		}
	}
	for (i = 0; i < PS_XDP_CHAIN_MAX; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int first_slot(const uint32_t ids[PS_XDP_CHAIN_MAX], int skip)
{
	for (int i = 0; i < PS_XDP_CHAIN_MAX; i++)
		if (ids[i] && i != skip)
			return i;
	return -1;
}

/* the pinned link still hooks ifindex: its interface was not re-created */
static bool link_live(int link_fd, int ifindex)
{
	struct bpf_link_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return !bpf_obj_get_info_by_fd(link_fd, &info, &len) &&
	       info.type == BPF_LINK_TYPE_XDP &&
	       (int)info.xdp.ifindex == ifindex;
}

static void remove_chain_pins(const char *dir)
{
	unpin_at(dir, LINK_PIN);
	unpin_at(dir, CHAIN_PIN);
	unpin_at(dir, SLOTS_MAP);
}

/*
 * The chain lock an attach holds from ps_chain_prepare() to
 * ps_chain_close(): while it runs, its own clean-up (a replaced or stale
 * attachment leaving the chain) locks the same folder again, and a second
 * flock() on another descriptor would wait for itself forever.
 */
static int held_fd = -1;
static char held_dir[512];		/* as struct ps_chain.dir */

static int lock_dir(struct ps_ctx *ctx, const char *dir)
{
	int fd;

	if (held_fd >= 0 && !strcmp(held_dir, dir)) {
		/* the same open file: already locked, released with it */
		fd = dup(held_fd);
		return fd >= 0 ? fd : -ps_err(ctx, "dup: %s", strerror(errno));
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return -ps_err(ctx, "cannot lock %s: %s", dir, strerror(err));
	}
	return fd;
}

void ps_chain_close(struct ps_chain *ch)
{
	if (ch->chain_fd >= 0)
		close(ch->chain_fd);
	if (ch->slots_fd >= 0)
		close(ch->slots_fd);
	if (ch->lock_fd >= 0) {
		/* left empty by a failed attach; in use, it stays */
		rmdir(ch->dir);
		if (ch->lock_fd == held_fd)
			held_fd = -1;
		close(ch->lock_fd);	/* drops the flock */
	}
	ch->chain_fd = ch->slots_fd = ch->lock_fd = -1;
	ch->chained = false;
}

/* pick the slot: after the last program of the plugin's stage */
static int pick_slot(struct ps_ctx *ctx, const uint32_t ids[PS_XDP_CHAIN_MAX],
		     const char *ifname)
{
	int lo = ctx->plugin->stage == PS_STAGE_ENFORCE ? PS_XDP_STAGE_SLOTS : 0;
	int hi = lo + PS_XDP_STAGE_SLOTS, s = lo;

	for (int i = lo; i < hi; i++)
		if (ids[i])
			s = i + 1;
	if (s >= hi)
		return -ps_err(ctx,
			"the XDP chain of %s has no slot left after its last %s (%d a stage)",
			ifname, lo ? "enforcer" : "observer", PS_XDP_STAGE_SLOTS);
	return s;
}

static enum ps_mode link_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return PS_MODE_XDP;
	return q.attach_mode == XDP_ATTACHED_SKB ? PS_MODE_XDP_GENERIC :
						   PS_MODE_XDP_NATIVE;
}

int ps_chain_prepare(struct ps_ctx *ctx, struct bpf_object *obj,
		     const char *ifname, int ifindex, enum ps_mode mode,
		     struct ps_chain *ch)
{
	struct bpf_map *chain, *slot;
	uint32_t ids[PS_XDP_CHAIN_MAX];
	char root[512];
	int link_fd, s;

	ch->chain_fd = ch->slots_fd = ch->lock_fd = -1;
	ch->chained = false;
	chain = bpf_object__find_map_by_name(obj, PS_XDP_CHAIN_MAP);
	slot = bpf_object__find_map_by_name(obj, PS_XDP_SLOT_SEC);
	if (!chain || !slot || bpf_map__type(chain) != BPF_MAP_TYPE_PROG_ARRAY)
		return 0;	/* not made by PS_HOOK(): XDP alone */

	snprintf(root, sizeof(root), "%s/pktscope", ctx->bpffs);
	if (if_dir(ctx, ifname, ch->dir, sizeof(ch->dir)))
		return PS_ERR;
	if ((mkdir(root, 0700) && errno != EEXIST) ||
	    (mkdir(ch->dir, 0700) && errno != EEXIST))
		return ps_err(ctx, "cannot create %s: %s", ch->dir,
			      strerror(errno));
	ch->lock_fd = lock_dir(ctx, ch->dir);
	if (ch->lock_fd < 0)
		return PS_ERR;
	if (held_fd < 0) {
		held_fd = ch->lock_fd;
		snprintf(held_dir, sizeof(held_dir), "%s", ch->dir);
	}

	/* a chain whose link died with its interface starts again */
	link_fd = obj_get_at(ch->dir, LINK_PIN);
	if (link_fd >= 0 && !link_live(link_fd, ifindex)) {
		ps_debug(ctx, "xdp: %s: removing the stale chain, whose link died", ifname);
		remove_chain_pins(ch->dir);
	} else if (link_fd >= 0) {
		enum ps_mode have = link_mode(ifindex);

		/* before load and configure(): a refusal leaves nothing */
		if (mode != PS_MODE_XDP && mode != have) {
			close(link_fd);
			ps_chain_close(ch);
			return ps_err(ctx,
				"the XDP chain of %s runs in mode %s: attach with mode %s or xdp",
				ifname, ps_mode_name(have), ps_mode_name(have));
		}
	}
	if (link_fd >= 0)
		close(link_fd);

	ch->chain_fd = map_get_checked(ch->dir, CHAIN_PIN,
				       BPF_MAP_TYPE_PROG_ARRAY, 4);
	ch->slots_fd = map_get_checked(ch->dir, SLOTS_MAP, BPF_MAP_TYPE_ARRAY,
				       4);
	if (ch->chain_fd == -EINVAL || ch->slots_fd == -EINVAL) {
		ps_chain_close(ch);
		return ps_err(ctx, "%s/%s or %s is not what pktscope pinned there",
			      ch->dir, CHAIN_PIN, SLOTS_MAP);
	}
	if ((ch->chain_fd < 0) != (ch->slots_fd < 0)) {
		/* half a chain, from a killed attach: start again */
		remove_chain_pins(ch->dir);
		if (ch->chain_fd >= 0)
			close(ch->chain_fd);
		if (ch->slots_fd >= 0)
			close(ch->slots_fd);
		ch->chain_fd = ch->slots_fd = -1;
	}
	if (ch->slots_fd < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, o);

		ch->slots_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, SLOTS_MAP, 4,
					      4, PS_XDP_CHAIN_MAX, &o);
		if (ch->slots_fd < 0) {
			ps_chain_close(ch);
			return ps_err(ctx, "creating %s: %s", SLOTS_MAP,
				      strerror(errno));
		}
		ch->new_chain = true;
	} else {
		ch->new_chain = false;
	}
	read_slots(ch->slots_fd, ids);
	s = pick_slot(ctx, ids, ifname);
	if (s < 0) {
		ps_chain_close(ch);
		return PS_ERR;
	}
	ch->slot = s;
	if (ch->chain_fd >= 0 && bpf_map__reuse_fd(chain, ch->chain_fd)) {
		ps_chain_close(ch);
		return ps_err(ctx, "joining the XDP chain of %s: %s", ifname,
			      strerror(errno));
	}
	if (bpf_map__set_initial_value(slot, &ch->slot, sizeof(ch->slot))) {
		ps_chain_close(ch);
		return ps_err(ctx, "setting the XDP slot: %s", strerror(errno));
	}
	ch->map = chain;
	ch->chained = true;
	ps_debug(ctx, "xdp: %s: chain slot %d (%s)", ifname, ch->slot,
		 ch->new_chain ? "a new chain" : "joining the chain there");
	return 0;
}

int ps_chain_link(struct ps_ctx *ctx, struct ps_chain *ch, int prog_fd,
		  int ifindex, const char *ifname, enum ps_mode *mode)
{
	uint32_t ids[PS_XDP_CHAIN_MAX], key = (uint32_t)ch->slot, id, zero = 0;
	int link_fd, first, r = PS_ERR;
	bool new_link = false;

	id = prog_id_of_fd(prog_fd);
	link_fd = obj_get_at(ch->dir, LINK_PIN);
	if (link_fd < 0) {
		link_fd = hooks_link_xdp(ctx, prog_fd, ifindex, ifname, mode);
		if (link_fd < 0)
			return PS_ERR;
		new_link = true;
	} else {
		*mode = link_mode(ifindex);	/* checked by ps_chain_prepare() */
	}
	if (ch->chain_fd < 0)
		ch->chain_fd = dup(bpf_map__fd(ch->map));
	if (ch->new_chain &&
	    (pins_pin(ctx, ch->chain_fd, ch->dir, CHAIN_PIN) ||
	     pins_pin(ctx, ch->slots_fd, ch->dir, SLOTS_MAP)))
		goto out;
	if (new_link && pins_pin(ctx, link_fd, ch->dir, LINK_PIN))
		goto out;

	read_slots(ch->slots_fd, ids);
	first = first_slot(ids, -1);
	if (bpf_map_update_elem(ch->slots_fd, &key, &id, 0) ||
	    rebuild_chain(ch->chain_fd, ch->slots_fd)) {
		ps_err(ctx, "updating the XDP chain of %s: %s", ifname,
		       strerror(errno));
		goto undo;
	}
	if (!new_link && (first < 0 || ch->slot < first) &&
	    bpf_link_update(link_fd, prog_fd, NULL)) {
		ps_err(ctx, "moving the XDP link of %s to %s: %s", ifname,
		       ctx->plugin->name, strerror(errno));
		goto undo;
	}
	r = 0;
	goto out;
undo:
	bpf_map_update_elem(ch->slots_fd, &key, &zero, 0);
	rebuild_chain(ch->chain_fd, ch->slots_fd);
out:
	if (r && ch->new_chain)
		remove_chain_pins(ch->dir);
	else if (r && new_link)
		unpin_at(ch->dir, LINK_PIN);
	close(link_fd);
	return r;
}

void ps_chain_unlink(struct ps_ctx *ctx, const char *plugin_dir,
		     const char *ifname)
{
	uint32_t ids[PS_XDP_CHAIN_MAX], id, zero = 0;
	int lock_fd, chain_fd, slots_fd, prog_fd, link_fd, s = -1, first;
	char dir[512];

	if (if_dir(ctx, ifname, dir, sizeof(dir)))
		return;
	prog_fd = obj_get_at(plugin_dir, "ps_prog");
	if (prog_fd < 0)
		return;
	id = prog_id_of_fd(prog_fd);
	close(prog_fd);
	lock_fd = lock_dir(ctx, dir);
	if (lock_fd < 0)
		return;
	chain_fd = map_get_checked(dir, CHAIN_PIN,
				   BPF_MAP_TYPE_PROG_ARRAY, 4);
	slots_fd = map_get_checked(dir, SLOTS_MAP, BPF_MAP_TYPE_ARRAY, 4);
	if (chain_fd < 0 || slots_fd < 0)
		goto out;
	read_slots(slots_fd, ids);
	for (int i = 0; i < PS_XDP_CHAIN_MAX; i++)
		if (id && ids[i] == id)
			s = i;
	if (s < 0)
		goto out;

	first = first_slot(ids, s);
	if (first < 0) {
		/* the last one: the link goes with its pin */
		remove_chain_pins(dir);
		goto out;
	}
	link_fd = obj_get_at(dir, LINK_PIN);
	if (link_fd >= 0 && s < first) {
		prog_fd = bpf_prog_get_fd_by_id(ids[first]);
		/* a link whose interface is gone cannot move: fine */
		if (prog_fd < 0 || (bpf_link_update(link_fd, prog_fd, NULL) &&
				    errno != ENOLINK))
			ps_warn(ctx, "moving the XDP link of %s: %s", ifname,
				strerror(errno));
		if (prog_fd >= 0)
			close(prog_fd);
	}
	if (link_fd >= 0)
		close(link_fd);
	bpf_map_update_elem(slots_fd, &(uint32_t){ (uint32_t)s }, &zero, 0);
	rebuild_chain(chain_fd, slots_fd);
out:
	if (chain_fd >= 0)
		close(chain_fd);
	if (slots_fd >= 0)
		close(slots_fd);
	close(lock_fd);
}

unsigned int ps_chain_position(const char *ifdir, uint32_t prog_id,
			       int ifindex)
{
	uint32_t ids[PS_XDP_CHAIN_MAX];
	unsigned int pos = 0, n = 0;
	int link_fd, slots_fd;
	bool live;

	link_fd = obj_get_at(ifdir, LINK_PIN);
	if (link_fd < 0)
		return 0;
	live = link_live(link_fd, ifindex);
	close(link_fd);
	if (!live || !prog_id)
		return 0;
	slots_fd = map_get_checked(ifdir, SLOTS_MAP, BPF_MAP_TYPE_ARRAY, 4);
	if (slots_fd < 0)
		return 0;
	read_slots(slots_fd, ids);
	close(slots_fd);
	for (int i = 0; i < PS_XDP_CHAIN_MAX; i++) {
		if (!ids[i])
			continue;
		n++;
		if (ids[i] == prog_id)
			pos = n;
	}
	return pos;
}

int ps_chain_join(struct ps_ctx *ctx, const struct ps_attachment *att,
		  struct bpf_object *obj)
{
	uint32_t ids[PS_XDP_CHAIN_MAX];
	struct bpf_map *chain, *slot;
	int chain_fd, slots_fd, s = -1, r = 0;
	char ifdir[PS_PIN_DIR_MAX];

	chain = bpf_object__find_map_by_name(obj, PS_XDP_CHAIN_MAP);
	slot = bpf_object__find_map_by_name(obj, PS_XDP_SLOT_SEC);
	snprintf(ifdir, sizeof(ifdir), "%s", att->pin_dir);
	if (!chain || !slot || !strrchr(ifdir, '/'))
		return 0;
	*strrchr(ifdir, '/') = '\0';
	chain_fd = map_get_checked(ifdir, CHAIN_PIN, BPF_MAP_TYPE_PROG_ARRAY, 4);
	slots_fd = map_get_checked(ifdir, SLOTS_MAP, BPF_MAP_TYPE_ARRAY, 4);
	if (chain_fd >= 0 && slots_fd >= 0) {
		read_slots(slots_fd, ids);
		for (int i = 0; i < PS_XDP_CHAIN_MAX; i++)
			if (att->prog_id && ids[i] == att->prog_id)
				s = i;
	}
	/* not in a chain: the object's own, empty one ends it, as alone */
	if (s >= 0 && (bpf_map__reuse_fd(chain, chain_fd) ||
		       bpf_map__set_initial_value(slot, &s, sizeof(s))))
		r = ps_err(ctx, "joining the XDP chain of %s: %s", att->ifname,
			   strerror(errno));
	if (chain_fd >= 0)
		close(chain_fd);
	if (slots_fd >= 0)
		close(slots_fd);
	return r;
}
