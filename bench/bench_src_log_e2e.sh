#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# bench_src_log_e2e.sh - src-log end to end on a veth flood, side by side
# with the bare parser and with tcpdump.  Run as root, by hand (not part of
# make check):
#
#     bench/bench_src_log_e2e.sh                 # RUNS=5 DURATION=3
#     RUNS=5 DURATION=5 BENCH_CPU=1 READER_CPU=0 bench/bench_src_log_e2e.sh
#     SENDER=python bench/bench_src_log_e2e.sh   # sendpkts.py instead of C
#     WATCH_FORMAT=text bench/bench_src_log_e2e.sh
#     RATE=200000 bench/bench_src_log_e2e.sh     # a paced flood (packets/s)
#     RECORD_RATES="50000 100000 200000 0" DURATION=2 bench/bench_src_log_e2e.sh
#                                  # `record` to each file format at each rate
#
# One sender in the lab's namespace (tests/lib/lab.bash) floods the host end
# of the veth with one 64-byte IPv4 UDP frame (sendpkts.py --mix udp-flood),
# pinned to BENCH_CPU with taskset.  A veth delivers on the sending CPU: the
# XDP program, the AF_PACKET taps and the stack run in the sender's softirq,
# so the sender's packets/second is the end-to-end rate and a costlier hook
# shows up in it.  The consumers (pktscope's reader, tcpdump) are pinned to
# READER_CPU, another CPU when there is one.  The sender is a small C
# program (sendmmsg on AF_PACKET, qdisc bypass; bench/bench_e2e.sh's
# approach), built here; python's sendpkts.py costs microseconds a frame and
# would hide the hook (SENDER=python uses it anyway).
#
# Variants, interleaved: RUNS rounds of DURATION seconds each, the order
# rotating every round, after one 0.5 s warm-up of each:
#   none         nothing on the interface (context)
#   parse        bpf/bench_parse.bpf.o (section xdp, program parse_xdp: the
#                shared parser and a per-CPU counter), attached with
#                `ip link set dev IF xdp obj ... sec xdp`: the baseline
#   srclog       `src-log attach mode xdp` (sample 1, no cap, no filter) and
#                `src-log -j watch` reading every event (to /dev/null)
#   newflows     the same with new-flows: one flow, so one event, the rest
#                not_new
#   srclog-tcx   srclog in mode tcx (context: the skb path, where tcpdump's
#                tap is too; an XDP program on a veth moves its receive path
#                to NAPI, which costs the bare parser as much as src-log)
#   tcpdump-w    `tcpdump -n -Q in -w /dev/null -i IF`, no pktscope attached
#                (-Q in: the host's replies are not what arrives)
#   tcpdump-txt  `tcpdump -n -Q in -i IF > /dev/null`, no pktscope attached
#   together     src-log (tcx) watch, tcpdump -w and text tcpdump reading
#                the same flood at once, all on READER_CPU: who delivers
#                more of the same packets
#   together-tty the same, but src-log's watch (text) and text tcpdump print
#                to terminals, as a user watching them would
#                (bench/ptysink.py gives each a pty and discards what it
#                reads there)
#   overload     src-log (tcx) watch, tcpdump -w and text tcpdump on the
#                same flood from a C sender on every CPU, the readers not
#                pinned: more than this host absorbs, a NIC flood's
#                softirq work competing with the readers for the CPUs
# Measured each run: the sender's packets/s (tx), what the hook saw (the
# parse program's counter, src-log's `seen`, tcpdump's "received by
# filter", the veth's rx_packets for none), what reached the user (src-log's
# events -- the watch is stopped 1 s after the flood, once it has drained
# the ring -- and tcpdump's "captured") and what was lost (src-log `lost`,
# tcpdump "dropped by kernel").
#
# Goals (medians):
#   srclog tx >= 0.8x parse tx, with lost == 0 in every run
#   newflows tx >= 0.9x parse tx
#   srclog delivered/s >= 1.0x tcpdump-w captured/s, >= 1.25x tcpdump-txt's
#   (alone, every reader keeps up with what one sender makes here; on the
#   same packets: together, together-tty, overload)
# Also measured: each reader's CPU time (user + system, from /proc) per
# packet it delivered.  Its inverse is the flood the reader can keep up
# with on a CPU of its own, whichever flood this machine can make.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PKTSCOPE=${PKTSCOPE:-$here/pktscope}
PARSE_OBJ=${PARSE_OBJ:-$here/bpf/bench_parse.bpf.o}
RUNS=${RUNS:-5}
DURATION=${DURATION:-3}
SENDER=${SENDER:-auto}			# auto | c | python
WATCH_FORMAT=${WATCH_FORMAT:-json}	# json (-j) | text

die() { printf 'bench_src_log_e2e: %s\n' "$*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root"
for c in ip jq taskset awk tcpdump bpftool; do
	command -v "$c" >/dev/null || die "$c not found"
done
[[ -x $PKTSCOPE ]] || die "no pktscope at $PKTSCOPE (build first)"
[[ -r $PARSE_OBJ ]] || die "no $PARSE_OBJ (make builds it)"
((RUNS >= 3)) || die "RUNS must be >= 3"
case $WATCH_FORMAT in
json) WATCH_J=(-j) ;;
text) WATCH_J=() ;;
*) die "WATCH_FORMAT is json or text" ;;
esac

# shellcheck source=tests/lib/lab.bash disable=SC1091
source "$here/tests/lib/lab.bash"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench_src_log_e2e.XXXXXX")
# a private bpffs: nothing else (make check, a user) sees or detaches ours
BPFFS=$WORK/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || die "cannot mount a bpffs at $BPFFS"
BG=
cleanup_work() {
	local p
	for p in $BG; do kill -KILL "$p" 2>/dev/null || true; done
	if [[ -n ${IF:-} ]]; then
		ip link set dev "$IF" xdp off 2>/dev/null || true
	fi
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	rm -rf -- "$WORK"
}
lab_on_cleanup cleanup_work
lab_trap

psc() { "$PKTSCOPE" --bpffs "$BPFFS" "$@"; }

# CPUs: the sender (and so the receive path) on the last one we may use,
# the consumers on another
cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
if [[ -z ${BENCH_CPU:-} ]]; then
	BENCH_CPU=$(awk -v l="$cpus" 'BEGIN { n = split(l, r, /[-,]/); print r[n] }')
fi
if [[ -z ${READER_CPU:-} ]]; then
	READER_CPU=$(awk -v l="$cpus" -v b="$BENCH_CPU" 'BEGIN { split(l, r, /[-,]/); print (r[1] == b ? "" : r[1]) }')
fi
# a prefix, not a function: `taskset ... cmd &` execs cmd, so $! is its pid
ON_READER_CPU=()
[[ -z $READER_CPU ]] || ON_READER_CPU=(taskset -c "$READER_CPU")
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$BENCH_CPU" "$PY" >"$WORK/python-pinned"
chmod +x "$WORK/python-pinned"
export LAB_PYTHON=$WORK/python-pinned

others=$(lab_list 2>/dev/null || true)
lab_up bench-srclog >/dev/null || die "lab_up failed"
IF=$LAB_HOST_IF

# ---------------------------------------------------------------- sender

lab_send --mix udp-flood --pcap "$WORK/frame.pcap" >/dev/null || die "sendpkts --pcap failed"

build_c_sender() {
	local cc src="$here/bench/blast.c"
	# one sender for every end-to-end bench: bench/blast.c
	if [[ -x ${BLAST:-} ]]; then
		cp "$BLAST" "$WORK/blast"
		return
	fi
	cc=$(command -v cc || command -v gcc || command -v clang) || return 1
	"$cc" -O2 -Wall -o "$WORK/blast" "$src"
}

C_OK=0
if [[ $SENDER != python ]]; then
	if build_c_sender 2>"$WORK/cc.err"; then
		C_OK=1
	elif [[ $SENDER == c ]]; then
		die "cannot build the C sender: $(cat "$WORK/cc.err")"
	fi
fi
case $SENDER in
auto) if ((C_OK)); then USE=c; else USE=python; fi ;;
c | python) USE=$SENDER ;;
*) die "SENDER is auto, c or python" ;;
esac

# send_for SECONDS: the sender's JSON report
send_for() {
	case $USE in
	c) lab_exec taskset -c "$BENCH_CPU" "$WORK/blast" "$LAB_PEER_IF" "$WORK/frame.pcap" "$1" ${RATE:+"$RATE"} ;;
	python) lab_send --mix udp-flood --duration "$1" ${RATE:+--rate "$RATE"} ;;
	esac
}

# send_all SECONDS: a C sender on every CPU we may use at once; one JSON
# report with their packets/s summed and the longest duration
send_all() {
	local c pids=() i=0
	[[ $USE == c ]] || die "the overload variant needs the C sender"
	for c in $(awk -v l="$cpus" 'BEGIN { n = split(l, r, /,/); for (i = 1; i <= n; i++) { k = split(r[i], a, /-/); for (j = a[1]; j <= a[k]; j++) print j } }'); do
		lab_exec taskset -c "$c" "$WORK/blast" "$LAB_PEER_IF" "$WORK/frame.pcap" "$1" >"$WORK/send.$i.json" &
		pids+=($!)
		i=$((i + 1))
	done
	for c in "${pids[@]}"; do
		wait "$c" || return 1
	done
	jq -s -c '{frames: (map(.frames) | add), pps: (map(.pps) | add), duration_s: (map(.duration_s) | max)}' "$WORK"/send.*.json
	rm -f "$WORK"/send.*.json
}

# ---------------------------------------------------------------- variants

# the sum of the parse program's per-CPU counters (all keys)
parse_count() {
	local id map
	id=$(ip -j -d link show dev "$IF" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty')
	[[ -n $id ]] || die "no XDP program on $IF"
	map=$(bpftool -j prog show id "$id" | jq -r '.map_ids[0]')
	bpftool -j map dump id "$map" |
		jq '[.[] | (.formatted.values // .values)[] | .value | if type == "number" then . else 0 end] | add // 0'
}

# wait until a tcpdump's stderr says it listens
wait_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	die "tcpdump did not start: $(cat "$1")"
}

# stop a background process with a signal and wait for it (at most 10 s)
stop_bg() {
	local pid=$1 sig=$2 i
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -KILL "$pid" 2>/dev/null; then
		printf 'warning: %s (%s) ignored SIG%s for 10 s: killed\n' "$pid" \
			"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)" "$sig" >&2
	fi
	wait "$pid" 2>/dev/null || true
	BG=${BG/ $pid/}
}

# cpu_ns PID: user + system CPU time of a reader so far, in ns (the
# program, not bench/ptysink.py around it)
CLK_TCK=$(getconf CLK_TCK)
cpu_ns() {
	local pid=$1 child
	if grep -q ptysink "/proc/$pid/cmdline" 2>/dev/null; then
		child=$(pgrep -P "$pid" | head -n 1) || true
		[[ -z $child ]] || pid=$child
	fi
	# the fields after the command's name, which may hold spaces
	sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
		awk -v hz="$CLK_TCK" '{ printf "%.0f\n", ($12 + $13) * 1e9 / hz }' || echo 0
}

# tcpdump's "N packets <what>" from its stderr
tcpdump_stat() {
	awk -v w="$2" '$0 ~ ("packets? " w) { print $1; exit }' "$1"
}

declare -A TX HOOK DELIV LOST RX TOG_W TOG_T CPU CPU_T

# run_variant VARIANT SECONDS: one measurement, appended to the arrays
run_variant() {
	local v=$1 secs=$2 rx0 rx1 out pid hook=0 deliv=0 lost=0 dur c cpu=0 cpu_t=
	case $v in
	parse)
		ip link set dev "$IF" xdp obj "$PARSE_OBJ" sec xdp || die "attach $PARSE_OBJ failed"
		;;
	srclog | newflows | srclog-tcx)
		local args=(mode xdp)
		[[ $v == newflows ]] && args+=(new-flows)
		[[ $v == srclog-tcx ]] && args=(mode tcx)
		psc -q src-log attach dev "$IF" "${args[@]}" >/dev/null || die "src-log attach failed"
		"${ON_READER_CPU[@]}" "$PKTSCOPE" --bpffs "$BPFFS" "${WATCH_J[@]}" src-log watch dev "$IF" \
			>/dev/null 2>"$WORK/watch.err" &
		pid=$!
		BG+=" $pid"
		;;
	tcpdump-w)
		"${ON_READER_CPU[@]}" tcpdump -n -Q in -w /dev/null -i "$IF" 2>"$WORK/tcpdump.err" &
		pid=$!
		BG+=" $pid"
		wait_listening "$WORK/tcpdump.err"
		;;
	tcpdump-txt)
		"${ON_READER_CPU[@]}" tcpdump -n -Q in -i "$IF" >/dev/null 2>"$WORK/tcpdump.err" &
		pid=$!
		BG+=" $pid"
		wait_listening "$WORK/tcpdump.err"
		;;
	together)
		# the same packets, the three readers side by side on READER_CPU
		psc -q src-log attach dev "$IF" mode tcx >/dev/null || die "src-log attach failed"
		"${ON_READER_CPU[@]}" "$PKTSCOPE" --bpffs "$BPFFS" "${WATCH_J[@]}" src-log watch dev "$IF" \
			>/dev/null 2>"$WORK/watch.err" &
		pid=$!
		"${ON_READER_CPU[@]}" tcpdump -n -Q in -w /dev/null -i "$IF" 2>"$WORK/tcpdump-w.err" &
		tw=$!
		"${ON_READER_CPU[@]}" tcpdump -n -Q in -i "$IF" >/dev/null 2>"$WORK/tcpdump-t.err" &
		tt=$!
		BG+=" $pid $tw $tt"
		wait_listening "$WORK/tcpdump-w.err"
		wait_listening "$WORK/tcpdump-t.err"
		;;
	overload)
		# a sender on every CPU, the readers wherever the scheduler
		# puts them: a flood the host cannot absorb, as from a NIC
		psc -q src-log attach dev "$IF" mode tcx >/dev/null || die "src-log attach failed"
		"$PKTSCOPE" --bpffs "$BPFFS" "${WATCH_J[@]}" src-log watch dev "$IF" >/dev/null 2>"$WORK/watch.err" &
		pid=$!
		tcpdump -n -Q in -w /dev/null -i "$IF" 2>"$WORK/tcpdump-w.err" &
		tw=$!
		tcpdump -n -Q in -i "$IF" >/dev/null 2>"$WORK/tcpdump-t.err" &
		tt=$!
		BG+=" $pid $tw $tt"
		wait_listening "$WORK/tcpdump-w.err"
		wait_listening "$WORK/tcpdump-t.err"
		;;
	together-tty)
		psc -q src-log attach dev "$IF" mode tcx >/dev/null || die "src-log attach failed"
		"${ON_READER_CPU[@]}" "$PY" "$here/bench/ptysink.py" "$WORK/watch.err" \
			"$PKTSCOPE" --bpffs "$BPFFS" src-log watch dev "$IF" </dev/null >/dev/null &
		pid=$!
		"${ON_READER_CPU[@]}" tcpdump -n -Q in -w /dev/null -i "$IF" 2>"$WORK/tcpdump-w.err" &
		tw=$!
		"${ON_READER_CPU[@]}" "$PY" "$here/bench/ptysink.py" "$WORK/tcpdump-t.err" \
			tcpdump -n -Q in -i "$IF" </dev/null >/dev/null &
		tt=$!
		BG+=" $pid $tw $tt"
		wait_listening "$WORK/tcpdump-w.err"
		wait_listening "$WORK/tcpdump-t.err"
		;;
	esac
	sleep 0.3
	read -r rx0 _ <<<"$(lab_ifstats "$IF")"
	if [[ $v == overload ]]; then
		out=$(send_all "$secs") || die "senders failed ($v)"
	else
		out=$(send_for "$secs") || die "sender failed ($v)"
	fi
	read -r rx1 _ <<<"$(lab_ifstats "$IF")"
	dur=$(jq .duration_s <<<"$out")
	case $v in
	none) hook=$((rx1 - rx0)) ;;
	parse)
		hook=$(parse_count)
		ip link set dev "$IF" xdp off
		;;
	srclog | newflows | srclog-tcx)
		sleep 1		# let the reader drain the ring
		cpu=$(cpu_ns "$pid")
		stop_bg "$pid" INT
		[[ ! -s $WORK/watch.err ]] || die "watch: $(cat "$WORK/watch.err")"
		c=$(psc -j src-log counters dev "$IF")
		hook=$(jq '.interfaces[0].seen' <<<"$c")
		deliv=$(jq '.interfaces[0].events' <<<"$c")
		lost=$(jq '.interfaces[0].lost + .interfaces[0].no_reader' <<<"$c")
		psc -q src-log detach dev "$IF" >/dev/null
		;;
	together | together-tty | overload)
		sleep 1.5
		cpu=$(cpu_ns "$pid")
		cpu_t=$(cpu_ns "$tt")
		stop_bg "$tw" TERM
		stop_bg "$tt" TERM
		stop_bg "$pid" INT
		c=$(psc -j src-log counters dev "$IF")
		hook=$(jq '.interfaces[0].seen' <<<"$c")
		deliv=$(jq '.interfaces[0].events' <<<"$c")
		lost=$(jq '.interfaces[0].lost + .interfaces[0].no_reader' <<<"$c")
		psc -q src-log detach dev "$IF" >/dev/null
		TOG_W[$v]+="$(awk -v a="$(tcpdump_stat "$WORK/tcpdump-w.err" captured)" -v d="$dur" 'BEGIN { print a / d }') "
		TOG_T[$v]+="$(awk -v a="$(tcpdump_stat "$WORK/tcpdump-t.err" captured)" -v d="$dur" 'BEGIN { print a / d }') "
		;;
	tcpdump-*)
		# libpcap hands over a TPACKET_V3 block when it is full or after
		# its 1 s timeout: wait for the last one
		sleep 1.5
		cpu=$(cpu_ns "$pid")
		stop_bg "$pid" TERM
		hook=$(tcpdump_stat "$WORK/tcpdump.err" "received by filter")
		deliv=$(tcpdump_stat "$WORK/tcpdump.err" captured)
		lost=$(tcpdump_stat "$WORK/tcpdump.err" "dropped by kernel")
		;;
	esac
	TX[$v]+="$(jq .pps <<<"$out") "
	RX[$v]+="$(awk -v a="$rx1" -v b="$rx0" -v d="$dur" 'BEGIN { print (a - b) / d }') "
	HOOK[$v]+="$(awk -v a="$hook" -v d="$dur" 'BEGIN { print a / d }') "
	DELIV[$v]+="$(awk -v a="$deliv" -v d="$dur" 'BEGIN { print a / d }') "
	LOST[$v]+="${lost:-0} "
	CPU[$v]+="$(awk -v c="${cpu:-0}" -v n="$deliv" 'BEGIN { print (n > 0 ? c / n : 0) }') "
	[[ -z ${cpu_t:-} ]] ||
		CPU_T[$v]+="$(awk -v c="$cpu_t" -v n="$(tcpdump_stat "$WORK/tcpdump-t.err" captured)" 'BEGIN { print (n > 0 ? c / n : 0) }') "
}

median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g |
		awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

kpps() { awk -v x="$1" 'BEGIN { printf "%.1f", x / 1000 }'; }

# ratio NUMS DENS GOAL: both lists hold one sample a round, in round order.
# The verdict is on the median of the per-round ratios (a round's variants
# run within seconds of each other; the host's speed drifts over minutes);
# the ratio of the medians is printed too.
ratio() {
	local per med
	# a variant not run: nothing to compare
	if [[ -z ${1// /} || -z ${2// /} ]]; then
		echo "-"
		return
	fi
	per=$(paste -d' ' <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) |
		awk '{ printf "%s ", ($2 > 0 ? $1 / $2 : 0) }')
	med=$(median "$per")
	awk -v r="$med" -v a="$(median "$1")" -v b="$(median "$2")" -v g="$3" -v per="$per" 'BEGIN {
		if (b <= 0) { print "-"; exit }
		n = split(per, p, " ")
		list = ""
		for (i = 1; i <= n; i++) list = list sprintf("%s%.3f", i > 1 ? " " : "", p[i])
		printf "%.3fx (goal >= %sx) %-6s [per round: %s; ratio of medians %.3fx]", r, g,
			(r >= g ? "ok" : "MISSED"), list, a / b
	}'
}

ALL_VARIANTS=(none parse srclog newflows srclog-tcx tcpdump-w tcpdump-txt together together-tty overload)
# VARIANTS="parse srclog ..." runs a subset (the ratios need their pairs)
read -r -a VARIANTS <<<"${VARIANTS:-${ALL_VARIANTS[*]}}"
for v in "${VARIANTS[@]}"; do
	[[ " ${ALL_VARIANTS[*]} " == *" $v "* ]] || die "no variant $v (${ALL_VARIANTS[*]})"
done

# ---------------------------------------------------------------- record ramp

# RECORD_RATES="50000 100000 200000 0" runs this instead of the variants:
# `src-log -j record dev IF file X.FMT` for each format of RECORD_FORMATS
# in turn (the order rotating from rate to rate), RECORD_RUNS times at each
# offered rate (0: unpaced), DURATION seconds of the flood each.  Printed
# per run: the sender's frames, the veth's rx_packets and rx_dropped over
# the flood (the oracle), the record's own summary (seen, events, lost,
# unread, unwritten), the file's size and the reader's CPU time an event;
# then for each format the highest offered rate at which every run lost 0.
# RECORD_SENDERS=all: an unpaced sender on every CPU instead (the rates
# are then only labels), the record still on READER_CPU.  The file is
# removed after each run.
record_run() {
	local fmt=$1 rate=$2 secs=$3 file=$WORK/rec.$1 i out pid cpu rx0 rx1 d0 d1 s line
	psc -q src-log attach dev "$IF" mode "${RECORD_MODE:-xdp}" >/dev/null ||
		die "src-log attach failed"
	"${ON_READER_CPU[@]}" "$PKTSCOPE" --bpffs "$BPFFS" -j src-log record dev "$IF" \
		file "$file" >"$WORK/rec.out" 2>"$WORK/rec.err" &
	pid=$!
	BG+=" $pid"
	# the file is opened once the reader has its slot
	for ((i = 0; i < 100; i++)); do
		[[ -e $file ]] && break
		sleep 0.05
	done
	[[ -e $file ]] || die "record did not start: $(cat "$WORK/rec.err")"
	sleep 0.3
	read -r rx0 _ d0 <<<"$(lab_ifstats "$IF")"
	if [[ ${RECORD_SENDERS:-one} == all ]]; then
		out=$(send_all "$secs") || die "senders failed ($fmt)"
	else
		out=$(RATE=$rate send_for "$secs") || die "sender failed ($fmt $rate)"
	fi
	read -r rx1 _ d1 <<<"$(lab_ifstats "$IF")"
	sleep 1		# let the reader drain the ring
	cpu=$(cpu_ns "$pid")
	stop_bg "$pid" INT
	[[ ! -s $WORK/rec.err ]] || die "record: $(cat "$WORK/rec.err")"
	s=$(jq -c 'select(.summary) | .summary' "$WORK/rec.out")
	[[ -n $s ]] || die "record printed no summary: $(tail -c 300 "$WORK/rec.out")"
	line=$(printf '%-11s %8s %9s %8.1f %9s %6s %9s %9s %8s %7s %9s %8.1f %7s' \
		"$fmt" "$rate" "$(jq .frames <<<"$out")" "$(jq '.pps / 1000' <<<"$out")" \
		"$((rx1 - rx0))" "$((d1 - d0))" \
		"$(jq .seen <<<"$s")" "$(jq .events <<<"$s")" "$(jq .lost <<<"$s")" \
		"$(jq '.unread + .unwritten + .no_reader' <<<"$s")" \
		"$(jq .made <<<"$s")" \
		"$(awk -v b="$(stat -c %s "$file")" 'BEGIN { print b / 1048576 }')" \
		"$(awk -v c="$cpu" -v n="$(jq .events <<<"$s")" 'BEGIN { if (n > 0) printf "%.0f", c / n; else print "-" }')")
	echo "$line"
	echo "$line" >>"$WORK/ramp"
	psc -q src-log detach dev "$IF" >/dev/null
	rm -f -- "$file" "$WORK/rec.out" "$WORK/rec.err"
}

record_ramp() {
	local fmts rates runs=${RECORD_RUNS:-1} n i j k r
	read -r -a fmts <<<"${RECORD_FORMATS:-ndjson pcapng ndjson.gz pcapng.gz}"
	read -r -a rates <<<"$RECORD_RATES"
	n=${#fmts[@]}
	printf 'record ramp: veth %s (mode %s), sender on CPU %s, record on CPU %s, %s s a run, %s run(s) a rate and format, kernel %s\n' \
		"$IF" "${RECORD_MODE:-xdp}" "$BENCH_CPU" "${READER_CPU:-any}" "$DURATION" "$runs" "$(uname -r)"
	printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-11s %8s %9s %8s %9s %6s %9s %9s %8s %7s %9s %8s %7s\n' FORMAT RATE SENT TX_KPPS \
		RX RX_DROP SEEN EVENTS LOST UNREAD MADE FILE_MB CPU_NS
	: >"$WORK/ramp"
	for ((j = 0; j < ${#rates[@]}; j++)); do
		for ((r = 0; r < runs; r++)); do
			for ((i = 0; i < n; i++)); do
				k=$(((i + j + r) % n))
				record_run "${fmts[k]}" "${rates[j]}" "$DURATION"
			done
		done
	done
	echo
	# the rates as given, lowest first: the last before the first at
	# which a run lost events (ring full) or delivered fewer than it saw
	printf '%-11s %s\n' FORMAT "highest offered rate (of $RECORD_RATES; 0: unpaced) up to which every run lost 0"
	for ((i = 0; i < n; i++)); do
		awk -v f="${fmts[i]}" -v rates="${rates[*]}" '
			$1 == f && ($9 > 0 || $8 < $7) { bad[$2] = 1 }
			END {
				k = split(rates, r, " "); best = "none"
				for (i = 1; i <= k && !(r[i] in bad); i++) best = r[i]
				printf "%-11s %s\n", f, best
			}' "$WORK/ramp"
	done
}

if [[ -n ${RECORD_RATES:-} ]]; then
	record_ramp
	exit 0
fi

# ---------------------------------------------------------------- run

printf 'bench_src_log_e2e: veth %s, sender (%s%s) on CPU %s, readers on CPU %s, %s CPUs, %s rounds x %s s, watch %s, kernel %s\n' \
	"$IF" "$USE" "${RATE:+, at most $RATE pps}" "$BENCH_CPU" "${READER_CPU:-any}" "$(nproc)" \
	"$RUNS" "$DURATION" "$WATCH_FORMAT" "$(uname -r)"
if [[ -n $others ]]; then
	printf 'warning: other labs exist (another benchmark or test running?); numbers may be disturbed:\n%s\n' "$others"
fi
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

for v in "${VARIANTS[@]}"; do
	run_variant "$v" 0.5
	unset "TX[$v]" "HOOK[$v]" "DELIV[$v]" "LOST[$v]" "RX[$v]" "TOG_W[$v]" "TOG_T[$v]" "CPU[$v]" "CPU_T[$v]"
done

n=${#VARIANTS[@]}
for ((r = 0; r < RUNS; r++)); do
	for ((i = 0; i < n; i++)); do
		v=${VARIANTS[(i + r) % n]}
		run_variant "$v" "$DURATION"
	done
	printf 'round %d/%d done\n' "$((r + 1))" "$RUNS" >&2
done

# a variant not run has empty lists: its ratios print as "-"
for v in "${ALL_VARIANTS[@]}"; do
	: "${TX[$v]:=}" "${HOOK[$v]:=}" "${RX[$v]:=}" "${DELIV[$v]:=}" "${LOST[$v]:=}" "${TOG_W[$v]:=}" "${TOG_T[$v]:=}" "${CPU[$v]:=}" "${CPU_T[$v]:=}"
done
echo
printf '%-12s %10s %10s %10s %12s %10s %10s   %s\n' VARIANT TX_KPPS HOOK_KPPS RX_KPPS DELIVERED_KPPS CPU_NS LOST \
	"(medians; CPU_NS: the reader's CPU time a delivered packet; LOST: per run)"
for v in "${VARIANTS[@]}"; do
	printf '%-12s %10s %10s %10s %12s %10s %10s   %s\n' "$v" \
		"$(kpps "$(median "${TX[$v]}")")" "$(kpps "$(median "${HOOK[$v]}")")" \
		"$(kpps "$(median "${RX[$v]}")")" "$(kpps "$(median "${DELIV[$v]}")")" \
		"$(awk -v x="$(median "${CPU[$v]}")" 'BEGIN { if (x > 0) printf "%.0f", x; else print "-" }')" \
		"$(median "${LOST[$v]}")" "${LOST[$v]}"
done
echo
printf '%-46s %s\n' "srclog tx / parse tx:" "$(ratio "${TX[srclog]}" "${TX[parse]}" 0.8)"
printf '%-46s %s\n' "srclog hook / parse hook (packets seen/s):" "$(ratio "${HOOK[srclog]}" "${HOOK[parse]}" 0.8)"
printf '%-46s %s\n' "newflows tx / parse tx:" "$(ratio "${TX[newflows]}" "${TX[parse]}" 0.9)"
printf '%-46s %s\n' "srclog delivered / tcpdump -w captured:" "$(ratio "${DELIV[srclog]}" "${DELIV[tcpdump-w]}" 1.0)"
printf '%-46s %s\n' "srclog delivered / tcpdump text captured:" "$(ratio "${DELIV[srclog]}" "${DELIV[tcpdump-txt]}" 1.25)"
printf '%-46s %s\n' "(srclog-tcx delivered / tcpdump -w captured:)" "$(ratio "${DELIV[srclog-tcx]}" "${DELIV[tcpdump-w]}" 1.0)"
printf '%-46s %s\n' "(srclog-tcx delivered / tcpdump text captured:)" "$(ratio "${DELIV[srclog-tcx]}" "${DELIV[tcpdump-txt]}" 1.25)"
# the same flood, src-log (tcx), tcpdump -w and text tcpdump reading at once
# what each reader's CPU time a packet allows it to keep up with: the
# packets src-log's reader delivers in the time text tcpdump needs for one
printf '%-46s %s\n' "reader capacity, src-log-tcx / tcpdump text:" "$(ratio "${CPU[tcpdump-txt]}" "${CPU[srclog-tcx]}" 1.25)"
for v in together together-tty overload; do
	printf '%-46s %s\n' "$v: reader capacity, src-log / tcpdump text:" "$(ratio "${CPU_T[$v]}" "${CPU[$v]}" 1.25)"
	printf '%-46s %s\n' "$v: src-log / tcpdump -w, same packets:" "$(ratio "${DELIV[$v]}" "${TOG_W[$v]}" 1.0)"
	printf '%-46s %s\n' "$v: src-log / tcpdump text, same packets:" "$(ratio "${DELIV[$v]}" "${TOG_T[$v]}" 1.25)"
	printf '%-46s %s\n' "$v: src-log lost (per run):" "${LOST[$v]}"
done
lost_max=$(tr ' ' '\n' <<<"${LOST[srclog]}" | grep . | sort -g | tail -n 1)
printf '%-46s %s\n' "srclog lost (every run):" \
	"$([[ $lost_max == 0 ]] && echo "0 ok" || echo "${LOST[srclog]}(goal 0) MISSED")"
printf '%-46s %s\n' "tcpdump dropped by kernel (-w | text):" "${LOST[tcpdump-w]}| ${LOST[tcpdump-txt]}"
printf '(all samples, kpps)\n'
for v in "${VARIANTS[@]}"; do
	printf '  %-12s tx %s| delivered %s\n' "$v" \
		"$(for x in ${TX[$v]}; do printf '%s ' "$(kpps "$x")"; done)" \
		"$(for x in ${DELIV[$v]}; do printf '%s ' "$(kpps "$x")"; done)"
done
