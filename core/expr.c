// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcpdump expressions: compiled by libpcap to classic BPF (cbpf.c converts
 * it), and run in the kernel as an freplace of a plugin's global stub.
 *
 * freplace, not bpf_program__set_insns(): the stub is replaced after the
 * program is loaded and attached, so a running attachment changes its
 * expression without being reloaded, and the object's relocations and
 * BTF stay what the compiler made.  The link is the expression's life.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "cbpf.h"

#include "expr_pcap.h"

int ps_expr_available(void)
{
	return ps_pcap_available();
}

int ps_expr_compile(const char *expr, enum ps_cbpf_hook hook,
		    struct bpf_insn **out, size_t *n_out, char *err,
		    size_t errlen)
{
	struct sock_filter *f;
	size_t n;
	int r;

	if (ps_pcap_compile(expr, &f, &n, err, errlen))
		return -1;
	r = ps_cbpf_to_ebpf(f, n, hook, out, n_out, err, errlen);
	free(f);
	return r;
}

/* the name of the struct the stub's first argument points to */
static const char *ctx_struct(const struct btf *btf, const struct btf_type *fn)
{
	const struct btf_type *proto = btf__type_by_id(btf, fn->type), *t;
	const struct btf_param *p;

	if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) != 1)
		return NULL;
	p = btf_params(proto);
	t = btf__type_by_id(btf, p->type);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_struct(t))
		return NULL;
	return btf__name_by_offset(btf, t->name_off);
}

int ps_expr_attach(int target_fd, const char *func, const struct bpf_insn *insns,
		   size_t n, char *err, size_t errlen)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct btf *tbtf = NULL, *b = NULL;
	const char *sname;
	int id, fn, fd = -1, link = -1;
	char log[4096] = "";

	if (bpf_obj_get_info_by_fd(target_fd, &info, &len) || !info.btf_id) {
		snprintf(err, errlen, "the program has no BTF to find %s in", func);
		return -1;
	}
	tbtf = btf__load_from_kernel_by_id(info.btf_id);
	if (!tbtf) {
		snprintf(err, errlen, "reading the program's BTF: %s",
			 strerror(errno));
		return -1;
	}
	id = btf__find_by_name_kind(tbtf, func, BTF_KIND_FUNC);
	sname = id > 0 ? ctx_struct(tbtf, btf__type_by_id(tbtf, id)) : NULL;
	if (!sname) {
		snprintf(err, errlen, "the program has no stub %s(ctx)", func);
		goto out;
	}
	/* our side of the type check: int func(struct <ctx> *ctx) */
	b = btf__new_empty();
	if (!b)
		goto nomem;
	{
		int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
		int st = btf__add_struct(b, sname, 0);
		int ptr = btf__add_ptr(b, st);
		int proto = btf__add_func_proto(b, i32);

		if (i32 < 0 || st < 0 || ptr < 0 || proto < 0 ||
		    btf__add_func_param(b, "ctx", ptr))
			goto nomem;
		fn = btf__add_func(b, func, BTF_FUNC_GLOBAL, proto);
		if (fn < 0)
			goto nomem;
	}
	if (btf__load_into_kernel(b)) {
		snprintf(err, errlen, "loading the expression's BTF: %s",
			 strerror(errno));
		goto out;
	}
	struct bpf_func_info fi = { .insn_off = 0, .type_id = (__u32)fn };
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		.prog_btf_fd = btf__fd(b),
		.func_info = &fi,
		.func_info_cnt = 1,
		.func_info_rec_size = sizeof(fi),
		.attach_prog_fd = (__u32)target_fd,
		.attach_btf_id = (__u32)id,
		.log_buf = log,
		.log_size = sizeof(log),
		.log_level = 0,
	);
	fd = bpf_prog_load(BPF_PROG_TYPE_EXT, "ps_expr", "Dual BSD/GPL", insns,
			   n, &o);
	if (fd < 0 && errno != ENOMEM) {
		/* again with the verifier's words */
		o.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_EXT, "ps_expr", "Dual BSD/GPL",
				   insns, n, &o);
	}
	if (fd < 0) {
		size_t l = strlen(log);

		while (l && log[l - 1] == '\n')
			log[--l] = 0;
		snprintf(err, errlen, "the kernel refused the expression: %s%s%s",
			 strerror(errno), *log ? ": " : "",
			 l > 300 ? log + l - 300 : log);
		goto out;
	}
	/*
	 * An extension's link ignores the attach type (the uapi of Debian 12
	 * has no BPF_TRACE_FREPLACE); target 0: the one given at load.
	 */
	link = bpf_link_create(fd, 0, 0, NULL);
	if (link < 0)
		snprintf(err, errlen, "linking the expression to %s: %s", func,
			 strerror(errno));
	goto out;
nomem:
	snprintf(err, errlen, "building BTF: %s", strerror(ENOMEM));
out:
	if (fd >= 0)
		close(fd);
	btf__free(b);
	btf__free(tbtf);
	return link;
}
