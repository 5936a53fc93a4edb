#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# bench_ab.sh A B [RUNS] [ARGS...]: one benchmark of two builds (A, B: the
# same bench/ program of two trees, say before and after a change) run in
# turn, RUNS times each (default 3), A first then B, all under one hold of
# the machine's bench lock, so that both see the same load; each run's
# output is printed under its name.  Compare the two side by side, run by
# run.  The lock is taken here: call it as it is, not under flock.
set -eu

if [ "${BENCH_AB_LOCKED:-}" != 1 ]; then
	BENCH_AB_LOCKED=1 exec flock /tmp/pktscope-bench.lock "$0" "$@"
fi

[ $# -ge 2 ] || { echo "usage: $0 A B [RUNS] [ARGS...]" >&2; exit 2; }
a=$1 b=$2
shift 2
runs=3
if [ $# -gt 0 ]; then
	runs=$1
	shift
fi
for p in "$a" "$b"; do
	[ -x "$p" ] || { echo "$0: $p is not a program" >&2; exit 2; }
done
i=1
while [ "$i" -le "$runs" ]; do
	for p in "$a" "$b"; do
		echo "=== run $i: $p"
		"$p" "$@"
	done
	i=$((i + 1))
done
