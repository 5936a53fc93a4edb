// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The output writer: numbers stay valid JSON; records come out as given. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "session.h"

/* What fn printed through the writer, in JSON or text. */
static char *capture(bool json, void (*fn)(struct ps_ctx *, const void *),
		     const void *arg)
{
	struct ps_ctx *ctx = ps_ctx_new("test");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(ctx);
	assert_non_null(f);
	ps_out_init(ctx, f);
	ctx->json = json;
	fn(ctx, arg);
	ps_out_doc_end(ctx);
	fclose(f);
	ps_ctx_free(ctx);
	return buf;
}

static void out_number(struct ps_ctx *ctx, const void *digits)
{
	ps_out_number(ctx, "n", NULL, digits);
}

static void number(const char *digits, const char *want)
{
	char *got = capture(true, out_number, digits);
	char w[128];

	snprintf(w, sizeof(w), "{\"n\":%s}\n", want);
	if (strcmp(got, w))
		fail_msg("ps_out_number(\"%s\") printed %s, wanted %s", digits,
			 got, w);
	free(got);
}

static void test_number(void **state)
{
	static const char *const good[] = {
		"0", "-0", "7", "-12", "1795000000.123456", "0.5", "1e5",
		"1E+5", "2.5e-3", "-0.0",
	};
	/* what strtod() takes but JSON does not, and plain garbage */
	static const char *const bad[] = {
		"", "01", "-01", "1.", ".5", "+1", "0x10", "nan", "inf",
		"-inf", "1e", "1e+", "1 ", " 1", "--1", "1..2", "1e5.5", "-",
		"1,5", "١",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		number(good[i], good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		number(bad[i], "0");
	number(NULL, "0");
}

static void out_f64(struct ps_ctx *ctx, const void *v)
{
	ps_out_f64(ctx, "v", NULL, *(const double *)v);
}

/* rates of any size keep their digits and never take an exponent */
static void test_f64(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 19528500000.0, "19528500000" },	/* was 1.95285e+10 */
		{ 254438.25, "254438.25" },
		{ 123456.7891, "123456.789" },
		{ 496.948123, "496.948" },
		{ 0.205253, "0.205253" },
		{ 0, "0" },
		{ 0.00001, "0.0000100000" },
		{ -2500000, "-2500000" },
	};
	char want[128], *got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "{\"v\":%s}\n", cases[i].want);
		got = capture(true, out_f64, &cases[i].v);
		assert_string_equal(got, want);
		free(got);
	}
}

static void out_fields(struct ps_ctx *ctx, const void *arg)
{
	const char *long_val = arg;

	ps_record_begin(ctx);
	ps_out_str(ctx, "a", NULL, "x");
	ps_out_str(ctx, "b", NULL, "say \"hi\"\n\\");
	ps_out_u64(ctx, "c", NULL, 18446744073709551615ULL);
	ps_out_str(ctx, "long", NULL, long_val);
	ps_out_str(ctx, "k\"ey", NULL, "");
	ps_out_bool(ctx, "d", NULL, true);
	ps_record_end(ctx);
}

/* plain fields take one path, fields to escape or too long another */
static void test_fields(void **state)
{
	static const int lens[] = { 159, 160, 161, 300 };
	char long_val[301], want[1024], *got;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int len = lens[i];

		memset(long_val, 'v', (size_t)len);
		long_val[len] = '\0';
		snprintf(want, sizeof(want),
			 "{\"a\":\"x\",\"b\":\"say \\\"hi\\\"\\n\\\\\","
			 "\"c\":18446744073709551615,\"long\":\"%s\","
			 "\"k\\\"ey\":\"\",\"d\":true}\n", long_val);
		got = capture(true, out_fields, long_val);
		assert_string_equal(got, want);
		free(got);
	}
}

static void out_lines(struct ps_ctx *ctx, const void *arg)
{
	(void)arg;
	ps_record_begin(ctx);
	ps_record_line(ctx, "a line\0not this", 6);
	ps_record_end(ctx);
	ps_record_begin(ctx);
	ps_record_text(ctx, "%s %u", "text", 42u);
	ps_record_end(ctx);
	ps_record_begin(ctx);
	ps_record_line(ctx, "", 0);
	ps_record_end(ctx);
}

static void test_record_line(void **state)
{
	char *got;

	(void)state;
	got = capture(false, out_lines, NULL);
	assert_string_equal(got, "a line\ntext 42\n\n");
	free(got);
	/* a JSON record is its fields: the text line is not one */
	got = capture(true, out_lines, NULL);
	assert_string_equal(got, "{}\n{}\n{}\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_f64),
		cmocka_unit_test(test_record_line),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
