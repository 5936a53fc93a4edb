// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello: a plugin without BPF.  It exercises the loader and the grammar:
 * `kinds` echoes every value kind as parsed, `wait` is a long command that
 * Ctrl-C stops.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <pktscope/plugin.h>

static int do_greet(struct ps_ctx *ctx, const struct ps_args *args)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "hello, %s", ps_arg_str(args, "name", "world"));
	ps_out_str(ctx, "greeting", "Greeting", buf);
	return PS_OK;
}

static int do_wait(struct ps_ctx *ctx, const struct ps_args *args)
{
	uint64_t ns = ps_arg_u64(args, "duration", 10ULL * 1000000000ULL);
	bool done = ps_sleep(ns);

	ps_out_bool(ctx, "completed", "Completed", done);
	return PS_OK;
}

static void echo_value(struct ps_ctx *ctx, const char *key,
		       const struct ps_value *v)
{
	char buf[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];

	switch (v->kind) {
	case PS_KIND_CIDR:
		inet_ntop(v->cidr.family, v->cidr.addr, addr, sizeof(addr));
		snprintf(buf, sizeof(buf), "%s/%u", addr, v->cidr.prefixlen);
		ps_out_str(ctx, key, NULL, buf);
		break;
	case PS_KIND_PORT:
		snprintf(buf, sizeof(buf), "%u-%u", v->port.lo, v->port.hi);
		ps_out_str(ctx, key, NULL, buf);
		break;
	case PS_KIND_WORD:
	case PS_KIND_FILE:
	case PS_KIND_IFACE:
	case PS_KIND_PLUGIN:
	case PS_KIND_CHOICE:
		ps_out_str(ctx, key, NULL, v->str);
		break;
	default:
		ps_out_u64(ctx, key, NULL, v->u);
	}
}

static int do_kinds(struct ps_ctx *ctx, const struct ps_args *args)
{
	static const char *const keys[] = {
		"rate", "size", "duration", "count", "port", "cidr", "proto",
		"dev", "file", "word", "color", "plugin", "flag",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct ps_value *v = ps_arg_get(args, keys[i]);

		if (v)
			echo_value(ctx, keys[i], v);
	}
	return PS_OK;
}

static const struct ps_arg_spec greet_args[] = {
	{ "name", PS_KIND_WORD, 0, "WHO", "whom to greet" },
	{ 0 }
};

static const struct ps_arg_spec wait_args[] = {
	{ "duration", PS_KIND_DURATION, 0, NULL, "how long (default 10s)" },
	{ 0 }
};

static const char *const colors[] = { "red", "green", "grey", NULL };

static const struct ps_arg_spec kinds_args[] = {
	{ "rate", PS_KIND_RATE, 0, NULL, "bit/s" },
	{ "size", PS_KIND_SIZE, 0, NULL, "bytes" },
	{ "duration", PS_KIND_DURATION, 0, NULL, "nanoseconds" },
	{ "count", PS_KIND_COUNT, 0, NULL, "a count" },
	{ "port", PS_KIND_PORT, 0, NULL, "port or range" },
	{ "cidr", PS_KIND_CIDR, PS_ARG_REPEAT, NULL, "IPv4 or IPv6 prefix" },
	{ "proto", PS_KIND_PROTO, 0, NULL, "protocol" },
	{ "dev", PS_KIND_IFACE, 0, NULL, "interface" },
	{ "file", PS_KIND_FILE, 0, NULL, "a file" },
	{ "word", PS_KIND_WORD, 0, NULL, "a word" },
	{ "color", PS_KIND_CHOICE, 0, NULL, "a choice", colors },
	{ "plugin", PS_KIND_PLUGIN, 0, NULL, "a plugin" },
	{ "flag", PS_KIND_FLAG, 0, NULL, "a flag" },
	{ 0 }
};

static const struct ps_cmd cmds[] = {
	{ "greet", "say hello", greet_args, do_greet },
	{ "wait", "wait, stopped by Ctrl-C", wait_args, do_wait },
	{ "kinds", "echo each value kind as parsed", kinds_args, do_kinds },
	{ 0 }
};

PKTSCOPE_PLUGIN(
	.name = "hello",
	.version = "1.0",
	.summary = "greets; exercises the loader and the grammar",
	.cmds = cmds,
);
