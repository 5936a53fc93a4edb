// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Value kinds: every kind with good and bad input, through the public API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <pktscope/plugin.h>

static int parse(enum ps_kind kind, const char *word, struct ps_value *v,
		 char *err)
{
	struct ps_arg_spec spec = { .keyword = "x", .kind = kind };

	return ps_parse_value(&spec, word, v, err, 256);
}

static uint64_t good_u(enum ps_kind kind, const char *word)
{
	struct ps_value v;
	char err[256] = "";

	if (parse(kind, word, &v, err))
		fail_msg("'%s' refused: %s", word, err);
	return v.u;
}

static void bad(enum ps_kind kind, const char *word, const char *needle)
{
	struct ps_value v;
	char err[256] = "";

	if (!parse(kind, word, &v, err))
		fail_msg("'%s' accepted as %s", word, needle);
	if (!strstr(err, needle))
		fail_msg("error for '%s' is '%s', wanted '%s'", word, err, needle);
}

static void test_rate(void **state)
{
	(void)state;
	assert_int_equal(good_u(PS_KIND_RATE, "10mbit"), 10000000ULL);
	assert_int_equal(good_u(PS_KIND_RATE, "1.5gbit"), 1500000000ULL);
	assert_int_equal(good_u(PS_KIND_RATE, "500kbps"), 4000000ULL);
	assert_int_equal(good_u(PS_KIND_RATE, "1gbit"), 1000000000ULL);
	assert_int_equal(good_u(PS_KIND_RATE, "100bit"), 100ULL);
	assert_int_equal(good_u(PS_KIND_RATE, "64000"), 64000ULL);
	bad(PS_KIND_RATE, "0", "greater than zero");
	bad(PS_KIND_RATE, "-1", "not a rate");
	bad(PS_KIND_RATE, "10zb", "unknown unit 'zb'");
	bad(PS_KIND_RATE, "mbit", "not a rate");
	bad(PS_KIND_RATE, "", "not a rate");
	bad(PS_KIND_RATE, "1e30tbit", "too large");
}

static void test_size(void **state)
{
	(void)state;
	assert_int_equal(good_u(PS_KIND_SIZE, "64k"), 65536ULL);
	assert_int_equal(good_u(PS_KIND_SIZE, "1m"), 1048576ULL);
	assert_int_equal(good_u(PS_KIND_SIZE, "1500"), 1500ULL);
	assert_int_equal(good_u(PS_KIND_SIZE, "1.5k"), 1536ULL);
	assert_int_equal(good_u(PS_KIND_SIZE, "2g"), 2147483648ULL);
	bad(PS_KIND_SIZE, "0", "greater than zero");
	bad(PS_KIND_SIZE, "-1", "not a size");
	bad(PS_KIND_SIZE, "10zb", "unknown unit");
	bad(PS_KIND_SIZE, "k", "not a size");
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(good_u(PS_KIND_DURATION, "500ms"), 500000000ULL);
	assert_int_equal(good_u(PS_KIND_DURATION, "10s"), 10000000000ULL);
	assert_int_equal(good_u(PS_KIND_DURATION, "5m"), 300000000000ULL);
	assert_int_equal(good_u(PS_KIND_DURATION, "2"), 2000000000ULL);
	assert_int_equal(good_u(PS_KIND_DURATION, "1.5s"), 1500000000ULL);
	assert_int_equal(good_u(PS_KIND_DURATION, "250us"), 250000ULL);
	bad(PS_KIND_DURATION, "0", "greater than zero");
	bad(PS_KIND_DURATION, "-1", "not a duration");
	bad(PS_KIND_DURATION, "10y", "unknown unit 'y'");
	bad(PS_KIND_DURATION, "0.1ns", "smallest");
}

static void test_count(void **state)
{
	(void)state;
	assert_int_equal(good_u(PS_KIND_COUNT, "0"), 0);
	assert_int_equal(good_u(PS_KIND_COUNT, "70000"), 70000);
	assert_int_equal(good_u(PS_KIND_COUNT, "18446744073709551615"),
			 UINT64_MAX);
	bad(PS_KIND_COUNT, "-1", "not a count");
	bad(PS_KIND_COUNT, "1.5", "not a count");
	bad(PS_KIND_COUNT, "18446744073709551616", "too large");
	bad(PS_KIND_COUNT, "ten", "not a count");
}

static void test_count_bounds(void **state)
{
	struct ps_arg_spec spec = { .keyword = "sample", .kind = PS_KIND_COUNT,
				    .min = 1, .max = 1000 };
	struct ps_value v;
	char err[256];

	(void)state;
	assert_int_equal(ps_parse_value(&spec, "1", &v, err, sizeof(err)), 0);
	assert_int_equal(ps_parse_value(&spec, "1000", &v, err, sizeof(err)), 0);
	assert_int_equal(ps_parse_value(&spec, "0", &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range (1-1000)"));
	assert_int_equal(ps_parse_value(&spec, "1001", &v, err, sizeof(err)), -1);
}

static void test_port(void **state)
{
	struct ps_value v;
	char err[256];

	(void)state;
	assert_int_equal(parse(PS_KIND_PORT, "80", &v, err), 0);
	assert_int_equal(v.port.lo, 80);
	assert_int_equal(v.port.hi, 80);
	assert_int_equal(parse(PS_KIND_PORT, "1000-2000", &v, err), 0);
	assert_int_equal(v.port.lo, 1000);
	assert_int_equal(v.port.hi, 2000);
	assert_int_equal(parse(PS_KIND_PORT, "65535", &v, err), 0);
	bad(PS_KIND_PORT, "70000", "out of range (0-65535)");
	bad(PS_KIND_PORT, "5-3", "reversed");
	bad(PS_KIND_PORT, "-1", "not a port");
	bad(PS_KIND_PORT, "http", "not a port");
	bad(PS_KIND_PORT, "1-", "not a port");
	bad(PS_KIND_PORT, "1-70000", "out of range");
}

static void cidr_is(const char *word, int family, const char *addr, int len)
{
	struct ps_value v;
	char err[256], buf[INET6_ADDRSTRLEN];

	if (parse(PS_KIND_CIDR, word, &v, err))
		fail_msg("'%s' refused: %s", word, err);
	assert_int_equal(v.cidr.family, family);
	assert_int_equal(v.cidr.prefixlen, len);
	inet_ntop(family, v.cidr.addr, buf, sizeof(buf));
	assert_string_equal(buf, addr);
}

static void test_cidr(void **state)
{
	(void)state;
	cidr_is("10.0.0.0/8", AF_INET, "10.0.0.0", 8);
	cidr_is("10.1.2.3/8", AF_INET, "10.0.0.0", 8);	/* host bits cleared */
	cidr_is("192.0.2.7", AF_INET, "192.0.2.7", 32);
	cidr_is("0.0.0.0/0", AF_INET, "0.0.0.0", 0);
	cidr_is("2001:db8::/32", AF_INET6, "2001:db8::", 32);
	cidr_is("fe80::1/10", AF_INET6, "fe80::", 10);
	cidr_is("::1", AF_INET6, "::1", 128);
	bad(PS_KIND_CIDR, "300.1.1.1/33", "not an IPv4 or IPv6");
	bad(PS_KIND_CIDR, "10.0.0.0/33", "out of range for IPv4 (0-32)");
	bad(PS_KIND_CIDR, "fe80::/129", "out of range for IPv6 (0-128)");
	bad(PS_KIND_CIDR, "10.0.0.0/", "bad prefix length");
	bad(PS_KIND_CIDR, "10.0.0.0/-1", "bad prefix length");
	bad(PS_KIND_CIDR, "10.0.0.0/8x", "bad prefix length");
	bad(PS_KIND_CIDR, "host.example", "not an IPv4 or IPv6");
}

/* whether CIDR holds ADDR, by ps_cidr_contains */
static bool holds(const char *cidr, const char *addr)
{
	struct ps_value v;
	char err[256];
	uint8_t a[16] = { 0 };
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (parse(PS_KIND_CIDR, cidr, &v, err))
		fail_msg("'%s' refused: %s", cidr, err);
	assert_int_equal(inet_pton(family, addr, a), 1);
	return ps_cidr_contains(&v.cidr, family, a);
}

static void test_cidr_contains(void **state)
{
	(void)state;
	assert_true(holds("10.0.0.0/8", "10.255.1.2"));
	assert_false(holds("10.0.0.0/8", "11.0.0.0"));
	assert_true(holds("192.0.2.0/25", "192.0.2.127"));
	assert_false(holds("192.0.2.0/25", "192.0.2.128"));
	assert_true(holds("192.0.2.7", "192.0.2.7"));
	assert_false(holds("192.0.2.7", "192.0.2.6"));
	assert_true(holds("0.0.0.0/0", "203.0.113.9"));
	assert_true(holds("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(holds("2001:db8::/33", "2001:db8:8000::1"));
	assert_false(holds("::/0", "10.0.0.1"));	/* another family */
	assert_false(holds("10.0.0.0/8", "::a00:1"));
}

static void test_proto(void **state)
{
	(void)state;
	assert_int_equal(good_u(PS_KIND_PROTO, "tcp"), 6);
	assert_int_equal(good_u(PS_KIND_PROTO, "udp"), 17);
	assert_int_equal(good_u(PS_KIND_PROTO, "icmp"), 1);
	assert_int_equal(good_u(PS_KIND_PROTO, "icmpv6"), 58);
	assert_int_equal(good_u(PS_KIND_PROTO, "sctp"), 132);
	assert_int_equal(good_u(PS_KIND_PROTO, "gre"), 47);
	assert_int_equal(good_u(PS_KIND_PROTO, "TCP"), 6);
	assert_int_equal(good_u(PS_KIND_PROTO, "89"), 89);
	bad(PS_KIND_PROTO, "256", "not a protocol");
	bad(PS_KIND_PROTO, "tpc", "did you mean 'tcp'");
	bad(PS_KIND_PROTO, "carrier-pigeon", "unknown protocol");
}

static void test_iface(void **state)
{
	struct ps_arg_spec all = { .keyword = "dev", .kind = PS_KIND_IFACE,
				   .flags = PS_ARG_ALL };
	struct ps_value v;
	char err[256];

	(void)state;
	good_u(PS_KIND_IFACE, "eth0");
	good_u(PS_KIND_IFACE, "veth-abc.100");
	bad(PS_KIND_IFACE, "a-very-long-interface-name", "1-15 characters");
	bad(PS_KIND_IFACE, "../etc", "not an interface name");
	bad(PS_KIND_IFACE, "eth 0", "not an interface name");
	bad(PS_KIND_IFACE, "", "1-15 characters");
	assert_int_equal(ps_parse_value(&all, "all", &v, err, sizeof(err)), 0);
}

/* PS_ARG_OFF: `off` is 0, past the bounds that refuse a numeric 0 */
static void test_off(void **state)
{
	struct ps_arg_spec lim = { .keyword = "syn-src", .kind = PS_KIND_COUNT,
				   .flags = PS_ARG_OFF, .min = 1, .max = 100 };
	struct ps_arg_spec rate = { .keyword = "bytes-src",
				    .kind = PS_KIND_RATE, .flags = PS_ARG_OFF };
	struct ps_arg_spec plain = { .keyword = "syn-src",
				     .kind = PS_KIND_COUNT, .min = 1 };
	struct ps_value v = { .u = 7 };
	char err[256];

	(void)state;
	assert_int_equal(ps_parse_value(&lim, "off", &v, err, sizeof(err)), 0);
	assert_int_equal(v.u, 0);
	assert_int_equal(ps_parse_value(&lim, "5", &v, err, sizeof(err)), 0);
	assert_int_equal(v.u, 5);
	assert_int_equal(ps_parse_value(&lim, "0", &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "syn-src"));
	assert_int_equal(ps_parse_value(&rate, "off", &v, err, sizeof(err)), 0);
	assert_int_equal(v.u, 0);
	assert_int_equal(ps_parse_value(&rate, "0", &v, err, sizeof(err)), -1);
	assert_int_equal(ps_parse_value(&plain, "off", &v, err, sizeof(err)),
			 -1);
}

static void test_choice(void **state)
{
	static const char *const modes[] = {
		"tcx", "tc", "xdp", "xdp-native", "xdp-generic", NULL,
	};
	struct ps_arg_spec spec = { .keyword = "mode", .kind = PS_KIND_CHOICE,
				    .choices = modes };
	struct ps_value v;
	char err[256];

	(void)state;
	assert_int_equal(ps_parse_value(&spec, "xdp", &v, err, sizeof(err)), 0);
	assert_int_equal(v.u, 2);	/* exact beats prefix */
	assert_int_equal(ps_parse_value(&spec, "xdp-g", &v, err, sizeof(err)), 0);
	assert_string_equal(v.str, "xdp-generic");
	assert_int_equal(ps_parse_value(&spec, "xdp-", &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ambiguous"));
	assert_non_null(strstr(err, "xdp-native, xdp-generic"));
	assert_int_equal(ps_parse_value(&spec, "tcxx", &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "did you mean 'tcx'"));
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(ps_fmt_rate(10000000, buf, sizeof(buf)), "10mbit");
	assert_string_equal(ps_fmt_rate(1500000000, buf, sizeof(buf)), "1.5gbit");
	assert_string_equal(ps_fmt_size(65536, buf, sizeof(buf)), "64KiB");
	assert_string_equal(ps_fmt_size(1000, buf, sizeof(buf)), "1000B");
	assert_string_equal(ps_fmt_duration(500000000, buf, sizeof(buf)), "500ms");
	assert_string_equal(ps_fmt_duration(300000000000ULL, buf, sizeof(buf)), "5m");
	assert_string_equal(ps_fmt_count(1234567, buf, sizeof(buf)), "1.23M");
	/*
	 * Measured values: three significant digits whatever the value, so
	 * a column reads 5.20mbit above 5.22mbit, and 999.9 pps is 1.00k
	 * like 1000.2 (the review saw "1000" next to "1.0k").
	 */
	assert_string_equal(ps_fmt_count(999.9, buf, sizeof(buf)), "1.00k");
	assert_string_equal(ps_fmt_count(1000.21, buf, sizeof(buf)), "1.00k");
	assert_string_equal(ps_fmt_count(12345, buf, sizeof(buf)), "12.3k");
	assert_string_equal(ps_fmt_count(999.4, buf, sizeof(buf)), "999");
	assert_string_equal(ps_fmt_count(0, buf, sizeof(buf)), "0");
	assert_string_equal(ps_fmt_rate(5200480, buf, sizeof(buf)), "5.20mbit");
	assert_string_equal(ps_fmt_rate(5221000, buf, sizeof(buf)), "5.22mbit");
	assert_string_equal(ps_fmt_rate(403380, buf, sizeof(buf)), "403kbit");
	assert_string_equal(ps_fmt_rate(999999, buf, sizeof(buf)), "1.00mbit");
	assert_string_equal(ps_fmt_size(1700, buf, sizeof(buf)), "1.66KiB");
	assert_string_equal(ps_fmt_size(1229, buf, sizeof(buf)), "1.20KiB");
	assert_string_equal(ps_fmt_size(35840, buf, sizeof(buf)), "35KiB");
	assert_string_equal(ps_fmt_size(35900, buf, sizeof(buf)), "35.1KiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_count_bounds),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
