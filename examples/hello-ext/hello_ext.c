// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello-ext: a third-party pktscope plugin, built out of tree against the
 * installed <pktscope/plugin.h> and libpktscope (see README.md).
 *
 *   hello-ext shout word WORD [times N]
 *   hello-ext count to N [step N]
 *   hello-ext say hi|bye [to WHO]        (a sub-command group)
 *
 * Every argument is declared, so `help hello-ext`, Tab in the interactive
 * shell and the bash/zsh completion know them without any code here.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <pktscope/plugin.h>

static int do_shout(struct ps_ctx *ctx, const struct ps_args *args)
{
	const char *word = ps_arg_str(args, "word", "");
	uint64_t times = ps_arg_u64(args, "times", 1);
	char buf[512];
	size_t off = 0;

	if (!*word)
		return ps_err(ctx, "nothing to shout");
	for (uint64_t i = 0; i < times; i++) {
		if (off + strlen(word) + 3 > sizeof(buf))
			return ps_err(ctx, "'%s' %llu times is too loud", word,
				      (unsigned long long)times);
		if (i)
			buf[off++] = ' ';
		for (const char *p = word; *p; p++)
			buf[off++] = (char)toupper((unsigned char)*p);
		buf[off++] = '!';
	}
	buf[off] = '\0';
	ps_out_str(ctx, "shout", "Shout", buf);
	ps_out_u64(ctx, "times", "Times", times);
	return PS_OK;
}

static int do_count(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const struct ps_col cols[] = {
		{ "n", NULL, PS_RIGHT },
		{ "square", NULL, PS_RIGHT },
	};
	uint64_t to = ps_arg_u64(args, "to", 0);
	uint64_t step = ps_arg_u64(args, "step", 1);
	struct ps_table *t = ps_table_new(ctx, "numbers", cols, 2);

	for (uint64_t n = step; n <= to; n += step) {
		ps_table_u64(t, n);
		ps_table_u64(t, n * n);
		ps_table_end_row(t);
	}
	ps_table_end(t);
	return PS_OK;
}

static int say(struct ps_ctx *ctx, const struct ps_args *args,
	       const char *what)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s, %s", what,
		 ps_arg_str(args, "to", "world"));
	ps_out_str(ctx, "said", "Said", buf);
	return PS_OK;
}

static int do_say_hi(struct ps_ctx *ctx, const struct ps_args *args)
{
	return say(ctx, args, "hi");
}

static int do_say_bye(struct ps_ctx *ctx, const struct ps_args *args)
{
	return say(ctx, args, "bye");
}

static const struct ps_arg_spec shout_args[] = {
	{ "word", PS_KIND_WORD, PS_ARG_REQUIRED, "WORD", "what to shout" },
	{ "times", PS_KIND_COUNT, 0, "N", "how often (1-10, default 1)",
	  NULL, 1, 10 },
	{ 0 }
};

static const struct ps_arg_spec count_args[] = {
	{ "to", PS_KIND_COUNT, PS_ARG_REQUIRED, "N", "last number (1-1000)",
	  NULL, 1, 1000 },
	{ "step", PS_KIND_COUNT, 0, "N", "increment (default 1)", NULL, 1, 1000 },
	{ 0 }
};

static const struct ps_arg_spec say_args[] = {
	{ "to", PS_KIND_WORD, 0, "WHO", "whom to address (default world)" },
	{ 0 }
};

static const struct ps_cmd say_cmds[] = {
	{ "hi", "say hi", say_args, do_say_hi },
	{ "bye", "say bye", say_args, do_say_bye },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "shout", "shout a word, upper-cased", shout_args, do_shout },
	{ "count", "count up, with squares", count_args, do_count },
	{ "say", "say hi or bye", NULL, NULL, say_cmds },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "hello-ext",
	.version = "1.0",
	.summary = "out-of-tree example plugin",
	.cmds = cmds,
);
