/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared declarations of libpktscope; not installed. */
#ifndef PKTSCOPE_INTERNAL_H
#define PKTSCOPE_INTERNAL_H

#include <stdio.h>
#include <sys/types.h>
#include <pktscope/plugin.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PS_MAX_ARGS 64
#define PS_MAX_DEPTH 16
#define PS_MAX_LINE 65536	/* bytes in a batch or REPL line */

struct ps_object;

struct ps_writer {
	FILE *f;
	int depth;			/* JSON nesting */
	bool first[PS_MAX_DEPTH];	/* no comma needed yet at this depth */
	bool doc_open;			/* top-level '{' written */
	bool stream;			/* a command printed JSON Lines records */
	bool in_record;
	bool compact;			/* current JSON is one line (records) */
	int indent;			/* text indentation */
	unsigned char tstack[32];	/* text: did this level indent? */
	int tdepth;
	char *line;			/* text record being built */
	size_t line_len, line_cap;
	bool batch_array;		/* -j batch: documents inside [ ] */
	bool batch_first;
	FILE *saved_f;			/* ps_out_to(): the terminal */
	bool saved_json;
	bool redirected;
	bool batching;			/* records flushed by the caller */
};

struct ps_ctx {
	bool json, pretty, debug, quiet;
	const char *bpffs;
	const char *progname;
	struct ps_writer w;
	const struct ps_plugin *plugin;	/* running command's plugin */
	const struct ps_object *object;	/* running command's object */
	struct ps_object *objects;	/* registry.c's alone (registry.h) */
	size_t nobjects;
	char *plugin_path;		/* --plugin-path (colon-separated) */
	bool interactive;		/* REPL */
	bool plugins_loaded;
	int refused;			/* plugins refused while loading */
	/* where ps_metric() samples go while a metrics callback runs */
	void (*metric_sink)(struct ps_ctx *ctx, void *data, const char *name,
			    enum ps_metric_type type, const char *help,
			    double value, const struct ps_label *labels,
			    size_t nlabels);
	void *metric_data;
	size_t metric_top;		/* per-source series cap; 0: default */
	char last_error[512];
	const char *err_where;		/* "FILE:LINE" before each error, in a batch */
};

/* args.c */
struct ps_args {
	size_t n;
	struct {
		const struct ps_arg_spec *spec;
		struct ps_value v;
	} a[PS_MAX_ARGS];
};
int ps_args_parse(struct ps_ctx *ctx, const char *where,
		  const struct ps_arg_spec *specs, int argc, char **argv,
		  struct ps_args *out);
int ps_parse_value_ctx(struct ps_ctx *ctx, const struct ps_arg_spec *spec,
		       const char *word, struct ps_value *out, char *err,
		       size_t errlen);
const char *ps_kind_metavar(const struct ps_arg_spec *spec, char *buf,
			    size_t len);
const char *ps_kind_name(enum ps_kind kind);
void ps_synopsis(const struct ps_arg_spec *specs, char *buf, size_t len);
extern const char *const ps_proto_names[];	/* NULL-ended */

/* match.c: keyword table lookup by unambiguous prefix: index, -1 none,
 * -2 ambiguous */
int ps_match_word(const char *word, const char *const *names, size_t n);
const char *ps_suggest(const char *word, const char *const *names, size_t n);
void ps_list_names(const char *word, const char *const *names, size_t n,
		   char *buf, size_t len);

/* output.c */
void ps_out_init(struct ps_ctx *ctx, FILE *f);
/* fflush; a closed pipe (EPIPE) asks the command to stop */
void ps_out_flush(struct ps_ctx *ctx);
void ps_out_doc_end(struct ps_ctx *ctx);	/* after each command */
void ps_out_error_json(struct ps_ctx *ctx, const char *msg);
void ps_out_batch_begin(struct ps_ctx *ctx);
void ps_out_batch_end(struct ps_ctx *ctx);

/* signal.c */
void ps_signals_install(void);
void ps_stop_reset(void);
void ps_stop_request(void);

/* bpf.c */
void ps_libbpf_log_setup(struct ps_ctx *ctx);
int ps_ensure_bpffs(struct ps_ctx *ctx);

/* attach.c */
int ps_do_attach(struct ps_ctx *ctx, const struct ps_args *args);
int ps_do_detach(struct ps_ctx *ctx, const struct ps_args *args);
int ps_do_status(struct ps_ctx *ctx, const struct ps_args *args);
/* probe.c: the attach-time probe */
/* 0 when prog_fd passes a harmless frame on (or cannot be run), else PS_ERR */
int ps_hook_probe(struct ps_ctx *ctx, struct bpf_object *obj, int prog_fd,
		  bool xdp);

/* xdp_chain.c: several plugins on one interface's XDP hook */
struct bpf_map;
struct ps_chain {
	bool chained;		/* the object joins the interface's chain */
	bool new_chain;		/* and is its first program */
	int slot;
	int lock_fd, chain_fd, slots_fd;
	struct bpf_map *map;	/* the object's ps_xdp_chain */
	char dir[512];		/* <bpffs>/pktscope/<ifname> */
};
/*
 * Before load, in xdp modes: lock the interface's chain, check that it
 * runs in mode, pick the slot, point the object at the pinned chain.  0 with ch->chained false for an
 * object PS_HOOK() did not make (it attaches alone, as before).
 */
int ps_chain_prepare(struct ps_ctx *ctx, struct bpf_object *obj,
		     const char *ifname, int ifindex, enum ps_mode mode,
		     struct ps_chain *ch);
/* After load: into the chain, linking the hook or moving its link. */
int ps_chain_link(struct ps_ctx *ctx, struct ps_chain *ch, int prog_fd,
		  int ifindex, const char *ifname, enum ps_mode *mode);
void ps_chain_close(struct ps_chain *ch);	/* unlocks */
/* Out of the chain, the program pinned in plugin_dir; nothing if not in. */
void ps_chain_unlink(struct ps_ctx *ctx, const char *plugin_dir,
		     const char *ifname);
/* 1-based place of prog_id in the XDP chain pinned in ifdir, whose link
 * still hooks ifindex; 0 when it is not in a live chain */
unsigned int ps_chain_position(const char *ifdir, uint32_t prog_id,
			       int ifindex);
int pins_bpffs_check(struct ps_ctx *ctx);	/* pins.c */

/* util */
void ps_err_set(struct ps_ctx *ctx, const char *msg);
/* under -d: each line of text on stderr as "debug: LINE" */
void ps_debug_text(struct ps_ctx *ctx, const char *text);
int ps_str_copy(char *dst, size_t len, const char *src);	/* -1: too long */

#endif
