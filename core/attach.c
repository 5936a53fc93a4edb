// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one attach layer: load a plugin's object for one interface, pin its
 * maps, hook it to ingress (tcx, tc, xdp) in stage order and pin what keeps
 * it there, so that `attach`, `show` and `detach` can be separate
 * processes.  The folder layout is in pins.c, the hooks in hooks.c.
 *
 * An attach runs in steps (check, load, stage, configure, hook, publish)
 * with one unwind: until the staged folder is renamed into place nothing
 * is visible, and on failure nothing stays, a replaced attachment
 * included.  What a killed attach or a killed temporary owner left is
 * cleaned, teardown included, by the next attach or detach there.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <pktscope/bpf/hook.h>
#include "attach.h"
#include "registry.h"

static bool hook_alive(const struct ps_meta *m, const char *dir)
{
	char ifdir[PS_PATH_MAX];

	switch (hooks_alive(m, dir)) {
	case HOOK_ALIVE:
		return true;
	case HOOK_IN_CHAIN:
		snprintf(ifdir, sizeof(ifdir), "%s", dir);
		*strrchr(ifdir, '/') = '\0';
		return m->ifindex &&
		       ps_chain_position(ifdir, m->prog_id, m->ifindex) > 0;
	default:
		return false;
	}
}

static void fill_attachment(struct ps_attachment *att, const struct ps_meta *m,
			    const char *dir, bool valid)
{
	char name[IF_NAMESIZE];
	bool alive;

	memset(att, 0, sizeof(*att));
	snprintf(att->plugin, sizeof(att->plugin), "%s", m->plugin);
	snprintf(att->ifname, sizeof(att->ifname), "%s", m->ifname);
	snprintf(att->pin_dir, sizeof(att->pin_dir), "%s", dir);
	if (!valid) {
		att->state = PS_ATT_INCOMPLETE;
		return;
	}
	att->mode = (enum ps_mode)m->mode;
	att->prog_id = m->prog_id;
	att->since = m->since;
	att->stage = (enum ps_stage)m->stage;
	att->owner_pid = m->owner_pid;
	att->orphaned = m->owner_pid &&
			!pins_owner_alive(m->owner_pid, m->owner_start);
	alive = m->state == META_READY && hook_alive(m, dir);
	if (!alive) {
		att->state = PS_ATT_GONE;
		return;
	}
	att->ifindex = m->ifindex;
	att->state = if_indextoname((unsigned)m->ifindex, name) &&
		     !strcmp(name, m->ifname) ? PS_ATT_ATTACHED : PS_ATT_RENAMED;
}

static const struct ps_plugin *plugin_by_name(struct ps_ctx *ctx,
					      const char *name)
{
	const struct ps_object *o;

	if (ctx->plugin && !strcmp(ctx->plugin->name, name))
		return ctx->plugin;
	o = ps_find_object(ctx, name);
	return o ? o->plugin : NULL;
}

/*
 * A plugin's teardown() for what its configure() set up; for a half-made
 * attachment (no metadata) it gets the interface, plugin and folder only.
 */
static void plugin_teardown(struct ps_ctx *ctx, const char *plugin,
			    const char *ifname, const char *dir,
			    const struct ps_meta *m)
{
	const struct ps_plugin *p = plugin_by_name(ctx, plugin), *saved;
	struct ps_attachment att;
	struct ps_meta blank;

	if (!p || !p->teardown)
		goto devices;
	memset(&blank, 0, sizeof(blank));
	snprintf(blank.ifname, sizeof(blank.ifname), "%s", ifname);
	snprintf(blank.plugin, sizeof(blank.plugin), "%s", plugin);
	fill_attachment(&att, m ? m : &blank, dir, m != NULL);
	saved = ctx->plugin;
	ctx->plugin = p;
	if (p->teardown(ctx, &att))
		ps_warn(ctx, "%s could not remove all it set up on %s", plugin,
			ifname);
	else
		ps_debug(ctx, "teardown: %s on %s: done", plugin, ifname);
	ctx->plugin = saved;
devices:
	/* after teardown(), which may need them; also for a plugin gone */
	if (devices_remove(ctx, dir))
		ps_warn(ctx, "%s could not remove all the devices it owns on %s",
			plugin, ifname);
}

/*
 * Take one attachment (or a folder being built) off the hook and out of
 * bpffs.  teardown: false when a replacement takes over what the
 * plugin's configure() made.
 */
static int remove_attachment(struct ps_ctx *ctx, const char *dir,
			     const char *plugin, const char *ifname,
			     bool teardown)
{
	char ifdir[PS_PATH_MAX], why[256];
	struct ps_meta m;
	bool valid = !pins_meta_read(dir, &m, why, sizeof(why));

	snprintf(ifdir, sizeof(ifdir), "%s", dir);
	*strrchr(ifdir, '/') = '\0';
	if (valid && m.mode == PS_MODE_TC)
		hooks_tc_remove(ctx, &m, ifdir);
	if (teardown)
		plugin_teardown(ctx, plugin, ifname, dir, valid ? &m : NULL);
	/* out of the interface's XDP chain, if it is in one */
	ps_chain_unlink(ctx, dir, ifname);
	/* tcx and xdp links die with their last reference: the pin */
	if (pins_remove(ctx, dir))
		return PS_ERR;
	ps_debug(ctx, "detach: %s on %s: hook and pins removed (%s)", plugin,
		 ifname, dir);
	return PS_OK;
}

/* every published attachment on ifname's folder, for the hook order */
static size_t collect_peers(struct ps_ctx *ctx, const char *ifname,
			    struct hook_peer *peers, size_t max)
{
	char ifdir[PS_PATH_MAX], dir[PS_PATH_MAX], why[256];
	char **names;
	size_t n, k = 0;

	if (pins_path(ctx, ifdir, sizeof(ifdir), ifname, NULL, NULL))
		return 0;
	n = pins_list(ifdir, &names, false);
	for (size_t i = 0; i < n && k < max; i++) {
		struct ps_meta m;

		if (pins_join(dir, sizeof(dir), ifdir, names[i]) ||
		    pins_meta_read(dir, &m, why, sizeof(why)) ||
		    m.state != META_READY)
			continue;
		peers[k].prog_id = m.prog_id;
		peers[k].stage = (enum ps_stage)m.stage;
		peers[k].mode = (enum ps_mode)m.mode;
		peers[k].tc_priority = m.tc_priority;
		k++;
	}
	pins_list_free(names, n);
	return k;
}

/*
 * What killed processes left on ifname: folders of attaches that died
 * while building, and temporary attaches whose process died.  Returns how
 * many of them were the current plugin's.
 */
static int sweep_interface(struct ps_ctx *ctx, const char *ifname)
{
	char ifdir[PS_PATH_MAX], dir[PS_PATH_MAX], plugin[64], why[256];
	const char *me = ctx->plugin ? ctx->plugin->name : "";
	char **names, *slash;
	size_t n;
	int mine = 0;

	if (pins_path(ctx, ifdir, sizeof(ifdir), ifname, NULL, NULL))
		return 0;
	n = pins_list(ifdir, &names, true);
	for (size_t i = 0; i < n; i++) {
		uint32_t pid;
		uint64_t start;

		if (!pins_stage_parse(names[i], plugin, sizeof(plugin), &pid,
				      &start) || pins_owner_alive(pid, start) ||
		    pins_join(dir, sizeof(dir), ifdir, names[i]))
			continue;
		ps_debug(ctx, "owner: removing %s, left by an attach whose process (pid %u) died",
			 dir, pid);
		remove_attachment(ctx, dir, plugin, ifname, true);
		mine += !strcmp(plugin, me);
	}
	pins_list_free(names, n);
	n = pins_list(ifdir, &names, false);
	for (size_t i = 0; i < n; i++) {
		struct ps_meta m;

		if (pins_join(dir, sizeof(dir), ifdir, names[i]) ||
		    pins_meta_read(dir, &m, why, sizeof(why)) || !m.owner_pid ||
		    pins_owner_alive(m.owner_pid, m.owner_start))
			continue;
		ps_warn(ctx, "removing %s's temporary attach on %s: its process (pid %u) died",
			names[i], ifname, m.owner_pid);
		ps_debug(ctx, "owner: taking over %s on %s from pid %u, which died",
			 names[i], ifname, m.owner_pid);
		remove_attachment(ctx, dir, names[i], ifname, true);
		mine += !strcmp(names[i], me);
	}
	pins_list_free(names, n);
	/* folders a kill left empty */
	if (!rmdir(ifdir) && (slash = strrchr(ifdir, '/'))) {
		*slash = '\0';
		rmdir(ifdir);
	}
	return mine;
}

/* ---- attach, in steps ---- */

struct attach_job {
	struct ps_ctx *ctx;
	const struct ps_plugin *p;
	const struct ps_attach_opts *o;
	const char *ifname;
	int ifindex;
	enum ps_mode mode;
	char root[PS_PATH_MAX], ifdir[PS_PATH_MAX], dir[PS_PATH_MAX];
	char stage_dir[PS_PATH_MAX];
	struct ps_meta meta, old;
	bool have_old;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd, link_fd;
	int revert_link_fd, revert_prog_fd;	/* XDP replaced in place */
	struct ps_chain chain;			/* several plugins at XDP */
	/* progress, for the unwind */
	bool staged, configured, hooked, lost_race;
};

static int job_init(struct attach_job *j, struct ps_ctx *ctx,
		    const char *ifname, const struct ps_attach_opts *o)
{
	int r;

	memset(j, 0, sizeof(*j));
	j->link_fd = j->revert_link_fd = j->revert_prog_fd = -1;
	j->chain.lock_fd = j->chain.chain_fd = j->chain.slots_fd = -1;
	j->ctx = ctx;
	j->p = ctx->plugin;
	j->o = o;
	j->ifname = ifname;
	j->mode = o->mode;
	if (!j->p || !j->p->bpf_elf)
		return ps_err(ctx, "this plugin has no BPF object");
	r = ps_need_root(ctx, "attach");
	if (r)
		return r;
	j->ifindex = (int)if_nametoindex(ifname);
	if (!j->ifindex)
		return ps_err(ctx, "interface '%s' not found", ifname);
	r = ps_ensure_bpffs(ctx);
	if (r)
		return r;
	if (pins_path(ctx, j->root, sizeof(j->root), NULL, NULL, NULL) ||
	    pins_path(ctx, j->ifdir, sizeof(j->ifdir), ifname, NULL, NULL) ||
	    pins_path(ctx, j->dir, sizeof(j->dir), ifname, j->p->name, NULL))
		return PS_ERR;
	/* someone else's folder is reported before anything is done there */
	if (pins_dir_trusted(ctx, j->root, true) ||
	    pins_dir_trusted(ctx, j->ifdir, true))
		return PS_ERR;
	if (j->mode == PS_MODE_AUTO) {
		j->mode = hooks_kernel_has_tcx() ? PS_MODE_TCX : PS_MODE_TC;
		ps_debug(ctx, "attach: %s on %s: mode %s (the default: this kernel %s tcx)",
			 j->p->name, ifname, ps_mode_name(j->mode),
			 j->mode == PS_MODE_TCX ? "has" : "lacks");
	} else {
		ps_debug(ctx, "attach: %s on %s: mode %s, as asked", j->p->name,
			 ifname, ps_mode_name(j->mode));
	}
	return 0;
}

struct renamed_state {
	int ifindex;
	struct ps_attachment found;
};

static int find_renamed(struct ps_ctx *ctx, const struct ps_attachment *att,
			void *data)
{
	struct renamed_state *s = data;

	(void)ctx;
	if (att->state != PS_ATT_RENAMED || att->ifindex != s->ifindex)
		return 0;
	s->found = *att;
	return 1;
}

/* what is there already: cleaned if dead, refused, or to be replaced */
static int job_check_existing(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;
	struct renamed_state rs = { .ifindex = j->ifindex };
	struct ps_attachment att;
	char why[256], cur[IF_NAMESIZE];
	int r;

	sweep_interface(ctx, j->ifname);
	if (ps_attachment_foreach(ctx, j->p->name, find_renamed, &rs) > 0)
		return ps_err(ctx, "%s already runs on %s: attached to it as %s, which was renamed since (detach dev %s first)",
			      j->p->name, if_indextoname((unsigned)j->ifindex, cur) ?
			      cur : j->ifname, rs.found.ifname, rs.found.ifname);
	r = pins_meta_read(j->dir, &j->old, why, sizeof(why));
	if (r == -ENOENT)
		return 0;
	if (r)
		return ps_err(ctx, "%s has pins this pktscope cannot read: %s ('%s %s detach dev %s' removes them)",
			      j->dir, why, ctx->progname, j->p->name, j->ifname);
	fill_attachment(&att, &j->old, j->dir, true);
	if (att.state == PS_ATT_GONE) {
		ps_warn(ctx, "removing %s's attachment to an earlier %s (that interface was deleted or re-created)",
			j->p->name, j->ifname);
		return remove_attachment(ctx, j->dir, j->p->name, j->ifname,
					 true);
	}
	if (att.owner_pid && !att.orphaned &&
	    att.owner_pid != (uint32_t)getpid())
		return ps_err(ctx, "%s is attached to %s for the duration of process %u (a watch or record)",
			      j->p->name, j->ifname, att.owner_pid);
	if (!(j->o->flags & PS_ATTACH_REPLACE))
		return ps_err(ctx,
			"%s is already attached to %s (mode %s, prog id %u); detach it or add 'replace'",
			j->p->name, j->ifname, ps_mode_name(att.mode),
			att.prog_id);
	j->have_old = true;
	ps_debug(ctx, "attach: %s on %s: replacing prog id %u (mode %s)",
		 j->p->name, j->ifname, att.prog_id, ps_mode_name(att.mode));
	return 0;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static int job_load(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;
	const char *want = mode_is_xdp(j->mode) ? j->p->xdp_prog : j->p->tc_prog;
	struct bpf_program *prog;

	if (!want)
		return ps_err(ctx, "%s has no %s program", j->p->name,
			      mode_is_xdp(j->mode) ? "XDP" : "TC");
	j->obj = ps_bpf_open(ctx);
	if (!j->obj)
		return PS_ERR;
	bpf_object__for_each_program(prog, j->obj) {
		bool me = !strcmp(bpf_program__name(prog), want);

		bpf_program__set_autoload(prog, me);
		if (me)
			j->prog = prog;
	}
	if (!j->prog)
		return ps_err(ctx, "program '%s' is not in %s's object", want,
			      j->p->name);
	if (j->mode == PS_MODE_TCX)
		bpf_program__set_expected_attach_type(j->prog,
			(enum bpf_attach_type)PS_BPF_TCX_INGRESS);
	if (mode_is_xdp(j->mode) &&
	    ps_chain_prepare(ctx, j->obj, j->ifname, j->ifindex, j->mode,
			     &j->chain))
		return PS_ERR;
	if (bpf_object__load(j->obj))
		return ps_err(ctx, "loading %s's BPF object failed: %s%s",
			      j->p->name, strerror(errno), ctx->debug ? "" :
			      " (run with -d for the verifier log)");
	j->prog_fd = bpf_program__fd(j->prog);
	/* without the id, detach could not tell our tc filter from another */
	j->meta.prog_id = prog_id_of(j->prog_fd);
	if (!j->meta.prog_id)
		return ps_err(ctx, "reading the id of %s's program: %s",
			      j->p->name, strerror(errno));
	ps_debug(ctx, "attach: %s: loaded program %s (prog id %u)", j->p->name,
		 want, j->meta.prog_id);
	/* before anything is pinned or linked: a refusal leaves nothing */
	return ps_hook_probe(ctx, j->obj, j->prog_fd, mode_is_xdp(j->mode));
}

/* the pins, in a folder only this process uses, and the metadata */
static int job_stage(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;
	struct ps_meta *m = &j->meta;
	char name[128];
	struct bpf_map *map;

	if (pins_stage_name(name, sizeof(name), j->p->name) ||
	    snprintf(j->stage_dir, sizeof(j->stage_dir), "%s/%s", j->ifdir,
		     name) >= (int)sizeof(j->stage_dir))
		return ps_err(ctx, "pin path under %s is too long", j->ifdir);
	/* another process's clean-up may remove the empty folders above it
	 * between our mkdir()s: make them again */
	for (int tries = 0;; tries++) {
		if (pins_dir_trusted(ctx, j->root, true) ||
		    pins_dir_trusted(ctx, j->ifdir, true))
			return PS_ERR;
		if (!mkdir(j->stage_dir, 0700))
			break;
		if (errno != ENOENT || tries == 3)
			return ps_err(ctx, "cannot create %s: %s", j->stage_dir,
				      strerror(errno));
	}
	j->staged = true;
	bpf_object__for_each_map(map, j->obj) {
		/* the XDP chain is the interface's, pinned beside */
		if (bpf_map__is_internal(map) ||
		    !strcmp(bpf_map__name(map), PS_XDP_CHAIN_MAP))
			continue;
		if (pins_pin(ctx, bpf_map__fd(map), j->stage_dir,
			   bpf_map__name(map)))
			return PS_ERR;
	}
	if (pins_pin(ctx, j->prog_fd, j->stage_dir, "ps_prog"))
		return PS_ERR;
	m->magic = META_MAGIC;
	m->state = META_LINKING;
	m->mode = j->mode;
	m->ifindex = j->ifindex;
	m->stage = j->p->stage;
	m->since = (uint64_t)time(NULL);
	if (j->o->flags & PS_ATTACH_TEMPORARY) {
		m->owner_pid = (uint32_t)getpid();
		m->owner_start = pins_proc_start(m->owner_pid);
	}
	snprintf(m->ifname, sizeof(m->ifname), "%s", j->ifname);
	snprintf(m->plugin, sizeof(m->plugin), "%s", j->p->name);
	if (j->mode == PS_MODE_TC && hooks_tc_pick(ctx, j->ifdir, m))
		return PS_ERR;
	return pins_meta_write(ctx, j->stage_dir, m, true);
}

/* configure before the hook sees a packet */
static int job_configure(struct attach_job *j)
{
	struct ps_attachment att;

	if (!j->p->configure)
		return 0;
	fill_attachment(&att, &j->meta, j->stage_dir, true);
	att.ifindex = j->ifindex;
	att.state = PS_ATT_ATTACHED;
	j->configured = true;
	return j->p->configure(j->ctx, &att, j->o->args, j->o->data);
}

/* XDP holds one program: a replaced XDP attachment's link takes ours */
static int job_xdp_in_place(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;
	char path[PS_PATH_MAX];

	if (j->mode != PS_MODE_XDP && j->mode != (enum ps_mode)j->old.mode)
		return ps_err(ctx, "%s is attached to %s in mode %s: detach it to change to %s",
			      j->p->name, j->ifname,
			      ps_mode_name((enum ps_mode)j->old.mode),
			      ps_mode_name(j->mode));
	if (!pins_join(path, sizeof(path), j->dir, "ps_link"))
		j->revert_link_fd = bpf_obj_get(path);
	if (!pins_join(path, sizeof(path), j->dir, "ps_prog"))
		j->revert_prog_fd = bpf_obj_get(path);
	if (j->revert_link_fd < 0 || j->revert_prog_fd < 0)
		return ps_err(ctx, "opening the XDP link of %s on %s: %s",
			      j->p->name, j->ifname, strerror(errno));
	if (bpf_link_update(j->revert_link_fd, j->prog_fd, NULL))
		return ps_err(ctx, "replacing the XDP program on %s: %s",
			      j->ifname, strerror(errno));
	j->mode = (enum ps_mode)j->old.mode;
	j->link_fd = dup(j->revert_link_fd);
	return j->link_fd < 0 ? ps_err(ctx, "dup: %s", strerror(errno)) : 0;
}

static int job_hook(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;
	struct hook_peer peers[32];
	size_t npeers;
	int r = 0;

	if (j->mode == PS_MODE_TCX) {
		npeers = collect_peers(ctx, j->ifname, peers, ARRAY_SIZE(peers));
		j->link_fd = hooks_link_tcx(ctx, j->prog_fd, j->ifindex,
					    j->ifname, j->p->stage, peers,
					    npeers);
	} else if (j->chain.chained) {
		/* a replaced one leaves the chain when it is removed */
		r = ps_chain_link(ctx, &j->chain, j->prog_fd, j->ifindex,
				  j->ifname, &j->mode);
		j->hooked = !r;
		return r;
	} else if (mode_is_xdp(j->mode)) {
		if (j->have_old && mode_is_xdp((enum ps_mode)j->old.mode)) {
			r = job_xdp_in_place(j);
			j->hooked = j->revert_link_fd >= 0 && !r;
			if (r)
				return r;
		} else {
			j->link_fd = hooks_link_xdp(ctx, j->prog_fd, j->ifindex,
						    j->ifname, &j->mode);
		}
	} else {
		j->hooked = true;	/* the unwind looks the filter up */
		return hooks_tc_attach(ctx, j->prog_fd, j->ifname,
				       j->stage_dir, &j->meta);
	}
	if (j->link_fd < 0)
		return PS_ERR;
	j->hooked = true;
	return pins_pin(ctx, j->link_fd, j->stage_dir, "ps_link");
}

/*
 * Into place in one rename: RENAME_NOREPLACE makes two racing attaches
 * have one winner; RENAME_EXCHANGE swaps a replaced attachment out, which
 * then goes (its hook with it).
 */
static int job_publish(struct attach_job *j)
{
	struct ps_ctx *ctx = j->ctx;

	j->meta.state = META_READY;
	j->meta.mode = j->mode;
	if (pins_meta_write(ctx, j->stage_dir, &j->meta, false))
		return PS_ERR;
	if (j->have_old) {
		if (!renameat2(AT_FDCWD, j->stage_dir, AT_FDCWD, j->dir,
			       RENAME_EXCHANGE)) {
			ps_debug(ctx, "pins: %s exchanged with %s, the replaced attachment's",
				 j->stage_dir, j->dir);
			/* the old one is in the staging folder now */
			j->staged = false;
			if (devices_carry(ctx, j->stage_dir, j->dir))
				ps_warn(ctx, "the replaced attachment's devices may outlive the new one");
			if (remove_attachment(ctx, j->stage_dir, j->p->name,
					      j->ifname, false))
				ps_warn(ctx, "the replaced attachment's pins are not all gone");
			return 0;
		}
		if (errno != ENOENT)
			return ps_err(ctx, "replacing %s: %s", j->dir,
				      strerror(errno));
	}
	if (renameat2(AT_FDCWD, j->stage_dir, AT_FDCWD, j->dir,
		      RENAME_NOREPLACE)) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			return ps_err(ctx, "publishing %s: %s", j->dir,
				      strerror(errno));
		/* what configure() set up is the winner's now */
		j->lost_race = true;
		return ps_err(ctx, "%s was attached to %s by another process meanwhile",
			      j->p->name, j->ifname);
	}
	ps_debug(ctx, "pins: renamed %s to %s", j->stage_dir, j->dir);
	j->staged = false;
	return 0;
}

/* the one unwind: what the steps made, in reverse */
static void job_finish(struct attach_job *j, int r)
{
	if (r && j->hooked && j->chain.chained)
		ps_chain_unlink(j->ctx, j->stage_dir, j->ifname);
	else if (r && j->hooked) {
		if (j->mode == PS_MODE_TC)
			hooks_tc_remove(j->ctx, &j->meta, j->ifdir);
		else if (j->revert_link_fd >= 0 &&
			 bpf_link_update(j->revert_link_fd, j->revert_prog_fd,
					 NULL))
			ps_warn(j->ctx, "could not put the replaced XDP program back on %s: %s",
				j->ifname, strerror(errno));
		/* a new tcx or xdp link goes with its fd and pin */
	}
	if (r && j->configured && !j->have_old && !j->lost_race)
		plugin_teardown(j->ctx, j->p->name, j->ifname, j->stage_dir,
				&j->meta);
	if (j->link_fd >= 0)
		close(j->link_fd);
	if (r && j->staged)
		pins_remove(j->ctx, j->stage_dir);
	/* folders job_init() made for nothing: they go while empty */
	if (r && j->ifdir[0] && !rmdir(j->ifdir))
		rmdir(j->root);
	if (j->revert_link_fd >= 0)
		close(j->revert_link_fd);
	if (j->revert_prog_fd >= 0)
		close(j->revert_prog_fd);
	ps_chain_close(&j->chain);
	bpf_object__close(j->obj);
}

int ps_attach(struct ps_ctx *ctx, const char *ifname,
	      const struct ps_attach_opts *opts, struct ps_attachment *out)
{
	static const struct ps_attach_opts defaults;
	struct attach_job j;
	int r;

	r = job_init(&j, ctx, ifname, opts ? opts : &defaults);
	if (!r)
		r = job_check_existing(&j);
	if (!r)
		r = job_load(&j);
	if (!r)
		r = job_stage(&j);
	if (!r)
		r = job_configure(&j);
	if (!r)
		r = job_hook(&j);
	if (!r)
		r = job_publish(&j);
	if (!r && out)
		fill_attachment(out, &j.meta, j.dir, true);
	job_finish(&j, r);
	return r;
}

/* ---- temporary attaches ---- */

int ps_attach_hold(struct ps_ctx *ctx, const char *ifname,
		   const struct ps_attach_opts *opts, struct ps_attachment *out,
		   bool *temporary)
{
	struct ps_attach_opts o = opts ? *opts : (struct ps_attach_opts){ 0 };
	int r;

	*temporary = false;
	if (!ps_attachment_get(ctx, ifname, out)) {
		if (!out->owner_pid && (out->state == PS_ATT_ATTACHED ||
					out->state == PS_ATT_RENAMED))
			return PS_OK;
		bool share = out->owner_pid && (o.flags & PS_ATTACH_SHARED) &&
			     out->state == PS_ATT_ATTACHED;

		/* shared as it is: in its own mode; a dead owner's taken over */
		if (share && (o.mode == PS_MODE_AUTO || o.mode == out->mode) &&
		    (!out->orphaned ||
		     !ps_attach_hand_over(ctx, out, (uint32_t)getpid()))) {
			if (out->orphaned)
				ps_warn(ctx, "taking over %s's temporary attach on %s: its process (pid %u) died",
					ctx->plugin->name, ifname, out->owner_pid);
			*temporary = true;
			return PS_OK;
		}
		if (share && !out->orphaned)
			return ps_err(ctx, "%s runs on %s in mode %s for another process (pid %u): leave out 'mode' to share it",
				      ctx->plugin->name, ifname,
				      ps_mode_name(out->mode), out->owner_pid);
		if (out->owner_pid && !out->orphaned)
			return ps_err(ctx, "another process (pid %u) is using %s on %s",
				      out->owner_pid, ctx->plugin->name, ifname);
		/* gone or orphaned: ps_attach() cleans it, with a warning */
	}
	o.flags = (o.flags & ~(PS_ATTACH_REPLACE | PS_ATTACH_SHARED)) |
		  PS_ATTACH_TEMPORARY;
	r = ps_attach(ctx, ifname, &o, out);
	if (r)
		return r;	/* PS_USAGE when configure() refused the args */
	*temporary = true;
	return PS_OK;
}

void ps_attach_release(struct ps_ctx *ctx, const struct ps_attachment *att,
		       bool temporary)
{
	struct ps_meta m;
	char why[256];

	if (!temporary || pins_meta_read(att->pin_dir, &m, why, sizeof(why)))
		return;
	/* taken over or replaced meanwhile: no longer ours to remove */
	if (m.owner_pid != (uint32_t)getpid() ||
	    m.owner_start != pins_proc_start(m.owner_pid))
		return;
	remove_attachment(ctx, att->pin_dir, m.plugin, m.ifname, true);
}

int ps_attach_hand_over(struct ps_ctx *ctx, const struct ps_attachment *att,
			uint32_t pid)
{
	struct ps_meta m;
	char why[256];

	if (pins_meta_read(att->pin_dir, &m, why, sizeof(why)) || !m.owner_pid)
		return -ENOENT;
	if (m.owner_pid != (uint32_t)getpid() &&
	    pins_owner_alive(m.owner_pid, m.owner_start))
		return -EPERM;
	m.owner_pid = pid;
	m.owner_start = pins_proc_start(pid);
	return pins_meta_write(ctx, att->pin_dir, &m, false) ? -EIO : 0;
}

uint64_t ps_process_start(uint32_t pid)
{
	return pins_proc_start(pid);
}

uint64_t ps_owner_self(void)
{
	uint32_t me = (uint32_t)getpid();

	return (uint64_t)me << 32 | (uint32_t)pins_proc_start(me);
}

bool ps_owner_alive(uint64_t owner)
{
	uint64_t start;

	if (!owner)
		return false;
	start = pins_proc_start(PS_OWNER_PID(owner));
	return start && (uint32_t)start == (uint32_t)owner;
}

/* ---- reading what is attached ---- */

int ps_attachment_get(struct ps_ctx *ctx, const char *ifname,
		      struct ps_attachment *out)
{
	char dir[PS_PATH_MAX], why[256];
	struct ps_meta m;

	if (!ctx->plugin)
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/pktscope/%s/%s", ctx->bpffs, ifname,
		     ctx->plugin->name) >= PS_PIN_DIR_MAX)
		return -ENAMETOOLONG;
	if (pins_meta_read(dir, &m, why, sizeof(why)))
		return -ENOENT;
	fill_attachment(out, &m, dir, true);
	return 0;
}

/*
 * Each published attachment (staging: the folders being built instead),
 * sorted by interface, then plugin.
 */
static int foreach_dir(struct ps_ctx *ctx, const char *plugin, bool staging,
		       int (*cb)(struct ps_ctx *ctx,
				 const struct ps_attachment *att, void *data),
		       void *data)
{
	char root[PS_PATH_MAX], dir[PS_PATH_MAX], why[256], name[64];
	char **ifs, **pls;
	size_t nif, npl;
	int r = 0;

	if (pins_path(ctx, root, sizeof(root), NULL, NULL, NULL))
		return -1;
	nif = pins_list(root, &ifs, false);
	for (size_t i = 0; i < nif && !r; i++) {
		char ifdir[PS_PATH_MAX];

		if (pins_join(ifdir, sizeof(ifdir), root, ifs[i]))
			continue;
		npl = pins_list(ifdir, &pls, staging);
		for (size_t j = 0; j < npl && !r; j++) {
			struct ps_attachment att;
			struct ps_meta m;
			uint32_t pid = 0;
			uint64_t start = 0;
			bool valid;

			if (staging && !pins_stage_parse(pls[j], name,
							 sizeof(name), &pid,
							 &start))
				continue;
			if (plugin && strcmp(plugin, staging ? name : pls[j]))
				continue;
			if (pins_join(dir, sizeof(dir), ifdir, pls[j]))
				continue;
			valid = !staging &&
				!pins_meta_read(dir, &m, why, sizeof(why));
			if (!valid) {
				memset(&m, 0, sizeof(m));
				snprintf(m.ifname, sizeof(m.ifname), "%s", ifs[i]);
				snprintf(m.plugin, sizeof(m.plugin), "%s",
					 staging ? name : pls[j]);
			}
			fill_attachment(&att, &m, dir, valid);
			if (staging) {
				att.owner_pid = pid;
				att.orphaned = !pins_owner_alive(pid, start);
			}
			r = cb(ctx, &att, data);
		}
		pins_list_free(pls, npl);
	}
	pins_list_free(ifs, nif);
	return r;
}

int ps_attachment_foreach(struct ps_ctx *ctx, const char *plugin,
			  int (*cb)(struct ps_ctx *ctx,
				    const struct ps_attachment *att, void *data),
			  void *data)
{
	return foreach_dir(ctx, plugin, false, cb, data);
}

struct select_state {
	struct ps_attachment *v;
	size_t n;
	bool all;	/* half-made ones too */
};

static int select_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	struct select_state *s = data;
	struct ps_attachment *v;

	(void)ctx;
	if (att->state == PS_ATT_INCOMPLETE && !s->all)
		return 0;	/* nothing to read */
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n++] = *att;
	return 0;
}

int ps_attachments_select(struct ps_ctx *ctx, const char *dev,
			  struct ps_attachment **out, size_t *n)
{
	const struct ps_plugin *p = ctx->plugin;
	struct select_state s = { NULL, 0, false };
	int r;

	*out = NULL;
	*n = 0;
	if (!p)
		return ps_err(ctx, "no plugin");
	r = ps_need_root(ctx, p->name);
	if (!r)
		r = pins_bpffs_check(ctx);
	if (r)
		return r;
	if (dev) {
		struct ps_attachment att;

		if (ps_attachment_get(ctx, dev, &att))
			return ps_err(ctx, "%s is not attached to %s (attach it with '%s %s attach dev %s')",
				      p->name, dev, ctx->progname, p->name, dev);
		s.v = malloc(sizeof(att));
		if (!s.v)
			return ps_err(ctx, "out of memory");
		s.v[0] = att;
		s.n = 1;
	} else {
		if (ps_attachment_foreach(ctx, p->name, select_one, &s)) {
			free(s.v);
			return ps_err(ctx, "out of memory");
		}
		if (!s.n)
			return ps_err(ctx, "%s is not attached anywhere (attach it with '%s %s attach dev IF')",
				      p->name, ctx->progname, p->name);
	}
	*out = s.v;
	*n = s.n;
	return PS_OK;
}

int ps_attachments_each(struct ps_ctx *ctx, const char *dev, const char *key,
			unsigned int flags,
			int (*cb)(struct ps_ctx *ctx,
				  const struct ps_attachment *att, void *data),
			void *data)
{
	struct ps_attachment *atts;
	size_t n;
	int r = PS_OK;

	if (ps_attachments_select(ctx, dev, &atts, &n))
		return PS_ERR;
	ps_out_list(ctx, key, NULL);
	for (size_t i = 0; i < n && !r; i++) {
		if (i && (flags & PS_EACH_SPACED))
			ps_out_text(ctx, "\n");
		r = cb(ctx, &atts[i], data);
	}
	ps_out_list_end(ctx);
	free(atts);
	return r;
}

/* ---- pinned maps, checked against the plugin's own object ---- */

static struct bpf_object *shape_object(struct ps_ctx *ctx, const char *plugin)
{
	static struct {
		const struct ps_plugin *p;
		struct bpf_object *obj;
	} cache[16];
	const struct ps_plugin *p = plugin_by_name(ctx, plugin);
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	const void *bytes;
	size_t size = 0, i;

	if (!p || !p->bpf_elf)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(cache) && cache[i].p; i++)
		if (cache[i].p == p)
			return cache[i].obj;
	bytes = p->bpf_elf(&size);
	if (!bytes || !size)
		return NULL;
	opts.object_name = p->name;
	struct bpf_object *obj = bpf_object__open_mem(bytes, size, &opts);

	if (!obj)
		return NULL;
	if (i < ARRAY_SIZE(cache)) {
		cache[i].p = p;
		cache[i].obj = obj;
	}
	return obj;
}

static const char *type_str(enum bpf_map_type t)
{
	const char *s = libbpf_bpf_map_type_str(t);

	return s ? s : "unknown";
}

static int check_shape(struct ps_ctx *ctx, const struct ps_attachment *att,
		       const char *map_name, int fd)
{
	struct bpf_object *obj = shape_object(ctx, att->plugin);
	struct bpf_map *want = obj ? bpf_object__find_map_by_name(obj, map_name) :
				     NULL;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	if (!want)
		return 0;	/* not the object's: the caller knows its shape */
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return ps_err(ctx, "map '%s' of %s on %s: %s", map_name,
			      att->plugin, att->ifname, strerror(errno));
	if (info.type == (uint32_t)bpf_map__type(want) &&
	    info.key_size == bpf_map__key_size(want) &&
	    info.value_size == bpf_map__value_size(want))
		return 0;
	return ps_err(ctx,
		"map '%s' of %s on %s: type %s, %u-byte keys, %u-byte values; this %s expects type %s, %u-byte keys, %u-byte values (pinned by another version or tool: detach and attach again)",
		map_name, att->plugin, att->ifname,
		type_str((enum bpf_map_type)info.type), info.key_size,
		info.value_size, att->plugin, type_str(bpf_map__type(want)),
		bpf_map__key_size(want), bpf_map__value_size(want));
}

int ps_map_open(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map_name)
{
	char path[PS_PATH_MAX];
	int fd;

	if (pins_join(path, sizeof(path), att->pin_dir, map_name)) {
		ps_err(ctx, "pin path %s/%s is too long", att->pin_dir, map_name);
		return -1;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ps_err(ctx, "map '%s' of %s on %s cannot be opened: %s", map_name,
		       att->plugin, att->ifname, strerror(errno));
		return -1;
	}
	if (check_shape(ctx, att, map_name, fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- detach ---- */

static int check_root(struct ps_ctx *ctx)
{
	char root[PS_PATH_MAX];
	int r = pins_bpffs_check(ctx);

	if (r || pins_path(ctx, root, sizeof(root), NULL, NULL, NULL))
		return PS_ERR;
	r = pins_dir_trusted(ctx, root, false);
	return r == -ENOENT ? 0 : r;
}

int ps_detach(struct ps_ctx *ctx, const char *ifname)
{
	const struct ps_plugin *p = ctx->plugin;
	char dir[PS_PATH_MAX];
	int swept;

	if (!p)
		return ps_err(ctx, "no plugin");
	if (check_root(ctx) ||
	    pins_path(ctx, dir, sizeof(dir), ifname, p->name, NULL))
		return PS_ERR;
	swept = sweep_interface(ctx, ifname);
	if (access(dir, F_OK)) {
		if (swept)
			return PS_OK;
		return ps_err(ctx, "%s is not attached to %s", p->name, ifname);
	}
	return remove_attachment(ctx, dir, p->name, ifname, true);
}

/* ---- the core's attach / detach / status commands ---- */

static void out_since(struct ps_ctx *ctx, const char *key, const char *label,
		      uint64_t since)
{
	char when[64] = "-";
	time_t t = (time_t)since;

	if (since)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	ps_out_str(ctx, key, label, when);
}

int ps_do_attach(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_value *mv = ps_arg_get(args, "mode");
	struct ps_attach_opts o = {
		.mode = mv ? PS_MODE_FROM_CHOICE(mv->u) : PS_MODE_AUTO,
		.flags = ps_arg_has(args, "replace") ? PS_ATTACH_REPLACE : 0,
		.args = args,
	};
	const char *ifname = ps_arg_str(args, "dev", NULL);
	struct ps_attachment att;
	int r;

	r = ps_attach(ctx, ifname, &o, &att);
	if (r)
		return r;
	ps_out_str(ctx, "plugin", "Plugin", att.plugin);
	ps_out_str(ctx, "ifname", "Interface", att.ifname);
	ps_out_u64(ctx, "ifindex", "Ifindex", (uint64_t)att.ifindex);
	ps_out_str(ctx, "mode", "Mode", ps_mode_name(att.mode));
	ps_out_u64(ctx, "prog_id", "Program id", att.prog_id);
	ps_out_str(ctx, "pin_dir", "Pinned at", att.pin_dir);
	out_since(ctx, "since", "Since", att.since);
	return PS_OK;
}

struct detach_all {
	int n, failed;
};

static int detach_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	struct detach_all *s = data;

	if (remove_attachment(ctx, att->pin_dir, att->plugin, att->ifname,
			      true)) {
		s->failed++;
		return 0;
	}
	s->n++;
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Detached from", att->ifname);
	ps_out_item_end(ctx);
	return 0;
}

static int sweep_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		     void *data)
{
	(void)data;
	sweep_interface(ctx, att->ifname);
	return 0;
}

int ps_do_detach(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *ifname = ps_arg_str(args, "dev", NULL);
	struct detach_all s = { 0, 0 };
	int r;

	if (!strcmp(ifname, "all")) {
		if (check_root(ctx))
			return PS_ERR;
		/* what killed processes left, then every attachment, gone too */
		foreach_dir(ctx, ctx->plugin->name, true, sweep_one, NULL);
		ps_out_list(ctx, "detached", NULL);
		ps_attachment_foreach(ctx, ctx->plugin->name, detach_one, &s);
		ps_out_list_end(ctx);
		if (s.failed)
			return PS_ERR;
		if (!s.n)
			ps_out_text(ctx, "%s is not attached anywhere\n",
				    ctx->plugin->name);
		return PS_OK;
	}
	r = ps_detach(ctx, ifname);
	if (r)
		return r;
	ps_out_list(ctx, "detached", NULL);
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Detached from", ifname);
	ps_out_item_end(ctx);
	ps_out_list_end(ctx);
	return PS_OK;
}

struct status_state {
	struct ps_attachment *v;
	size_t n;
	const char *dev;
};

static int status_collect(struct ps_ctx *ctx, const struct ps_attachment *att,
			  void *data)
{
	struct status_state *s = data;
	struct ps_attachment *v;

	(void)ctx;
	if (s->dev && strcmp(s->dev, att->ifname))
		return 0;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n++] = *att;
	return 0;
}

static int hook_rank(enum ps_mode m)
{
	return mode_is_xdp(m) ? 0 : m == PS_MODE_TCX ? 1 : m == PS_MODE_TC ? 2 : 3;
}

/* by interface, then in the order a packet meets them */
static int cmp_run_order(const void *a, const void *b)
{
	const struct ps_attachment *x = a, *y = b;
	int c = strcmp(x->ifname, y->ifname);

	if (c)
		return c;
	if (hook_rank(x->mode) != hook_rank(y->mode))
		return hook_rank(x->mode) - hook_rank(y->mode);
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return strcmp(x->plugin, y->plugin);
}

static void set_positions(struct ps_ctx *ctx, struct ps_attachment *v, size_t n)
{
	struct hook_peer peers[32];
	char why[256];

	for (size_t i = 0; i < n; i++) {
		struct ps_meta m;
		size_t np;

		if ((v[i].state != PS_ATT_ATTACHED &&
		     v[i].state != PS_ATT_RENAMED) ||
		    pins_meta_read(v[i].pin_dir, &m, why, sizeof(why)))
			continue;
		if (mode_is_xdp((enum ps_mode)m.mode)) {
			/* in the interface's XDP chain: its place there */
			char ifdir[PS_PATH_MAX];

			snprintf(ifdir, sizeof(ifdir), "%s", v[i].pin_dir);
			*strrchr(ifdir, '/') = '\0';
			v[i].position = ps_chain_position(ifdir, m.prog_id,
							  m.ifindex);
			if (v[i].position)
				continue;
		}
		np = collect_peers(ctx, v[i].ifname, peers, ARRAY_SIZE(peers));
		v[i].position = hooks_position(&m, peers, np);
	}
}

static const char *state_text(const struct ps_attachment *a, char *buf,
			      size_t len)
{
	char cur[IF_NAMESIZE];

	switch (a->state) {
	case PS_ATT_INCOMPLETE:
		if (a->owner_pid && !a->orphaned)
			snprintf(buf, len, "being attached (pid %u)", a->owner_pid);
		else if (a->owner_pid)
			snprintf(buf, len, "left by a killed attach (pid %u); the next attach or detach removes it",
				 a->owner_pid);
		else
			snprintf(buf, len, "incomplete (detach to clean up)");
		return buf;
	case PS_ATT_GONE:
		return "interface gone";
	case PS_ATT_RENAMED:
		snprintf(buf, len, "renamed to %s",
			 if_indextoname((unsigned)a->ifindex, cur) ? cur : "?");
		break;
	case PS_ATT_ATTACHED:
		snprintf(buf, len, "attached");
		break;
	}
	if (a->owner_pid) {
		size_t off = strlen(buf);

		snprintf(buf + off, len - off, a->orphaned ?
			 ", orphaned: temporary, its process (pid %u) died" :
			 ", temporary (pid %u)", a->owner_pid);
	}
	return buf;
}

int ps_do_status(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "ifname", "INTERFACE", PS_LEFT },
		{ "plugin", NULL, PS_LEFT },
		{ "mode", NULL, PS_LEFT },
		{ "position", "ORDER", PS_RIGHT },
		{ "stage", NULL, PS_LEFT },
		{ "prog_id", "PROG", PS_RIGHT },
		{ "since", NULL, PS_LEFT },
		{ "owner_pid", "OWNER", PS_RIGHT },
		{ "state", NULL, PS_LEFT },
	};
	struct status_state s = { .dev = ps_arg_str(args, "dev", NULL) };
	const char *plugin = ctx->plugin ? ctx->plugin->name : NULL;
	struct ps_table *t;
	int r;

	r = ps_need_root(ctx, "status");
	if (!r)
		r = check_root(ctx);
	if (r)
		return r;
	if (ps_attachment_foreach(ctx, plugin, status_collect, &s) ||
	    foreach_dir(ctx, plugin, true, status_collect, &s)) {
		free(s.v);
		return ps_err(ctx, "out of memory");
	}
	set_positions(ctx, s.v, s.n);
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_run_order);
	t = ps_table_new(ctx, "attachments", cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < s.n; i++) {
		const struct ps_attachment *a = &s.v[i];
		char when[64] = "-", state[160];
		time_t tt = (time_t)a->since;

		if (a->since)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
				 gmtime(&tt));
		ps_table_str(t, a->ifname);
		ps_table_str(t, a->plugin);
		ps_table_str(t, a->mode ? ps_mode_name(a->mode) : "-");
		ps_table_u64(t, a->position);
		ps_table_str(t, a->state == PS_ATT_INCOMPLETE ? "-" :
			     a->stage == PS_STAGE_ENFORCE ? "enforce" : "observe");
		ps_table_u64(t, a->prog_id);
		ps_table_str(t, when);
		ps_table_u64(t, a->owner_pid);
		ps_table_str(t, state_text(a, state, sizeof(state)));
		ps_table_end_row(t);
	}
	ps_table_end(t);
	if (!ctx->json && !s.n)
		ps_out_text(ctx, "(no attachments)\n");
	free(s.v);
	return PS_OK;
}
