// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A plugin whose embedded BPF object is not an ELF file. */
#include <pktscope/plugin.h>

static const void *junk(size_t *size)
{
	static const char bytes[] = "this is not a BPF object";

	*size = sizeof(bytes);
	return bytes;
}

PKTSCOPE_PLUGIN(.name = "bad-bpf", .version = "1.0",
		.summary = "broken BPF object", .bpf_elf = junk,
		.xdp_prog = "x_xdp", .tc_prog = "x_tc");
