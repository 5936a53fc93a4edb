/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A strict JSON (RFC 8259) and UTF-8 checker for the fuzzers: the writer's
 * output must parse, every string must be well-formed UTF-8.  No library:
 * it only says yes or no, and must not share a bug with the writer.
 */
#ifndef PS_FUZZ_JSON_CHECK_H
#define PS_FUZZ_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jc {
	const unsigned char *p, *end;
	int depth;
};

static void jc_ws(struct jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool jc_utf8(struct jc *c)
{
	unsigned char b = *c->p;
	unsigned int cp, min;
	int n;

	if (b < 0xc2 || b > 0xf4)
		return false;
	n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
	if (c->end - c->p < n)
		return false;
	min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
	cp = b & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (c->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	c->p += n;
	return true;
}

static bool jc_string(struct jc *c)
{
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p < 0x20)
			return false;
		if (*c->p == '\\') {
			if (++c->p >= c->end)
				return false;
			if (*c->p == 'u') {
				if (c->end - c->p < 5)
					return false;
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", c->p[i]) || !c->p[i])
						return false;
				c->p += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", *c->p) || !*c->p)
				return false;
			c->p++;
		} else if (*c->p >= 0x80) {
			if (!jc_utf8(c))
				return false;
		} else {
			c->p++;
		}
	}
	if (c->p >= c->end)
		return false;
	c->p++;
	return true;
}

static bool jc_number(struct jc *c)
{
	const unsigned char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return false;
	if (*c->p == '0')
		c->p++;
	else
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s;
}

static bool jc_lit(struct jc *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return false;
	c->p += n;
	return true;
}

static bool jc_value(struct jc *c);

static bool jc_container(struct jc *c, char close, bool object)
{
	if (++c->depth > 64)
		return false;
	c->p++;
	jc_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return true;
	}
	for (;;) {
		jc_ws(c);
		if (object) {
			if (c->p >= c->end || *c->p != '"' || !jc_string(c))
				return false;
			jc_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return false;
		}
		if (!jc_value(c))
			return false;
		jc_ws(c);
		if (c->p >= c->end)
			return false;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p++ != close)
			return false;
		c->depth--;
		return true;
	}
}

static bool jc_value(struct jc *c)
{
	jc_ws(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{': return jc_container(c, '}', true);
	case '[': return jc_container(c, ']', false);
	case '"': return jc_string(c);
	case 't': return jc_lit(c, "true");
	case 'f': return jc_lit(c, "false");
	case 'n': return jc_lit(c, "null");
	default: return jc_number(c);
	}
}

/* every line of buf one JSON document (JSON Lines), or the whole one */
static bool json_valid(const char *buf, size_t len, bool lines)
{
	struct jc c = { (const unsigned char *)buf,
			(const unsigned char *)buf + len, 0 };

	if (!lines) {
		if (!jc_value(&c))
			return false;
		jc_ws(&c);
		return c.p == c.end;
	}
	while (c.p < c.end) {
		const unsigned char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p));
		struct jc l = { c.p, nl ? nl : c.end, 0 };

		if (!jc_value(&l))
			return false;
		jc_ws(&l);
		if (l.p != l.end)
			return false;
		c.p = nl ? nl + 1 : c.end;
	}
	return true;
}

#endif
