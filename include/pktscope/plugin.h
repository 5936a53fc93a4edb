/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pktscope plugin API.
 *
 * A plugin is a shared object that exports one symbol, `pktscope_plugin`, a
 * struct ps_plugin (use the PKTSCOPE_PLUGIN() macro).  The core checks its
 * abi_version and size before it calls any plugin function; a plugin built
 * against another ABI is refused with a message and the others still load.
 *
 * A command is a row in a table: its name, a one-line summary, a table of
 * arguments and a run() function.  The core parses the words the user typed
 * against the argument table (keywords match by unambiguous prefix, values are
 * checked by kind) and calls run() with the parsed values, so a plugin never
 * looks at argv.  The same table drives `help`, the interactive shell's Tab
 * completion and the bash/zsh completion scripts.
 *
 * Output goes through the writer below: a command writes each field once and
 * it comes out as aligned text, as one JSON document (-j, -p) or, for
 * streams, as JSON Lines.
 *
 * A plugin with a BPF object (bpf_elf != NULL) gets `attach`, `detach` and
 * `status` from the core.  The object is loaded once per interface and its
 * maps are pinned under <bpffs>/pktscope/<ifname>/<plugin>/<map>, so a later
 * process reads them with ps_map_open().
 *
 * Minimal plugin:
 *
 *	#include <pktscope/plugin.h>
 *
 *	static int do_greet(struct ps_ctx *ctx, const struct ps_args *args)
 *	{
 *		ps_out_str(ctx, "greeting", "Greeting",
 *			   ps_arg_str(args, "name", "world"));
 *		return PS_OK;
 *	}
 *
 *	static const struct ps_arg_spec greet_args[] = {
 *		{ "name", PS_KIND_WORD, 0, "WHO", "whom to greet" },
 *		{ 0 }
 *	};
 *
 *	static const struct ps_cmd cmds[] = {
 *		{ "greet", "say hello", greet_args, do_greet },
 *		{ 0 }
 *	};
 *
 *	PKTSCOPE_PLUGIN(.name = "hello", .version = "1.0",
 *			.summary = "greets", .cmds = cmds);
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags --libs pktscope) -o hello.so
 */
#ifndef PKTSCOPE_PLUGIN_H
#define PKTSCOPE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any change to the structures below. */
#define PKTSCOPE_ABI_VERSION 2
#define PKTSCOPE_PLUGIN_SYMBOL "pktscope_plugin"
/* the JSON vocabulary of the core's commands (man pktscope) */
#define PS_JSON_SCHEMA 2

/* What run() returns; also the process exit status in one-shot mode. */
enum {
	PS_OK = 0,
	PS_ERR = 1,	/* runtime failure, already reported with ps_err() */
	PS_USAGE = 2,	/* bad arguments, already reported */
};

struct ps_ctx;		/* the invocation: options, output, current plugin */
struct ps_args;		/* parsed arguments of one command */
struct bpf_object;

/* ------------------------------------------------------------------ */
/* Arguments                                                          */

enum ps_kind {
	PS_KIND_FLAG,		/* keyword alone: `replace` */
	PS_KIND_WORD,		/* any word */
	PS_KIND_CHOICE,		/* one of spec->choices, by unambiguous prefix */
	PS_KIND_IFACE,		/* interface name (syntax only; may not exist) */
	PS_KIND_PROTO,		/* tcp udp icmp icmpv6 sctp gre or 0-255 -> u */
	PS_KIND_CIDR,		/* 10.0.0.0/8, 2001:db8::/32, bare address -> cidr */
	PS_KIND_PORT,		/* 80 or 1000-2000 -> port.lo/port.hi */
	PS_KIND_RATE,		/* 10mbit 1.5gbit 500kbps 100bit -> u (bit/s) */
	PS_KIND_SIZE,		/* 64 64k 1m 1.5g (powers of 1024) -> u (bytes) */
	PS_KIND_DURATION,	/* 500ms 10s 5m 1h 250us; bare number = s -> u (ns) */
	PS_KIND_COUNT,		/* unsigned integer -> u */
	PS_KIND_FILE,		/* path (completes file names) */
	PS_KIND_PLUGIN,		/* name of a loaded plugin */
	PS_KIND_OBJECT,		/* object name: built-in or plugin */
	PS_KIND__MAX,
};

/* ps_arg_spec.flags */
#define PS_ARG_REQUIRED		(1U << 0)
#define PS_ARG_REPEAT		(1U << 1)	/* may be given more than once */
#define PS_ARG_POSITIONAL	(1U << 2)	/* no keyword: value alone, in order */
#define PS_ARG_ALL		(1U << 3)	/* IFACE: also accepts `all` */
#define PS_ARG_OFF		(1U << 4)	/* COUNT, RATE: also `off` -> 0 */

struct ps_arg_spec {
	const char *keyword;	/* `dev`; for positionals, the name in help */
	enum ps_kind kind;
	unsigned int flags;
	const char *metavar;	/* `IF` in `dev IF`; NULL: from the kind */
	const char *help;
	const char *const *choices; /* PS_KIND_CHOICE: NULL-terminated */
	uint64_t min, max;	/* COUNT/SIZE/RATE/DURATION bounds; 0,0: none */
};

struct ps_cidr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t addr[16];	/* network byte order; host bits cleared */
};

/* whether addr (network order, of family AF_INET or AF_INET6) is in c */
bool ps_cidr_contains(const struct ps_cidr *c, int family, const void *addr);

struct ps_value {
	enum ps_kind kind;
	const char *str;	/* the word as typed (the keyword for FLAG) */
	union {
		uint64_t u;
		struct ps_cidr cidr;
		struct {
			uint16_t lo, hi;
		} port;
	};
};

bool ps_arg_has(const struct ps_args *args, const char *keyword);
size_t ps_arg_count(const struct ps_args *args, const char *keyword);
/* i-th value of keyword (0-based), NULL when absent */
const struct ps_value *ps_arg_nth(const struct ps_args *args,
				  const char *keyword, size_t i);
const struct ps_value *ps_arg_get(const struct ps_args *args,
				  const char *keyword);
const char *ps_arg_str(const struct ps_args *args, const char *keyword,
		       const char *def);
uint64_t ps_arg_u64(const struct ps_args *args, const char *keyword,
		    uint64_t def);

/*
 * Parse one value of a kind outside a command line (config files, tests).
 * Returns 0, or -1 with a one-sentence reason in err.
 */
int ps_parse_value(const struct ps_arg_spec *spec, const char *word,
		   struct ps_value *out, char *err, size_t errlen);

/* The IP protocols pktscope names: "tcp", ... for 6, ...; NULL for others. */
const char *ps_proto_name(unsigned int proto);

/* Human formatting of the same units: 10mbit, 1.5KiB, 250ms. */
const char *ps_fmt_rate(uint64_t bits_per_sec, char *buf, size_t len);
const char *ps_fmt_size(uint64_t bytes, char *buf, size_t len);
const char *ps_fmt_duration(uint64_t ns, char *buf, size_t len);
const char *ps_fmt_count(double v, char *buf, size_t len); /* 1.23k 3.40M */
/*
 * A wall-clock time (ns since the epoch) as JSON writes every timestamp:
 * RFC 3339 in UTC with Z, frac_digits (0, 3, 6 or 9) of the second.
 */
const char *ps_fmt_time(uint64_t epoch_ns, int frac_digits, char *buf,
			size_t len);
/* A prefix as PS_KIND_CIDR reads it: 10.0.0.0/8, 2001:db8::/32. */
#define PS_CIDR_STRLEN 48
const char *ps_fmt_cidr(const struct ps_cidr *c, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Commands and the plugin descriptor                                 */

/* ps_cmd.flags */
#define PS_CMD_BPF	(1U << 0)	/* needs CAP_BPF and CAP_NET_ADMIN */
#define PS_CMD_STREAM	(1U << 1)	/* prints JSON Lines under -j */

struct ps_cmd {
	const char *name;
	const char *summary;
	const struct ps_arg_spec *args;	/* NULL or ended by { 0 } */
	int (*run)(struct ps_ctx *ctx, const struct ps_args *args);
	const struct ps_cmd *sub;	/* sub-commands (`rule add`), { 0 }-ended */
	unsigned int flags;
};

enum ps_mode {
	PS_MODE_AUTO = 0,	/* tcx where the kernel has it, else tc */
	PS_MODE_TCX,
	PS_MODE_TC,
	PS_MODE_XDP,		/* native if the driver can, else generic */
	PS_MODE_XDP_NATIVE,
	PS_MODE_XDP_GENERIC,
};

#define PS_IFNAMSIZ 16

/* Where a plugin's program runs on a hook, relative to the others'. */
enum ps_stage {
	PS_STAGE_OBSERVE = 0,	/* counts and logs what arrived: runs first */
	PS_STAGE_ENFORCE,	/* drops, redirects, polices: after observers */
};

/* What an attachment found in bpffs is doing now. */
enum ps_att_state {
	PS_ATT_ATTACHED = 0,	/* its program runs on ifname's hook */
	PS_ATT_RENAMED,		/* it runs, on an interface renamed since */
	PS_ATT_GONE,		/* the interface went (or was re-created):
				 * nothing runs; the next attach cleans it */
	PS_ATT_INCOMPLETE,	/* pins this pktscope cannot read */
};

#define PS_PIN_DIR_MAX 384	/* longest pin folder; longer --bpffs refused */

struct ps_attachment {
	char plugin[64];
	char ifname[PS_IFNAMSIZ];
	int ifindex;		/* 0: the interface is gone */
	enum ps_mode mode;	/* never AUTO */
	uint32_t prog_id;
	uint64_t since;		/* attach time, seconds since the epoch */
	char pin_dir[PS_PIN_DIR_MAX];	/* <bpffs>/pktscope/<ifname>/<plugin> */
	enum ps_att_state state;
	enum ps_stage stage;
	unsigned int position;	/* 1-based place in its hook's run order, 0: - */
	uint32_t owner_pid;	/* a temporary attach's process, 0: plain */
	bool orphaned;		/* temporary, and its process died */
};

struct ps_plugin {
	uint32_t abi_version;	/* PKTSCOPE_ABI_VERSION */
	uint32_t size;		/* sizeof(struct ps_plugin) */
	const char *name;	/* [a-z0-9-], unique */
	const char *version;
	const char *summary;

	/* BPF object: a bpftool skeleton's <obj>__elf_bytes, or NULL */
	const void *(*bpf_elf)(size_t *size);
	const char *xdp_prog;	/* program names inside that object */
	const char *tc_prog;

	const struct ps_cmd *cmds;	/* plugin's own verbs, { 0 }-ended */

	/* extra keywords for the core's `attach` (filters and the like) */
	const struct ps_arg_spec *attach_args;
	/* after load and pinning, before the program is linked to the hook:
	 * fill config maps from args; data is ps_attach_opts.data (NULL from
	 * the core's `attach`).  Non-zero aborts the attach cleanly. */
	int (*configure)(struct ps_ctx *ctx, const struct ps_attachment *att,
			 const struct ps_args *args, void *data);

	int (*init)(struct ps_ctx *ctx);	/* optional; non-zero: refused */
	void (*fini)(struct ps_ctx *ctx);	/* optional */
	/* optional: one attachment's counters, each through ps_metric(), for
	 * `pktscope metrics` and the Prometheus exporter */
	int (*metrics)(struct ps_ctx *ctx, const struct ps_attachment *att);

	enum ps_stage stage;	/* (ABI 2) */
	/*
	 * optional (ABI 2): remove what configure() set up beyond the
	 * program and its maps (an IFB device, qdiscs).  Called on detach, on
	 * `detach dev all`, when a fresh attach fails after configure(), and
	 * for an attachment whose process was killed (a half-made attach, an
	 * orphaned temporary one) by the next attach or detach on that
	 * interface; must succeed when some or all of it is already gone.
	 * Not called on `replace`: the new attachment's configure() takes
	 * over what the old one set up.
	 */
	int (*teardown)(struct ps_ctx *ctx, const struct ps_attachment *att);
};

#define PKTSCOPE_PLUGIN(...)						\
	__attribute__((visibility("default")))				\
	const struct ps_plugin pktscope_plugin = {			\
		.abi_version = PKTSCOPE_ABI_VERSION,			\
		.size = sizeof(struct ps_plugin),			\
		__VA_ARGS__						\
	}

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/* `Error: ...` on stderr (a JSON error object under -j); returns PS_ERR. */
int ps_err(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, for misuse of the command line; returns PS_USAGE. */
int ps_usage_err(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* `Warning: ...` on stderr unless -q. */
void ps_warn(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Diagnostics shown under -d only: on stderr, each line as "debug: ...". */
void ps_debug(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

bool ps_json(const struct ps_ctx *ctx);		/* -j or -p */
bool ps_verbose(const struct ps_ctx *ctx);	/* -d */
const char *ps_bpffs(const struct ps_ctx *ctx);	/* --bpffs, default /sys/fs/bpf */
const struct ps_plugin *ps_current_plugin(const struct ps_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Output: each field written once, text or JSON                      */

/*
 * A command's output is one JSON object under -j.  Fields are key/value
 * pairs; `label` is what text mode shows (NULL: the key).  Sections nest.
 */
void ps_out_section(struct ps_ctx *ctx, const char *key, const char *title);
void ps_out_section_end(struct ps_ctx *ctx);
void ps_out_list(struct ps_ctx *ctx, const char *key, const char *title);
void ps_out_list_end(struct ps_ctx *ctx);
/* one object inside a list; title (text) may be NULL */
void ps_out_item(struct ps_ctx *ctx, const char *title);
void ps_out_item_end(struct ps_ctx *ctx);

void ps_out_str(struct ps_ctx *ctx, const char *key, const char *label,
		const char *value);
void ps_out_u64(struct ps_ctx *ctx, const char *key, const char *label,
		uint64_t value);
void ps_out_s64(struct ps_ctx *ctx, const char *key, const char *label,
		int64_t value);
void ps_out_f64(struct ps_ctx *ctx, const char *key, const char *label,
		double value);
void ps_out_bool(struct ps_ctx *ctx, const char *key, const char *label,
		 bool value);
/* a number already formatted ("1795000000.123456"); checked, else 0 */
void ps_out_number(struct ps_ctx *ctx, const char *key, const char *label,
		   const char *digits);
/* JSON gets the raw number, text the human form (fmt like ps_fmt_size) */
void ps_out_u64_human(struct ps_ctx *ctx, const char *key, const char *label,
		      uint64_t value,
		      const char *(*fmt)(uint64_t, char *, size_t));
/* a list of strings: text joins them with ", " */
void ps_out_strv(struct ps_ctx *ctx, const char *key, const char *label,
		 const char *const *values, size_t n);
/* text mode only (bars, blank lines, notes) */
void ps_out_text(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Columns of the terminal text goes to, 0 when it is not a terminal (then
 * write full width: a pipe or file is read by scripts).  Tables fit it by
 * themselves; streams of rows use it to leave out trailing columns.
 */
int ps_out_columns(struct ps_ctx *ctx);
/* horizontal bar of width cols*value/max in text mode, nothing in JSON */
void ps_out_bar(struct ps_ctx *ctx, const char *label, uint64_t value,
		uint64_t max, const char *suffix);

/* Tables: aligned columns in text, a list of objects in JSON. */
enum ps_align { PS_LEFT, PS_RIGHT };
struct ps_col {
	const char *key;	/* JSON key */
	const char *header;	/* text header (NULL: upper-cased key) */
	enum ps_align align;
};
struct ps_table;
struct ps_table *ps_table_new(struct ps_ctx *ctx, const char *key,
			      const struct ps_col *cols, size_t ncols);
void ps_table_str(struct ps_table *t, const char *value);
void ps_table_u64(struct ps_table *t, uint64_t value);
void ps_table_f64(struct ps_table *t, double value, int decimals);
void ps_table_bool(struct ps_table *t, bool value);	/* yes/no, true/false */
/* JSON raw number, text through fmt */
void ps_table_u64_human(struct ps_table *t, uint64_t value,
			const char *(*fmt)(uint64_t, char *, size_t));
void ps_table_end_row(struct ps_table *t);
void ps_table_end(struct ps_table *t);	/* flushes text, frees */

/*
 * Streams (watch): records, one line each.  Under -j each record is one
 * JSON object on one line (JSON Lines) and nothing else is printed around
 * it.  In text, fields are printed as `label value` on one line unless the
 * plugin gives a text line with ps_record_text().
 */
void ps_record_begin(struct ps_ctx *ctx);
void ps_record_text(struct ps_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* the same with a line the plugin built (len bytes, no newline): no printf */
void ps_record_line(struct ps_ctx *ctx, const char *line, size_t len);
void ps_record_end(struct ps_ctx *ctx);
/*
 * Send the writer's records to f (a log file) in JSON or text, until
 * called again with f NULL, which restores standard output and the -j
 * setting.  Errors and warnings still go to the terminal.
 */
void ps_out_to(struct ps_ctx *ctx, FILE *f, bool json);

/* ------------------------------------------------------------------ */
/* Metrics (inside a plugin's metrics callback)                        */

enum ps_metric_type {
	PS_METRIC_COUNTER,	/* only grows; name ends in _total */
	PS_METRIC_GAUGE,
};

struct ps_label {
	const char *name;
	const char *value;
};

/*
 * One sample of one attachment.  name has no pktscope_ prefix, is in base
 * units (bytes, seconds) and says them (`packets_total`, `rx_bytes_total`,
 * `queue_seconds`); labels are the plugin's own (`proto`, `detector`,
 * `rule`): the core adds ifname, plugin and mode.  Per-source series only
 * as a capped top-N (ps_metric_top_n()).  The core leaves out, with a
 * warning from `pktscope metrics`, a sample that breaks these rules: a
 * counter not ending in _total, a gauge ending in it, a label it sets
 * itself, more than 9 labels, over 10000 samples an attachment.  Samples
 * of one name should have one type and help; the first one seen wins.
 * Outside a metrics callback this does nothing.
 */
void ps_metric(struct ps_ctx *ctx, const char *name, enum ps_metric_type type,
	       const char *help, double value, const struct ps_label *labels,
	       size_t nlabels);
/* How many per-source series a metrics callback may give (default 20). */
size_t ps_metric_top_n(const struct ps_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Stopping: Ctrl-C, SIGTERM, count and duration                      */

/* true once the user asked the running command to stop */
bool ps_should_stop(void);
/* sleep up to ns, waking early on a stop request; false if stopped */
bool ps_sleep(uint64_t ns);

/*
 * Rates from counters read at intervals (watch commands).  Read the
 * counters, ps_poll_start(); then for each ps_poll_next() that returns
 * true, read them again: p->secs is how long the wait really took on the
 * monotonic clock, wall_ns when it ended (for printing), round 1, 2, ...
 * false once stopped (Ctrl-C, wait() false) or after count rounds.
 * ps_rate(): (now - then) / secs, a counter that went back (a reset, an
 * evicted key) counting from zero.
 */
struct ps_poll {
	uint64_t interval_ns;
	uint64_t count;			/* rounds, 0: until stopped */
	bool (*wait)(uint64_t ns, void *data);	/* NULL: ps_sleep() */
	void *data;
	uint64_t round;			/* set by ps_poll_start/next */
	uint64_t mono_ns, wall_ns;
	double secs;
};
void ps_poll_start(struct ps_poll *p);
bool ps_poll_next(struct ps_poll *p);
double ps_rate(uint64_t now, uint64_t then, double secs);

/*
 * Signals a long-running command may take over, as tcpdump and syslog
 * daemons do.  By default SIGHUP stops the command (the terminal is gone)
 * and SIGUSR1 is ignored.  A command that calls ps_signals_accept() with
 * PS_SIG_REOPEN gets SIGHUP as a request to reopen its output file (after
 * logrotate renamed it), and with PS_SIG_COUNTERS gets SIGUSR1 as a
 * request to print its running counters to stderr.  ps_signals_take()
 * returns the requests that arrived since the last call and clears them;
 * a signal also ends a ps_ringbuf_run() wait, so its tick sees it at once.
 * What a command accepted is reset when the next command starts.
 */
#define PS_SIG_REOPEN	(1U << 0)
#define PS_SIG_COUNTERS	(1U << 1)
void ps_signals_accept(unsigned int which);
unsigned int ps_signals_take(void);

/* ------------------------------------------------------------------ */
/* BPF services                                                       */

/*
 * Open (not load) the plugin's embedded object; libbpf logs under -d.
 * Its coarse clock is set (ps_bpf_set_clock()).
 */
struct bpf_object *ps_bpf_open(struct ps_ctx *ctx);

/*
 * Set, before load, what ps_hook_coarse() reads (<pktscope/bpf/hook.h>)
 * in an object opened otherwise than by ps_bpf_open() (a skeleton): 0, or
 * -errno when the clock could not be measured (the object then reads the
 * coarse clock through a helper call).  An object without the hook's
 * clock is left alone.
 */
int ps_bpf_set_clock(struct bpf_object *obj);

/* CLOCK_MONOTONIC_COARSE in ns: the clock of ps_hook_coarse(). */
uint64_t ps_coarse_ns(void);

/* The length of one step of that clock, ns (a tick: 4 ms at HZ=250). */
uint64_t ps_coarse_tick_ns(void);

/* Delete every entry of a hash, LRU or LPM map; 0 or -errno. */
int ps_map_clear(int map_fd, size_t key_size);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
uint64_t ps_mono_ns(void);

/* Sum a per-CPU array/hash value made of n u64 counters. */
int ps_percpu_sum(int map_fd, const void *key, uint64_t *sum, size_t n);

/*
 * One entry of an attachment's pinned array (key 4 bytes): read into val
 * (size bytes; a per-CPU array's value is summed over the CPUs as u64
 * counters), or written (plain arrays).  ps_map_zero(): every entry of an
 * array or per-CPU array back to zero, every entry of a hash, LRU or LPM
 * map deleted.  The pin's shape is checked; PS_OK or PS_ERR (reported).
 */
int ps_map_read_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		    const char *map, uint32_t key, void *val, size_t size);
int ps_map_write_one(struct ps_ctx *ctx, const struct ps_attachment *att,
		     const char *map, uint32_t key, const void *val,
		     size_t size);
int ps_map_zero(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map);

/*
 * Every entry of a hash, LRU, LPM or (LRU) per-CPU hash map as rows of the
 * plugin's own struct: the key copied to key_off, the value to val_off (a
 * per-CPU value summed over the CPUs: as u64 counters, or by add(),
 * called once per CPU on a zeroed value), the rest of the row zero.
 * With cmp (< 0: row a ranks before row b), the rows come sorted by it,
 * and with top as well only the top best are kept, selected as they come
 * (memory and time grow with top, not with the map).  Read in batches
 * (bpf_map_lookup_batch), key by key where the kernel has none for the
 * map.  *rows (free() it) is never NULL on success; 0 or -errno (EINVAL:
 * not such a map, or its key or value does not fit the row).
 */
struct ps_dump_spec {
	size_t row_size;
	size_t key_off, val_off;
	void (*add)(void *sum, const void *cpu_val, void *data);
	int (*cmp)(const void *a, const void *b, void *data);
	size_t top;		/* with cmp: rows kept, 0: all */
	void *data;		/* handed to add and cmp */
};
/* .row_size, .key_off, .val_off of a row struct with a key and a value */
#define PS_DUMP_ROW(type, key_member, val_member)			\
	.row_size = sizeof(type), .key_off = offsetof(type, key_member),	\
	.val_off = offsetof(type, val_member)
int ps_map_dump(int map_fd, const struct ps_dump_spec *spec, void **rows,
		size_t *n);
/*
 * A list of prefixes of both families in an attachment's LPM trie, whose
 * key is struct ps_lpm_key (<pktscope/bpf/keys.h>) and value a u8 (1).
 * ps_lpm_fill(): the trie holds exactly the n prefixes (the new ones go
 * in before the others go out); ps_lpm_add(), ps_lpm_del(): one prefix;
 * ps_lpm_list(): every prefix, by family, address and length (free()
 * *out).  PS_OK or PS_ERR (reported); ps_lpm_del() returns -ENOENT,
 * unreported, for a prefix that is not there.
 */
int ps_lpm_fill(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map, const struct ps_cidr *v, size_t n);
int ps_lpm_add(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *map, const struct ps_cidr *c);
int ps_lpm_del(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *map, const struct ps_cidr *c);
int ps_lpm_list(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map, struct ps_cidr **out, size_t *n);

/*
 * The top best of n rows (cmp as above; top 0 or >= n: all) moved to the
 * front in order, by partial selection; returns how many.  For rows a
 * plugin merged from several sources after ps_map_dump().
 */
size_t ps_top_rows(void *rows, size_t n, size_t row_size,
		   int (*cmp)(const void *a, const void *b, void *data),
		   void *data, size_t top);

/*
 * Poll a ring buffer, calling cb for each record, until Ctrl-C/SIGTERM,
 * count records, duration ns, cb returning non-zero or tick returning
 * non-zero; 0 in count or duration: no limit.  A round waits for the
 * producer's wake-up or timeout_ms, then drains the whole ring.  So a
 * producer may submit with BPF_RB_NO_WAKEUP, but then it must force a
 * wake-up now and then (src-log: as the ring crosses a fill level), or
 * the ring must hold timeout_ms worth of records.  Records left after
 * `count` stay in the ring.  Output is flushed once per round, not per
 * record, to a terminal too.  Returns PS_OK or PS_ERR (reported).
 */
struct ps_ring_opts {
	uint64_t count;
	uint64_t duration_ns;
	int timeout_ms;		/* poll timeout, 0: 100 ms */
	/* called after each poll round, e.g. to wake a kernel-side batch */
	int (*tick)(void *data);
};
int ps_ringbuf_run(struct ps_ctx *ctx, int map_fd,
		   int (*cb)(void *data, void *rec, size_t len), void *data,
		   const struct ps_ring_opts *opts);

/* ------------------------------------------------------------------ */
/* Attach layer (the current plugin on one interface)                  */

const char *ps_mode_name(enum ps_mode mode);
/*
 * The modes a user may name, as PS_KIND_CHOICE choices, for plugin verbs
 * that attach on their own (a watch): choice i is enum ps_mode i + 1.
 */
extern const char *const ps_mode_choices[];
#define PS_MODE_FROM_CHOICE(i) ((enum ps_mode)((i) + 1))

#define PS_ATTACH_REPLACE	(1U << 0)	/* swap the plugin's attachment */
#define PS_ATTACH_TEMPORARY	(1U << 1)	/* lasts while this process runs */
/* ps_attach_hold(): join another live process's temporary attach */
#define PS_ATTACH_SHARED	(1U << 2)

struct ps_attach_opts {
	enum ps_mode mode;		/* PS_MODE_AUTO: tcx, else tc */
	unsigned int flags;		/* PS_ATTACH_* */
	const struct ps_args *args;	/* handed to configure() */
	void *data;			/* handed to configure() */
};

/*
 * Load the object, pin maps, configure, link the program in stage order
 * and publish the pins in one step.  All or nothing: on failure what was
 * there before (a replaced attachment) is untouched.  opts NULL: defaults.
 */
int ps_attach(struct ps_ctx *ctx, const char *ifname,
	      const struct ps_attach_opts *opts, struct ps_attachment *out);
/*
 * For a command that needs the plugin on ifname for as long as it runs
 * (watch, record): the plugin's attachment there (*temporary false), or a
 * temporary attach owned by this process (*temporary true), taking over
 * one whose process died.  Refused while a live process owns one there.
 * Pair with ps_attach_release(), which removes only a temporary attach
 * that this process still owns.  With PS_ATTACH_SHARED in opts->flags a
 * live process's temporary attach is joined instead (*temporary true: it
 * is removed by whoever owns it last, see ps_attach_hand_over()), and a
 * dead one's complete attach is taken over as it is; either only in its
 * own mode (opts->mode PS_MODE_AUTO or the same).
 */
int ps_attach_hold(struct ps_ctx *ctx, const char *ifname,
		   const struct ps_attach_opts *opts, struct ps_attachment *out,
		   bool *temporary);
void ps_attach_release(struct ps_ctx *ctx, const struct ps_attachment *att,
		       bool temporary);
/*
 * A temporary attach owned by this process, or by a dead one, becomes
 * pid's: its ps_attach_release() removes it, this one's no longer does.
 * For processes sharing one (PS_ATTACH_SHARED): the last to leave removes
 * it.  0, -ENOENT (gone, or not temporary), -EPERM (a live other owner).
 */
int ps_attach_hand_over(struct ps_ctx *ctx, const struct ps_attachment *att,
			uint32_t pid);
/*
 * A process's start time (clock ticks since boot), 0: no such process.
 * With its pid it names the process: a pid is reused, the pair is not.
 */
uint64_t ps_process_start(uint32_t pid);
/*
 * A process as one word, for a slot that processes claim with one
 * compare-and-swap: the pid and (the low 32 bits of) its start time, so
 * that a dead owner is told from a live process that reused its pid.
 * ps_owner_alive(0) is false: 0 is a free slot.
 */
#define PS_OWNER_PID(owner)	((uint32_t)((owner) >> 32))
uint64_t ps_owner_self(void);
bool ps_owner_alive(uint64_t owner);
/*
 * A live owner's command line, its words joined by spaces ("" when it is
 * gone), and how long it has run (0 when gone).
 */
void ps_owner_cmdline(uint64_t owner, char *buf, size_t len);
uint64_t ps_owner_age_ns(uint64_t owner);
/* "12, 34": the pids of n owners */
void ps_owner_pids_str(const uint64_t *owners, int n, char *buf, size_t len);
/*
 * Slots that processes claim, as an attachment's readers each with a ring
 * of its own: n slots stride bytes apart, each beginning with its uint64_t
 * owner word, in memory the BPF side shares (an mmap()ed map).
 * ps_slot_claim() takes the first slot that is free or whose owner died,
 * by compare-and-swap: its index, or -1 when live processes hold all n.
 * ps_slot_free() gives slot i back if this process still holds it (true).
 * ps_slot_owners() puts the live owners in owners (and their slots in idx,
 * if not NULL): their number.
 */
int ps_slot_claim(void *slots, size_t stride, int n);
bool ps_slot_free(void *slots, size_t stride, int i);
int ps_slot_owners(const void *slots, size_t stride, int n,
		   uint64_t *owners, int *idx);
/*
 * For a second object a plugin loads beside its attachment's program (a
 * continuation it tail-calls): make the object's XDP chain (hook.h) the
 * interface's and its slot the attachment's, so that a PS_PASS there goes
 * on to the next plugin as from the attached program.  Before load; 0 when
 * the attachment is in no chain.  0 or PS_ERR (reported).
 */
int ps_chain_join(struct ps_ctx *ctx, const struct ps_attachment *att,
		  struct bpf_object *obj);
/*
 * A network device the attachment owns (type: rtnetlink's kind, "ifb"):
 * made if missing and set up.  The core records it in the attachment's
 * pins before it makes it, and deletes it after teardown() wherever that
 * runs (detach, `detach dev all`, a failed attach, the attachment of a
 * killed process), so a plugin needs no code of its own to remove it.  A
 * device of that name that the attachment does not own is refused, never
 * taken.  For configure() and the plugin's later commands.  Returns the
 * ifindex, or -PS_ERR (reported).
 */
int ps_dev_own(struct ps_ctx *ctx, const struct ps_attachment *att,
	       const char *name, const char *type);
/*
 * Delete such a device now and drop it from the record (a plugin starting
 * afresh); a device the attachment does not own is left alone.  0 or
 * PS_ERR (reported).
 */
int ps_dev_release(struct ps_ctx *ctx, const struct ps_attachment *att,
		   const char *name, const char *type);
/*
 * A route netlink socket of libnl-route-3, connected, for a plugin's own
 * qdiscs and classes; NULL when none (reported unless ctx is NULL).  Free
 * it with nl_socket_free().
 */
struct nl_sock;
struct nl_sock *ps_nl_route(struct ps_ctx *ctx);
/*
 * This host's address changes (its network namespace), for a plugin that
 * keeps a copy of its addresses in the kernel and runs for a while (a
 * watch): a route netlink socket on the IPv4 and IPv6 address events.
 * ps_addrs_changed() reads it without waiting: 1 when an address came or
 * went since the last call (or events were lost: read the list anew), 0
 * when none, -1 on an error.  NULL when none can be opened (reported
 * unless ctx is NULL).
 */
struct ps_addr_follow;
struct ps_addr_follow *ps_addrs_follow(struct ps_ctx *ctx);
int ps_addrs_changed(struct ps_addr_follow *f);
void ps_addrs_follow_free(struct ps_addr_follow *f);
/* Remove link and pins; works when the interface is gone. */
int ps_detach(struct ps_ctx *ctx, const char *ifname);
/* 0 and *out filled, -ENOENT when not attached (not reported). */
int ps_attachment_get(struct ps_ctx *ctx, const char *ifname,
		      struct ps_attachment *out);
/*
 * Each attachment of plugin (NULL: every plugin), sorted by interface
 * then plugin; stops when cb returns non-zero and returns that.
 */
int ps_attachment_foreach(struct ps_ctx *ctx, const char *plugin,
			  int (*cb)(struct ps_ctx *ctx,
				    const struct ps_attachment *att,
				    void *data),
			  void *data);
/*
 * The current plugin's attachments a read-only verb works on: the one on
 * dev, or every one when dev is NULL.  Reports "not attached" and returns
 * PS_ERR when there is none; free *out with free().
 */
int ps_attachments_select(struct ps_ctx *ctx, const char *dev,
			  struct ps_attachment **out, size_t *n);
/*
 * The per-attachment loop of such a verb: cb for each attachment
 * ps_attachments_select() gives, inside the JSON list key (PS_EACH_SPACED:
 * a blank text line between two); stops at the first cb that does not
 * return PS_OK and returns that.
 */
#define PS_EACH_SPACED (1U << 0)
int ps_attachments_each(struct ps_ctx *ctx, const char *dev, const char *key,
			unsigned int flags,
			int (*cb)(struct ps_ctx *ctx,
				  const struct ps_attachment *att, void *data),
			void *data);
/*
 * fd of a pinned map of an attachment, or -1 (reported).  The map's type,
 * key and value size are checked against the plugin's BPF object: a pin of
 * another shape (another version, another tool) is refused, named.
 */
int ps_map_open(struct ps_ctx *ctx, const struct ps_attachment *att,
		const char *map_name);

/* Check for CAP_BPF and CAP_NET_ADMIN; reports and returns PS_ERR. */
int ps_need_root(struct ps_ctx *ctx, const char *what);

#ifdef __cplusplus
}
#endif

#endif /* PKTSCOPE_PLUGIN_H */
