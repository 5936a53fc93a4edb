// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A word against a table of names: exact or unambiguous prefix, the names
 * a prefix fits, and a suggestion for a typo.  Objects, verbs, keywords,
 * choices and long options all match here.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int ps_match_word(const char *word, const char *const *names, size_t n)
{
	size_t len = strlen(word);
	int found = -1;

	if (!len)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(word, names[i]))
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || strncmp(word, names[i], len))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

void ps_list_names(const char *word, const char *const *names, size_t n,
		   char *buf, size_t len)
{
	size_t wl = strlen(word), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		if (names[i] && !strncmp(word, names[i], wl))
			off += snprintf(buf + off, len - off, "%s%s",
					off ? ", " : "", names[i]);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t best = row[j] + 1 < row[j - 1] + 1 ?
					      row[j] + 1 : row[j - 1] + 1;

			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *ps_suggest(const char *word, const char *const *names, size_t n)
{
	size_t best = SIZE_MAX, wl = strlen(word);
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!names[i])
			continue;
		d = edit_distance(word, names[i]);
		if (d < best) {
			best = d;
			pick = names[i];
		}
	}
	/* a suggestion must be closer than a guess */
	if (pick && best <= 2 && best < wl)
		return pick;
	return NULL;
}
