// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The `plugin` object: list the loaded plugins, describe one. */
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "help.h"
#include "registry.h"

static int do_plugin_list(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "name", NULL, PS_LEFT },
		{ "version", NULL, PS_LEFT },
		{ "plugin_abi", "ABI", PS_RIGHT },
		{ "bpf", NULL, PS_LEFT },
		{ "file", NULL, PS_LEFT },
		{ "summary", NULL, PS_LEFT },
	};
	const struct ps_object *objs;
	struct ps_table *t;
	size_t n;

	(void)args;
	t = ps_table_new(ctx, "plugins", cols, ARRAY_SIZE(cols));
	objs = ps_objects(ctx, &n);
	for (size_t i = 0; i < n; i++) {
		const struct ps_object *o = &objs[i];

		if (!o->plugin)
			continue;
		ps_table_str(t, o->name);
		ps_table_str(t, o->plugin->version ? o->plugin->version : "");
		ps_table_u64(t, o->plugin->abi_version);
		ps_table_bool(t, o->plugin->bpf_elf != NULL);
		ps_table_str(t, o->file);
		ps_table_str(t, o->summary);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	return PS_OK;
}

static const char *map_type_name(enum bpf_map_type type)
{
	const char *s = libbpf_bpf_map_type_str(type);

	return s ? s : "unknown";
}

static bool map_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Bytes of key and value storage a map can hold: its fixed footprint. */
static uint64_t map_bytes(const struct bpf_map *m)
{
	enum bpf_map_type t = bpf_map__type(m);
	uint64_t n = bpf_map__max_entries(m);
	uint64_t v = bpf_map__value_size(m), k = bpf_map__key_size(m);
	int ncpu = libbpf_num_possible_cpus();

	if (t == BPF_MAP_TYPE_RINGBUF)
		return n;
	if (map_is_percpu(t) && ncpu > 0)
		v *= (uint64_t)ncpu;
	if (t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY)
		k = 0;
	return n * (k + v);
}

static int do_plugin_info(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col ccols[] = {
		{ "command", NULL, PS_LEFT },
		{ "synopsis", NULL, PS_LEFT },
		{ "summary", NULL, PS_LEFT },
	};
	static const struct ps_col pcols[] = {
		{ "name", NULL, PS_LEFT },
		{ "section", NULL, PS_LEFT },
		{ "hook", NULL, PS_LEFT },
	};
	static const struct ps_col mcols[] = {
		{ "name", NULL, PS_LEFT },
		{ "type", NULL, PS_LEFT },
		{ "key", NULL, PS_RIGHT },
		{ "value", NULL, PS_RIGHT },
		{ "max_entries", "ENTRIES", PS_RIGHT },
		{ "bytes", "SIZE", PS_RIGHT },
	};
	const char *name = ps_arg_str(args, "name", NULL);
	const struct ps_object *o = ps_find_object(ctx, name);
	const struct ps_plugin *p = o ? o->plugin : NULL;
	struct ps_table *t;

	if (!p)
		return ps_err(ctx, "no plugin named '%s'", name);
	ps_out_str(ctx, "name", "Name", p->name);
	ps_out_str(ctx, "version", "Version", p->version);
	ps_out_u64(ctx, "plugin_abi", "Plugin ABI", p->abi_version);
	ps_out_str(ctx, "file", "File", o->file);
	ps_out_str(ctx, "summary", "Summary", p->summary);
	ps_out_text(ctx, "\nCommands:\n");
	t = ctx->json ? ps_table_new(ctx, "commands", ccols, ARRAY_SIZE(ccols)) :
			NULL;
	ctx->w.indent += 2;
	ps_help_cmd_rows(ctx, t, o->name, ps_object_cmds(o));
	ctx->w.indent -= 2;
	if (t)
		ps_table_end(t);

	if (!p->bpf_elf) {
		ps_out_text(ctx, "\nNo BPF object.\n");
		return PS_OK;
	}
	ctx->plugin = p;
	struct bpf_object *obj = ps_bpf_open(ctx);
	if (!obj)
		return PS_ERR;	/* ps_bpf_open() said why */
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "programs", pcols, ARRAY_SIZE(pcols));
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		const char *pn = bpf_program__name(prog);
		const char *hook = "-";

		if (p->xdp_prog && !strcmp(pn, p->xdp_prog))
			hook = "xdp";
		else if (p->tc_prog && !strcmp(pn, p->tc_prog))
			hook = "tc/tcx";
		ps_table_str(t, pn);
		ps_table_str(t, bpf_program__section_name(prog));
		ps_table_str(t, hook);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	ps_out_text(ctx, "\n");
	t = ps_table_new(ctx, "maps", mcols, ARRAY_SIZE(mcols));
	struct bpf_map *m;
	uint64_t total = 0;
	bpf_object__for_each_map(m, obj) {
		/* .rodata/.bss are internal: not pinned, still memory */
		ps_table_str(t, bpf_map__name(m));
		ps_table_str(t, map_type_name(bpf_map__type(m)));
		ps_table_u64(t, bpf_map__key_size(m));
		ps_table_u64(t, bpf_map__value_size(m));
		ps_table_u64(t, bpf_map__max_entries(m));
		ps_table_u64_human(t, map_bytes(m), ps_fmt_size);
		ps_table_end_row(t);
		total += map_bytes(m);
	}
	ps_table_end(t);
	ps_out_text(ctx, "\n");
	ps_out_u64_human(ctx, "map_bytes", "Map memory (fixed)", total,
			 ps_fmt_size);
	ps_out_u64(ctx, "possible_cpus", "Possible CPUs",
		   (uint64_t)libbpf_num_possible_cpus());
	bpf_object__close(obj);
	return PS_OK;
}

static const struct ps_arg_spec plugin_info_args[] = {
	{ "name", PS_KIND_PLUGIN, PS_ARG_REQUIRED | PS_ARG_POSITIONAL, "NAME",
	  "plugin to describe" },
	{ 0 }
};

const struct ps_cmd ps_plugin_cmds[] = {
	{ "list", "name, version, ABI, file and summary of every plugin", NULL,
	  do_plugin_list },
	{ "info", "a plugin's commands, BPF programs and maps", plugin_info_args,
	  do_plugin_info },
	{ 0 }
};
