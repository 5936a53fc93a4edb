#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# bench_e2e.sh - end-to-end cost of a plugin on a veth, side by side with an
# empty BPF program on the same hook.  Run as root, by hand (not part of
# make check):
#
#     bench/bench_e2e.sh                  # RUNS=5 DURATION=3 by default
#     RUNS=7 DURATION=5 BENCH_CPU=1 bench/bench_e2e.sh
#     BENCH_PLUGINS="proto-stats src-log" bench/bench_e2e.sh
#
# One sender in the lab's namespace (tests/lib/lab.bash) floods the host end
# of the veth with one 64-byte IPv4 UDP frame (built by sendpkts.py --mix
# udp-flood), pinned to one CPU.  A veth delivers on the sending CPU: the
# receive path -- XDP or TC program, then the host's stack -- runs in the
# sender's softirq, so the sender's packets/second is the end-to-end rate
# and every nanosecond the program costs shows up in it.  The host's
# rx_packets counter is measured as well (frames that made it through).
#
# Variants, interleaved, RUNS rounds of DURATION seconds each (the order
# rotates every round):
#   none                  no program (context: the bare path)
#   <hook>/empty          bpf/bench_empty.bpf.o on the hook (the baseline)
#   <hook>/<plugin>       pktscope <plugin> attach dev IF mode <hook mode>
# hooks: xdp (native, `ip link set xdpdrv` for the empty program), tc (cls_bpf
# direct-action on clsact ingress for the empty program, mode tc for the
# plugin) and tcx (bpftool 7.1 and iproute2 cannot attach an empty tcx
# program: bench/tcx_empty.c does, built here; without a C compiler and
# libbpf the tcx ratio is against tc/empty).
# Printed: medians, and the ratio <plugin> / empty per hook.  Goal >= 0.85x.
#
# Then, per plugin: the RSS of a running `pktscope <plugin> watch` (the real
# process, not libtool's wrapper script), goal <= 16 MiB, and its BPF map
# memory from `pktscope -j plugin info <plugin>` (.map_bytes).
#
# The sender: python (sendpkts.py) costs microseconds a frame and would hide
# the program's cost, so a small C sender (sendmmsg on AF_PACKET, qdisc
# bypass, the frame sendpkts.py built) is compiled here when a C compiler is
# available; both are measured once, pinned, and printed ("sender check").
# SENDER=python forces sendpkts.py.
#
# Adding a plugin: list it in BENCH_PLUGINS; if its attach needs arguments
# or its streaming command is not `watch`, set PLUGIN_ATTACH_ARGS[name] and
# PLUGIN_WATCH[name] below; PLUGIN_SETUP[name] is run (one pktscope command
# a ';'-separated part, IF replaced by the interface) after each attach, and
# PLUGIN_GOAL[name] replaces the ratio goal.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PKTSCOPE=${PKTSCOPE:-$here/pktscope}
EMPTY_OBJ=${EMPTY_OBJ:-$here/bpf/bench_empty.bpf.o}
RUNS=${RUNS:-5}
DURATION=${DURATION:-3}
SENDER=${SENDER:-auto}			# auto | c | python
read -r -a PLUGINS <<<"${BENCH_PLUGINS:-proto-stats}"
HOOKS=(xdp tc tcx)
GOAL_RATIO=0.85
GOAL_RSS_KIB=$((16 * 1024))

# per-plugin knobs (src-log: filters for attach, its streaming verb)
declare -A PLUGIN_ATTACH_ARGS=([proto-stats]="" [src-log]="" [shaping]="" [anomaly]="")
# shaping: eight rules the flood (UDP to port 9) matches none of
declare -A PLUGIN_SETUP=([shaping]="$(for p in 1 2 3 4 5 6 7 8; do
	printf 'shaping rule add dev IF dport %d rate 1mbit;' "$((1000 + p))"; done)")
declare -A PLUGIN_GOAL=([shaping]=0.95 [anomaly]=0.9)
declare -A PLUGIN_WATCH=([proto-stats]="watch interval 200ms"
	[src-log]="watch")

die() { printf 'bench_e2e: %s\n' "$*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root"
for c in ip tc jq taskset awk; do
	command -v "$c" >/dev/null || die "$c not found"
done
[[ -x $PKTSCOPE ]] || die "no pktscope at $PKTSCOPE (build first)"
[[ -r $EMPTY_OBJ ]] || die "no $EMPTY_OBJ (make builds it)"
((RUNS >= 1)) || die "RUNS must be >= 1"

# shellcheck source=tests/lib/lab.bash disable=SC1091
source "$here/tests/lib/lab.bash"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench_e2e.XXXXXX")
# a private bpffs: nothing else (make check, a user) sees or detaches ours
BPFFS=$WORK/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || die "cannot mount a bpffs at $BPFFS"
cleanup_work() {
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	rm -rf -- "$WORK"
}
lab_on_cleanup cleanup_work
lab_trap

psc() { "$PKTSCOPE" --bpffs "$BPFFS" "$@"; }

# the CPU the sender (and so the receive path) runs on: the last one we may use
if [[ -z ${BENCH_CPU:-} ]]; then
	BENCH_CPU=$(awk '/^Cpus_allowed_list:/ { n = split($2, r, /[-,]/); print r[n] }' /proc/self/status)
fi
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$BENCH_CPU" "$PY" >"$WORK/python-pinned"
chmod +x "$WORK/python-pinned"
export LAB_PYTHON=$WORK/python-pinned

lab_up bench >/dev/null || die "lab_up failed"
IF=$LAB_HOST_IF

# ---------------------------------------------------------------- sender

# the frame: exactly what sendpkts.py --mix udp-flood sends
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

# send_for SECONDS SENDER: print the sender's JSON report
send_for() {
	case $2 in
	c) lab_exec taskset -c "$BENCH_CPU" "$WORK/blast" "$LAB_PEER_IF" "$WORK/frame.pcap" "$1" ;;
	python) lab_send --mix udp-flood --duration "$1" ;;
	esac
}

if [[ $SENDER != python ]]; then
	if build_c_sender 2>"$WORK/cc.err"; then
		C_OK=1
	else
		[[ $SENDER == c ]] && die "cannot build the C sender: $(cat "$WORK/cc.err")"
		C_OK=0
	fi
fi

# ---------------------------------------------------------------- variants

# attach HOOK WHAT / detach HOOK WHAT; WHAT is "empty" or a plugin name
attach() {
	local hook=$1 what=$2 args
	if [[ $what == empty ]]; then
		case $hook in
		xdp) ip link set dev "$IF" xdpdrv obj "$EMPTY_OBJ" sec xdp ;;
		# replace: pktscope's mode tc leaves the clsact qdisc behind
		tc) tc qdisc replace dev "$IF" clsact &&
			tc filter add dev "$IF" ingress bpf direct-action obj "$EMPTY_OBJ" sec tc ;;
		tcx) "$WORK/tcx_empty" "$EMPTY_OBJ" "$IF" "$BPFFS/tcx_empty" ;;
		*) die "no empty program for hook $hook" ;;
		esac
		return
	fi
	read -r -a args <<<"${PLUGIN_ATTACH_ARGS[$what]:-}"
	case $hook in
	xdp) psc -q "$what" attach dev "$IF" mode xdp-native "${args[@]}" >/dev/null ;;
	tc | tcx) psc -q "$what" attach dev "$IF" mode "$hook" "${args[@]}" >/dev/null ;;
	esac
	local cmd words cmds
	IFS=';' read -r -a cmds <<<"${PLUGIN_SETUP[$what]:-}"
	for cmd in "${cmds[@]}"; do
		read -r -a words <<<"${cmd//IF/$IF}"
		[[ ${#words[@]} -gt 0 ]] && psc -q "${words[@]}" >/dev/null
	done
	return 0
}

detach() {
	local hook=$1 what=$2
	if [[ $what == empty ]]; then
		case $hook in
		xdp) ip link set dev "$IF" xdpdrv off ;;
		tc) tc qdisc del dev "$IF" clsact ;;
		tcx) rm -f "$BPFFS/tcx_empty" ;;
		esac
		return
	fi
	psc -q "$what" detach dev "$IF" >/dev/null
}

# the empty program at tcx: bench/tcx_empty.c, built here with libbpf
TCX_EMPTY=0
cc=$(command -v cc || command -v gcc || command -v clang) &&
	"$cc" -O2 -Wall -o "$WORK/tcx_empty" "$here/bench/tcx_empty.c" -lbpf \
		2>"$WORK/tcx_cc.err" && TCX_EMPTY=1

VARIANTS=(none)
for hook in "${HOOKS[@]}"; do
	[[ $hook == tcx && $TCX_EMPTY == 0 ]] || VARIANTS+=("$hook/empty")
	for p in "${PLUGINS[@]}"; do
		VARIANTS+=("$hook/$p")
	done
done

# the baseline a variant is compared with
baseline_of() {
	case $1 in
	none | */empty) echo "" ;;
	xdp/*) echo xdp/empty ;;
	tcx/*) if ((TCX_EMPTY)); then echo tcx/empty; else echo tc/empty; fi ;;
	tc/*) echo tc/empty ;;
	esac
}

declare -A TX RX

# run_variant VARIANT SENDER SECONDS: one measurement, appended to TX/RX
run_variant() {
	local v=$1 hook=${1%%/*} what=${1#*/} rx0 rx1 out pps rxpps
	[[ $v == none ]] || attach "$hook" "$what" || die "attach $v failed"
	sleep 0.2
	read -r rx0 _ <<<"$(lab_ifstats "$IF")"
	out=$(send_for "$3" "$2") || die "sender failed ($v)"
	read -r rx1 _ <<<"$(lab_ifstats "$IF")"
	[[ $v == none ]] || detach "$hook" "$what" || die "detach $v failed"
	pps=$(jq .pps <<<"$out")
	rxpps=$(jq --arg d "$rx1" --arg s "$rx0" '(($d | tonumber) - ($s | tonumber)) / .duration_s' <<<"$out")
	TX[$v]+="$pps "
	RX[$v]+="$rxpps "
}

median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g |
		awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

kpps() { awk -v x="$1" 'BEGIN { printf "%.1f", x / 1000 }'; }

# ---------------------------------------------------------------- run

printf 'bench_e2e: veth %s, sender on CPU %s of %s, %s rounds x %s s, kernel %s\n' \
	"$IF" "$BENCH_CPU" "$(nproc)" "$RUNS" "$DURATION" "$(uname -r)"

# sender check: is python the bottleneck?
py_pps=$(send_for 1 python | jq .pps)
if ((${C_OK:-0})); then
	c_pps=$(send_for 1 c | jq .pps)
	printf 'sender check (1 s, no program): sendpkts.py %s kpps, C sendmmsg %s kpps\n' \
		"$(kpps "$py_pps")" "$(kpps "$c_pps")"
else
	printf 'sender check (1 s, no program): sendpkts.py %s kpps (C sender %s)\n' "$(kpps "$py_pps")" \
		"$([[ $SENDER == python ]] && echo "not built: SENDER=python" || echo "failed to build")"
fi
case $SENDER in
auto) if ((${C_OK:-0})); then USE=c; else USE=python; fi ;;
*) USE=$SENDER ;;
esac
printf 'using the %s sender\n\n' "$USE"

# warm up every variant once (loads, page cache, JIT)
for v in "${VARIANTS[@]}"; do
	run_variant "$v" "$USE" 0.5
	unset "TX[$v]" "RX[$v]"
done

n=${#VARIANTS[@]}
for ((r = 0; r < RUNS; r++)); do
	for ((i = 0; i < n; i++)); do
		v=${VARIANTS[(i + r) % n]}
		run_variant "$v" "$USE" "$DURATION"
	done
	printf 'round %d/%d done\n' "$((r + 1))" "$RUNS" >&2
done

printf '%-18s %12s %12s %10s %10s  %s\n' VARIANT "TX_KPPS" "RX_KPPS" "TX_RATIO" "RX_RATIO" "vs / goal"
for v in "${VARIANTS[@]}"; do
	tx=$(median "${TX[$v]}")
	rx=$(median "${RX[$v]}")
	base=$(baseline_of "$v")
	if [[ -n $base ]]; then
		txr=$(awk -v a="$tx" -v b="$(median "${TX[$base]}")" 'BEGIN { printf "%.3fx", a / b }')
		rxr=$(awk -v a="$rx" -v b="$(median "${RX[$base]}")" 'BEGIN { printf "%.3fx", a / b }')
		goal=${PLUGIN_GOAL[${v#*/}]:-$GOAL_RATIO}
		note="vs $base, goal >= ${goal}x"
		awk -v a="${txr%x}" -v g="$goal" 'BEGIN { exit !(a >= g) }' && note+=" ok" || note+=" MISSED"
	else
		txr=- rxr=- note=$([[ $v == none ]] && echo "no program" || echo baseline)
	fi
	printf '%-18s %12s %12s %10s %10s  %s\n' "$v" "$(kpps "$tx")" "$(kpps "$rx")" "$txr" "$rxr" "$note"
done
printf '(all samples, kpps:)\n'
for v in "${VARIANTS[@]}"; do
	printf '  %-16s tx %s\n' "$v" "$(for x in ${TX[$v]}; do printf '%s ' "$(kpps "$x")"; done)"
done
echo

# ---------------------------------------------------------------- memory

# The pid of the real binary behind a libtool wrapper (which execs it).
real_pid() {
	local pid=$1 exe i c
	for ((i = 0; i < 50; i++)); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
		case $exe in
		*/.libs/pktscope | */.libs/lt-pktscope | */bin/pktscope) echo "$pid"; return 0 ;;
		esac
		for c in $(<"/proc/$pid/task/$pid/children"); do
			exe=$(readlink "/proc/$c/exe" 2>/dev/null || true)
			[[ $exe == *pktscope ]] && { echo "$c"; return 0; }
		done
		sleep 0.05
	done
	echo "$pid"
}

printf '%-14s %12s %12s  %s\n' PLUGIN "WATCH_RSS" "RSS_PEAK" "MAP_BYTES"
for p in "${PLUGINS[@]}"; do
	attach xdp "$p" || die "attach $p failed"
	read -r -a wargs <<<"${PLUGIN_WATCH[$p]:-watch}"
	# traffic while it watches, so that it does real work
	send_for 2.5 "$USE" >/dev/null &
	spid=$!
	# not through psc(): $! must be the process that execs the binary
	"$PKTSCOPE" --bpffs "$BPFFS" "$p" "${wargs[@]}" dev "$IF" >/dev/null 2>&1 &
	wpid=$!
	rpid=$(real_pid "$wpid")
	sleep 1.5		# a few intervals
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$rpid/status" 2>/dev/null || echo 0)
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$rpid/status" 2>/dev/null || echo 0)
	exe=$(readlink "/proc/$rpid/exe" 2>/dev/null || echo '?')
	# a background job starts with SIGINT ignored; TERM if INT does not do
	kill -INT "$rpid" 2>/dev/null || true
	for ((i = 0; i < 20; i++)); do
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$rpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	detach xdp "$p"
	mb=$(psc -j plugin info "$p" | jq .map_bytes)
	verdict=$([[ ${rss:-0} -gt 0 && $rss -le $GOAL_RSS_KIB ]] && echo ok || echo MISSED)
	printf '%-14s %9s KiB %8s KiB  %s bytes (%s KiB)   RSS goal <= 16 MiB: %s  [%s, pid %s]\n' \
		"$p" "$rss" "$hwm" "$mb" "$(awk -v b="$mb" 'BEGIN { printf "%.1f", b / 1024 }')" \
		"$verdict" "${exe##*/}" "$rpid"
done
