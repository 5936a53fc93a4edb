#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Interactive feel: wall time of `plugin list`, `help` and `__complete`
# against `bpftool version`, interleaved in one run; medians and ratios.
# Goal: each <= 2x bpftool version, and __complete < 20 ms.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PKTSCOPE=${PKTSCOPE:-$here/pktscope}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
ROUNDS=${ROUNDS:-60}

# libtool's wrapper script would be timed too: run the real binary
if [ -x "$here/.libs/pktscope" ] && head -c 2 "$PKTSCOPE" | grep -q '#!'; then
	export LD_LIBRARY_PATH="$here/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	PKTSCOPE=$here/.libs/pktscope
fi

declare -A cmd=(
	[bpftool]="$BPFTOOL version"
	[plugin_list]="$PKTSCOPE plugin list"
	[help]="$PKTSCOPE help"
	[complete]="$PKTSCOPE __complete proto-stats attach dev lo mode x"
)
order=(bpftool plugin_list help complete)
declare -A samples

now_us() { local t; t=$(date +%s%6N); echo "$t"; }

for ((r = 0; r < ROUNDS; r++)); do
	for k in "${order[@]}"; do
		t0=$(now_us)
		${cmd[$k]} >/dev/null 2>&1
		t1=$(now_us)
		samples[$k]+="$((t1 - t0)) "
	done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

base=$(median "${samples[bpftool]}")
printf '%-12s %10s %8s  %s\n' COMMAND "MEDIAN_US" RATIO GOAL
for k in "${order[@]}"; do
	m=$(median "${samples[$k]}")
	ratio=$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
	goal="<= 2.00x bpftool"
	[ "$k" = bpftool ] && goal="baseline"
	[ "$k" = complete ] && goal="<= 2.00x bpftool, < 20000 us"
	printf '%-12s %10s %8s  %s\n' "$k" "$m" "${ratio}x" "$goal"
done
