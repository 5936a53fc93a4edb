// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A plugin built for another ABI: the loader must refuse it. */
#include <pktscope/plugin.h>

static int run(struct ps_ctx *ctx, const struct ps_args *args)
{
	(void)ctx;
	(void)args;
	return PS_OK;
}

static const struct ps_cmd cmds[] = {
	{ "noop", "nothing", NULL, run },
	{ 0 }
};

__attribute__((visibility("default")))
const struct ps_plugin pktscope_plugin = {
	.abi_version = PKTSCOPE_ABI_VERSION + 41,
	.size = sizeof(struct ps_plugin),
	.name = "bad-abi",
	.cmds = cmds,
};
