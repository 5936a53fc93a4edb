// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * src-log's tcpdump expressions: the attachment's and each reader's.  The
 * attached program tail-calls expr_xdp or expr_tc [SLOG_EXPR_SLOT] (the
 * attachment's) or [SLOG_REXPR_SLOT + i] (reader slot i's); the expression
 * tail-calls this object's slog_cont_* or slog_reject_* (the attachment's),
 * slog_rcont_* or slog_rreject_* (a reader's), loaded here beside it with
 * the attachment's pinned maps.  The prog array is pinned with the other maps, so the
 * expression outlives the process that set it and goes with the
 * attachment; a new expression replaces the old in one slot update.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <pktscope/cbpf.h>
#include <pktscope/bpf/hook.h>
#include "slog_expr.h"

#define TCX_INGRESS 46	/* BPF_TCX_INGRESS, newer than Debian 12's uapi */

static bool hook_is_xdp(enum ps_mode m)
{
	return m == PS_MODE_XDP || m == PS_MODE_XDP_NATIVE ||
	       m == PS_MODE_XDP_GENERIC;
}

static enum bpf_attach_type expected_type(enum ps_mode m)
{
	if (hook_is_xdp(m))
		return BPF_XDP;
	return m == PS_MODE_TCX ? (enum bpf_attach_type)TCX_INGRESS : 0;
}

/* the continuations: their programs' names without the hook, their slots */
static const struct {
	const char *prefix;
	__u32 slot;
} conts[] = {
	{ "slog_cont_", SLOG_CONT_SLOT },
	{ "slog_reject_", SLOG_REJECT_SLOT },
	{ "slog_rcont_", SLOG_RCONT_SLOT },
	{ "slog_rreject_", SLOG_RREJECT_SLOT },
};

/* the slot of a continuation of this hook's, or -1 */
static int cont_slot(const char *name, bool xdp)
{
	for (size_t i = 0; i < sizeof(conts) / sizeof(conts[0]); i++) {
		size_t n = strlen(conts[i].prefix);

		if (!strncmp(name, conts[i].prefix, n) &&
		    !strcmp(name + n, xdp ? "xdp" : "tc"))
			return (int)conts[i].slot;
	}
	return -1;
}

/* the continuations into their slots, sharing att's maps */
static int load_continuations(struct ps_ctx *ctx,
			      const struct ps_attachment *att, int slots)
{
	bool xdp = hook_is_xdp(att->mode);
	struct bpf_object *obj = ps_bpf_open(ctx);
	struct bpf_program *prog;
	struct bpf_map *map;
	int r = PS_ERR;

	if (!obj)
		return PS_ERR;
	/* the interface's XDP chain, not a pin of src-log's */
	if (ps_chain_join(ctx, att, obj))
		goto out;
	bpf_object__for_each_map(map, obj) {
		int fd;

		if (bpf_map__is_internal(map) ||
		    !strcmp(bpf_map__name(map), PS_XDP_CHAIN_MAP))
			continue;
		fd = ps_map_open(ctx, att, bpf_map__name(map));
		if (fd < 0)
			goto out;
		if (bpf_map__reuse_fd(map, fd)) {
			r = ps_err(ctx, "reusing map %s: %s", bpf_map__name(map),
				   strerror(errno));
			close(fd);
			goto out;
		}
		close(fd);
	}
	bpf_object__for_each_program(prog, obj) {
		bool me = cont_slot(bpf_program__name(prog), xdp) >= 0;

		bpf_program__set_autoload(prog, me);
		if (me)
			bpf_program__set_expected_attach_type(prog,
				expected_type(att->mode));
	}
	if (bpf_object__load(obj)) {
		r = ps_err(ctx, "loading src-log's expression continuations: %s",
			   strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		int slot = cont_slot(name, xdp);
		__u32 key = (__u32)slot, fd = (__u32)bpf_program__fd(prog);

		if (slot < 0)
			continue;
		if (bpf_map_update_elem(slots, &key, &fd, BPF_ANY)) {
			r = ps_err(ctx, "setting %s in the expression's prog array: %s", name,
				   strerror(errno));
			goto out;
		}
	}
	r = PS_OK;
out:
	bpf_object__close(obj);
	return r;
}

int slog_expr_apply(struct ps_ctx *ctx, const struct ps_attachment *att,
		    const char *expr, __u32 key, char *text, __u32 *flags)
{
	bool xdp = hook_is_xdp(att->mode);
	bool reader = key != SLOG_EXPR_SLOT;
	struct bpf_insn *insns = NULL;
	int slots, fd = -1, r = PS_ERR;
	size_t n = 0;
	char err[512];

	if (expr && strlen(expr) >= SLOG_EXPR_MAX)
		return ps_usage_err(ctx, "expr: at most %d characters",
				    SLOG_EXPR_MAX - 1);
	slots = ps_map_open(ctx, att, xdp ? PS_MAP_NAME(SLOG_MAP_EXPR_XDP) :
					    PS_MAP_NAME(SLOG_MAP_EXPR_TC));
	if (slots < 0)
		return PS_ERR;
	if (!expr) {
		if (bpf_map_delete_elem(slots, &key) && errno != ENOENT) {
			r = ps_err(ctx, "clearing the expression: %s",
				   strerror(errno));
			goto out;
		}
		memset(text, 0, SLOG_EXPR_MAX);
		*flags &= ~SLOG_F_EXPR;
		r = PS_OK;
		goto out;
	}
	struct ps_cbpf_tail tail = {
		.map_fd = slots,
		.match_slot = reader ? SLOG_RCONT_SLOT : SLOG_CONT_SLOT,
		.nomatch_slot = reader ? SLOG_RREJECT_SLOT : SLOG_REJECT_SLOT,
		.fallback = xdp ? XDP_PASS : TC_ACT_UNSPEC,
	};
	if (ps_expr_compile(expr, xdp ? PS_CBPF_XDP : PS_CBPF_TC, &tail,
			    &insns, &n, err, sizeof(err))) {
		r = ps_usage_err(ctx, "expr '%s': %s", expr, err);
		goto out;
	}
	fd = ps_expr_load(insns, n, xdp ? PS_CBPF_XDP : PS_CBPF_TC,
			  expected_type(att->mode), err, sizeof(err));
	if (fd < 0) {
		r = ps_err(ctx, "expr '%s': %s", expr, err);
		goto out;
	}
	if (load_continuations(ctx, att, slots))
		goto out;
	if (bpf_map_update_elem(slots, &key, &fd, BPF_ANY)) {
		r = ps_err(ctx, "setting the expression: %s", strerror(errno));
		goto out;
	}
	*flags |= SLOG_F_EXPR;
	snprintf(text, SLOG_EXPR_MAX, "%s", expr);
	ps_debug(ctx, "expr '%s': %zu eBPF instructions at %s", expr, n,
		 xdp ? "XDP" : "TC");
	r = PS_OK;
out:
	if (fd >= 0)
		close(fd);
	close(slots);
	free(insns);
	return r;
}
