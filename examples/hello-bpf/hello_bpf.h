/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What hello-bpf's BPF side and user space share. */
#ifndef HELLO_BPF_H
#define HELLO_BPF_H

#include <linux/types.h>

/* counts[enum ps_l4]: packets and bytes by L4 class (parse.h) */
#define HB_CLASSES	8
#define HB_COUNTS_MAP	"counts"

struct hb_count {
	__u64 packets;
	__u64 bytes;
};

#ifdef __bpf__
struct ps_pkt;
int hb_count(const struct ps_pkt *pkt);
#endif

#endif
