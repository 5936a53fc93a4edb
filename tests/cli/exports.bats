#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# libpktscope exports its plugin API and nothing else: `nm -D` of the built
# library against the functions and objects include/pktscope/plugin.h
# declares (read from the preprocessed header, so comments do not count),
# plus the binary's private entry points, which plugins must not use.

load ../lib/common

lib() { echo "$TOP_BUILDDIR/.libs/libpktscope.so"; }

# name@@VERSION of every defined dynamic symbol but the version nodes
exports() {
	nm -D --defined-only "$(lib)" | awk '$2 != "A" { print $3 }' | sort
}

# every ps_ function or array declared in the installed headers themselves
# (include/pktscope/*.h; the BPF side, include/pktscope/bpf/, is not linked)
declared() {
	local h
	for h in "$TOP_SRCDIR"/include/pktscope/*.h; do
		${CC:-cc} -E -D_GNU_SOURCE -I"$TOP_SRCDIR/include" "$h" |
			awk -v me="$(basename "$h")" '
			     /^# [0-9]+ "/ { mine = (index($3, "pktscope/" me "\"") > 0); next }
			     mine'
	done | grep -oE '\bps_[a-z0-9_]+[[:space:]]*[[(]' |
		sed -E 's/[[:space:]]*[[(]$//' | sort -u
}

# the PKTSCOPE_PRIVATE node of the version script
private() {
	sed -n '/^PKTSCOPE_PRIVATE/,/^}/p' "$TOP_SRCDIR/core/libpktscope.sym" |
		sed -n 's/^[[:space:]]*\(ps_[a-z0-9_]*\);$/\1/p' | sort
}

@test "nm -D libpktscope.so lists exactly the installed headers' API, as PKTSCOPE_1" {
	[ -f "$(lib)" ]
	want=$(declared | sed 's/$/@@PKTSCOPE_1/')
	got=$(exports | grep '@@PKTSCOPE_1$')
	[ "$(wc -l <<<"$want")" -ge 60 ]
	diff <(echo "$want") <(echo "$got")
}

@test "nothing else is exported but the binary's private entry points" {
	want=$( { declared | sed 's/$/@@PKTSCOPE_1/'
		  private | sed 's/$/@@PKTSCOPE_PRIVATE/'; } | sort)
	diff <(echo "$want") <(exports)
	# internal functions the old library leaked stay inside
	! exports | grep -Eq '^(ps_dispatch|ps_find_object|ps_args_parse)@'
}

@test "the private entry points are only what the binary and unit tests call" {
	local sym
	for sym in $(private); do
		grep -qw "$sym" "$TOP_SRCDIR/core/main.c" "$TOP_SRCDIR/core/repl.c" \
			"$TOP_SRCDIR"/tests/unit/*.c ||
			fail "$sym is exported as private but nothing outside the library calls it"
		! grep -qw "$sym" "$TOP_SRCDIR/include/pktscope/plugin.h" ||
			fail "$sym is in plugin.h and private"
	done
}
