#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `pktscope serve`: every plugin with a BPF object attached to 4 lab
# interfaces, a private bpffs.  Side by side in one run, interleaved:
#   /metrics (a fresh collection each scrape: interval 0) against / (the
#   same HTTP path, no collection), medians and ratio.  Goal: /metrics < 10 ms.
#   The same with `top 1000` after random-source traffic fills the top
#   tables: ~10k series.  Goal (issue #14): < 50 ms.
#   CPU of the serve process scraped once a second (utime+stime over the
#   run).  Goal: < 1% of a core.
#   BASE=<build tree of another version>: that version's server too, on the
#   same pins, scraped in turn with this one's (medians and new/base).
# Run it under the machine-wide lock:
#   flock /tmp/pktscope-bench.lock bench/bench_serve.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
REAL=${PKTSCOPE:-$here/pktscope}
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-200}
CPU_SECONDS=${CPU_SECONDS:-20}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}

# libtool's wrapper script is a shell: run the real binary, so that $! is
# the server and its CPU is what is measured
if [ -x "$here/.libs/pktscope" ] && head -c 2 "$REAL" | grep -q '#!'; then
	export LD_LIBRARY_PATH="$here/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	REAL=$here/.libs/pktscope
fi

BASE_REAL=
if [ -n "${BASE:-}" ]; then
	BASE_REAL=$BASE/.libs/pktscope
	[ -x "$BASE_REAL" ] || { echo "BASE=$BASE: no .libs/pktscope there" >&2; exit 1; }
fi

# shellcheck source=../tests/lib/lab.bash
source "$here/tests/lib/lab.bash"
BPFFS=$(mktemp -d /tmp/pktscope-bench-bpffs.XXXXXX)
mount -t bpf bpf "$BPFFS"
SERVE_PID=
BASE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	[ -n "$BASE_PID" ] && kill "$BASE_PID" 2>/dev/null && wait "$BASE_PID" 2>/dev/null
	for p in $plugins; do "$REAL" --bpffs "$BPFFS" -q "$p" detach dev all >/dev/null 2>&1 || true; done
	lab_cleanup
	umount "$BPFFS" && rmdir "$BPFFS"
}
plugins=$("$REAL" -q plugin list | awk 'NR > 1 && $4 == "yes" {print $1}')
trap cleanup EXIT
P() { "$REAL" --bpffs "$BPFFS" "$@"; }

ifs=()
for i in 1 2 3 4; do
	lab_up "bench$i" >/dev/null
	ifs+=("$LAB_HOST_IF")
	for p in $plugins; do
		P -q "$p" attach dev "$LAB_HOST_IF" >/dev/null ||
			echo "note: $p does not attach with defaults; left out" >&2
	done
	lab_send --count 20 >/dev/null
done
echo "plugins: $(echo $plugins) on ${#ifs[@]} interfaces"

# serve_on BINARY OUT INTERVAL [ARGS...]: its pid in SPID, port in SPORT
serve_on() {
	local bin=$1 out=$2 iv=$3
	shift 3
	rm -f "$out"	# the port read is this server's, not the last one's
	LD_LIBRARY_PATH="$(dirname "$bin")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$bin" --bpffs "$BPFFS" -j serve listen 127.0.0.1:0 interval "$iv" "$@" \
		>"$out" 2>&1 &
	SPID=$!
	for _ in $(seq 50); do
		SPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out" 2>/dev/null)
		[ -n "$SPORT" ] && return 0
		sleep 0.1
	done
	cat "$out" >&2
	return 1
}
# start_serve INTERVAL [ARGS...]
start_serve() {
	serve_on "$REAL" "$BPFFS.out" "$@" || return
	SERVE_PID=$SPID PORT=$SPORT
	if [ -n "$BASE_REAL" ]; then
		serve_on "$BASE_REAL" "$BPFFS.base.out" "$@" || return
		BASE_PID=$SPID BASE_PORT=$SPORT
	fi
}
stop_serve() {
	kill "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=
	if [ -n "$BASE_PID" ]; then
		kill "$BASE_PID"; wait "$BASE_PID" || true; BASE_PID=
	fi
}

# interleaved scrapes of /metrics and / (and BASE's /metrics): medians in
# ms, series count
scrape_bench() {
	"$PY" - "$PORT" "$ROUNDS" "${BASE_PORT:-0}" <<-'EOF'
	import http.client, statistics, sys, time
	port, rounds, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
	t = {(port, "/metrics"): [], (port, "/"): []}
	if base:
	    t[(base, "/metrics")] = []
	series = 0
	for _ in range(rounds):
	    for (p, path) in t:
	        t0 = time.perf_counter()
	        c = http.client.HTTPConnection("127.0.0.1", p, timeout=10)
	        c.request("GET", path)
	        body = c.getresponse().read()
	        c.close()
	        t[(p, path)].append((time.perf_counter() - t0) * 1e3)
	        if p == port and path == "/metrics":
	            series = sum(1 for l in body.split(b"\n") if l and not l.startswith(b"#"))
	m = statistics.median(t[(port, "/metrics")])
	i = statistics.median(t[(port, "/")])
	out = f"{series} {m:.3f} {i:.3f} {m / i:.2f}"
	if base:
	    b = statistics.median(t[(base, "/metrics")])
	    out += f" {b:.3f} {m / b:.2f}"
	print(out)
	EOF
}

# one line of the table; with BASE, its median and new/base after the goal
row() {
	local name=$1 goal=$2 series m i ratio b nb
	read -r series m i ratio b nb < <(scrape_bench)
	printf '%-28s %8s %12s %10s %7s  %s' "$name" "$series" "$m" "$i" "${ratio}x" "$goal"
	[ -n "$BASE_REAL" ] && printf '  base %s ms, new/base %sx' "$b" "$nb"
	printf '\n'
}

printf '%-28s %8s %12s %10s %7s  %s\n' CASE SERIES METRICS_MS INDEX_MS RATIO GOAL
start_serve 0
row "all plugins, 4 ifs" "metrics < 10 ms"
stop_serve

# fill the top tables: random sources on every interface, each admitted
# (proto-stats' sample_src = 1: plain LRU, bpf/proto_stats.h)
for i in 1 2 3 4; do
	lab_use "bench$i"
	"$BPFTOOL" map update pinned "$BPFFS/pktscope/$LAB_HOST_IF/proto-stats/config" \
		key 0 0 0 0 value 1 0 0 0 1 0 0 0
	lab_send --mix udp-flood --family 6 --src-random --count 2500 >/dev/null
done
start_serve 0 top 1000
row "top 1000 (random sources)" "10k series < 50 ms"
stop_serve

# CPU of the server over CPU_SECONDS of one scrape a second: % of a core
cpu_while_scraped() {
	local hz c0 c1 t0 t1
	hz=$(getconf CLK_TCK)
	c0=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
	t0=$(date +%s%N)
	for _ in $(seq "$CPU_SECONDS"); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics"
		sleep 1
	done
	c1=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
	t1=$(date +%s%N)
	awk -v c=$((c1 - c0)) -v hz="$hz" -v ns=$((t1 - t0)) \
		'BEGIN {printf "%.3f", 100 * (c / hz) / (ns / 1e9)}'
}

for iv in 5s 0; do
	# this version's server alone
	serve_on "$REAL" "$BPFFS.out" "$iv"
	SERVE_PID=$SPID PORT=$SPORT
	sleep 1
	printf 'serve CPU, scraped every 1 s for %s s (interval %s): %s%% of a core  (goal < 1%%)\n' \
		"$CPU_SECONDS" "$iv" "$(cpu_while_scraped)"
	stop_serve
done
