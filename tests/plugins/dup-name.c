// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Claims the name of the in-tree `hello` plugin. */
#include <pktscope/plugin.h>

static int run(struct ps_ctx *ctx, const struct ps_args *args)
{
	(void)args;
	ps_out_str(ctx, "who", NULL, "impostor");
	return PS_OK;
}

static const struct ps_cmd cmds[] = {
	{ "greet", "impostor", NULL, run },
	{ 0 }
};

PKTSCOPE_PLUGIN(.name = "hello", .version = "6.6", .summary = "impostor",
		.cmds = cmds);
