// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `batch file FILE|-`: each line runs through ps_run_argv(), as a line
 * typed in the REPL does; the first error stops the batch, naming its line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "cmd.h"

static bool in_batch;

/*
 * One line of a batch file into buf (PS_MAX_LINE bytes and a NUL): 1 read,
 * 0 at the end or when asked to stop, -1 (bad line) or -2 (read error)
 * with err set.  Bounded, so an
 * endless line is an error and not all memory; a signal that interrupts
 * the read is looked at, so a batch waiting on a pipe can be stopped.
 */
static int read_line(FILE *f, char *buf, char *err, size_t errlen)
{
	size_t n = 0;
	bool nul = false;
	int c;

	for (;;) {
		if (ps_should_stop())
			return 0;
		c = getc(f);
		if (c == EOF) {
			if (ferror(f) && errno == EINTR) {
				clearerr(f);
				continue;
			}
			if (ferror(f)) {
				snprintf(err, errlen, "%s", strerror(errno));
				return -2;
			}
			if (!n)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (n == PS_MAX_LINE) {
			snprintf(err, errlen, "line longer than %d bytes",
				 PS_MAX_LINE);
			return -1;
		}
		nul |= c == '\0';
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (nul) {
		snprintf(err, errlen, "a NUL byte in the line");
		return -1;
	}
	return 1;
}

int ps_run_batch(struct ps_ctx *ctx, const char *file)
{
	FILE *f;
	char *line, where[PATH_MAX + 32];
	unsigned long lineno = 0, done = 0;
	int r = PS_OK;

	if (in_batch)
		return ps_usage_err(ctx, "batch cannot run inside a batch");
	line = malloc(PS_MAX_LINE + 1);
	if (!line)
		return ps_err(ctx, "out of memory");
	if (!strcmp(file, "-")) {
		f = stdin;
	} else {
		f = fopen(file, "re");
		if (!f) {
			free(line);
			return ps_err(ctx, "cannot open batch file '%s': %s", file,
				      strerror(errno));
		}
	}
	in_batch = true;
	ps_out_batch_begin(ctx);
	for (;;) {
		char err[128];
		char **argv;
		int argc, got;

		got = read_line(f, line, err, sizeof(err));
		if (!got)
			break;
		if (got == -2) {
			r = ps_err(ctx, "reading batch file '%s': %s", file, err);
			ps_out_doc_end(ctx);
			break;
		}
		lineno++;
		/* every error of this line names it: FILE:LINE: ... */
		snprintf(where, sizeof(where), "%s:%lu", file, lineno);
		ctx->err_where = where;
		if (got < 0 || ps_tokenize(line, &argc, &argv, err, sizeof(err))) {
			r = ps_usage_err(ctx, "%s", err);
			ps_out_doc_end(ctx);
			break;
		}
		if (!argc) {
			ps_free_tokens(argc, argv);
			continue;
		}
		r = ps_run_argv(ctx, argc, argv);
		ps_free_tokens(argc, argv);
		if (r) {
			/* the command's Error: line named FILE:LINE already */
			fflush(ctx->w.f);
			fprintf(stderr, "Stopped at %s (%lu command%s done)\n",
				where, done, done == 1 ? "" : "s");
			break;
		}
		done++;
		if (ps_should_stop())
			break;
	}
	ctx->err_where = NULL;
	ps_out_batch_end(ctx);
	in_batch = false;
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

static int do_batch(struct ps_ctx *ctx, const struct ps_args *args)
{
	int r = ps_run_batch(ctx, ps_arg_str(args, "file", "-"));

	/* the batch's commands printed their own documents */
	if (ctx->json)
		ctx->w.stream = true;
	return r;
}

static const struct ps_arg_spec batch_args[] = {
	{ "file", PS_KIND_FILE, PS_ARG_REQUIRED, "FILE|-",
	  "commands, one a line; '#' starts a comment; - is stdin" },
	{ 0 }
};

const struct ps_cmd ps_batch_cmd = {
	"batch", "run commands from a file; stops at the first error",
	batch_args, do_batch,
};
