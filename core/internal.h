/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared declarations of libpktscope; not installed. */
#ifndef PKTSCOPE_INTERNAL_H
#define PKTSCOPE_INTERNAL_H

#include <stdio.h>
#include <pktscope/plugin.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PS_MAX_ARGS 64
#define PS_MAX_DEPTH 16

/* An object on the command line: a built-in or a plugin. */
struct ps_object {
	const char *name;
	const char *summary;
	const struct ps_cmd *cmds;	/* verbs; NULL when the object is one */
	const struct ps_cmd *self;	/* object that is itself a command */
	const struct ps_plugin *plugin;	/* NULL for built-ins */
	char *file;			/* plugin: the file it came from */
	void *handle;			/* plugin: dlopen handle */
	int fd;				/* plugin: the descriptor it was loaded from */
	struct ps_cmd *merged;		/* plugin: core verbs + its own (owned) */
	struct ps_arg_spec *attach_spec; /* plugin: merged attach args (owned) */
	bool hidden;			/* not listed, not completed */
};

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
	struct ps_object *objects;
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
/* keyword table lookup by unambiguous prefix: index, -1 none, -2 ambiguous */
int ps_match_word(const char *word, const char *const *names, size_t n);
const char *ps_suggest(const char *word, const char *const *names, size_t n);
void ps_list_names(const char *word, const char *const *names, size_t n,
		   char *buf, size_t len);

/* output.c */
void ps_out_init(struct ps_ctx *ctx, FILE *f);
void ps_out_doc_end(struct ps_ctx *ctx);	/* after each command */
void ps_out_error_json(struct ps_ctx *ctx, const char *msg);
void ps_out_batch_begin(struct ps_ctx *ctx);
void ps_out_batch_end(struct ps_ctx *ctx);

/* loader.c */
int ps_load_plugins(struct ps_ctx *ctx);
void ps_unload_plugins(struct ps_ctx *ctx);
const char *ps_plugin_dirs(struct ps_ctx *ctx, char *buf, size_t len);
struct ps_object *ps_find_object(struct ps_ctx *ctx, const char *name);
bool ps_running_from_build_tree(char *dir, size_t len);

/* cmd.c */
int ps_dispatch(struct ps_ctx *ctx, int argc, char **argv);
int ps_tokenize(const char *line, int *argc, char ***argv, char *err,
		size_t errlen);
void ps_free_tokens(int argc, char **argv);
const struct ps_object *ps_builtin_objects(size_t *n);
int ps_resolve_cmd(struct ps_ctx *ctx, const struct ps_object *obj,
		   int *argc, char ***argv, const struct ps_cmd **cmd,
		   char *path, size_t pathlen, bool quiet);
const struct ps_cmd *ps_object_cmds(const struct ps_object *obj);

/* builtins.c */
extern const struct ps_cmd ps_plugin_cmds[];
extern const struct ps_cmd ps_version_cmd, ps_feature_cmd, ps_status_cmd,
	ps_help_cmd, ps_completion_cmd, ps_batch_cmd, ps_complete_cmd,
	ps_man_cmd;
extern const struct ps_cmd ps_core_bpf_cmds[];	/* attach, detach, status */
extern const struct ps_arg_spec ps_attach_core_args[];
int ps_print_help(struct ps_ctx *ctx, const char *object, const char *cmd);

/* metrics.c, serve.c */
extern const struct ps_cmd ps_metrics_cmd, ps_serve_cmd;

/* complete.c */
int ps_complete(struct ps_ctx *ctx, int nwords, char **words, const char *cur,
		void (*emit)(void *data, const char *cand), void *data);
extern const char ps_bash_completion[], ps_zsh_completion[];

/* signal.c */
void ps_signals_install(void);
void ps_stop_reset(void);
void ps_stop_request(void);

/* bpf.c */
void ps_libbpf_log_setup(struct ps_ctx *ctx);
int ps_object_map_bytes(struct bpf_object *obj, uint64_t *total);
int ps_ensure_bpffs(struct ps_ctx *ctx);

/* feature.c */
int ps_feature_run(struct ps_ctx *ctx);

/* attach.c */
int ps_do_attach(struct ps_ctx *ctx, const struct ps_args *args);
int ps_do_detach(struct ps_ctx *ctx, const struct ps_args *args);
int ps_do_status(struct ps_ctx *ctx, const struct ps_args *args);

/* util */
void ps_err_set(struct ps_ctx *ctx, const char *msg);
int ps_str_copy(char *dst, size_t len, const char *src);	/* -1: too long */

/* library entry points used by the binary */
struct ps_ctx *ps_ctx_new(const char *progname);
void ps_ctx_free(struct ps_ctx *ctx);
int ps_main_options(struct ps_ctx *ctx, int *argc, char ***argv);
int ps_run_argv(struct ps_ctx *ctx, int argc, char **argv);
int ps_run_line(struct ps_ctx *ctx, const char *line);
int ps_run_batch(struct ps_ctx *ctx, const char *file);

#endif
