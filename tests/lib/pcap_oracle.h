/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpcap as the oracle for the cBPF converter.  Its struct bpf_insn
 * clashes with <linux/bpf.h>'s, so it lives in a file of its own and speaks
 * struct sock_filter (the same layout).
 */
#ifndef PKTSCOPE_TESTS_PCAP_ORACLE_H
#define PKTSCOPE_TESTS_PCAP_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

/* expr for Ethernet, optimized; *f malloc()ed; -1 with libpcap's words */
int oracle_compile(const char *expr, struct sock_filter **f, size_t *n,
		   char *err, size_t errlen);
/* what pcap_offline_filter() returns for a whole frame */
unsigned int oracle_run(const struct sock_filter *f, size_t n,
			const uint8_t *pkt, size_t len);

#endif
