// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Dumps of hash, LRU, per-CPU hash and LPM maps into rows a plugin lays out,
 * per-CPU values summed, and the top N rows by a plugin's order.
 *
 * The map is read with bpf_map_lookup_batch(): one system call brings
 * hundreds of entries, where get_next_key() and a lookup cost two per
 * entry (a 4096-entry table on 2 CPUs: ~8200 calls).  A batch walk also
 * goes bucket by bucket, so an LRU eviction under it does not send it
 * back to the first key as get_next_key() does.  Where the kernel has no
 * batch operation for the map (EINVAL, ENOTSUPP: LPM tries, older
 * kernels) the walk is get_next_key().  The top N are kept in a heap as the rows come, so a
 * large table is never sorted whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define DUMP_BATCH	512	/* entries a lookup_batch call asks for */
#define ENOTSUPP_KERNEL	524	/* the kernel's ENOTSUPP, not in errno.h */

/* ---- the top N: a heap with the worst kept row at the root ---- */

struct ranker {
	char *rows;
	size_t row_size;
	int (*cmp)(const void *a, const void *b, void *data);
	void *data;
};

static void *row_at(const struct ranker *r, size_t i)
{
	return r->rows + i * r->row_size;
}

static void row_swap(const struct ranker *r, size_t i, size_t j, void *tmp)
{
	memcpy(tmp, row_at(r, i), r->row_size);
	memcpy(row_at(r, i), row_at(r, j), r->row_size);
	memcpy(row_at(r, j), tmp, r->row_size);
}

/* a ranks after b: a is the worse one */
static bool worse(const struct ranker *r, size_t a, size_t b)
{
	return r->cmp(row_at(r, a), row_at(r, b), r->data) > 0;
}

static void sift_down(const struct ranker *r, size_t i, size_t n, void *tmp)
{
	for (;;) {
		size_t l = 2 * i + 1, w = i;

		if (l < n && worse(r, l, w))
			w = l;
		if (l + 1 < n && worse(r, l + 1, w))
			w = l + 1;
		if (w == i)
			return;
		row_swap(r, i, w, tmp);
		i = w;
	}
}

static void heapify(const struct ranker *r, size_t n, void *tmp)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(r, i, n, tmp);
}

/*
 * row (outside the heap) against the heap of n == top rows: it replaces
 * the worst when it ranks before it.
 */
static void heap_offer(const struct ranker *r, size_t n, const void *row,
		       void *tmp)
{
	if (r->cmp(row, row_at(r, 0), r->data) >= 0)
		return;
	memcpy(row_at(r, 0), row, r->row_size);
	sift_down(r, 0, n, tmp);
}

static int cmp_rows(const void *a, const void *b, void *data)
{
	const struct ranker *r = data;

	return r->cmp(a, b, r->data);
}

size_t ps_top_rows(void *rows, size_t n, size_t row_size,
		   int (*cmp)(const void *a, const void *b, void *data),
		   void *data, size_t top)
{
	struct ranker r = { rows, row_size, cmp, data };
	void *tmp;

	if (!n || !row_size)
		return 0;
	if (top && top < n) {
		tmp = malloc(row_size);
		if (!tmp) {
			/* no room for one row: a full sort needs none */
			qsort_r(rows, n, row_size, cmp_rows, &r);
			return top;
		}
		heapify(&r, top, tmp);
		for (size_t i = top; i < n; i++)
			heap_offer(&r, top, row_at(&r, i), tmp);
		free(tmp);
		n = top;
	}
	qsort_r(rows, n, row_size, cmp_rows, &r);
	return n;
}

/* ---- the dump ---- */

struct dump {
	const struct ps_dump_spec *spec;
	struct bpf_map_info info;
	bool percpu;
	int ncpu;
	size_t vstride;		/* bytes of one CPU's value in a lookup */
	struct ranker r;	/* rows kept so far */
	size_t n, cap;
	void *tmp;		/* one row, for the heap's swaps */
	void *row;		/* the row being made */
};

static bool is_percpu_hash(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool dumpable(uint32_t type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_LPM_TRIE || is_percpu_hash(type);
}

/* the summed value: u64 counters unless the plugin adds its own way */
static void sum_cpus(const struct dump *d, void *dst, const char *vals)
{
	const struct ps_dump_spec *s = d->spec;

	memset(dst, 0, d->info.value_size);
	for (int c = 0; c < d->ncpu; c++) {
		const char *v = vals + (size_t)c * d->vstride;

		if (s->add) {
			s->add(dst, v, s->data);
			continue;
		}
		for (size_t i = 0; i < d->info.value_size / 8; i++) {
			uint64_t a, b;

			memcpy(&a, (char *)dst + 8 * i, 8);
			memcpy(&b, v + 8 * i, 8);
			a += b;
			memcpy((char *)dst + 8 * i, &a, 8);
		}
	}
}

static int grow(struct dump *d)
{
	size_t cap = d->cap ? d->cap * 2 : 256;
	void *p;

	/* ranked, the rows never outnumber the top */
	if (d->spec->cmp && d->spec->top && cap > d->spec->top)
		cap = d->spec->top;
	p = realloc(d->r.rows, cap * d->r.row_size);
	if (!p)
		return -ENOMEM;
	d->r.rows = p;
	d->cap = cap;
	return 0;
}

/* one entry: made into a row, kept or dropped */
static int take(struct dump *d, const void *key, const void *val)
{
	const struct ps_dump_spec *s = d->spec;
	bool ranked = s->cmp && s->top;
	char *row;

	if (ranked && d->n == s->top) {
		row = d->row;	/* offered to the full heap */
	} else {
		if (d->n == d->cap && grow(d))
			return -ENOMEM;
		row = row_at(&d->r, d->n);
	}
	memset(row, 0, s->row_size);
	memcpy(row + s->key_off, key, d->info.key_size);
	if (d->percpu)
		sum_cpus(d, row + s->val_off, val);
	else
		memcpy(row + s->val_off, val, d->info.value_size);
	if (row == d->row) {
		heap_offer(&d->r, d->n, row, d->tmp);
	} else if (++d->n == s->top && ranked) {
		heapify(&d->r, d->n, d->tmp);
	}
	return 0;
}

static bool no_batch(int err)
{
	return err == EINVAL || err == ENOTSUPP_KERNEL || err == EOPNOTSUPP ||
	       err == ENOSYS;
}

/*
 * Batches until the map is done (ENOENT).  ENOSPC: a bucket holds more
 * entries than asked for, asked again with room for them.  1 when the
 * kernel refuses batches for this map (nothing taken yet), 0 or -errno.
 */
static int walk_batch(struct dump *d, int fd)
{
	size_t count = DUMP_BATCH;
	size_t vsz = d->percpu ? (size_t)d->ncpu * d->vstride :
				 d->info.value_size;
	char *keys = NULL, *vals = NULL;
	uint64_t cursor[4], *in = NULL;	/* a bucket index for hashes */
	int r = 0;

	for (;;) {
		__u32 cnt = (__u32)count;
		int err;

		if (!keys) {
			keys = malloc(count * d->info.key_size);
			vals = malloc(count * vsz);
			if (!keys || !vals) {
				r = -ENOMEM;
				break;
			}
		}
		err = bpf_map_lookup_batch(fd, in, cursor, keys, vals, &cnt,
					   NULL) ? errno : 0;
		if (err == ENOSPC && count < 65536) {
			free(keys);
			free(vals);
			keys = vals = NULL;
			count *= 4;
			continue;
		}
		if (err && err != ENOENT) {
			r = !in && !cnt && no_batch(err) ? 1 : -err;
			break;
		}
		for (__u32 i = 0; i < cnt && !r; i++)
			r = take(d, keys + (size_t)i * d->info.key_size,
				 vals + (size_t)i * vsz);
		if (err || r)
			break;
		in = cursor;
	}
	free(keys);
	free(vals);
	return r;
}

/* key by key, for a map the kernel has no batch operation for */
static int walk_keys(struct dump *d, int fd)
{
	size_t vsz = d->percpu ? (size_t)d->ncpu * d->vstride :
				 d->info.value_size;
	char *key = malloc(d->info.key_size), *next = malloc(d->info.key_size);
	char *val = malloc(vsz);
	void *prev = NULL;
	int r = 0;

	if (!key || !next || !val)
		r = -ENOMEM;
	while (!r && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, d->info.key_size);
		prev = key;
		/* an LRU entry can go between next_key and lookup */
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		r = take(d, key, val);
	}
	free(key);
	free(next);
	free(val);
	return r;
}

static int dump_check(struct dump *d, int fd)
{
	const struct ps_dump_spec *s = d->spec;
	__u32 len = sizeof(d->info);

	memset(&d->info, 0, sizeof(d->info));
	if (bpf_obj_get_info_by_fd(fd, &d->info, &len))
		return -errno;
	if (!dumpable(d->info.type) || !d->info.key_size)
		return -EINVAL;
	d->percpu = is_percpu_hash(d->info.type);
	if (s->key_off + d->info.key_size > s->row_size ||
	    s->val_off + d->info.value_size > s->row_size)
		return -EINVAL;
	if (d->percpu && !s->add && d->info.value_size % 8)
		return -EINVAL;
	d->ncpu = d->percpu ? libbpf_num_possible_cpus() : 1;
	if (d->ncpu <= 0)
		return -EINVAL;
	d->vstride = (d->info.value_size + 7) / 8 * 8;
	return 0;
}

int ps_map_dump(int map_fd, const struct ps_dump_spec *spec, void **rows,
		size_t *n)
{
	struct dump d = { .spec = spec };
	int r;

	*rows = NULL;
	*n = 0;
	r = dump_check(&d, map_fd);
	if (r)
		return r;
	d.r = (struct ranker){ NULL, spec->row_size, spec->cmp, spec->data };
	d.tmp = malloc(spec->row_size);
	d.row = malloc(spec->row_size);
	if (!d.tmp || !d.row) {
		r = -ENOMEM;
		goto out;
	}
	r = walk_batch(&d, map_fd);
	if (r == 1)
		r = walk_keys(&d, map_fd);
	if (!r && spec->cmp && d.n)
		qsort_r(d.r.rows, d.n, spec->row_size, cmp_rows, &d.r);
	/* an empty map: a row array all the same, so that NULL means failure */
	if (!r && !d.r.rows && !(d.r.rows = calloc(1, spec->row_size)))
		r = -ENOMEM;
out:
	free(d.tmp);
	free(d.row);
	if (r) {
		free(d.r.rows);
		return r;
	}
	*rows = d.r.rows;
	*n = d.n;
	return 0;
}
