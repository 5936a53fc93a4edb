#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Several src-log readers on one interface (bpf/src_log.h, step 5), on real
# traffic in the lab (tests/lib/lab.bash), with a private bpffs:
#
#   - a record and three watches at once, each with its own filters
#     (keywords, tcpdump expressions): each gets exactly the frames of the
#     capture that tshark's display filter (keywords) or tcpdump's own
#     expression (expr) selects, and its summary counts its own outcomes;
#     a fifth reader is refused, naming the limit;
#   - kill -9 of one leaves the others reading; its slot is taken by the
#     next reader; the shared temporary attach goes with the last one;
#   - a detach under a running record warns, and the record stops with an
#     error and exit 1 (issue 13);
#   - `filter` changes only the keys it names; `filter clear` resets.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	require_cmd bpftool jq tshark tcpdump || return
	lab_bpffs_setup readers || return
	P=("$PKTSCOPE" --bpffs "$BPFFS")
	PIN=$BPFFS/pktscope/$IF/src-log
	BG_PIDS=
}

teardown() {
	local p
	for p in ${BG_PIDS:-}; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	lab_bpffs_teardown src-log
}

slot_of() { slog_slot_of "$PIN/config" "$1"; }

# reader_start NAME VERB ARGS...: `-j src-log VERB dev $IF ARGS` in the
# background, stdout to $T/NAME, stderr to $T/NAME.err; its pid in
# PID_<NAME>; returns once it beats in a slot of its own
reader_start() {
	local name=$1 verb=$2 pid i
	shift 2
	"${P[@]}" -j src-log "$verb" dev "$IF" "$@" >"$T/$name" 2>"$T/$name.err" 3>&- &
	pid=$!
	BG_PIDS+=" $pid"
	printf -v "PID_$name" %s "$pid"
	for ((i = 0; i < 200; i++)); do
		[[ -n $(slot_of "$pid") ]] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "$verb $* did not start: $(cat "$T/$name.err")"
}

# reader_stop NAME: SIGINT, exit 0 required; its summary in SUMMARY
reader_stop() {
	local pid rc=0
	pid=PID_$1
	pid=${!pid}
	kill -INT "$pid"
	wait "$pid" || rc=$?
	BG_PIDS=${BG_PIDS/ $pid/}
	[ "$rc" -eq 0 ] || fail "$1 exited $rc: $(cat "$T/$1.err")"
	SUMMARY=$(grep '^{"summary"' "$T/$1" | jq -c .summary)
	echo "$1 summary: $SUMMARY"
}

f() { jq -r ".$1" <<<"$SUMMARY"; }

# until the files given stop growing for 0.5 s (a reader drains each 100 ms)
wait_quiet() {
	wait_stable 5 wc -l "$@"
}

send_mix() {
	lab_send --mix default --count "${1:-1}" >"$T/sent.json" ||
		fail "sendpkts failed: $(cat "$T/sent.json")"
}

# src dst sport dport of each event of a reader's output, sorted
event_tuples() {
	jq -r 'select(.src) | [.src, .dst, (.sport // "" | tostring), (.dport // "" | tostring)] | @tsv' "$1" | sort
}

# the same of each IP frame of PCAP that the display filter selects
capture_tuples() {
	local cfg
	cfg=$(mktemp -d "$T/ws.XXXXXX")
	WIRESHARK_CONFIG_DIR=$cfg tshark -n -r "$1" -Y "(ip || ipv6) && !_ws.malformed && (${2:-frame})" \
		-T fields -E separator=/t -E occurrence=f -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e udp.srcport -e tcp.dstport -e udp.dstport 2>/dev/null |
		awk -F'\t' '{ printf "%s\t%s\t%s\t%s\n", $1 $2, $3 $4, $5 $6, $7 $8 }' | sort
	rm -rf -- "$cfg"
}

# reader NAME got exactly what the display filter selects from the capture
assert_got_display() {
	capture_tuples "$T/cap.pcap" "$2" >"$T/$1.want"
	event_tuples "$T/$1" >"$T/$1.got"
	[ -s "$T/$1.want" ] || fail "the display filter '$2' selects nothing"
	diff "$T/$1.want" "$T/$1.got" || fail "$1 did not get what '$2' selects"
}

# reader NAME got exactly the frames tcpdump's own filter EXPR selects
assert_got_tcpdump() {
	tcpdump -r "$T/cap.pcap" -w "$T/$1.pcap" "$2" 2>/dev/null
	capture_tuples "$T/$1.pcap" >"$T/$1.want"
	event_tuples "$T/$1" >"$T/$1.got"
	[ -s "$T/$1.want" ] || fail "tcpdump's '$2' selects nothing"
	diff "$T/$1.want" "$T/$1.got" || fail "$1 did not get what tcpdump's '$2' selects"
}

# its summary: every packet it saw accounted for, its events all delivered
assert_own_counts() {
	local sum
	sum=$(jq '.not_ip + .filtered + .not_new + .no_reader + .sampled_out + .rate_capped + .lost + .made' <<<"$SUMMARY")
	[ "$sum" -eq "$(f seen)" ] || fail "$1: reasons $sum != seen $(f seen)"
	[ "$(f made)" -eq "$(f events)" ] || fail "$1: made $(f made) != events $(f events)"
	[ "$(f events)" -eq "$(event_tuples "$T/$1" | wc -l)" ] || fail "$1: events != lines"
}

@test "several readers: a record and three watches, each with its own filters, get exactly their frames; a fifth is refused" {
	lab_capture_start "$T/cap.pcap"
	reader_start rec record file "$T/rec.ndjson" expr 'udp and not port 53'
	reader_start w1 watch proto tcp proto icmpv6
	reader_start w2 watch src "$LAB_POOL4" src "$LAB_POOL6"
	reader_start w3 watch expr vlan
	# one shared temporary attach, four slots
	[ "$("${P[@]}" -j src-log status dev "$IF" | jq '.attachments | length')" -eq 1 ]
	[ "$(printf '%s\n' "$(slot_of "$PID_rec")" "$(slot_of "$PID_w1")" "$(slot_of "$PID_w2")" "$(slot_of "$PID_w3")" | sort -u | wc -l)" -eq 4 ]
	run_err "${P[@]}" src-log watch dev "$IF" duration 1s
	[ "$status" -eq 1 ]
	[[ $stderr == "Error: src-log on $IF has 4 readers, the most it takes (4; pids "*"): stop one first" ]]
	send_mix 2
	wait_quiet "$T/rec.ndjson" "$T/w1" "$T/w2" "$T/w3"
	lab_capture_stop "$T/cap.pcap"
	# show lists the four: pid, slot, its events (its output's lines), command
	"${P[@]}" -j src-log show dev "$IF" | jq -c '.interfaces[0]' >"$T/show.json"
	[ "$(jq .readers_running "$T/show.json")" -eq 4 ]
	cp "$T/rec.ndjson" "$T/rec.now"
	for r in rec w1 w2 w3; do
		pid=PID_$r
		pid=${!pid}
		out=$T/$r
		[ "$r" = rec ] && out=$T/rec.now
		row=$(jq -c --argjson p "$pid" '.readers[] | select(.pid == $p)' "$T/show.json")
		[ -n "$row" ] || fail "show has no row for $r ($pid): $(cat "$T/show.json")"
		[ "$(jq .slot <<<"$row")" -eq "$(slot_of "$pid")" ]
		[ "$(jq .events <<<"$row")" -eq "$(event_tuples "$out" | wc -l)" ] || fail "$r: $row"
		[[ $(jq -r .command <<<"$row") == *"src-log $([ "$r" = rec ] && echo record || echo watch) dev $IF"* ]] || fail "$r: $row"
	done
	for r in rec w1 w2 w3; do
		reader_stop "$r"
		[ ! -s "$T/$r.err" ] || fail "$r: $(cat "$T/$r.err")"
		[ "$r" = rec ] && cp "$T/rec.ndjson" "$T/rec"
		assert_own_counts "$r"
		[ "$(f filtered)" -gt 0 ]
	done
	assert_got_tcpdump rec 'udp and not port 53'
	assert_got_display w1 'tcp || icmpv6'
	assert_got_display w2 "ip.src == $LAB_POOL4 || ipv6.src == $LAB_POOL6"
	assert_got_tcpdump w3 vlan
	# the last one took the temporary attach with it
	[ ! -e "$PIN" ]
}

@test "several readers: max-rate caps only the reader that asks for it" {
	reader_start capped watch max-rate 100
	reader_start all watch
	lab_send --mix udp-flood --count 6000 >"$T/flood.json" ||
		fail "sendpkts failed: $(cat "$T/flood.json")"
	wait_quiet "$T/capped" "$T/all"
	sent=$(jq .frames "$T/flood.json")
	# S seconds of flood span at most ceil(S) + 1 one-second windows, each
	# may pass one event per CPU more than max-rate
	windows=$(jq '.duration_s | ceil + 1' "$T/flood.json")
	reader_stop capped
	assert_own_counts capped
	[ "$(f rate_capped)" -gt 0 ] || fail "capped: nothing rate_capped"
	[ "$(f events)" -ge 100 ]
	[ "$(f events)" -le $((windows * (100 + $(nproc)))) ] ||
		fail "capped: $(f events) events in $windows windows"
	reader_stop all
	assert_own_counts all
	assert_eq 0 "$(f rate_capped)" "the other reader's rate_capped"
	assert_eq "$sent" "$(jq -s 'map(select(.proto == "udp")) | length' "$T/all")" "the other reader's UDP events"
}

@test "several readers: kill -9 of one leaves the others reading; its slot goes to the next; the attach goes with the last" {
	lab_capture_start "$T/cap.pcap"
	reader_start w1 watch proto udp
	reader_start w2 watch proto icmp proto icmpv6
	local dead=$PID_w2
	# the first reader, the attach's owner, killed: the other takes it over
	kill -KILL "$PID_w1"
	wait "$PID_w1" || true
	BG_PIDS=${BG_PIDS/ $PID_w1/}
	reader_start w3 watch dport 5000-5003
	kill -KILL "$dead"
	wait "$dead" || true
	BG_PIDS=${BG_PIDS/ $dead/}
	# w3 alone: the slot the killed reader held is free for the next one
	reader_start w4 watch proto icmp proto icmpv6
	[ -n "$(slot_of "$PID_w4")" ]
	[ "$(slot_of "$PID_w3")" != "$(slot_of "$PID_w4")" ]
	send_mix
	wait_quiet "$T/w3" "$T/w4"
	lab_capture_stop "$T/cap.pcap"
	reader_stop w4
	assert_own_counts w4
	assert_got_display w4 'icmp || icmpv6'
	[ -e "$PIN/config" ]
	reader_stop w3
	assert_own_counts w3
	assert_got_display w3 'udp.dstport >= 5000 && udp.dstport <= 5003'
	# w3 may have come before w2 took the killed owner's attach over, and
	# w4 before w3 took w2's: the one warning each may have
	[ -z "$(grep -v "^Warning: taking over src-log's temporary attach on $IF: its process (pid $PID_w1) died\$" "$T/w3.err" |
		grep -v "^Warning: taking over src-log's temporary attach on $IF: its process (pid $dead) died\$")" ] || fail "w3: $(cat "$T/w3.err")"
	[ -z "$(grep -v "^Warning: taking over src-log's temporary attach on $IF: its process (pid $dead) died\$" "$T/w4.err")" ] || fail "w4: $(cat "$T/w4.err")"
	[ ! -e "$PIN" ]
}

@test "several readers: a reader's slot is reused after kill -9 when every other slot is taken" {
	"${P[@]}" -q src-log attach dev "$IF"
	reader_start a watch
	reader_start b watch
	reader_start c watch
	reader_start d watch
	local slot
	slot=$(slot_of "$PID_b")
	kill -KILL "$PID_b"
	wait "$PID_b" || true
	BG_PIDS=${BG_PIDS/ $PID_b/}
	reader_start e watch
	[ "$(slot_of "$PID_e")" = "$slot" ]
	for r in a c d e; do
		reader_stop "$r"
	done
	# a plain attach stays after its readers
	[ -e "$PIN/config" ]
}

@test "detach under a running record: a warning naming it; the record stops with an error, exit 1" {
	"${P[@]}" -q src-log attach dev "$IF"
	reader_start rec record file "$T/rec.ndjson"
	send_mix
	run_err "${P[@]}" src-log detach dev "$IF"
	[ "$status" -eq 0 ]
	[[ $stderr == "Warning: 1 reader running on $IF (pid $PID_rec), it will stop" ]]
	local i rc=0
	for ((i = 0; i < 40; i++)); do
		kill -0 "$PID_rec" 2>/dev/null || break
		sleep 0.05
	done
	wait "$PID_rec" || rc=$?
	BG_PIDS=${BG_PIDS/ $PID_rec/}
	[ "$rc" -eq 1 ]
	[ "$(cat "$T/rec.err")" = "Error: src-log on $IF was detached while this record ran: stopped" ]
	# what it had was written
	[ "$(grep -c '"src"' "$T/rec.ndjson")" -gt 0 ]
	[ ! -e "$PIN" ]
}

@test "filter changes only the keys it names; clear resets them all" {
	"${P[@]}" -q src-log attach dev "$IF" syn new-flows proto tcp
	run_err "${P[@]}" -j src-log filter dev "$IF" max-rate 50
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.syn, .new_flows, .proto, .max_rate]' <<<"$output")" = '[true,true,["tcp"],50]' ]
	run_err "${P[@]}" -j src-log filter dev "$IF" dport 443 sample 3
	[ "$(jq -c '[.syn, .new_flows, .proto, .max_rate, .dport, .sample]' <<<"$output")" = '[true,true,["tcp"],50,"443-443",3]' ]
	run_err "${P[@]}" -j src-log filter dev "$IF" proto udp
	[ "$(jq -c '[.syn, .proto, .dport]' <<<"$output")" = '[true,["udp"],"443-443"]' ]
	run_err "${P[@]}" -j src-log filter dev "$IF" clear
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.syn, .new_flows, .proto, .max_rate, .dport, .sample, .expr]' <<<"$output")" = '[false,false,[],0,"0-65535",1,""]' ]
}
