// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one argument grammar: value kinds, parsing against a command's
 * declaration (keywords by unambiguous prefix, match.c), and the synopsis
 * that help prints.  Commands declare their arguments in ps_arg_spec
 * tables; nothing else parses words.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "registry.h"

/* the one table of protocol names: parsing, completion, plugins' output */
const char *const ps_proto_names[] = {
	"tcp", "udp", "icmp", "icmpv6", "sctp", "gre", NULL,
};
#define proto_names ps_proto_names
static const uint8_t proto_numbers[] = { 6, 17, 1, 58, 132, 47 };

const char *ps_proto_name(unsigned int proto)
{
	for (size_t i = 0; i < ARRAY_SIZE(proto_numbers); i++)
		if (proto_numbers[i] == proto)
			return proto_names[i];
	return NULL;
}

/* the one table of hook mode names: parsing, status, errors */
const char *ps_mode_name(enum ps_mode mode)
{
	switch (mode) {
	case PS_MODE_AUTO: return "auto";
	case PS_MODE_TCX: return "tcx";
	case PS_MODE_TC: return "tc";
	case PS_MODE_XDP: return "xdp";
	case PS_MODE_XDP_NATIVE: return "xdp-native";
	case PS_MODE_XDP_GENERIC: return "xdp-generic";
	}
	return "?";
}

/* order of enum ps_mode, from PS_MODE_TCX */
const char *const ps_mode_choices[] = {
	"tcx", "tc", "xdp", "xdp-native", "xdp-generic", NULL,
};

const char *ps_kind_name(enum ps_kind kind)
{
	static const char *const names[PS_KIND__MAX] = {
		[PS_KIND_FLAG] = "flag",	[PS_KIND_WORD] = "word",
		[PS_KIND_CHOICE] = "choice",	[PS_KIND_IFACE] = "interface",
		[PS_KIND_PROTO] = "protocol",	[PS_KIND_CIDR] = "cidr",
		[PS_KIND_PORT] = "port",	[PS_KIND_RATE] = "rate",
		[PS_KIND_SIZE] = "size",	[PS_KIND_DURATION] = "duration",
		[PS_KIND_COUNT] = "count",	[PS_KIND_FILE] = "file",
		[PS_KIND_PLUGIN] = "plugin",	[PS_KIND_OBJECT] = "object",
	};

	return kind < PS_KIND__MAX ? names[kind] : "?";
}

const char *ps_kind_metavar(const struct ps_arg_spec *spec, char *buf,
			    size_t len)
{
	static const char *const mv[PS_KIND__MAX] = {
		[PS_KIND_FLAG] = "",		[PS_KIND_WORD] = "WORD",
		[PS_KIND_CHOICE] = "CHOICE",	[PS_KIND_IFACE] = "IF",
		[PS_KIND_PROTO] = "PROTO",	[PS_KIND_CIDR] = "CIDR",
		[PS_KIND_PORT] = "PORT[-PORT]",	[PS_KIND_RATE] = "RATE",
		[PS_KIND_SIZE] = "SIZE",	[PS_KIND_DURATION] = "DURATION",
		[PS_KIND_COUNT] = "N",		[PS_KIND_FILE] = "FILE",
		[PS_KIND_PLUGIN] = "PLUGIN",	[PS_KIND_OBJECT] = "OBJECT",
	};

	if (spec->metavar)
		return spec->metavar;
	if (spec->kind == PS_KIND_CHOICE && spec->choices) {
		size_t n = 0;

		buf[0] = '\0';
		for (size_t i = 0; spec->choices[i] && n < len; i++)
			n += snprintf(buf + n, len - n, "%s%s", i ? "|" : "",
				      spec->choices[i]);
		return buf;
	}
	if (spec->kind == PS_KIND_IFACE && (spec->flags & PS_ARG_ALL))
		return "IF|all";
	if ((spec->flags & PS_ARG_OFF) && spec->kind < PS_KIND__MAX) {
		snprintf(buf, len, "%s|off", mv[spec->kind]);
		return buf;
	}
	return spec->kind < PS_KIND__MAX ? mv[spec->kind] : "?";
}

/* ---- numbers and units ---- */

struct unit {
	const char *name;
	double mult;
};

/* number with an optional unit from the table; bare numbers use bare_mult */
static int parse_scaled(const char *word, const struct unit *units,
			double bare_mult, const char *what, uint64_t *out,
			char *err, size_t errlen)
{
	char *end;
	double v;

	if (!*word || !(isdigit((unsigned char)word[0]) || word[0] == '.')) {
		snprintf(err, errlen, "'%s' is not a %s", word, what);
		return -1;
	}
	errno = 0;
	v = strtod(word, &end);
	if (errno || end == word || !isfinite(v)) {
		snprintf(err, errlen, "'%s' is not a %s", word, what);
		return -1;
	}
	double mult = bare_mult;

	if (*end) {
		size_t i;

		for (i = 0; units[i].name; i++)
			if (!strcasecmp(end, units[i].name))
				break;
		if (!units[i].name) {
			snprintf(err, errlen, "'%s' is not a %s: unknown unit '%s'",
				 word, what, end);
			return -1;
		}
		mult = units[i].mult;
	}
	v *= mult;
	if (v >= 18446744073709551616.0) {
		snprintf(err, errlen, "'%s' is too large a %s", word, what);
		return -1;
	}
	if (v != floor(v) && v < 1) {
		snprintf(err, errlen, "'%s' is less than the smallest %s unit",
			 word, what);
		return -1;
	}
	/* llround() stops at 2^63; a double up to 2^64 converts exactly */
	v = floor(v + 0.5);
	if (v >= 18446744073709551616.0) {
		snprintf(err, errlen, "'%s' is too large a %s", word, what);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

static const struct unit rate_units[] = {
	{ "bit", 1 },		{ "kbit", 1e3 },	{ "mbit", 1e6 },
	{ "gbit", 1e9 },	{ "tbit", 1e12 },	{ "bps", 8 },
	{ "kbps", 8e3 },	{ "mbps", 8e6 },	{ "gbps", 8e9 },
	{ "tbps", 8e12 },	{ "kibit", 1024.0 },	{ "mibit", 1048576.0 },
	{ "gibit", 1073741824.0 }, { NULL, 0 },
};

static const struct unit size_units[] = {
	{ "b", 1 },		{ "k", 1024.0 },	{ "kb", 1024.0 },
	{ "kib", 1024.0 },	{ "m", 1048576.0 },	{ "mb", 1048576.0 },
	{ "mib", 1048576.0 },	{ "g", 1073741824.0 },	{ "gb", 1073741824.0 },
	{ "gib", 1073741824.0 }, { "t", 1099511627776.0 },
	{ "tb", 1099511627776.0 }, { NULL, 0 },
};

static const struct unit duration_units[] = {
	{ "ns", 1 },	{ "us", 1e3 },	{ "ms", 1e6 },	{ "s", 1e9 },
	{ "sec", 1e9 },	{ "m", 60e9 },	{ "min", 60e9 },	{ "h", 3600e9 },
	{ "d", 86400e9 }, { NULL, 0 },
};

static int parse_count(const char *word, uint64_t *out, char *err,
		       size_t errlen)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)word[0])) {
		snprintf(err, errlen, "'%s' is not a count (a whole number >= 0)",
			 word);
		return -1;
	}
	errno = 0;
	v = strtoull(word, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "'%s' is too large a count", word);
		return -1;
	}
	if (*end) {
		snprintf(err, errlen, "'%s' is not a count (a whole number >= 0)",
			 word);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_port_one(const char *s, size_t len, uint16_t *out,
			  const char *word, char *err, size_t errlen)
{
	unsigned long v = 0;

	if (!len || len > 6) {
		snprintf(err, errlen, "'%s' is not a port or port range", word);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i])) {
			snprintf(err, errlen,
				 "'%s' is not a port or port range (like 80 or 1000-2000)",
				 word);
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535) {
		snprintf(err, errlen, "port %lu is out of range (0-65535)", v);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_port(const char *word, struct ps_value *v, char *err,
		      size_t errlen)
{
	const char *dash = strchr(word, '-');

	if (!dash) {
		if (parse_port_one(word, strlen(word), &v->port.lo, word, err,
				   errlen))
			return -1;
		v->port.hi = v->port.lo;
		return 0;
	}
	if (parse_port_one(word, (size_t)(dash - word), &v->port.lo, word, err,
			   errlen) ||
	    parse_port_one(dash + 1, strlen(dash + 1), &v->port.hi, word, err,
			   errlen))
		return -1;
	if (v->port.lo > v->port.hi) {
		snprintf(err, errlen, "port range %s is reversed (low > high)",
			 word);
		return -1;
	}
	return 0;
}

static int parse_cidr(const char *word, struct ps_cidr *c, char *err,
		      size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(word, '/');
	size_t alen = slash ? (size_t)(slash - word) : strlen(word);
	int maxlen;

	memset(c, 0, sizeof(*c));
	if (alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or prefix",
			 word);
		return -1;
	}
	memcpy(addr, word, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		maxlen = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or prefix",
			 word);
		return -1;
	}
	c->prefixlen = (uint8_t)maxlen;
	if (slash) {
		const char *p = slash + 1;
		char *end;
		long len;

		errno = 0;
		len = strtol(p, &end, 10);
		if (!*p || *end || !isdigit((unsigned char)*p) || errno) {
			snprintf(err, errlen, "'%s' has a bad prefix length '%s'",
				 word, p);
			return -1;
		}
		if (len > maxlen) {
			snprintf(err, errlen,
				 "prefix length %ld is out of range for %s (0-%d)",
				 len, maxlen == 32 ? "IPv4" : "IPv6", maxlen);
			return -1;
		}
		c->prefixlen = (uint8_t)len;
	}
	/* clear host bits so equal prefixes compare equal */
	for (int bit = c->prefixlen; bit < maxlen; bit++)
		c->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	return 0;
}

bool ps_cidr_contains(const struct ps_cidr *c, int family, const void *addr)
{
	const uint8_t *a = addr;
	unsigned int full = c->prefixlen / 8, rest = c->prefixlen % 8;

	if (family != c->family)
		return false;
	if (memcmp(c->addr, a, full))
		return false;
	return !rest || !((c->addr[full] ^ a[full]) & (uint8_t)(0xff00 >> rest));
}

static int parse_iface(const char *word, const struct ps_arg_spec *spec,
		       char *err, size_t errlen)
{
	size_t len = strlen(word);

	if ((spec->flags & PS_ARG_ALL) && !strcmp(word, "all"))
		return 0;
	if (!len || len >= PS_IFNAMSIZ) {
		snprintf(err, errlen,
			 "'%s' is not an interface name (1-%d characters)",
			 word, PS_IFNAMSIZ - 1);
		return -1;
	}
	if (!strcmp(word, ".") || !strcmp(word, "..") || strchr(word, '/') ||
	    strchr(word, ':')) {
		snprintf(err, errlen, "'%s' is not an interface name", word);
		return -1;
	}
	for (const char *p = word; *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p)) {
			snprintf(err, errlen, "'%s' is not an interface name",
				 word);
			return -1;
		}
	return 0;
}

static int check_bounds(const struct ps_arg_spec *spec, const char *word,
			uint64_t v, char *err, size_t errlen)
{
	uint64_t min = spec->min, max = spec->max;

	/* 0 of a rate, size or duration means nothing; refuse by default */
	if (!min && !max && v == 0 &&
	    (spec->kind == PS_KIND_RATE || spec->kind == PS_KIND_SIZE ||
	     spec->kind == PS_KIND_DURATION)) {
		snprintf(err, errlen, "%s '%s' must be greater than zero",
			 spec->keyword ? spec->keyword : ps_kind_name(spec->kind),
			 word);
		return -1;
	}
	if ((min || max) && (v < min || (max && v > max))) {
		char lo[32], hi[32];

		switch (spec->kind) {
		case PS_KIND_RATE:
			ps_fmt_rate(min, lo, sizeof(lo));
			ps_fmt_rate(max, hi, sizeof(hi));
			break;
		case PS_KIND_SIZE:
			ps_fmt_size(min, lo, sizeof(lo));
			ps_fmt_size(max, hi, sizeof(hi));
			break;
		case PS_KIND_DURATION:
			ps_fmt_duration(min, lo, sizeof(lo));
			ps_fmt_duration(max, hi, sizeof(hi));
			break;
		default:
			snprintf(lo, sizeof(lo), "%" PRIu64, min);
			snprintf(hi, sizeof(hi), "%" PRIu64, max);
		}
		if (max)
			snprintf(err, errlen, "%s '%s' is out of range (%s-%s)",
				 spec->keyword, word, lo, hi);
		else
			snprintf(err, errlen, "%s '%s' must be at least %s",
				 spec->keyword, word, lo);
		return -1;
	}
	return 0;
}

static int parse_choice(const struct ps_arg_spec *spec, const char *word,
			struct ps_value *out, char *err, size_t errlen)
{
	size_t n = 0;
	int i;

	while (spec->choices && spec->choices[n])
		n++;
	i = ps_match_word(word, spec->choices, n);
	if (i == -2) {
		char list[256];

		ps_list_names(word, spec->choices, n, list, sizeof(list));
		snprintf(err, errlen, "%s '%s' is ambiguous: %s", spec->keyword,
			 word, list);
		return -1;
	}
	if (i < 0) {
		char buf[256];
		const char *s = ps_suggest(word, spec->choices, n);

		if (s)
			snprintf(err, errlen,
				 "unknown %s '%s'; did you mean '%s'?",
				 spec->keyword, word, s);
		else
			snprintf(err, errlen, "unknown %s '%s' (one of %s)",
				 spec->keyword, word,
				 ps_kind_metavar(spec, buf, sizeof(buf)));
		return -1;
	}
	out->u = (uint64_t)i;
	out->str = spec->choices[i];
	return 0;
}

static int parse_proto(const char *word, struct ps_value *out, char *err,
		       size_t errlen)
{
	int i = ps_match_word(word, proto_names, ARRAY_SIZE(proto_names) - 1);
	uint64_t v;

	/* names match exactly: `icmp` must not be ambiguous with `icmpv6` */
	for (size_t k = 0; proto_names[k]; k++)
		if (!strcasecmp(word, proto_names[k])) {
			out->u = proto_numbers[k];
			return 0;
		}
	if (isdigit((unsigned char)word[0])) {
		char tmp[128];

		if (parse_count(word, &v, tmp, sizeof(tmp)) || v > 255) {
			snprintf(err, errlen,
				 "'%s' is not a protocol (a name or 0-255)", word);
			return -1;
		}
		out->u = v;
		return 0;
	}
	if (i >= 0) {
		out->u = proto_numbers[i];
		return 0;
	}
	if (i == -2) {
		char list[128];

		ps_list_names(word, proto_names, ARRAY_SIZE(proto_names) - 1,
			      list, sizeof(list));
		snprintf(err, errlen, "ambiguous protocol '%s': %s", word, list);
		return -1;
	}
	const char *s = ps_suggest(word, proto_names, ARRAY_SIZE(proto_names) - 1);

	if (s)
		snprintf(err, errlen, "unknown protocol '%s'; did you mean '%s'?",
			 word, s);
	else
		snprintf(err, errlen,
			 "unknown protocol '%s' (tcp, udp, icmp, icmpv6, sctp, gre or 0-255)",
			 word);
	return -1;
}

int ps_parse_value_ctx(struct ps_ctx *ctx, const struct ps_arg_spec *spec,
		       const char *word, struct ps_value *out, char *err,
		       size_t errlen)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->kind = spec->kind;
	out->str = word;
	/* `off`: 0, which the bounds refuse as a number */
	if ((spec->flags & PS_ARG_OFF) && !strcmp(word, "off")) {
		out->u = 0;
		return 0;
	}
	switch (spec->kind) {
	case PS_KIND_FLAG:
		out->u = 1;
		break;
	case PS_KIND_WORD:
		/* positional words may be empty: `__complete proto ""` */
		if (!*word && !(spec->flags & PS_ARG_POSITIONAL)) {
			snprintf(err, errlen, "%s needs a non-empty value",
				 spec->keyword);
			r = -1;
		}
		break;
	case PS_KIND_FILE:
		if (!*word || strlen(word) >= PATH_MAX) {
			snprintf(err, errlen, "'%.64s' is not a usable file name",
				 word);
			r = -1;
		}
		break;
	case PS_KIND_CHOICE:
		r = parse_choice(spec, word, out, err, errlen);
		break;
	case PS_KIND_IFACE:
		r = parse_iface(word, spec, err, errlen);
		break;
	case PS_KIND_PROTO:
		r = parse_proto(word, out, err, errlen);
		break;
	case PS_KIND_CIDR:
		r = parse_cidr(word, &out->cidr, err, errlen);
		break;
	case PS_KIND_PORT:
		r = parse_port(word, out, err, errlen);
		break;
	case PS_KIND_RATE:
		r = parse_scaled(word, rate_units, 1, "rate (like 10mbit, 1.5gbit, 500kbps)",
				 &out->u, err, errlen);
		break;
	case PS_KIND_SIZE:
		r = parse_scaled(word, size_units, 1, "size (like 1500, 64k, 1m)",
				 &out->u, err, errlen);
		break;
	case PS_KIND_DURATION:
		r = parse_scaled(word, duration_units, 1e9,
				 "duration (like 500ms, 10s, 5m)", &out->u, err,
				 errlen);
		break;
	case PS_KIND_COUNT:
		r = parse_count(word, &out->u, err, errlen);
		break;
	case PS_KIND_PLUGIN:
	case PS_KIND_OBJECT:
		if (ctx && ctx->plugins_loaded) {
			struct ps_object *o = ps_find_object(ctx, word);

			if (!o || (spec->kind == PS_KIND_PLUGIN && !o->plugin)) {
				snprintf(err, errlen, "no %s named '%s'",
					 spec->kind == PS_KIND_PLUGIN ?
						 "plugin" : "object", word);
				r = -1;
			}
		}
		break;
	default:
		snprintf(err, errlen, "internal: unknown kind %d", spec->kind);
		r = -1;
	}
	if (!r && (spec->kind == PS_KIND_COUNT || spec->kind == PS_KIND_RATE ||
		   spec->kind == PS_KIND_SIZE || spec->kind == PS_KIND_DURATION))
		r = check_bounds(spec, word, out->u, err, errlen);
	return r;
}

int ps_parse_value(const struct ps_arg_spec *spec, const char *word,
		   struct ps_value *out, char *err, size_t errlen)
{
	return ps_parse_value_ctx(NULL, spec, word, out, err, errlen);
}

/* ---- a command's arguments ---- */

static size_t count_specs(const struct ps_arg_spec *specs)
{
	size_t n = 0;

	while (specs && specs[n].keyword)
		n++;
	return n;
}

int ps_args_parse(struct ps_ctx *ctx, const char *where,
		  const struct ps_arg_spec *specs, int argc, char **argv,
		  struct ps_args *out)
{
	size_t nspec = count_specs(specs);
	const char *kw[PS_MAX_ARGS];
	size_t nkw = 0, kwidx[PS_MAX_ARGS];
	char err[512];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nspec && nkw < PS_MAX_ARGS; i++)
		if (!(specs[i].flags & PS_ARG_POSITIONAL)) {
			kwidx[nkw] = i;
			kw[nkw++] = specs[i].keyword;
		}

	size_t next_pos = 0;

	for (int i = 0; i < argc; i++) {
		const struct ps_arg_spec *spec = NULL;
		const char *word = argv[i];
		int m = ps_match_word(word, kw, nkw);

		if (m == -2) {
			char list[256];

			ps_list_names(word, kw, nkw, list, sizeof(list));
			return ps_usage_err(ctx, "ambiguous argument '%s' for '%s': %s",
					    word, where, list);
		}
		if (m >= 0) {
			spec = &specs[kwidx[m]];
			if (spec->kind != PS_KIND_FLAG) {
				char mvbuf[256];

				if (i + 1 >= argc)
					return ps_usage_err(ctx, "'%s' needs a value (%s %s)",
							    spec->keyword, spec->keyword,
							    ps_kind_metavar(spec, mvbuf, sizeof(mvbuf)));
				word = argv[++i];
			}
		} else {
			/* the next positional takes a word that is no keyword */
			while (next_pos < nspec &&
			       !(specs[next_pos].flags & PS_ARG_POSITIONAL))
				next_pos++;
			if (next_pos < nspec) {
				spec = &specs[next_pos];
				if (!(spec->flags & PS_ARG_REPEAT))
					next_pos++;
			}
		}
		if (!spec) {
			const char *s = ps_suggest(word, kw, nkw);

			if (s)
				return ps_usage_err(ctx,
					"unknown argument '%s' for '%s'; did you mean '%s'?",
					word, where, s);
			if (!nkw)
				return ps_usage_err(ctx, "'%s' takes no argument '%s'",
						    where, word);
			char list[512];

			ps_list_names("", kw, nkw, list, sizeof(list));
			return ps_usage_err(ctx,
				"unknown argument '%s' for '%s' (expected: %s)",
				word, where, list);
		}
		if (!(spec->flags & PS_ARG_REPEAT) && ps_arg_has(out, spec->keyword))
			return ps_usage_err(ctx, "'%s' given twice", spec->keyword);
		if (out->n >= PS_MAX_ARGS)
			return ps_usage_err(ctx, "too many arguments (at most %d)",
					    PS_MAX_ARGS);
		if (ps_parse_value_ctx(ctx, spec, word, &out->a[out->n].v, err,
				       sizeof(err)))
			return ps_usage_err(ctx, "%s", err);
		out->a[out->n].spec = spec;
		out->n++;
	}
	for (size_t i = 0; i < nspec; i++) {
		char mvbuf[256];

		if (!(specs[i].flags & PS_ARG_REQUIRED) ||
		    ps_arg_has(out, specs[i].keyword))
			continue;
		if (specs[i].flags & PS_ARG_POSITIONAL)
			return ps_usage_err(ctx, "'%s' needs %s", where,
					    ps_kind_metavar(&specs[i], mvbuf, sizeof(mvbuf)));
		return ps_usage_err(ctx, "'%s' needs '%s %s'", where,
				    specs[i].keyword,
				    ps_kind_metavar(&specs[i], mvbuf, sizeof(mvbuf)));
	}
	return PS_OK;
}

void ps_synopsis(const struct ps_arg_spec *specs, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; specs && specs[i].keyword && off < len; i++) {
		const struct ps_arg_spec *s = &specs[i];
		bool opt = !(s->flags & PS_ARG_REQUIRED);
		char mvbuf[256];
		const char *mv = ps_kind_metavar(s, mvbuf, sizeof(mvbuf));

		off += snprintf(buf + off, len - off, "%s%s", off ? " " : "",
				opt ? "[" : "");
		if (off >= len)
			break;
		if (s->flags & PS_ARG_POSITIONAL)
			off += snprintf(buf + off, len - off, "%s", mv);
		else if (s->kind == PS_KIND_FLAG)
			off += snprintf(buf + off, len - off, "%s", s->keyword);
		else
			off += snprintf(buf + off, len - off, "%s %s", s->keyword, mv);
		if (off >= len)
			break;
		off += snprintf(buf + off, len - off, "%s%s", opt ? "]" : "",
				(s->flags & PS_ARG_REPEAT) ? "..." : "");
	}
}

/* ---- accessors ---- */

bool ps_arg_has(const struct ps_args *args, const char *keyword)
{
	return ps_arg_get(args, keyword) != NULL;
}

size_t ps_arg_count(const struct ps_args *args, const char *keyword)
{
	size_t n = 0;

	for (size_t i = 0; args && i < args->n; i++)
		if (!strcmp(args->a[i].spec->keyword, keyword))
			n++;
	return n;
}

const struct ps_value *ps_arg_nth(const struct ps_args *args,
				  const char *keyword, size_t nth)
{
	for (size_t i = 0; args && i < args->n; i++)
		if (!strcmp(args->a[i].spec->keyword, keyword) && !nth--)
			return &args->a[i].v;
	return NULL;
}

const struct ps_value *ps_arg_get(const struct ps_args *args,
				  const char *keyword)
{
	return ps_arg_nth(args, keyword, 0);
}

const char *ps_arg_str(const struct ps_args *args, const char *keyword,
		       const char *def)
{
	const struct ps_value *v = ps_arg_get(args, keyword);

	return v ? v->str : def;
}

uint64_t ps_arg_u64(const struct ps_args *args, const char *keyword,
		    uint64_t def)
{
	const struct ps_value *v = ps_arg_get(args, keyword);

	return v ? v->u : def;
}

/* ---- human formatting ---- */

/* trims "1.50" to "1.5" and "2.00" to "2" */
static const char *fmt_scaled(double v, const char *unit, char *buf,
			      size_t len)
{
	char num[32];
	char *p;

	snprintf(num, sizeof(num), "%.2f", v);
	p = num + strlen(num) - 1;
	while (p > num && *p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	snprintf(buf, len, "%s%s", num, unit);
	return buf;
}

/*
 * A measured value in the largest unit that keeps it below base: three
 * significant digits (5.20mbit, 52.0mbit, 520mbit), trailing zeros dropped
 * only when the value is exact at that precision (10mbit, 1.5gbit, 64KiB),
 * so that values a user typed read back as typed.  Values in the first unit
 * are whole numbers.  The unit goes up on the rounded value: 999.9 is 1.00k.
 */
static const char *fmt_sig3(double v, double base, const char *const *u,
			    size_t nu, char *buf, size_t len)
{
	size_t i = 0;
	int dec;

	if (!isfinite(v) || v < 0)
		v = 0;
	while (v >= base - 0.5 && i < nu - 1) {
		v /= base;
		i++;
	}
	if (!i) {
		snprintf(buf, len, "%.0f%s", v, u[0]);
		return buf;
	}
	dec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
	double scale = dec == 2 ? 100 : dec == 1 ? 10 : 1;

	if (fabs(v * scale - rint(v * scale)) < 1e-6)
		return fmt_scaled(v, u[i], buf, len);
	snprintf(buf, len, "%.*f%s", dec, v, u[i]);
	return buf;
}

const char *ps_fmt_rate(uint64_t bps, char *buf, size_t len)
{
	static const char *const u[] = { "bit", "kbit", "mbit", "gbit", "tbit" };

	return fmt_sig3((double)bps, 1000, u, ARRAY_SIZE(u), buf, len);
}

const char *ps_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };

	return fmt_sig3((double)bytes, 1024, u, ARRAY_SIZE(u), buf, len);
}

const char *ps_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns >= 3600000000000ULL && ns % 60000000000ULL == 0)
		return fmt_scaled((double)ns / 3600e9, "h", buf, len);
	if (ns >= 60000000000ULL && ns % 1000000000ULL == 0)
		return fmt_scaled((double)ns / 60e9, "m", buf, len);
	if (ns >= 1000000000ULL)
		return fmt_scaled((double)ns / 1e9, "s", buf, len);
	if (ns >= 1000000ULL)
		return fmt_scaled((double)ns / 1e6, "ms", buf, len);
	if (ns >= 1000ULL)
		return fmt_scaled((double)ns / 1e3, "us", buf, len);
	return fmt_scaled((double)ns, "ns", buf, len);
}

const char *ps_fmt_time(uint64_t epoch_ns, int frac_digits, char *buf,
			size_t len)
{
	time_t sec = (time_t)(epoch_ns / 1000000000ULL);
	unsigned long frac = (unsigned long)(epoch_ns % 1000000000ULL);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) ||
	    !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "1970-01-01T00:00:00Z");
		return buf;
	}
	if (frac_digits > 0 && frac_digits <= 9) {
		for (int i = frac_digits; i < 9; i++)
			frac /= 10;
		n += (size_t)snprintf(buf + n, len - n, ".%0*lu", frac_digits,
				      frac);
	}
	if (n < len)
		snprintf(buf + n, len - n, "Z");
	return buf;
}

const char *ps_fmt_count(double v, char *buf, size_t len)
{
	static const char *const u[] = { "", "k", "M", "G", "T" };

	return fmt_sig3(v, 1000, u, ARRAY_SIZE(u), buf, len);
}

const char *ps_fmt_cidr(const struct ps_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == AF_INET6 ? AF_INET6 : AF_INET, c->addr, a,
		       sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, c->prefixlen);
	return buf;
}
