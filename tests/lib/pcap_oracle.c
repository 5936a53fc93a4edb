// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "pcap_oracle.h"

int oracle_compile(const char *expr, struct sock_filter **f, size_t *n,
		   char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;

	if (!p)
		return -1;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	*n = prog.bf_len;
	*f = malloc(*n * sizeof(**f));
	memcpy(*f, prog.bf_insns, *n * sizeof(**f));
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
}

unsigned int oracle_run(const struct sock_filter *f, size_t n,
			const uint8_t *pkt, size_t len)
{
	struct bpf_program prog = {
		.bf_len = (u_int)n,
		.bf_insns = (struct bpf_insn *)f,
	};
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len,
				 .len = (bpf_u_int32)len };

	return (unsigned int)pcap_offline_filter(&prog, &h, pkt);
}
