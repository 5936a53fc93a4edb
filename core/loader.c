// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Plugin loader.  pktscope runs as root, often through sudo with the
 * caller's environment, so a search path is only a hint: a plugin and
 * every directory above it must be root's and closed to others (the trust
 * rule of pktscope(8)); every file is checked on an O_PATH descriptor and
 * loaded through /proc/self/fd, so what was checked is what is loaded.  A refused plugin
 * is reported with its file and reason; the others still load.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"
#include "loader.h"
#include "registry.h"
#include "verbs.h"

#ifndef PKTSCOPE_PLUGIN_DIR
#define PKTSCOPE_PLUGIN_DIR "/usr/local/lib/pktscope"
#endif

/*
 * With privileges, only root's files and folders are trusted: SUDO_UID and
 * the rest of the caller's environment grant nothing, since sudo hands
 * them over.  Without privileges a user's own files are theirs to run.
 */
static bool privileged(void)
{
	return geteuid() == 0 || geteuid() != getuid();
}

static bool owner_ok(uid_t uid, uid_t also)
{
	return uid == 0 || uid == also ||
	       (!privileged() && uid == geteuid());
}

/* Closed to others; a sticky bit only keeps others from renaming. */
static bool mode_ok(mode_t mode, bool is_dir)
{
	if (!(mode & (S_IWGRP | S_IWOTH)))
		return true;
	return is_dir && !privileged() && (mode & S_ISVTX);
}

/*
 * Every directory from dir up to / must be safe from other users: owned
 * by root (or `also`, -1 for nobody more) and not writable by others.
 */
int ps_dir_trusted(const char *dir, uid_t also, char *why, size_t len)
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
		if (!owner_ok(st.st_uid, also)) {
			snprintf(why, len, "directory %s is owned by uid %u",
				 path, (unsigned)st.st_uid);
			return -1;
		}
		if (!mode_ok(st.st_mode, true)) {
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
	ps_debug(ctx, "loader: %s: refused: %s", file, why);
	return -1;
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

/*
 * A plugin file on its way in.  Each step of load_one() fills a part or
 * says why not in why; load_one() has the one unwind.
 */
struct candidate {
	char file[PATH_MAX];		/* "" while the path does not fit */
	char why[PATH_MAX + 64];
	struct stat st;
	int fd;				/* the checked inode, open for reading */
	void *handle;
	const struct ps_plugin *p;
};

static int because(struct candidate *c, const char *why)
{
	snprintf(c->why, sizeof(c->why), "%s", why);
	return -1;
}

static int name_file(struct candidate *c, const char *dir, const char *name)
{
	if (snprintf(c->file, sizeof(c->file), "%s/%s", dir, name) >=
	    (int)sizeof(c->file)) {
		c->file[0] = '\0';
		return because(c, "path too long");
	}
	return 0;
}

/*
 * The file's type and owner are checked on an O_PATH descriptor, which
 * opens nothing: a FIFO or a device is refused before any open that could
 * block or run driver code.  The checked inode is then opened through
 * /proc/self/fd, so what was checked is what is read.
 */
static int open_checked(struct ps_ctx *ctx, int dirfd, const char *name,
			uid_t also, struct candidate *c)
{
	struct stat *st = &c->st;
	const struct ps_object *other;
	char fdpath[64];
	int pfd, r = -1;

	pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return because(c, strerror(errno));
	if (fstat(pfd, st)) {
		because(c, strerror(errno));
	} else if (!S_ISREG(st->st_mode)) {
		because(c, S_ISLNK(st->st_mode) ? "it is a symbolic link" :
						  "not a regular file");
	} else if (!owner_ok(st->st_uid, also)) {
		snprintf(c->why, sizeof(c->why), "owned by uid %u, not root",
			 (unsigned)st->st_uid);
	} else if (!mode_ok(st->st_mode, false)) {
		because(c, "writable by group or others");
	} else if ((other = ps_find_plugin_inode(ctx, st->st_dev, st->st_ino))) {
		snprintf(c->why, sizeof(c->why),
			 "the same file as %s, already loaded", other->file);
	} else {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", pfd);
		c->fd = open(fdpath, O_RDONLY | O_CLOEXEC);
		r = c->fd < 0 ? because(c, strerror(errno)) : 0;
	}
	close(pfd);
	return r;
}

/*
 * dlopen() says "No such file or directory" for an object of another
 * machine: compare its ELF header with our own first.
 */
static int check_elf(struct candidate *c)
{
	static ElfW(Ehdr) self;
	unsigned char magic[4];
	ElfW(Ehdr) eh;

	if (pread(c->fd, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4))
		return because(c, "not an ELF shared object");
	if (!self.e_machine) {
		int sfd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		if (sfd < 0 || pread(sfd, &self, sizeof(self), 0) != sizeof(self))
			memset(&self, 0, sizeof(self));
		if (sfd >= 0)
			close(sfd);
	}
	if (pread(c->fd, &eh, sizeof(eh), 0) != sizeof(eh))
		return because(c, "a truncated ELF file");
	if (!self.e_machine)
		return 0;
	if (eh.e_ident[EI_CLASS] != self.e_ident[EI_CLASS] ||
	    eh.e_ident[EI_DATA] != self.e_ident[EI_DATA] ||
	    eh.e_machine != self.e_machine) {
		snprintf(c->why, sizeof(c->why),
			 "built for another machine (ELF machine %u, this one is %u)",
			 (unsigned)eh.e_machine, (unsigned)self.e_machine);
		return -1;
	}
	if (eh.e_type != ET_DYN) {
		snprintf(c->why, sizeof(c->why),
			 "not a shared object (ELF type %u)", (unsigned)eh.e_type);
		return -1;
	}
	return 0;
}

/*
 * glibc finds an already-loaded object by its name first, and a closed
 * descriptor's number comes back: fd stays open while the handle lives,
 * so no two plugins share a /proc/self/fd name.
 */
static int open_handle(struct ps_ctx *ctx, struct candidate *c)
{
	const struct ps_object *other;
	char fdpath[64];

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", c->fd);
	c->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!c->handle) {
		const char *e = dlerror();
		const char *colon = e ? strstr(e, ": ") : NULL;

		/* drop dlopen's /proc/self/fd/N prefix: the file is named */
		snprintf(c->why, sizeof(c->why), "cannot load: %s",
			 colon ? colon + 2 : (e ? e : "unknown error"));
		return -1;
	}
	/* glibc matched a name or inode it knows: never share a handle */
	other = ps_find_plugin_handle(ctx, c->handle);
	if (other) {
		snprintf(c->why, sizeof(c->why), "the same object as %s",
			 other->file);
		return -1;
	}
	return 0;
}

static int check_descriptor(struct ps_ctx *ctx, struct candidate *c)
{
	const struct ps_plugin *p = dlsym(c->handle, PKTSCOPE_PLUGIN_SYMBOL);
	const struct ps_object *other;

	if (!p)
		return because(c, "no '" PKTSCOPE_PLUGIN_SYMBOL
			       "' symbol: not a pktscope plugin");
	if (p->abi_version != PKTSCOPE_ABI_VERSION ||
	    p->size != sizeof(struct ps_plugin)) {
		snprintf(c->why, sizeof(c->why),
			 "built for plugin ABI %u (size %u), this pktscope has ABI %u (size %zu)",
			 p->abi_version, p->size, PKTSCOPE_ABI_VERSION,
			 sizeof(struct ps_plugin));
		return -1;
	}
	if (!p->name || !valid_name(p->name))
		return because(c, "bad plugin name (want 1-63 of [a-z0-9-])");
	other = ps_find_object(ctx, p->name);
	if (other && other->file) {
		snprintf(c->why, sizeof(c->why),
			 "duplicate name '%s', already loaded from %s",
			 p->name, other->file);
		return -1;
	}
	if (other) {
		snprintf(c->why, sizeof(c->why),
			 "name '%s' clashes with a built-in object", p->name);
		return -1;
	}
	if (!p->cmds && !p->bpf_elf)
		return because(c, "no commands and no BPF object");
	if (p->bpf_elf && !p->xdp_prog && !p->tc_prog)
		return because(c, "BPF object without XDP or TC program names");
	c->p = p;
	return 0;
}

/* into the registry, which owns the handle and descriptor from then on */
static int register_plugin(struct ps_ctx *ctx, struct candidate *c)
{
	const struct ps_plugin *p = c->p;
	struct ps_object o = {
		.name = p->name,
		.summary = p->summary ? p->summary : "",
		.cmds = p->cmds,
		.plugin = p,
		.handle = c->handle,
		.fd = c->fd,
		.dev = c->st.st_dev,
		.ino = c->st.st_ino,
		.file = strdup(c->file),
	};

	if (!o.file || (p->bpf_elf && merge_cmds(&o, p)) ||
	    !ps_registry_add(ctx, &o)) {
		free(o.file);
		free(o.merged);
		free(o.attach_spec);
		return because(c, "out of memory");
	}
	c->handle = NULL;
	c->fd = -1;
	return 0;
}

static int run_init(struct ps_ctx *ctx, struct candidate *c)
{
	int r;

	if (!c->p->init)
		return 0;
	ctx->plugin = c->p;
	r = c->p->init(ctx);
	ctx->plugin = NULL;
	if (r) {
		ps_registry_drop_last(ctx);	/* and what it owned */
		return because(c, "its init() failed");
	}
	return 0;
}

static int load_one(struct ps_ctx *ctx, int dirfd, const char *dir,
		    const char *name, uid_t also)
{
	struct candidate c = { .fd = -1 };
	int r;

	r = name_file(&c, dir, name);
	if (!r)
		r = open_checked(ctx, dirfd, name, also, &c);
	if (!r)
		r = check_elf(&c);
	if (!r)
		r = open_handle(ctx, &c);
	if (!r)
		r = check_descriptor(ctx, &c);
	if (!r)
		r = register_plugin(ctx, &c);
	if (!r)
		r = run_init(ctx, &c);
	if (!r) {
		ps_debug(ctx, "loader: %s: loaded as %s %s (plugin ABI %u%s)",
			 c.file, c.p->name, c.p->version ? c.p->version : "",
			 c.p->abi_version, c.p->bpf_elf ? ", with a BPF object" : "");
		return 0;
	}
	if (c.handle)
		dlclose(c.handle);
	if (c.fd >= 0)
		close(c.fd);
	return refuse(ctx, c.file[0] ? c.file : name, c.why);
}

static bool is_plugin_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 3 &&
	       !strcmp(d->d_name + len - 3, ".so");
}

/* directories searched so far: one listed twice is searched once */
struct dir_seen {
	dev_t dev[64];
	ino_t ino[64];
	size_t n;
};

static bool seen_before(struct dir_seen *seen, int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st))
		return false;
	for (size_t i = 0; i < seen->n; i++)
		if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino)
			return true;
	if (seen->n < ARRAY_SIZE(seen->dev)) {
		seen->dev[seen->n] = st.st_dev;
		seen->ino[seen->n++] = st.st_ino;
	}
	return false;
}

/*
 * The build tree is trusted as much as the pktscope running from it: a
 * developer's own tree, run with sudo, is theirs either way.  Said aloud
 * when that owner is not root.
 */
static uid_t build_tree_owner(struct ps_ctx *ctx)
{
	struct stat st;

	if (stat("/proc/self/exe", &st) || st.st_uid == 0)
		return 0;
	if (privileged())
		ps_warn(ctx, "trusting the build tree's plugins, owned by uid %u as the running pktscope is",
			(unsigned)st.st_uid);
	return st.st_uid;
}

static void load_dir(struct ps_ctx *ctx, struct dir_seen *seen,
		     const char *dir, bool explicit, uid_t also)
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
		ps_debug(ctx, "loader: %s: not searched: %s", dir,
			 strerror(errno));
		return;
	}
	if (seen_before(seen, dirfd)) {
		ps_debug(ctx, "loader: %s: searched already", dir);
		close(dirfd);
		return;
	}
	if (ps_dir_trusted(dir, also, why, sizeof(why))) {
		ctx->refused++;
		ps_warn(ctx, "plugin directory %s refused: %s", dir, why);
		ps_debug(ctx, "loader: %s: refused: %s", dir, why);
		close(dirfd);
		return;
	}
	n = scandirat(dirfd, ".", &ents, NULL, alphasort);
	if (n < 0) {
		ps_warn(ctx, "plugin directory %s: %s", dir, strerror(errno));
		close(dirfd);
		return;
	}
	ps_debug(ctx, "loader: searching %s", dir);
	for (int i = 0; i < n; i++) {
		if (is_plugin_file(ents[i]))
			load_one(ctx, dirfd, dir, ents[i]->d_name, also);
		free(ents[i]);
	}
	free(ents);
	close(dirfd);
}

/* Each directory of a colon-separated list, in order. */
static void load_path(struct ps_ctx *ctx, struct dir_seen *seen,
		      const char *list, bool explicit)
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
			load_dir(ctx, seen, d, explicit, (uid_t)-1);
	}
	free(copy);
}

int ps_load_plugins(struct ps_ctx *ctx)
{
	const char *env = getenv("PKTSCOPE_PLUGIN_PATH");
	struct dir_seen seen = { .n = 0 };
	char build[PATH_MAX];

	/* after the built-ins (session.c): a clash with one is refused */
	if (ctx->plugins_loaded)
		return 0;
	ps_debug(ctx, "loader: plugin path %s",
		 ps_plugin_dirs(ctx, build, sizeof(build)));

	/* explicit directories first; those are reported when missing */
	if (ctx->plugin_path)
		load_path(ctx, &seen, ctx->plugin_path, true);
	if (env && *env)
		load_path(ctx, &seen, env, true);
	/* the build tree's plugins stand in for the installed ones */
	if (ps_running_from_build_tree(build, sizeof(build)))
		load_dir(ctx, &seen, build, false, build_tree_owner(ctx));
	else
		load_dir(ctx, &seen, PKTSCOPE_PLUGIN_DIR, false, (uid_t)-1);
	ps_registry_resolve_aliases(ctx);
	ctx->plugins_loaded = true;
	return 0;
}
