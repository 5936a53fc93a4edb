// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The JSON writer (core/output.c) under libFuzzer: the input is a little
 * program of writer calls (sections, lists, items, every field kind,
 * tables, stream records) with fuzzed keys and values; whatever it does,
 * the output must be valid JSON (JSON Lines for records) and valid UTF-8,
 * checked by json_check.h.  Text mode runs the same program for crashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "session.h"
#include "json_check.h"

struct prog {
	const uint8_t *p;
	size_t n;
};

static int next_byte(struct prog *g)
{
	if (!g->n)
		return -1;
	g->n--;
	return *g->p++;
}

/* a string of the input: a length byte, then that many bytes (no NUL) */
static char *next_str(struct prog *g, char *buf, size_t cap)
{
	int len = next_byte(g);
	size_t k = 0;

	if (len < 0)
		len = 0;
	while (k < (size_t)len && k + 1 < cap && g->n) {
		char c = (char)next_byte(g);

		buf[k++] = c ? c : 'z';
	}
	buf[k] = '\0';
	return buf;
}

static uint64_t next_u64(struct prog *g)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		int b = next_byte(g);

		v = (v << 8) | (uint64_t)(b < 0 ? 0 : b);
	}
	return v;
}

static void run(struct ps_ctx *ctx, struct prog *g, bool stream)
{
	static const struct ps_col cols[] = {
		{ "a", NULL, PS_LEFT }, { "b\xff", "B", PS_RIGHT },
		{ "c", NULL, PS_LEFT },
	};
	char k[300], v[300];
	int depth = 0, op;
	char kinds[16];		/* 's' section, 'l' list, 'i' item */

	if (stream) {
		while ((op = next_byte(g)) >= 0) {
			ps_record_begin(ctx);
			for (int f = op % 6; f >= 0; f--) {
				next_str(g, k, sizeof(k));
				switch (next_byte(g) & 3) {
				case 0: ps_out_str(ctx, k, NULL, next_str(g, v, sizeof(v))); break;
				case 1: ps_out_u64(ctx, k, NULL, next_u64(g)); break;
				case 2: ps_out_s64(ctx, k, NULL, (int64_t)next_u64(g)); break;
				default: ps_out_number(ctx, k, NULL, next_str(g, v, sizeof(v)));
				}
			}
			ps_record_end(ctx);
		}
		return;
	}
	while ((op = next_byte(g)) >= 0) {
		bool in_list = depth && kinds[depth - 1] == 'l';

		switch (op % 14) {
		case 0:
			if (depth < 12 && !in_list) {
				kinds[depth++] = 's';
				ps_out_section(ctx, next_str(g, k, sizeof(k)), NULL);
			}
			break;
		case 1:
			if (depth < 12 && !in_list) {
				kinds[depth++] = 'l';
				ps_out_list(ctx, next_str(g, k, sizeof(k)), NULL);
			}
			break;
		case 2:
			if (depth < 12 && in_list) {
				kinds[depth++] = 'i';
				ps_out_item(ctx, next_str(g, k, sizeof(k)));
			}
			break;
		case 3:
			if (!depth)
				break;
			switch (kinds[--depth]) {
			case 's': ps_out_section_end(ctx); break;
			case 'l': ps_out_list_end(ctx); break;
			default: ps_out_item_end(ctx);
			}
			break;
		default:
			if (in_list)
				break;
			next_str(g, k, sizeof(k));
			switch (op % 14) {
			case 4: ps_out_str(ctx, k, "L", next_str(g, v, sizeof(v))); break;
			case 5: ps_out_u64(ctx, k, NULL, next_u64(g)); break;
			case 6: ps_out_s64(ctx, k, NULL, (int64_t)next_u64(g)); break;
			case 7: {
				uint64_t b = next_u64(g);
				double d;

				memcpy(&d, &b, sizeof(d));
				ps_out_f64(ctx, k, NULL, d);
				break;
			}
			case 8: ps_out_bool(ctx, k, NULL, next_byte(g) & 1); break;
			case 9: ps_out_number(ctx, k, NULL, next_str(g, v, sizeof(v))); break;
			case 10: {
				char v2[300];
				const char *sv[2] = { next_str(g, v, sizeof(v)),
						      next_str(g, v2, sizeof(v2)) };

				ps_out_strv(ctx, k, NULL, sv, 2);
				break;
			}
			case 11: ps_out_u64_human(ctx, k, NULL, next_u64(g), ps_fmt_size); break;
			case 12: ps_out_text(ctx, "%s\n", next_str(g, v, sizeof(v))); break;
			default: {
				struct ps_table *t = ps_table_new(ctx, k, cols, 3);
				int rows = next_byte(g) & 7;

				for (int r = 0; r < rows; r++) {
					ps_table_str(t, next_str(g, v, sizeof(v)));
					ps_table_u64(t, next_u64(g));
					ps_table_f64(t, (double)next_u64(g) / 7.0,
						     next_byte(g) & 7);
					ps_table_end_row(t);
				}
				ps_table_end(t);
			}
			}
		}
	}
	while (depth) {
		switch (kinds[--depth]) {
		case 's': ps_out_section_end(ctx); break;
		case 'l': ps_out_list_end(ctx); break;
		default: ps_out_item_end(ctx);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_ctx *ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0];
	f = open_memstream(&buf, &len);
	if (!f)
		return 0;
	ctx = ps_ctx_new("pktscope");
	if (!ctx) {
		fclose(f);
		free(buf);
		return 0;
	}
	ps_out_init(ctx, f);
	ctx->json = !(mode & 1);
	ctx->pretty = ctx->json && (mode & 2);
	struct prog g = { data + 1, size - 1 };

	run(ctx, &g, mode & 4);
	ps_out_doc_end(ctx);
	fclose(f);
	if (ctx->json && len && !json_valid(buf, len, (mode & 4) != 0)) {
		fprintf(stderr, "invalid JSON from the writer:\n%.*s\n", (int)len,
			buf);
		abort();
	}
	ctx->w.f = stdout;
	ps_ctx_free(ctx);
	free(buf);
	return 0;
}
