// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcpdump expressions: compiled by libpcap to classic BPF, converted
 * (cbpf.c), and loaded as a program of the hook's type that a plugin's
 * program reaches by a tail call (and that tail-calls back).
 *
 * Why a tail call: an freplace of a global stub is refused here (EPERM for
 * BPF_PROG_TYPE_EXT, as libxdp's dispatcher is), and
 * bpf_program__set_insns() before load would need a process-wide libbpf
 * section handler for "xdp" and "tc" and could not change a running
 * attachment's expression.  A prog-array slot changes atomically.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include <pktscope/cbpf.h>

#include "expr_pcap.h"

int ps_expr_available(void)
{
	return ps_pcap_available();
}

int ps_expr_compile(const char *expr, enum ps_cbpf_hook hook,
		    const struct ps_cbpf_tail *tail, struct bpf_insn **out,
		    size_t *n_out, char *err, size_t errlen)
{
	struct sock_filter *f;
	size_t n;
	int r;

	if (ps_pcap_compile(expr, &f, &n, err, errlen))
		return -1;
	r = ps_cbpf_to_ebpf(f, n, hook, tail, out, n_out, err, errlen);
	free(f);
	return r;
}

int ps_expr_load(const struct bpf_insn *insns, size_t n,
		 enum ps_cbpf_hook hook, enum bpf_attach_type expected,
		 char *err, size_t errlen)
{
	static char log[1 << 16];
	enum bpf_prog_type type = hook == PS_CBPF_XDP ? BPF_PROG_TYPE_XDP :
				  BPF_PROG_TYPE_SCHED_CLS;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = expected);
	int fd;

	fd = bpf_prog_load(type, "ps_expr", "Dual BSD/GPL", insns, n, &o);
	if (fd >= 0)
		return fd;
	if (errno != ENOMEM) {
		/* again, for the verifier's words */
		log[0] = 0;
		o.log_buf = log;
		o.log_size = sizeof(log);
		o.log_level = 1;
		fd = bpf_prog_load(type, "ps_expr", "Dual BSD/GPL", insns, n, &o);
		if (fd >= 0)
			return fd;
	}
	size_t l = strlen(log);

	while (l && log[l - 1] == '\n')
		log[--l] = 0;
	snprintf(err, errlen, "the kernel refused the expression's program: %s%s%s",
		 strerror(errno), l ? ": " : "", l > 300 ? log + l - 300 : log);
	return -1;
}
