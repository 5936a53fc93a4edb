// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prefix lists in an attachment's LPM trie (struct ps_lpm_key of
 * <pktscope/bpf/keys.h>, value u8 1): filled as a whole, changed one
 * prefix at a time, listed as ps_cidr values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <pktscope/bpf/keys.h>

#include "internal.h"

struct lpm_row {
	struct ps_lpm_key k;
	uint8_t v;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void key_of(struct ps_lpm_key *k, const struct ps_cidr *c)
{
	ps_lpm_key_set(k, c->family, c->addr, c->prefixlen);
}

static int cmp_cidr(const void *a, const void *b)
{
	const struct ps_cidr *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, addr_len(x->family));
	if (c)
		return c;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

/* what the trie holds, sorted; -errno */
static int list_fd(int fd, struct ps_cidr **out, size_t *n)
{
	static const struct ps_dump_spec spec = {
		PS_DUMP_ROW(struct lpm_row, k, v),
	};
	struct lpm_row *rows;
	struct ps_cidr *v;
	void *dump;
	int r = ps_map_dump(fd, &spec, &dump, n);

	if (r)
		return r;
	rows = dump;
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (!v) {
		free(rows);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		v[i].family = rows[i].k.family;
		v[i].prefixlen = (uint8_t)(rows[i].k.prefixlen - 8);
		memcpy(v[i].addr, rows[i].k.addr, addr_len(v[i].family));
	}
	free(rows);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_cidr);
	*out = v;
	return 0;
}

int ps_lpm_list(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map, struct ps_cidr **out, size_t *n)
{
	int fd = ps_map_open(ctx, att, map), r;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return PS_ERR;
	r = list_fd(fd, out, n);
	close(fd);
	if (r)
		return ps_err(ctx, "reading '%s' of %s on %s: %s", map,
			      att->plugin, att->ifname, strerror(-r));
	return PS_OK;
}

static int update(struct ps_ctx *ctx, const struct ps_attachment *att,
		  const char *map, int fd, const struct ps_cidr *c)
{
	struct ps_lpm_key k;
	uint8_t one = 1;
	char s[PS_CIDR_STRLEN];

	key_of(&k, c);
	if (!bpf_map_update_elem(fd, &k, &one, BPF_ANY))
		return PS_OK;
	return ps_err(ctx, "adding %s to '%s' of %s on %s: %s",
		      ps_fmt_cidr(c, s, sizeof(s)), map, att->plugin,
		      att->ifname, errno == ENOSPC ? "the list is full" :
						      strerror(errno));
}

int ps_lpm_add(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *map, const struct ps_cidr *c)
{
	int fd = ps_map_open(ctx, att, map), r;

	if (fd < 0)
		return PS_ERR;
	r = update(ctx, att, map, fd, c);
	close(fd);
	return r;
}

int ps_lpm_del(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *map, const struct ps_cidr *c)
{
	struct ps_lpm_key k;
	int fd = ps_map_open(ctx, att, map), r = PS_OK;
	char s[PS_CIDR_STRLEN];

	if (fd < 0)
		return PS_ERR;
	key_of(&k, c);
	if (bpf_map_delete_elem(fd, &k))
		r = errno == ENOENT ? -ENOENT :
		    ps_err(ctx, "deleting %s from '%s' of %s on %s: %s",
			   ps_fmt_cidr(c, s, sizeof(s)), map, att->plugin,
			   att->ifname, strerror(errno));
	close(fd);
	return r;
}

/*
 * The new prefixes go in before the old ones go: a packet never meets
 * a trie without a prefix that both the old and the new list hold.
 */
int ps_lpm_fill(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map, const struct ps_cidr *v, size_t n)
{
	struct ps_cidr *old = NULL, *want;
	size_t nold = 0;
	int fd = ps_map_open(ctx, att, map), r;

	if (fd < 0)
		return PS_ERR;
	want = calloc(n ? n : 1, sizeof(*want));
	r = want ? list_fd(fd, &old, &nold) : -ENOMEM;
	if (r) {
		free(want);
		close(fd);
		return ps_err(ctx, "reading '%s' of %s on %s: %s", map,
			      att->plugin, att->ifname, strerror(-r));
	}
	memcpy(want, v, n * sizeof(*v));
	if (n)
		qsort(want, n, sizeof(*want), cmp_cidr);
	for (size_t i = 0; !r && i < n; i++)
		r = update(ctx, att, map, fd, &want[i]);
	for (size_t i = 0; !r && i < nold; i++) {
		struct ps_lpm_key k;

		if (n && bsearch(&old[i], want, n, sizeof(*want), cmp_cidr))
			continue;
		key_of(&k, &old[i]);
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			r = ps_err(ctx, "clearing '%s' of %s on %s: %s", map,
				   att->plugin, att->ifname, strerror(errno));
	}
	free(want);
	free(old);
	close(fd);
	return r;
}
