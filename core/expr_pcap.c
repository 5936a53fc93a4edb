// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "expr_pcap.h"

#ifdef HAVE_LIBPCAP
#include <pcap/pcap.h>

int ps_pcap_available(void)
{
	return 1;
}

int ps_pcap_compile(const char *expr, struct sock_filter **f, size_t *n,
		    char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;

	/* what tcpdump -y EN10MB compiles, without a live handle */
	p = pcap_open_dead(DLT_EN10MB, 262144);
	if (!p) {
		snprintf(err, errlen, "libpcap: cannot open a dead handle");
		return -1;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	*n = prog.bf_len;
	*f = malloc(*n * sizeof(*prog.bf_insns) + 1);
	if (*f)
		memcpy(*f, prog.bf_insns, *n * sizeof(*prog.bf_insns));
	else
		snprintf(err, errlen, "out of memory");
	pcap_freecode(&prog);
	pcap_close(p);
	return *f ? 0 : -1;
}
#else
int ps_pcap_available(void)
{
	return 0;
}

int ps_pcap_compile(const char *expr, struct sock_filter **f, size_t *n,
		    char *err, size_t errlen)
{
	(void)expr; (void)f; (void)n;
	snprintf(err, errlen,
		 "this pktscope was built without libpcap: expressions need libpcap-dev at build time");
	return -1;
}
#endif
