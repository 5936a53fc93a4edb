// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test plugin: passes every packet and counts it (ps_verdicts); an
 * enforcer, so that it runs after the observers whatever the attach order.
 */
#include <pktscope/plugin.h>
#include "pass_all.skel.h"

PKTSCOPE_PLUGIN(.name = "pass-all", .version = "1",
		.summary = "test: passes and counts every packet",
		.bpf_elf = pass_all__elf_bytes,
		.xdp_prog = "pa_xdp", .tc_prog = "pa_tc",
		.stage = PS_STAGE_ENFORCE);
