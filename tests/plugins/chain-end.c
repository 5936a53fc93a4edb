// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Test plugin: a BPF object that ends the chain; the core must refuse it. */
#include <pktscope/plugin.h>
#include "chain_end.skel.h"

PKTSCOPE_PLUGIN(.name = "chain-end", .version = "1",
		.summary = "test: returns TC_ACT_OK and XDP_DROP",
		.bpf_elf = chain_end__elf_bytes,
		.xdp_prog = "end_xdp", .tc_prog = "end_tc");
