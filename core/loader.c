// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Plugin loader.  pktscope runs as root, often through sudo with the
 * caller's environment, so a search path is only a hint: every file is
 * opened with O_NOFOLLOW, checked on that descriptor and loaded through
 * /proc/self/fd, so what was checked is what is loaded.  A refused plugin
 * is reported with its file and reason; the others still load.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#ifndef PKTSCOPE_PLUGIN_DIR
#define PKTSCOPE_PLUGIN_DIR "/usr/local/lib/pktscope"
#endif

static uid_t caller_uid(void)
{
	const char *s = getenv("SUDO_UID");

	/* sudo's caller may own its own plugins; only root may say so */
	if (getuid() == 0 && s && *s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (!*end)
			return (uid_t)v;
	}
	return getuid();
}

static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == caller_uid() || uid == geteuid();
}

/* Every directory from dir up to / must be safe from other users. */
static int check_dirs(const char *dir, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (!realpath(dir, path)) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (stat(path, &st)) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (!owner_ok(st.st_uid)) {
			snprintf(why, len, "directory %s is owned by uid %u",
				 path, (unsigned)st.st_uid);
			return -1;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_mode & S_ISVTX)) {
			snprintf(why, len,
				 "directory %s is writable by group or others",
				 path);
			return -1;
		}
		if (!strcmp(path, "/"))
			return 0;
		char *slash = strrchr(path, '/');
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

bool ps_running_from_build_tree(char *dir, size_t len)
{
#ifdef PKTSCOPE_BUILDDIR
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *bd = PKTSCOPE_BUILDDIR;
	size_t bl = strlen(bd);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	/* <builddir>/pktscope or libtool's <builddir>/.libs/lt-pktscope */
	if (strcmp(exe, bd) &&
	    !(strncmp(exe, bd, bl) == 0 && !strcmp(exe + bl, "/.libs")))
		return false;
	snprintf(dir, len, "%s/plugins/.libs", bd);
	return true;
#else
	(void)dir;
	(void)len;
	return false;
#endif
}

const char *ps_plugin_dirs(struct ps_ctx *ctx, char *buf, size_t len)
{
	const char *env = getenv("PKTSCOPE_PLUGIN_PATH");
	char build[PATH_MAX];
	size_t off = 0;

	buf[0] = '\0';
	if (ctx->plugin_path)
		off += snprintf(buf + off, len - off, "%s", ctx->plugin_path);
	if (env && *env && off < len)
		off += snprintf(buf + off, len - off, "%s%s", off ? ":" : "", env);
	if (off < len) {
		/* the build tree's plugins stand in for the installed ones */
		const char *def = ps_running_from_build_tree(build, sizeof(build)) ?
					  build : PKTSCOPE_PLUGIN_DIR;
		snprintf(buf + off, len - off, "%s%s", off ? ":" : "", def);
	}
	return buf;
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 63 || name[0] == '-' || name[0] == '_')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
	return true;
}

static int refuse(struct ps_ctx *ctx, const char *file, const char *why)
{
	ctx->refused++;
	ps_warn(ctx, "plugin %s refused: %s", file, why);
	return -1;
}

static struct ps_object *new_object(struct ps_ctx *ctx)
{
	struct ps_object *o = realloc(ctx->objects,
				      (ctx->nobjects + 1) * sizeof(*o));

	if (!o)
		return NULL;
	ctx->objects = o;
	o = &ctx->objects[ctx->nobjects];
	memset(o, 0, sizeof(*o));
	return o;
}

/* Core verbs first; a plugin's verb of the same name replaces the core's. */
static int merge_cmds(struct ps_object *o, const struct ps_plugin *p)
{
	size_t ncore = 0, nown = 0, nattach = 0, ncoreargs = 0, k = 0;

	while (ps_core_bpf_cmds[ncore].name)
		ncore++;
	while (p->cmds && p->cmds[nown].name)
		nown++;
	while (ps_attach_core_args[ncoreargs].keyword)
		ncoreargs++;
	while (p->attach_args && p->attach_args[nattach].keyword)
		nattach++;

	o->merged = calloc(ncore + nown + 1, sizeof(*o->merged));
	o->attach_spec = calloc(ncoreargs + nattach + 1, sizeof(*o->attach_spec));
	if (!o->merged || !o->attach_spec)
		return -1;
	memcpy(o->attach_spec, ps_attach_core_args,
	       ncoreargs * sizeof(*o->attach_spec));
	if (nattach)
		memcpy(o->attach_spec + ncoreargs, p->attach_args,
		       nattach * sizeof(*o->attach_spec));
	for (size_t i = 0; i < ncore; i++) {
		bool overridden = false;

		for (size_t j = 0; j < nown; j++)
			if (!strcmp(p->cmds[j].name, ps_core_bpf_cmds[i].name))
				overridden = true;
		if (overridden)
			continue;
		o->merged[k] = ps_core_bpf_cmds[i];
		if (!strcmp(o->merged[k].name, "attach"))
			o->merged[k].args = o->attach_spec;
		k++;
	}
	for (size_t j = 0; j < nown; j++)
		o->merged[k++] = p->cmds[j];
	return 0;
}

/* One plugin file on its way in; each step fills why when it refuses. */
struct load_job {
	char file[PATH_MAX];
	char why[PATH_MAX + 64];
	int fd;
	void *handle;
	const struct ps_plugin *p;
	struct ps_object *o;	/* registered, not yet counted */
	bool counted;
};

#define REFUSE(j, ...) (snprintf((j)->why, sizeof((j)->why), __VA_ARGS__), -1)

/* opened without following links, checked on the descriptor */
static int load_open(struct load_job *j, int dirfd, const char *dir,
		     const char *name)
{
	unsigned char magic[4];
	struct stat st;

	if (snprintf(j->file, sizeof(j->file), "%s/%s", dir, name) >=
	    (int)sizeof(j->file)) {
		snprintf(j->file, sizeof(j->file), "%s", name);
		return REFUSE(j, "path too long");
	}
	j->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0)
		return REFUSE(j, "%s", errno == ELOOP ? "it is a symbolic link" :
			      strerror(errno));
	if (fstat(j->fd, &st) || !S_ISREG(st.st_mode))
		return REFUSE(j, "not a regular file");
	if (!owner_ok(st.st_uid))
		return REFUSE(j, "owned by uid %u, neither root nor the caller",
			      (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return REFUSE(j, "writable by group or others");
	if (pread(j->fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4))
		return REFUSE(j, "not an ELF shared object");
	return 0;
}

/* loaded through that descriptor: what was checked is what runs */
static int load_dlopen(struct load_job *j)
{
	char fdpath[64];

	/*
	 * glibc finds an already-loaded object by its name first, and a
	 * closed descriptor's number comes back: keep fd open while the
	 * handle lives, so no two plugins share a /proc/self/fd name.
	 */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", j->fd);
	j->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!j->handle) {
		const char *e = dlerror();
		const char *colon = e ? strstr(e, ": ") : NULL;

		/* drop dlopen's /proc/self/fd/N prefix: the file is named */
		return REFUSE(j, "cannot load: %s",
			      colon ? colon + 2 : (e ? e : "unknown error"));
	}
	j->p = dlsym(j->handle, PKTSCOPE_PLUGIN_SYMBOL);
	if (!j->p)
		return REFUSE(j, "no '" PKTSCOPE_PLUGIN_SYMBOL
			      "' symbol: not a pktscope plugin");
	return 0;
}

/* the descriptor, before any of the plugin's code runs */
static int load_check(struct ps_ctx *ctx, struct load_job *j)
{
	const struct ps_plugin *p = j->p;
	struct ps_object *other;

	if (p->abi_version != PKTSCOPE_ABI_VERSION ||
	    p->size != sizeof(struct ps_plugin))
		return REFUSE(j, "built for plugin ABI %u (size %u), this pktscope has ABI %u (size %zu)",
			      p->abi_version, p->size, PKTSCOPE_ABI_VERSION,
			      sizeof(struct ps_plugin));
	if (!p->name || !valid_name(p->name))
		return REFUSE(j, "bad plugin name (want 1-63 of [a-z0-9-])");
	other = ps_find_object(ctx, p->name);
	if (other && other->file)
		return REFUSE(j, "duplicate name '%s', already loaded from %s",
			      p->name, other->file);
	if (other)
		return REFUSE(j, "name '%s' clashes with a built-in object",
			      p->name);
	if (!p->cmds && !p->bpf_elf)
		return REFUSE(j, "no commands and no BPF object");
	if (p->bpf_elf && !p->xdp_prog && !p->tc_prog)
		return REFUSE(j, "BPF object without XDP or TC program names");
	return 0;
}

/* an object of the registry, then the plugin's init() */
static int load_register(struct ps_ctx *ctx, struct load_job *j)
{
	const struct ps_plugin *p = j->p;
	struct ps_object *o = new_object(ctx);
	int r;

	if (!o)
		return REFUSE(j, "out of memory");
	j->o = o;
	o->name = p->name;
	o->summary = p->summary ? p->summary : "";
	o->cmds = p->cmds;
	o->plugin = p;
	o->handle = j->handle;
	o->fd = j->fd;
	o->file = strdup(j->file);
	if (!o->file || (p->bpf_elf && merge_cmds(o, p)))
		return REFUSE(j, "out of memory");
	ctx->nobjects++;
	j->counted = true;
	if (p->init) {
		ctx->plugin = p;
		r = p->init(ctx);
		ctx->plugin = NULL;
		if (r)
			return REFUSE(j, "its init() failed");
	}
	return 0;
}

static int load_one(struct ps_ctx *ctx, int dirfd, const char *dir,
		    const char *name)
{
	struct load_job j = { .fd = -1 };
	int r;

	r = load_open(&j, dirfd, dir, name);
	if (!r)
		r = load_dlopen(&j);
	if (!r)
		r = load_check(ctx, &j);
	if (!r)
		r = load_register(ctx, &j);
	if (!r)
		return 0;
	/* the one unwind */
	if (j.o) {
		if (j.counted)
			ctx->nobjects--;
		free(j.o->file);
		free(j.o->merged);
		free(j.o->attach_spec);
	}
	if (j.handle)
		dlclose(j.handle);
	if (j.fd >= 0)
		close(j.fd);
	return refuse(ctx, j.file, j.why);
}

static bool is_plugin_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 3 &&
	       !strcmp(d->d_name + len - 3, ".so");
}

static void load_dir(struct ps_ctx *ctx, const char *dir, bool explicit)
{
	struct dirent **ents;
	char why[PATH_MAX + 64];
	int n, dirfd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		/* the default directory may not exist before make install */
		if (explicit)
			ps_warn(ctx, "plugin directory %s: %s", dir,
				strerror(errno));
		return;
	}
	if (check_dirs(dir, why, sizeof(why))) {
		ctx->refused++;
		ps_warn(ctx, "plugin directory %s refused: %s", dir, why);
		close(dirfd);
		return;
	}
	n = scandirat(dirfd, ".", &ents, NULL, alphasort);
	if (n < 0) {
		ps_warn(ctx, "plugin directory %s: %s", dir, strerror(errno));
		close(dirfd);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (is_plugin_file(ents[i]))
			load_one(ctx, dirfd, dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	close(dirfd);
}

/* Each directory of a colon-separated list, in order. */
static void load_path(struct ps_ctx *ctx, const char *list, bool explicit)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy) {
		ps_warn(ctx, "out of memory reading the plugin path");
		return;
	}
	for (char *d = strtok_r(copy, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		if (strlen(d) >= PATH_MAX)
			ps_warn(ctx, "plugin directory %.64s...: name too long, skipped", d);
		else
			load_dir(ctx, d, explicit);
	}
	free(copy);
}

int ps_load_plugins(struct ps_ctx *ctx)
{
	const char *env = getenv("PKTSCOPE_PLUGIN_PATH");
	const struct ps_object *b;
	char build[PATH_MAX];
	size_t nb;

	if (ctx->plugins_loaded)
		return 0;
	b = ps_builtin_objects(&nb);
	ctx->objects = calloc(nb, sizeof(*ctx->objects));
	if (!ctx->objects)
		return -1;
	memcpy(ctx->objects, b, nb * sizeof(*b));
	ctx->nobjects = nb;

	/* explicit directories first; those are reported when missing */
	if (ctx->plugin_path)
		load_path(ctx, ctx->plugin_path, true);
	if (env && *env)
		load_path(ctx, env, true);
	/* the build tree's plugins stand in for the installed ones */
	load_dir(ctx, ps_running_from_build_tree(build, sizeof(build)) ?
			      build : PKTSCOPE_PLUGIN_DIR, false);
	ctx->plugins_loaded = true;
	return 0;
}

void ps_unload_plugins(struct ps_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nobjects; i++) {
		struct ps_object *o = &ctx->objects[i];

		if (!o->plugin)
			continue;
		if (o->plugin->fini) {
			ctx->plugin = o->plugin;
			o->plugin->fini(ctx);
			ctx->plugin = NULL;
		}
		free(o->file);
		free(o->merged);
		free(o->attach_spec);
		dlclose(o->handle);
		close(o->fd);
	}
	free(ctx->objects);
	ctx->objects = NULL;
	ctx->nobjects = 0;
	ctx->plugins_loaded = false;
}
