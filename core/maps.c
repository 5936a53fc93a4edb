// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Map services for plugins: one entry of a pinned array or per-CPU array
 * read (per-CPU: summed), written, and a whole map set back to zero,
 * through ps_map_open(), which checks the pin's shape.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static bool is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_array(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* open map of att, with its info; -1 reported */
static int open_info(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const char *map, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd = ps_map_open(ctx, att, map);

	if (fd < 0)
		return -1;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		ps_err(ctx, "map '%s' of %s on %s: %s", map, att->plugin,
		       att->ifname, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int value_fits(struct ps_ctx *ctx, const struct ps_attachment *att,
		      const char *map, const struct bpf_map_info *info,
		      size_t size, bool percpu_ok)
{
	if (!is_array(info->type) || info->key_size != 4 ||
	    (!percpu_ok && is_percpu(info->type)))
		return ps_err(ctx, "map '%s' of %s on %s is not %s", map,
			      att->plugin, att->ifname,
			      percpu_ok ? "an array" : "a plain array");
	if (info->value_size != size ||
	    (is_percpu(info->type) && size % sizeof(uint64_t)))
		return ps_err(ctx, "map '%s' of %s on %s has %u-byte values, not %zu",
			      map, att->plugin, att->ifname, info->value_size,
			      size);
	return 0;
}

int ps_map_read_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		    const char *map, uint32_t key, void *val, size_t size)
{
	struct bpf_map_info info;
	int fd = open_info(ctx, att, map, &info), r = PS_OK;

	if (fd < 0)
		return PS_ERR;
	if (value_fits(ctx, att, map, &info, size, true))
		r = PS_ERR;
	else if (is_percpu(info.type))
		r = ps_percpu_sum(fd, &key, val, size / sizeof(uint64_t));
	else if (bpf_map_lookup_elem(fd, &key, val))
		r = -errno;
	if (r < 0)
		r = ps_err(ctx, "reading '%s' of %s on %s: %s", map, att->plugin,
			   att->ifname, strerror(-r));
	close(fd);
	return r;
}

int ps_map_write_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const char *map, uint32_t key, const void *val,
		     size_t size)
{
	struct bpf_map_info info;
	int fd = open_info(ctx, att, map, &info), r = PS_OK;

	if (fd < 0)
		return PS_ERR;
	if (value_fits(ctx, att, map, &info, size, false))
		r = PS_ERR;
	else if (bpf_map_update_elem(fd, &key, val, BPF_ANY))
		r = ps_err(ctx, "writing '%s' of %s on %s: %s", map, att->plugin,
			   att->ifname, strerror(errno));
	close(fd);
	return r;
}

/* every entry of an array (per CPU too) back to zero */
static int zero_array(int fd, const struct bpf_map_info *info)
{
	int ncpu = is_percpu(info->type) ? libbpf_num_possible_cpus() : 1;
	size_t vsize = is_percpu(info->type) ?
		       (info->value_size + 7) / 8 * 8 : info->value_size;
	void *zero;
	int r = 0;

	if (ncpu <= 0)
		return -EINVAL;
	zero = calloc((size_t)ncpu, vsize);
	if (!zero)
		return -ENOMEM;
	for (uint32_t k = 0; k < info->max_entries && !r; k++)
		if (bpf_map_update_elem(fd, &k, zero, BPF_ANY))
			r = -errno;
	free(zero);
	return r;
}

int ps_map_zero(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map)
{
	struct bpf_map_info info;
	int fd = open_info(ctx, att, map, &info), r;

	if (fd < 0)
		return PS_ERR;
	r = is_array(info.type) ? zero_array(fd, &info) :
				  ps_map_clear(fd, info.key_size);
	close(fd);
	if (r)
		return ps_err(ctx, "clearing '%s' of %s on %s: %s", map,
			      att->plugin, att->ifname, strerror(-r));
	return PS_OK;
}
