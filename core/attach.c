// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one attach layer: load a plugin's object for one interface, pin its
 * maps, hook it to ingress (tcx, tc, xdp) and pin what keeps it there, so
 * that `attach`, `show` and `detach` can be separate processes.
 *
 *	<bpffs>/pktscope/<ifname>/<plugin>/
 *		ps_meta	  array map: mode, ifindex, prog id, time, tc handle
 *		ps_link	  the bpf_link (tcx, xdp)
 *		ps_prog	  the program
 *		<map>	  each of the object's maps, by name
 *
 * The plugin directory is created with mkdir(), not mkdir -p, so two
 * attaches racing for the same slot cannot both win.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "internal.h"

#define PS_BPF_TCX_INGRESS 46	/* absent from Debian 12's uapi headers */
#define META_MAGIC 0x70736d31	/* "psm1" */

struct ps_meta {
	uint32_t magic;
	uint32_t mode;
	int32_t ifindex;
	uint32_t prog_id;
	uint64_t since;
	uint32_t tc_handle;
	uint32_t tc_priority;
	char ifname[PS_IFNAMSIZ];
	char plugin[64];
};

const char *ps_mode_name(enum ps_mode mode)
{
	switch (mode) {
	case PS_MODE_AUTO: return "auto";
	case PS_MODE_TCX: return "tcx";
	case PS_MODE_TC: return "tc";
	case PS_MODE_XDP: return "xdp";
	case PS_MODE_XDP_NATIVE: return "xdp-native";
	case PS_MODE_XDP_GENERIC: return "xdp-generic";
	}
	return "?";
}

/* order of enum ps_mode, from PS_MODE_TCX */
const char *const ps_mode_choices[] = {
	"tcx", "tc", "xdp", "xdp-native", "xdp-generic", NULL,
};

static bool mode_is_xdp(enum ps_mode m)
{
	return m == PS_MODE_XDP || m == PS_MODE_XDP_NATIVE ||
	       m == PS_MODE_XDP_GENERIC;
}

static bool kernel_has_tcx(void)
{
	__u32 cnt = 0, flags = 0;
	int lo = (int)if_nametoindex("lo");

	return lo && !bpf_prog_query(lo, PS_BPF_TCX_INGRESS, 0, &flags, NULL,
				     &cnt);
}

static int pin_path(struct ps_ctx *ctx, char *buf, size_t len,
		    const char *ifname, const char *plugin, const char *file)
{
	int n;

	if (file)
		n = snprintf(buf, len, "%s/pktscope/%s/%s/%s", ctx->bpffs, ifname,
			     plugin, file);
	else if (plugin)
		n = snprintf(buf, len, "%s/pktscope/%s/%s", ctx->bpffs, ifname,
			     plugin);
	else if (ifname)
		n = snprintf(buf, len, "%s/pktscope/%s", ctx->bpffs, ifname);
	else
		n = snprintf(buf, len, "%s/pktscope", ctx->bpffs);
	if (n < 0 || (size_t)n >= len)
		return ps_err(ctx, "pin path under %s is too long", ctx->bpffs);
	return 0;
}

static int read_meta(const char *dir, struct ps_meta *m)
{
	char path[512];
	uint32_t key = 0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/ps_meta", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = bpf_map_lookup_elem(fd, &key, m);
	r = r ? -errno : 0;
	close(fd);
	if (!r && m->magic != META_MAGIC)
		r = -EINVAL;
	return r;
}

static void fill_attachment(struct ps_attachment *att, const struct ps_meta *m,
			    const char *dir)
{
	char name[IF_NAMESIZE];

	memset(att, 0, sizeof(*att));
	snprintf(att->plugin, sizeof(att->plugin), "%s", m->plugin);
	snprintf(att->ifname, sizeof(att->ifname), "%s", m->ifname);
	snprintf(att->pin_dir, sizeof(att->pin_dir), "%s", dir);
	att->mode = (enum ps_mode)m->mode;
	att->prog_id = m->prog_id;
	att->since = m->since;
	/* same index and same name: still the interface we attached to */
	if (if_indextoname((unsigned)m->ifindex, name) &&
	    !strcmp(name, m->ifname))
		att->ifindex = m->ifindex;
}

/* Remove every pin in dir and the directories that become empty. */
static void remove_pins(struct ps_ctx *ctx, const char *dir,
			const char *ifname)
{
	char path[600];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (unlink(path))
				ps_warn(ctx, "cannot remove %s: %s", path,
					strerror(errno));
		}
		closedir(d);
	}
	rmdir(dir);
	if (!pin_path(ctx, path, sizeof(path), ifname, NULL, NULL))
		rmdir(path);	/* fails while other plugins remain: fine */
	if (!pin_path(ctx, path, sizeof(path), NULL, NULL, NULL))
		rmdir(path);
}

static int tc_detach_prog(int ifindex, uint32_t handle, uint32_t prio,
			  uint32_t prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = prio);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, d, .handle = handle, .priority = prio);

	/* only remove the filter if it still runs our program */
	if (bpf_tc_query(&hook, &q))
		return -ENOENT;
	if (q.prog_id != prog_id)
		return -ESRCH;
	return bpf_tc_detach(&hook, &d);
}

static int detach_dir(struct ps_ctx *ctx, const char *dir, const char *ifname)
{
	struct ps_meta m;

	if (!read_meta(dir, &m) && m.mode == PS_MODE_TC) {
		char name[IF_NAMESIZE];

		if (if_indextoname((unsigned)m.ifindex, name) &&
		    !strcmp(name, m.ifname)) {
			int r = tc_detach_prog(m.ifindex, m.tc_handle,
					       m.tc_priority, m.prog_id);

			if (r && r != -ENOENT && r != -ESRCH)
				ps_warn(ctx, "tc filter on %s: %s", ifname,
					strerror(-r));
		}
	}
	/* tcx and xdp links die with their last reference: the pin */
	remove_pins(ctx, dir, ifname);
	return 0;
}

static int resolve_ifindex(struct ps_ctx *ctx, const char *ifname)
{
	unsigned int idx = if_nametoindex(ifname);

	if (!idx)
		return -ps_err(ctx, "interface '%s' not found", ifname);
	return (int)idx;
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

static int link_xdp(struct ps_ctx *ctx, int prog_fd, int ifindex,
		    const char *ifname, enum ps_mode *mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char holder[128];
	int fd;

	if (*mode == PS_MODE_XDP_NATIVE)
		opts.flags = XDP_FLAGS_DRV_MODE;
	else if (*mode == PS_MODE_XDP_GENERIC)
		opts.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		int err = errno;

		if (err == EBUSY || err == EEXIST) {
			describe_xdp_holder(ifindex, holder, sizeof(holder));
			return -ps_err(ctx,
				"the XDP hook of %s is held by %s; XDP holds one program per interface (use mode tcx to share)",
				ifname, holder);
		}
		if (err == EOPNOTSUPP || err == EINVAL)
			return -ps_err(ctx, "%s does not support %s: %s", ifname,
				       ps_mode_name(*mode), strerror(err));
		return -ps_err(ctx, "attaching XDP to %s: %s", ifname,
			       strerror(err));
	}
	if (*mode == PS_MODE_XDP && !bpf_xdp_query(ifindex, 0, &q))
		*mode = q.attach_mode == XDP_ATTACHED_SKB ? PS_MODE_XDP_GENERIC :
							    PS_MODE_XDP_NATIVE;
	return fd;
}

static int link_tcx(struct ps_ctx *ctx, int prog_fd, int ifindex,
		    const char *ifname)
{
	int fd = bpf_link_create(prog_fd, ifindex, PS_BPF_TCX_INGRESS, NULL);

	if (fd < 0)
		return -ps_err(ctx, "attaching tcx to %s: %s", ifname,
			       strerror(errno));
	return fd;
}

static int attach_tc(struct ps_ctx *ctx, int prog_fd, int ifindex,
		     const char *ifname, struct ps_meta *m)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int r;

	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		return ps_err(ctx, "creating the clsact qdisc on %s: %s", ifname,
			      strerror(-r));
	r = bpf_tc_attach(&hook, &opts);
	if (r)
		return ps_err(ctx, "attaching tc filter to %s: %s", ifname,
			      strerror(-r));
	m->tc_handle = opts.handle;
	m->tc_priority = opts.priority;
	return 0;
}

static int write_meta(struct ps_ctx *ctx, const char *dir,
		      const struct ps_meta *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	char path[600];
	uint32_t key = 0;
	int fd, r = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ps_meta", sizeof(key),
			    sizeof(*m), 1, &o);
	if (fd < 0)
		return ps_err(ctx, "creating metadata map: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/ps_meta", dir);
	if (bpf_map_update_elem(fd, &key, m, 0) || bpf_obj_pin(fd, path))
		r = ps_err(ctx, "pinning %s: %s", path, strerror(errno));
	close(fd);
	return r;
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

static int mkdir_p(struct ps_ctx *ctx, const char *ifname)
{
	char path[512];

	if (pin_path(ctx, path, sizeof(path), NULL, NULL, NULL))
		return PS_ERR;
	if (mkdir(path, 0700) && errno != EEXIST)
		return ps_err(ctx, "cannot create %s: %s", path, strerror(errno));
	if (pin_path(ctx, path, sizeof(path), ifname, NULL, NULL))
		return PS_ERR;
	if (mkdir(path, 0700) && errno != EEXIST)
		return ps_err(ctx, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

int ps_attach(struct ps_ctx *ctx, const char *ifname, enum ps_mode mode,
	      unsigned int flags, const struct ps_args *args,
	      struct ps_attachment *out)
{
	const struct ps_plugin *p = ctx->plugin;
	struct bpf_object *obj = NULL;
	struct bpf_program *prog, *want = NULL;
	struct ps_meta meta;
	char dir[512], path[600];
	bool dir_made = false;
	int ifindex, prog_fd, link_fd = -1, r;

	if (!p || !p->bpf_elf)
		return ps_err(ctx, "this plugin has no BPF object");
	r = ps_need_root(ctx, "attach");
	if (r)
		return r;
	ifindex = resolve_ifindex(ctx, ifname);
	if (ifindex < 0)
		return PS_ERR;
	r = ps_ensure_bpffs(ctx);
	if (r)
		return r;
	if (pin_path(ctx, dir, sizeof(dir), ifname, p->name, NULL))
		return PS_ERR;

	struct ps_attachment old;
	if (!ps_attachment_get(ctx, ifname, &old)) {
		if (!(flags & PS_ATTACH_REPLACE))
			return ps_err(ctx,
				"%s is already attached to %s (mode %s, prog id %u); detach it or add 'replace'",
				p->name, ifname, ps_mode_name(old.mode), old.prog_id);
		detach_dir(ctx, dir, ifname);
	} else if (!access(dir, F_OK)) {
		/* left behind by a killed attach: nothing runs from it */
		ps_debug(ctx, "removing stale %s", dir);
		detach_dir(ctx, dir, ifname);
	}

	if (mode == PS_MODE_AUTO)
		mode = kernel_has_tcx() ? PS_MODE_TCX : PS_MODE_TC;
	const char *want_name = mode_is_xdp(mode) ? p->xdp_prog : p->tc_prog;
	if (!want_name)
		return ps_err(ctx, "%s has no %s program", p->name,
			      mode_is_xdp(mode) ? "XDP" : "TC");

	obj = ps_bpf_open(ctx);
	if (!obj)
		return PS_ERR;
	bpf_object__for_each_program(prog, obj) {
		bool me = !strcmp(bpf_program__name(prog), want_name);

		bpf_program__set_autoload(prog, me);
		if (me)
			want = prog;
	}
	if (!want) {
		r = ps_err(ctx, "program '%s' is not in %s's object", want_name,
			   p->name);
		goto out;
	}
	if (mode == PS_MODE_TCX)
		bpf_program__set_expected_attach_type(want,
			(enum bpf_attach_type)PS_BPF_TCX_INGRESS);
	if (bpf_object__load(obj)) {
		r = ps_err(ctx, "loading %s's BPF object failed: %s%s", p->name,
			   strerror(errno), ctx->debug ? "" :
			   " (run with -d for the verifier log)");
		goto out;
	}
	prog_fd = bpf_program__fd(want);

	r = mkdir_p(ctx, ifname);
	if (r)
		goto out;
	if (mkdir(dir, 0700)) {
		r = errno == EEXIST ?
			ps_err(ctx, "%s is being attached to %s by another process",
			       p->name, ifname) :
			ps_err(ctx, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	dir_made = true;

	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		if (bpf_map__pin(map, path)) {
			r = ps_err(ctx, "pinning map %s: %s", path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/ps_prog", dir);
	if (bpf_obj_pin(prog_fd, path)) {
		r = ps_err(ctx, "pinning %s: %s", path, strerror(errno));
		goto out;
	}

	memset(&meta, 0, sizeof(meta));
	meta.magic = META_MAGIC;
	meta.ifindex = ifindex;
	meta.prog_id = prog_id_of(prog_fd);
	meta.since = (uint64_t)time(NULL);
	snprintf(meta.ifname, sizeof(meta.ifname), "%s", ifname);
	snprintf(meta.plugin, sizeof(meta.plugin), "%s", p->name);

	/* configure before the hook sees a packet */
	if (p->configure) {
		struct ps_attachment a;

		meta.mode = mode;
		fill_attachment(&a, &meta, dir);
		a.ifindex = ifindex;
		r = p->configure(ctx, &a, args);
		if (r)
			goto out;
	}

	if (mode == PS_MODE_TCX) {
		link_fd = link_tcx(ctx, prog_fd, ifindex, ifname);
	} else if (mode_is_xdp(mode)) {
		link_fd = link_xdp(ctx, prog_fd, ifindex, ifname, &mode);
	} else {
		r = attach_tc(ctx, prog_fd, ifindex, ifname, &meta);
		if (r)
			goto out;
	}
	if (link_fd < 0 && mode != PS_MODE_TC) {
		r = PS_ERR;
		goto out;
	}
	meta.mode = mode;
	if (link_fd >= 0) {
		snprintf(path, sizeof(path), "%s/ps_link", dir);
		if (bpf_obj_pin(link_fd, path)) {
			r = ps_err(ctx, "pinning %s: %s", path, strerror(errno));
			goto out;
		}
	}
	r = write_meta(ctx, dir, &meta);
	if (r)
		goto out;
	if (out)
		fill_attachment(out, &meta, dir);
	dir_made = false;	/* success: keep it */
out:
	if (dir_made) {
		if (mode == PS_MODE_TC && meta.tc_handle)
			tc_detach_prog(ifindex, meta.tc_handle, meta.tc_priority,
				       meta.prog_id);
		remove_pins(ctx, dir, ifname);
	}
	if (link_fd >= 0)
		close(link_fd);
	bpf_object__close(obj);
	return r;
}

int ps_attachment_get(struct ps_ctx *ctx, const char *ifname,
		      struct ps_attachment *out)
{
	struct ps_meta m;
	char dir[512];

	if (!ctx->plugin)
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/pktscope/%s/%s", ctx->bpffs, ifname,
		     ctx->plugin->name) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (read_meta(dir, &m))
		return -ENOENT;
	fill_attachment(out, &m, dir);
	return 0;
}

int ps_detach(struct ps_ctx *ctx, const char *ifname)
{
	const struct ps_plugin *p = ctx->plugin;
	char dir[512];

	if (!p)
		return ps_err(ctx, "no plugin");
	if (pin_path(ctx, dir, sizeof(dir), ifname, p->name, NULL))
		return PS_ERR;
	if (access(dir, F_OK))
		return ps_err(ctx, "%s is not attached to %s", p->name, ifname);
	return detach_dir(ctx, dir, ifname);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_dir(const char *path, char ***out)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*out = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char **q;

		if (de->d_name[0] == '.')
			continue;
		q = realloc(v, (n + 1) * sizeof(*v));
		if (!q)
			break;
		v = q;
		v[n] = strdup(de->d_name);
		if (v[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ps_attachment_foreach(struct ps_ctx *ctx, const char *plugin,
			  int (*cb)(struct ps_ctx *ctx,
				    const struct ps_attachment *att, void *data),
			  void *data)
{
	char root[512], dir[1024];
	char **ifs, **pls;
	size_t nif, npl;
	int r = 0;

	if (pin_path(ctx, root, sizeof(root), NULL, NULL, NULL))
		return -1;
	nif = list_dir(root, &ifs);
	for (size_t i = 0; i < nif && !r; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, ifs[i]);
		npl = list_dir(dir, &pls);
		for (size_t j = 0; j < npl && !r; j++) {
			struct ps_attachment att;
			struct ps_meta m;

			if (plugin && strcmp(plugin, pls[j]))
				continue;
			snprintf(dir, sizeof(dir), "%s/%s/%s", root, ifs[i], pls[j]);
			if (read_meta(dir, &m)) {
				/* half-made by a killed attach: show it as such */
				memset(&m, 0, sizeof(m));
				snprintf(m.ifname, sizeof(m.ifname), "%s", ifs[i]);
				snprintf(m.plugin, sizeof(m.plugin), "%s", pls[j]);
				m.mode = PS_MODE_AUTO;
			}
			fill_attachment(&att, &m, dir);
			r = cb(ctx, &att, data);
		}
		free_list(pls, npl);
	}
	free_list(ifs, nif);
	return r;
}

struct select_state {
	struct ps_attachment *v;
	size_t n;
};

static int select_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	struct select_state *s = data;
	struct ps_attachment *v;

	(void)ctx;
	if (!att->since)
		return 0;	/* half-made: nothing to read */
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
	struct select_state s = { NULL, 0 };
	int r;

	*out = NULL;
	*n = 0;
	if (!p)
		return ps_err(ctx, "no plugin");
	r = ps_need_root(ctx, p->name);
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

int ps_map_open(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map_name)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", att->pin_dir, map_name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		ps_err(ctx, "map '%s' of %s on %s cannot be opened: %s", map_name,
		       att->plugin, att->ifname, strerror(errno));
	return fd;
}

/* ---- the core's attach / detach / status commands ---- */

int ps_do_attach(struct ps_ctx *ctx, const struct ps_args *args)
{
	const struct ps_value *mv = ps_arg_get(args, "mode");
	enum ps_mode mode = mv ? PS_MODE_FROM_CHOICE(mv->u) : PS_MODE_AUTO;
	const char *ifname = ps_arg_str(args, "dev", NULL);
	struct ps_attachment att;
	char when[64];
	int r;

	r = ps_attach(ctx, ifname, mode,
		      ps_arg_has(args, "replace") ? PS_ATTACH_REPLACE : 0, args,
		      &att);
	if (r)
		return r;
	ps_fmt_time(att.since * 1000000000ULL, 0, when, sizeof(when));
	ps_out_str(ctx, "plugin", "Plugin", att.plugin);
	ps_out_str(ctx, "ifname", "Interface", att.ifname);
	ps_out_u64(ctx, "ifindex", "Ifindex", (uint64_t)att.ifindex);
	ps_out_str(ctx, "mode", "Mode", ps_mode_name(att.mode));
	ps_out_u64(ctx, "prog_id", "Program id", att.prog_id);
	ps_out_str(ctx, "pin_dir", "Pinned at", att.pin_dir);
	ps_out_str(ctx, "since", "Since", when);
	return PS_OK;
}

static int detach_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	int *n = data;

	(*n)++;
	detach_dir(ctx, att->pin_dir, att->ifname);
	ps_out_item(ctx, NULL);
	ps_out_str(ctx, "ifname", "Detached from", att->ifname);
	ps_out_item_end(ctx);
	return 0;
}

int ps_do_detach(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *ifname = ps_arg_str(args, "dev", NULL);
	int n = 0;

	if (!strcmp(ifname, "all")) {
		ps_out_list(ctx, "detached", NULL);
		ps_attachment_foreach(ctx, ctx->plugin->name, detach_one, &n);
		ps_out_list_end(ctx);
		if (!n)
			ps_out_text(ctx, "%s is not attached anywhere\n",
				    ctx->plugin->name);
		return PS_OK;
	}
	int r = ps_detach(ctx, ifname);

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
	struct ps_table *t;
	const char *dev;
	int n;
};

static int status_row(struct ps_ctx *ctx, const struct ps_attachment *att,
		      void *data)
{
	struct status_state *s = data;
	char when[64] = "-";

	(void)ctx;
	if (s->dev && strcmp(s->dev, att->ifname))
		return 0;
	if (att->since)
		ps_fmt_time(att->since * 1000000000ULL, 0, when, sizeof(when));
	ps_table_str(s->t, att->ifname);
	ps_table_str(s->t, att->plugin);
	ps_table_str(s->t, att->mode ? ps_mode_name(att->mode) : "-");
	ps_table_u64(s->t, att->prog_id);
	ps_table_str(s->t, when);
	ps_table_str(s->t, !att->since ? "incomplete (detach to clean up)" :
		     att->ifindex ? "attached" : "interface gone");
	ps_table_end_row(s->t);
	s->n++;
	return 0;
}

int ps_do_status(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "ifname", "INTERFACE", PS_LEFT },
		{ "plugin", NULL, PS_LEFT },
		{ "mode", NULL, PS_LEFT },
		{ "prog_id", "PROG", PS_RIGHT },
		{ "since", NULL, PS_LEFT },
		{ "state", NULL, PS_LEFT },
	};
	struct status_state s = { .dev = ps_arg_str(args, "dev", NULL) };
	char root[512];
	int r;

	r = ps_need_root(ctx, "status");
	if (r)
		return r;
	if (pin_path(ctx, root, sizeof(root), NULL, NULL, NULL))
		return PS_ERR;
	s.t = ps_table_new(ctx, "attachments", cols, ARRAY_SIZE(cols));
	ps_attachment_foreach(ctx, ctx->plugin ? ctx->plugin->name : NULL,
			      status_row, &s);
	if (!ctx->json && !s.n) {
		ps_table_end(s.t);
		ps_out_text(ctx, "(no attachments)\n");
		return PS_OK;
	}
	ps_table_end(s.t);
	return PS_OK;
}
