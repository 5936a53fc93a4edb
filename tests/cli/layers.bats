#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The core's modules depend on each other in one direction: the registry
# owns the objects, and no module needs one that needs it back.  Checked
# on what the compiler and linker see, not on what comments say: the
# symbols each object file uses from another, and the core headers each
# file includes.

load ../lib/common

graph() { "$PKTSCOPE_TESTLIB/core-graph.sh" "$@"; }

@test "no cycle among the core's object files (symbols one uses from another)" {
	run graph symbols "$PKTSCOPE_BUILDDIR"
	[ "$status" -eq 0 ]
	# the graph is real: every module of the core is in it
	[ "$(wc -l <<<"$output")" -ge 40 ] || fail "too few edges: $output"
	grep -qx 'loader context' <<<"$output" || fail "no edge loader -> context in: $output"
	edges=$output
	run tsort <<<"$edges"
	[ "$status" -eq 0 ] || fail "the core's modules call each other in a cycle: $(grep tsort <<<"$output")"
}

@test "no cycle among the core's headers (which file includes which)" {
	run graph includes "$PKTSCOPE_SRCDIR"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -ge 20 ] || fail "too few edges: $output"
	grep -qx 'main repl' <<<"$output" || fail "no edge main -> repl in: $output"
	edges=$output
	run tsort <<<"$edges"
	[ "$status" -eq 0 ] || fail "the core's headers include each other in a cycle: $(grep tsort <<<"$output")"
}

@test "only the registry touches the list of objects" {
	# ctx->objects is the registry's alone; the others ask registry.h
	run grep -l -E '(ctx|->)[a-z]*->n?objects\b' "$PKTSCOPE_SRCDIR"/core/*.c
	[ "$output" = "$PKTSCOPE_SRCDIR/core/registry.c" ] ||
		fail "files that reach into the list of objects: $output"
}
