// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The tokenizer and the batch reader (core/cmd.c) under libFuzzer: the
 * input is split by the tokenizer, then run as a batch file through the
 * dispatcher, the global options and help, with only the harmless
 * built-in objects (no BPF, no files, no batch in a batch).  -j output
 * must stay valid JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "batch.h"
#include "builtins.h"
#include "cmd.h"
#include "registry.h"
#include "session.h"
#include "json_check.h"

static struct ps_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct ps_object *b;
	size_t nb;

	(void)argc;
	(void)argv;
	ctx = ps_ctx_new("pktscope");
	ctx->quiet = true;
	ctx->bpffs = "/nonexistent-bpffs";
	ps_registry_clear(ctx);
	b = ps_builtin_objects(&nb);
	for (size_t i = 0; i < nb; i++)
		if (!strcmp(b[i].name, "help") || !strcmp(b[i].name, "version") ||
		    !strcmp(b[i].name, "plugin") || !strcmp(b[i].name, "completion") ||
		    !strcmp(b[i].name, "__complete"))
			ps_registry_add(ctx, &b[i]);
	ctx->plugins_loaded = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), err[128], path[64], *buf = NULL;
	size_t len = 0;
	char **argv;
	int argc, fd;
	FILE *out;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (!ps_tokenize(line, &argc, &argv, err, sizeof(err)))
		ps_free_tokens(argc, argv);
	free(line);

	fd = memfd_create("batch", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	out = open_memstream(&buf, &len);
	if (out) {
		ps_out_init(ctx, out);
		ctx->json = size && (data[0] & 1);
		ps_run_batch(ctx, path);
		/* as do_batch(): the lines printed their own documents */
		if (ctx->json)
			ctx->w.stream = true;
		ps_out_doc_end(ctx);
		fclose(out);
		if (ctx->json && len && !json_valid(buf, len, false)) {
			fprintf(stderr, "invalid JSON:\n%.*s\n", (int)len, buf);
			abort();
		}
		free(buf);
		ctx->json = false;
		ps_out_init(ctx, stdout);
	}
	close(fd);
	return 0;
}
