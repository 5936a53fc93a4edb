// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pktscope's folder in bpffs:
 *
 *	<bpffs>/pktscope/			root's alone (0700), else refused
 *		<ifname>/
 *			<plugin>/		one attachment, published whole
 *				ps_meta ps_prog ps_link <maps>
 *			_<plugin>_<pid>_<start>/	an attach being built
 *			_clsact			tc mode made the clsact qdisc
 *
 * An attach builds its pins in a folder of its own, named after its
 * process, and renames it into place when the program is linked: another
 * attach never sees, nor cleans up, a half-made attachment, and removes a
 * building folder only once its process is dead.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "attach.h"

int pins_path(struct ps_ctx *ctx, char *buf, size_t len, const char *ifname,
	      const char *name, const char *file)
{
	int n;

	if (file)
		n = snprintf(buf, len, "%s/pktscope/%s/%s/%s", ctx->bpffs,
			     ifname, name, file);
	else if (name)
		n = snprintf(buf, len, "%s/pktscope/%s/%s", ctx->bpffs, ifname,
			     name);
	else if (ifname)
		n = snprintf(buf, len, "%s/pktscope/%s", ctx->bpffs, ifname);
	else
		n = snprintf(buf, len, "%s/pktscope", ctx->bpffs);
	/* a pin folder must fit ps_attachment.pin_dir with room for names */
	if (n < 0 || (size_t)n >= len ||
	    (!file && (size_t)n >= PS_PIN_DIR_MAX - 64))
		return ps_err(ctx, "pin folders under %s would be too long (at most %d characters)",
			      ctx->bpffs, PS_PIN_DIR_MAX - 65);
	return 0;
}

/* dir/name, or -1 when it does not fit: never a truncated path */
int pins_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int pins_bpffs_check(struct ps_ctx *ctx)
{
	struct statfs st;

	if (!statfs(ctx->bpffs, &st) && st.f_type == BPF_FS_MAGIC)
		return PS_OK;
	/* the default place, not mounted yet: nothing can be attached */
	if (!strcmp(ctx->bpffs, "/sys/fs/bpf"))
		return PS_OK;
	return ps_err(ctx, "%s is not a bpffs mount", ctx->bpffs);
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "?");
	return buf;
}

/*
 * A folder of ours: a directory, not a link, owned by us and writable by
 * no one else.  Anything else there was made by someone else, who could
 * otherwise block or steer every later attach: refused, naming them.
 * (bpffs refuses dots in names; plugin names have no '_'.)
 */
int pins_dir_trusted(struct ps_ctx *ctx, const char *path, bool create)
{
	struct stat st;
	char who[64];

	if (lstat(path, &st)) {
		if (errno != ENOENT || !create)
			return errno == ENOENT ? -ENOENT :
			       ps_err(ctx, "cannot read %s: %s", path,
				      strerror(errno));
		if (mkdir(path, 0700) && errno != EEXIST)
			return ps_err(ctx, "cannot create %s: %s", path,
				      strerror(errno));
		if (lstat(path, &st))
			return ps_err(ctx, "cannot read %s: %s", path,
				      strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ps_err(ctx, "%s is not a directory; it is not pktscope's (owner uid %u (%s)): remove it",
			      path, (unsigned)st.st_uid,
			      user_name(st.st_uid, who, sizeof(who)));
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return ps_err(ctx, "%s is not pktscope's: owned by uid %u (%s), mode %04o; remove it (rm -r) and try again",
			      path, (unsigned)st.st_uid,
			      user_name(st.st_uid, who, sizeof(who)),
			      (unsigned)(st.st_mode & 07777));
	return 0;
}

static const char *map_type_name(uint32_t type)
{
	const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)type);

	return s ? s : "unknown";
}

int pins_meta_read(const char *dir, struct ps_meta *m, char *why, size_t len)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[PS_PATH_MAX];
	uint32_t key = 0;
	int fd, r = 0;

	snprintf(why, len, "no ps_meta");
	if (snprintf(path, sizeof(path), "%s/ps_meta", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	/* the kernel copies value_size bytes: check before reading */
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		r = -errno;
		snprintf(why, len, "ps_meta: %s", strerror(errno));
	} else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		   info.value_size != sizeof(*m) || info.max_entries != 1) {
		r = -EPROTO;
		snprintf(why, len,
			 "ps_meta: type %s, %u entries, %u-byte keys, %u-byte values; expected type array, 1 entry, 4-byte keys, %zu-byte values",
			 map_type_name(info.type), info.max_entries,
			 info.key_size, info.value_size, sizeof(*m));
	} else if (bpf_map_lookup_elem(fd, &key, m)) {
		r = -errno;
		snprintf(why, len, "ps_meta: %s", strerror(errno));
	} else if (m->magic != META_MAGIC) {
		r = -EPROTO;
		snprintf(why, len, "ps_meta was not written by this pktscope version");
	}
	close(fd);
	if (!r) {
		m->ifname[sizeof(m->ifname) - 1] = '\0';
		m->plugin[sizeof(m->plugin) - 1] = '\0';
	}
	return r;
}

int pins_meta_write(struct ps_ctx *ctx, const char *dir,
		    const struct ps_meta *m, bool create)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	char path[PS_PATH_MAX];
	uint32_t key = 0;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/ps_meta", dir);
	if (create)
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ps_meta", sizeof(key),
				    sizeof(*m), 1, &o);
	else
		fd = bpf_obj_get(path);
	if (fd < 0)
		return ps_err(ctx, "opening %s: %s", path, strerror(errno));
	if (bpf_map_update_elem(fd, &key, m, 0) ||
	    (create && bpf_obj_pin(fd, path)))
		r = ps_err(ctx, "writing %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

/*
 * Remove every pin in dir, then dir and the folders above it that become
 * empty.  What cannot be removed is reported with its owner: a detach that
 * leaves pins behind fails, it never says it detached.
 */
int pins_remove(struct ps_ctx *ctx, const char *dir)
{
	char path[PS_PATH_MAX], who[64];
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	int r = 0;

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (!unlink(path))
				continue;
			if (!lstat(path, &st))
				r = ps_err(ctx, "cannot remove %s (owner uid %u (%s)): %s",
					   path, (unsigned)st.st_uid,
					   user_name(st.st_uid, who, sizeof(who)),
					   strerror(errno));
			else if (errno != ENOENT)
				r = ps_err(ctx, "cannot remove %s: %s", path,
					   strerror(errno));
		}
		closedir(d);
	}
	if (rmdir(dir) && errno != ENOENT && !r)
		r = ps_err(ctx, "cannot remove %s: %s", dir, strerror(errno));
	/* the interface folder, then pktscope's: fail while others remain */
	snprintf(path, sizeof(path), "%s", dir);
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(path, '/');

		if (!slash)
			break;
		*slash = '\0';
		if (rmdir(path))
			break;
	}
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names in path, sorted; hidden: the _names (folders being built) */
size_t pins_list(const char *path, char ***out, bool hidden)
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

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (de->d_name[0] == '_') != hidden)
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

void pins_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* the start time of a process in clock ticks since boot, 0: no such */
uint64_t pins_proc_start(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the name may hold spaces and ')': fields count from the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &start) != 1)
		return 0;
	return start;
}

bool pins_owner_alive(uint32_t pid, uint64_t start)
{
	if (!pid)
		return false;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return false;
	/* the same pid, another process: the owner is dead */
	return !start || pins_proc_start(pid) == start;
}

int pins_stage_name(char *buf, size_t len, const char *plugin)
{
	uint32_t pid = (uint32_t)getpid();
	int n = snprintf(buf, len, "_%s_%u_%llu", plugin, pid,
			 (unsigned long long)pins_proc_start(pid));

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool pins_stage_parse(const char *name, char *plugin, size_t len,
		      uint32_t *pid, uint64_t *start)
{
	const char *sep = strchr(name + 1, '_');
	unsigned long long s;
	unsigned int p;
	char end;

	if (name[0] != '_' || !sep || (size_t)(sep - name - 1) >= len ||
	    sep == name + 1 || sscanf(sep, "_%u_%llu%c", &p, &s, &end) != 2)
		return false;
	memcpy(plugin, name + 1, (size_t)(sep - name - 1));
	plugin[sep - name - 1] = '\0';
	*pid = p;
	*start = s;
	return true;
}

/* a program, map or link pinned as dir/name */
int pins_pin(struct ps_ctx *ctx, int fd, const char *dir, const char *name)
{
	char path[PS_PATH_MAX];

	if (pins_join(path, sizeof(path), dir, name))
		return ps_err(ctx, "pin path %s/%s is too long", dir, name);
	if (bpf_obj_pin(fd, path))
		return ps_err(ctx, "pinning %s: %s", path, strerror(errno));
	ps_debug(ctx, "pins: pinned %s", path);
	return 0;
}
