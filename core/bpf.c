// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* BPF services for plugins: embedded objects, per-CPU sums, ring buffers. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "internal.h"

static struct ps_ctx *log_ctx;

/* libbpf talks only under -d: its warnings are not ours to show */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char *msg;
	int n;

	/* -d shows libbpf's log whole, its debug level too (as bpftool -d) */
	(void)level;
	if (!log_ctx || !log_ctx->debug)
		return 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	ps_debug_text(log_ctx, msg);
	free(msg);
	return n;
}

void ps_libbpf_log_setup(struct ps_ctx *ctx)
{
	log_ctx = ctx;
	libbpf_set_print(libbpf_print);
}

struct bpf_object *ps_bpf_open(struct ps_ctx *ctx)
{
	const struct ps_plugin *p = ctx->plugin;
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	const void *bytes;
	size_t size = 0;
	int r;

	if (!p || !p->bpf_elf) {
		ps_err(ctx, "plugin has no BPF object");
		return NULL;
	}
	bytes = p->bpf_elf(&size);
	if (!bytes || !size) {
		ps_err(ctx, "plugin '%s' has an empty BPF object", p->name);
		return NULL;
	}
	opts.object_name = p->name;
	ps_libbpf_log_setup(ctx);
	obj = bpf_object__open_mem(bytes, size, &opts);
	if (!obj) {
		char msg[128];

		/* libbpf's own codes (4000 and up) are not errno values */
		libbpf_strerror(errno, msg, sizeof(msg));
		ps_err(ctx, "cannot open the BPF object of '%s': %s", p->name,
		       msg);
		return NULL;
	}
	/* not fatal: the object reads the same clock through a helper */
	r = ps_bpf_set_clock(obj);
	if (r)
		ps_debug(ctx, "clock: cannot measure jiffies against CLOCK_MONOTONIC_COARSE (%s); %s reads it through a helper call",
			 strerror(-r), p->name);
	return obj;
}

int ps_percpu_sum(int map_fd, const void *key, uint64_t *sum, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu * n, sizeof(uint64_t));
	if (!vals)
		return -ENOMEM;
	memset(sum, 0, n * sizeof(*sum));
	if (bpf_map_lookup_elem(map_fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	for (int c = 0; c < ncpu; c++)
		for (size_t i = 0; i < n; i++)
			sum[i] += vals[(size_t)c * n + i];
	free(vals);
	return 0;
}

int ps_ensure_bpffs(struct ps_ctx *ctx)
{
	struct statfs st;

	if (!statfs(ctx->bpffs, &st) && st.f_type == BPF_FS_MAGIC)
		return PS_OK;
	if (strcmp(ctx->bpffs, "/sys/fs/bpf"))
		return ps_err(ctx, "%s is not a bpffs mount", ctx->bpffs);
	/* the default location: mount it, as bpftool does */
	if (mkdir(ctx->bpffs, 0700) && errno != EEXIST)
		return ps_err(ctx, "cannot create %s: %s", ctx->bpffs,
			      strerror(errno));
	if (mount("bpf", ctx->bpffs, "bpf", 0, "mode=0700"))
		return ps_err(ctx, "bpffs is not mounted at %s and mounting it failed: %s",
			      ctx->bpffs, strerror(errno));
	ps_debug(ctx, "pins: mounted a bpffs at %s", ctx->bpffs);
	return PS_OK;
}

/* ---- ring buffer loop ---- */

struct ring_state {
	int (*cb)(void *data, void *rec, size_t len);
	void *data;
	uint64_t seen, count;
	int stop;
};

/*
 * libbpf stops consuming only on a negative return, and the record that
 * returned it is consumed: returning RING_DONE after the count-th record
 * leaves the rest in the ring for the next reader.
 */
#define RING_DONE (-ECANCELED)

static int ring_cb(void *ctx, void *rec, size_t len)
{
	struct ring_state *s = ctx;
	int r;

	r = s->cb(s->data, rec, len);
	s->seen++;
	if (r) {
		s->stop = r;
		return RING_DONE;
	}
	if (s->count && s->seen >= s->count)
		return RING_DONE;
	return 0;
}

uint64_t ps_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ps_map_clear(int map_fd, size_t key_size)
{
	unsigned char key[256];

	if (key_size > sizeof(key))
		return -E2BIG;
	/* restart from the first key each time: deleting breaks iteration */
	while (!bpf_map_get_next_key(map_fd, NULL, key))
		if (bpf_map_delete_elem(map_fd, key) && errno != ENOENT)
			return -errno;
	return 0;
}

static ssize_t fd_write(void *cookie, const char *buf, size_t len)
{
	int fd = (int)(intptr_t)cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * stdio line-buffers a terminal: a write() per record, which cost a
 * watch on a terminal a third of the events of a flood.  While the ring
 * runs, records to a terminal go through a fully buffered stream on the
 * same descriptor instead, flushed once a round like any other output.
 */
static FILE *tty_batch_begin(struct ps_writer *w)
{
	cookie_io_functions_t io = { .write = fd_write };
	int fd = fileno(w->f);
	FILE *tty, *saved = w->f;

	if (fd < 0 || !isatty(fd))
		return NULL;
	tty = fopencookie((void *)(intptr_t)fd, "w", io);
	if (!tty)
		return NULL;
	setvbuf(tty, NULL, _IOFBF, 64 * 1024);
	fflush(saved);
	w->f = tty;
	return saved;
}

static void tty_batch_end(struct ps_writer *w, FILE *saved)
{
	if (!saved)
		return;
	fclose(w->f);
	w->f = saved;
}

int ps_ringbuf_run(struct ps_ctx *ctx, int map_fd,
		   int (*cb)(void *data, void *rec, size_t len), void *data,
		   const struct ps_ring_opts *opts)
{
	struct ring_state s = { .cb = cb, .data = data };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct ring_buffer *rb;
	uint64_t deadline = 0;
	int timeout = 100, r = PS_OK, efd;

	if (opts) {
		s.count = opts->count;
		if (opts->duration_ns)
			deadline = ps_mono_ns() + opts->duration_ns;
		if (opts->timeout_ms > 0)
			timeout = opts->timeout_ms;
	}
	rb = ring_buffer__new(map_fd, ring_cb, &s, NULL);
	if (!rb)
		return ps_err(ctx, "cannot open the ring buffer: %s",
			      strerror(errno));
	/*
	 * Our own wait, edge-triggered: libbpf's is level-triggered, so under
	 * a flood it returns for every handful of records and a round (wait,
	 * flush, tick) per handful cost 5 times the CPU a record.  Edge-
	 * triggered, the reader sleeps until the producer wakes it (src-log:
	 * at a fill mark) or the timeout, then drains thousands at a time.
	 */
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, map_fd, &ev)) {
		r = ps_err(ctx, "cannot wait on the ring buffer: %s",
			   strerror(errno));
		if (efd >= 0)
			close(efd);
		ring_buffer__free(rb);
		return r;
	}
	/* a write per record would limit the reader: flush per round */
	ctx->w.batching = true;
	FILE *tty_saved = tty_batch_begin(&ctx->w);

	while (!ps_should_stop()) {
		int t = timeout;

		if (deadline) {
			uint64_t now = ps_mono_ns();

			if (now >= deadline)
				break;
			if ((deadline - now) / 1000000ULL < (uint64_t)t)
				t = (int)((deadline - now) / 1000000ULL) + 1;
		}
		int n = epoll_wait(efd, &ev, 1, t) < 0 ? -errno : 0;

		/*
		 * Producers may submit without waking us (BPF_RB_NO_WAKEUP):
		 * after each wait, drain whatever is there.
		 */
		if (n >= 0)
			n = ring_buffer__consume(rb);
		ps_out_flush(ctx);
		if (n == RING_DONE)
			break;
		if (n < 0 && n != -EINTR) {
			r = ps_err(ctx, "polling the ring buffer: %s", strerror(-n));
			break;
		}
		if (opts && opts->tick && opts->tick(data))
			break;
	}
	/* stopped by time or signal: what is already in the ring is ours */
	if (!r && !s.stop && !(s.count && s.seen >= s.count))
		ring_buffer__consume(rb);
	ctx->w.batching = false;
	fflush(ctx->w.f);
	tty_batch_end(&ctx->w, tty_saved);
	close(efd);
	ring_buffer__free(rb);
	return r;
}
