// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The argument grammar (core/args.c) and every value kind under
 * libFuzzer: the input is a NUL-separated argv for a declaration that has
 * each kind (like `hello kinds`), plus a positional and a repeatable one.
 * A parse either succeeds or gives one error; the values it gives are
 * then formatted back, as help and the commands would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "session.h"

static const char *const colors[] = { "red", "green", "greenish", NULL };

static const struct ps_arg_spec specs[] = {
	{ "rate", PS_KIND_RATE, 0, NULL, "bit/s" },
	{ "size", PS_KIND_SIZE, 0, NULL, "bytes" },
	{ "duration", PS_KIND_DURATION, 0, NULL, "nanoseconds" },
	{ "count", PS_KIND_COUNT, 0, NULL, "a count" },
	{ "port", PS_KIND_PORT, 0, NULL, "port or range" },
	{ "cidr", PS_KIND_CIDR, PS_ARG_REPEAT, NULL, "prefix" },
	{ "proto", PS_KIND_PROTO, PS_ARG_REPEAT, NULL, "protocol" },
	{ "dev", PS_KIND_IFACE, PS_ARG_ALL, NULL, "interface" },
	{ "file", PS_KIND_FILE, 0, NULL, "a file" },
	{ "word", PS_KIND_WORD, 0, NULL, "a word" },
	{ "color", PS_KIND_CHOICE, 0, NULL, "a choice", colors },
	{ "flag", PS_KIND_FLAG, 0, NULL, "a flag" },
	{ "what", PS_KIND_WORD, PS_ARG_POSITIONAL | PS_ARG_REPEAT, "WHAT", "rest" },
	{ 0 }
};

static struct ps_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = ps_ctx_new("pktscope");
	ps_out_init(ctx, fopen("/dev/null", "w"));
	ctx->quiet = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *words[PS_MAX_ARGS + 8];
	struct ps_args *args = calloc(1, sizeof(*args));
	char syn[512], mv[64];
	int n = 0;

	if (!copy || !args)
		goto out;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && n < PS_MAX_ARGS + 8; i++) {
		if (i == size || copy[i] == '\0') {
			copy[i] = '\0';
			words[n++] = copy + start;
			start = i + 1;
		}
	}
	if (!ps_args_parse(ctx, "fuzz kinds", specs, n, words, args)) {
		for (size_t i = 0; i < args->n; i++) {
			const struct ps_value *v = &args->a[i].v;

			if (v->str)
				(void)strlen(v->str);
		}
		ps_out_u64(ctx, "count", NULL, ps_arg_u64(args, "count", 0));
		ps_out_str(ctx, "word", NULL, ps_arg_str(args, "word", ""));
	}
	ps_synopsis(specs, syn, sizeof(syn));
	for (size_t i = 0; specs[i].keyword; i++)
		ps_kind_metavar(&specs[i], mv, sizeof(mv));
	ps_out_doc_end(ctx);
out:
	free(args);
	free(copy);
	return 0;
}
