// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Needs a symbol nothing provides: dlopen(RTLD_NOW) must fail cleanly. */
#include <pktscope/plugin.h>

extern int ps_function_that_does_not_exist(int);

static int run(struct ps_ctx *ctx, const struct ps_args *args)
{
	(void)ctx;
	(void)args;
	return ps_function_that_does_not_exist(1);
}

static const struct ps_cmd cmds[] = {
	{ "boom", "calls what is not there", NULL, run },
	{ 0 }
};

PKTSCOPE_PLUGIN(.name = "unresolved", .version = "1", .summary = "broken",
		.cmds = cmds);
