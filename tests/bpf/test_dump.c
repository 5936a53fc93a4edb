// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ps_map_dump() and ps_top_rows() on maps the kernel made: the dump
 * returns exactly the entries a map holds (maps of several batches, per-CPU
 * values summed, the key-by-key walk of an LPM trie, an empty map), and
 * the top N are those a full sort puts first.  The oracle is what the test
 * wrote into the map, kept on the side.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <pktscope/plugin.h>

struct key {
	uint32_t id;
	uint8_t family;
	uint8_t pad[3];
};

struct val {
	uint64_t packets, bytes;
};

struct row {
	struct val v;		/* value first: the layout is the row's own */
	uint32_t mark;		/* not the map's: must come back zero */
	struct key k;
};

static const struct ps_dump_spec plain = { PS_DUMP_ROW(struct row, k, v) };

static int make_map(enum bpf_map_type type, uint32_t max)
{
	int fd = bpf_map_create(type, NULL, sizeof(struct key),
				sizeof(struct val), max, NULL);

	assert_true(fd >= 0);
	return fd;
}

/* entry i's value on cpu c (c == -1: the sum the dump must give) */
static struct val val_of(uint32_t i, int c, int ncpu)
{
	if (c >= 0)
		return (struct val){ i * 7 + (uint64_t)c, i + 1000 * (uint64_t)c };
	return (struct val){ (uint64_t)ncpu * i * 7 + (uint64_t)ncpu * (ncpu - 1) / 2,
			     (uint64_t)ncpu * i + 1000ULL * ncpu * (ncpu - 1) / 2 };
}

static void fill(int fd, uint32_t n, bool percpu)
{
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	struct val *v = calloc((size_t)ncpu, sizeof(*v));

	assert_non_null(v);
	for (uint32_t i = 0; i < n; i++) {
		struct key k = { .id = i * 2654435761U, .family = 2 };

		for (int c = 0; c < ncpu; c++)
			v[c] = percpu ? val_of(i, c, ncpu) : val_of(i, 0, 1);
		assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_NOEXIST), 0);
	}
	free(v);
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = ((const struct row *)a)->k.id, y = ((const struct row *)b)->k.id;

	return x < y ? -1 : x > y;
}

/*
 * The rows are the entries of the map, each once, summed: those fill()
 * wrote, less what an LRU map evicted to make room (looked up one by one).
 */
static void check_exact(int fd, struct row *rows, size_t got, uint32_t n,
			bool percpu, bool lru)
{
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	struct row *want = calloc(n ? n : 1, sizeof(*want));
	struct val *v = calloc((size_t)ncpu, sizeof(*v));
	size_t held = 0;

	assert_non_null(want);
	assert_non_null(v);
	for (uint32_t i = 0; i < n; i++) {
		struct key k = { .id = i * 2654435761U, .family = 2 };

		if (bpf_map_lookup_elem(fd, &k, v)) {
			assert_true(lru);
			continue;
		}
		want[held].k = k;
		want[held++].v = percpu ? val_of(i, -1, ncpu) : val_of(i, 0, 1);
	}
	assert_true(held > n / 2);
	assert_int_equal(got, held);
	qsort(want, held, sizeof(*want), by_id);
	qsort(rows, got, sizeof(*rows), by_id);
	for (size_t i = 0; i < held; i++) {
		assert_int_equal(rows[i].k.id, want[i].k.id);
		assert_int_equal(rows[i].k.family, 2);
		assert_int_equal(rows[i].mark, 0);
		assert_int_equal(rows[i].v.packets, want[i].v.packets);
		assert_int_equal(rows[i].v.bytes, want[i].v.bytes);
	}
	free(v);
	free(want);
}

static void dump_exact(enum bpf_map_type type, uint32_t n, bool percpu)
{
	int fd = make_map(type, n + 16);
	void *rows;
	size_t got;

	fill(fd, n, percpu);
	assert_int_equal(ps_map_dump(fd, &plain, &rows, &got), 0);
	check_exact(fd, rows, got, n, percpu,
		    type == BPF_MAP_TYPE_LRU_HASH ||
		    type == BPF_MAP_TYPE_LRU_PERCPU_HASH);
	free(rows);
	close(fd);
}

/* more than one batch (512), and a map of one entry */
static void test_hash(void **state)
{
	(void)state;
	dump_exact(BPF_MAP_TYPE_HASH, 1, false);
	dump_exact(BPF_MAP_TYPE_HASH, 3001, false);
	dump_exact(BPF_MAP_TYPE_LRU_HASH, 1500, false);
}

static void test_percpu_sums(void **state)
{
	(void)state;
	dump_exact(BPF_MAP_TYPE_PERCPU_HASH, 2049, true);
	dump_exact(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4096, true);
}

static void test_empty(void **state)
{
	int fd = make_map(BPF_MAP_TYPE_HASH, 64);
	void *rows;
	size_t got = 99;

	(void)state;
	assert_int_equal(ps_map_dump(fd, &plain, &rows, &got), 0);
	assert_non_null(rows);
	assert_int_equal(got, 0);
	free(rows);
	close(fd);
}

/* a per-CPU value summed the plugin's way: here the largest CPU's */
static void max_of(void *sum, const void *cpu_val, void *data)
{
	struct val *s = sum;
	const struct val *c = cpu_val;

	(*(int *)data)++;
	if (c->packets > s->packets)
		*s = *c;
}

static void test_add_callback(void **state)
{
	int ncpu = libbpf_num_possible_cpus(), calls = 0;
	int fd = make_map(BPF_MAP_TYPE_PERCPU_HASH, 1024);
	struct ps_dump_spec spec = { PS_DUMP_ROW(struct row, k, v),
				     .add = max_of, .data = &calls };
	struct row *rows;
	void *dump;
	size_t got;

	(void)state;
	fill(fd, 700, true);
	assert_int_equal(ps_map_dump(fd, &spec, &dump, &got), 0);
	rows = dump;
	assert_int_equal(got, 700);
	assert_int_equal(calls, 700 * ncpu);
	for (size_t i = 0; i < got; i++) {
		uint32_t idx = 0;

		while (idx * 2654435761U != rows[i].k.id)
			idx++;
		assert_int_equal(rows[i].v.packets, val_of(idx, ncpu - 1, ncpu).packets);
	}
	free(rows);
	close(fd);
}

/* LPM tries have no batch operation: the key-by-key walk */
static void test_lpm_walk(void **state)
{
	struct lpm_key {
		uint32_t prefixlen;
		uint8_t addr[4];
	};
	struct lpm_row {
		struct lpm_key k;
		uint8_t v;
	} *rows;
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	const struct ps_dump_spec spec = { PS_DUMP_ROW(struct lpm_row, k, v) };
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, NULL, sizeof(struct lpm_key),
				1, 2048, &o);
	bool seen[1000] = { 0 };
	void *dump;
	size_t got;

	(void)state;
	assert_true(fd >= 0);
	for (uint32_t i = 0; i < 1000; i++) {
		/* the first 16 bits tell the entries apart */
		struct lpm_key k = { 16 + i % 17, { (uint8_t)(i >> 8), (uint8_t)i, 0, 0 } };
		uint8_t one = (uint8_t)(i % 7);

		assert_int_equal(bpf_map_update_elem(fd, &k, &one, BPF_NOEXIST), 0);
	}
	assert_int_equal(ps_map_dump(fd, &spec, &dump, &got), 0);
	rows = dump;
	assert_int_equal(got, 1000);
	for (size_t i = 0; i < got; i++) {
		uint32_t id = (uint32_t)rows[i].k.addr[0] << 8 | rows[i].k.addr[1];

		assert_true(id < 1000);
		assert_false(seen[id]);
		seen[id] = true;
		assert_int_equal(rows[i].k.prefixlen, 16 + id % 17);
		assert_int_equal(rows[i].v, id % 7);
	}
	free(rows);
	close(fd);
}

static int by_packets(const void *a, const void *b, void *data)
{
	const struct row *x = a, *y = b;

	(void)data;
	if (x->v.packets != y->v.packets)
		return x->v.packets < y->v.packets ? 1 : -1;
	return x->k.id < y->k.id ? -1 : x->k.id > y->k.id;
}

static int by_packets_q(const void *a, const void *b)
{
	return by_packets(a, b, NULL);
}

/* the dump's top 100 of 3000 and a full sort's first 100: the same rows */
static void test_top(void **state)
{
	int fd = make_map(BPF_MAP_TYPE_PERCPU_HASH, 4096);
	struct ps_dump_spec spec = { PS_DUMP_ROW(struct row, k, v),
				     .cmp = by_packets, .top = 100 };
	struct row *all, *top;
	void *dump;
	size_t n, nt;

	(void)state;
	fill(fd, 3000, true);
	assert_int_equal(ps_map_dump(fd, &plain, &dump, &n), 0);
	all = dump;
	assert_int_equal(n, 3000);
	qsort(all, n, sizeof(*all), by_packets_q);
	assert_int_equal(ps_map_dump(fd, &spec, &dump, &nt), 0);
	top = dump;
	assert_int_equal(nt, 100);
	assert_memory_equal(top, all, 100 * sizeof(*all));
	free(top);
	/* more than the map holds: all of it, sorted */
	spec.top = 5000;
	assert_int_equal(ps_map_dump(fd, &spec, &dump, &nt), 0);
	assert_int_equal(nt, 3000);
	assert_memory_equal(dump, all, n * sizeof(*all));
	free(dump);
	free(all);
	close(fd);
}

/* ps_top_rows against qsort, random rows with many equal counts */
static void test_top_rows(void **state)
{
	size_t n = 5000;
	struct row *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	srand(7);
	for (size_t round = 0; round < 20; round++) {
		size_t top = round == 0 ? 1 : round == 1 ? n : (size_t)rand() % n;

		for (size_t i = 0; i < n; i++) {
			a[i].k.id = (uint32_t)i;
			a[i].v.packets = (uint64_t)(rand() % 50);
		}
		memcpy(b, a, n * sizeof(*a));
		qsort(b, n, sizeof(*b), by_packets_q);
		size_t got = ps_top_rows(a, n, sizeof(*a), by_packets, NULL, top);

		assert_int_equal(got, top ? top : n);
		assert_memory_equal(a, b, got * sizeof(*a));
	}
	assert_int_equal(ps_top_rows(a, 0, sizeof(*a), by_packets, NULL, 3), 0);
	free(a);
	free(b);
}

/* what is not a dumpable map, or does not fit the row, is refused */
static void test_refused(void **state)
{
	int arr = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 16, 4, NULL);
	int fd = make_map(BPF_MAP_TYPE_HASH, 16);
	struct ps_dump_spec small = { .row_size = sizeof(struct key) + 8,
				      .key_off = 0, .val_off = sizeof(struct key) };
	void *rows = (void *)1;
	size_t n = 1;

	(void)state;
	assert_true(arr >= 0);
	assert_int_equal(ps_map_dump(arr, &plain, &rows, &n), -EINVAL);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(ps_map_dump(fd, &small, &rows, &n), -EINVAL);
	close(arr);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_percpu_sums),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_add_callback),
		cmocka_unit_test(test_lpm_walk),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_top_rows),
		cmocka_unit_test(test_refused),
	};

	if (geteuid()) {
		printf("1..0 # SKIP needs root for bpf()\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
