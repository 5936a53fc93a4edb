/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpcap's compiler alone: its struct bpf_insn clashes with
 * <linux/bpf.h>'s, so what includes pcap.h includes no eBPF header.
 */
#ifndef PKTSCOPE_EXPR_PCAP_H
#define PKTSCOPE_EXPR_PCAP_H

#include <stddef.h>

struct sock_filter;

int ps_pcap_available(void);
/* expr for Ethernet frames, optimized; *f malloc()ed (struct sock_filter
 * has libpcap's layout); -1 with libpcap's reason in err */
int ps_pcap_compile(const char *expr, struct sock_filter **f, size_t *n,
		    char *err, size_t errlen);

#endif
