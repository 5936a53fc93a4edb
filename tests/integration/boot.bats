#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The boot path: the systemd units pass `systemd-analyze verify`, and the
# configuration round-trips -- the unit's own ExecStart (the example
# pktscope.conf with the lab's interface named) attaches, `status` shows
# what the file says, the unit's ExecStop detaches everything -- each run
# with only the capabilities the unit's CapabilityBoundingSet leaves (capsh),
# so a sandbox that would break the unit fails here.  systemd is not PID 1
# here, so the units are not started by systemd itself.  The Prometheus
# rules example passes promtool check rules and its unit test.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	require_root
	SRC=$PKTSCOPE_SRCDIR
	REAL_PKTSCOPE=$(pktscope_bin)
	BIN=$BATS_TEST_TMPDIR/bin
	ETC=$BATS_TEST_TMPDIR/etc
	mkdir -p "$BIN" "$ETC/pktscope"
}

teardown() {
	if [[ -n ${BPFFS:-} ]]; then
		"$BIN/pktscope" -q proto-stats detach dev all >/dev/null 2>&1 || true
		"$BIN/pktscope" -q src-log detach dev all >/dev/null 2>&1 || true
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	fi
	[[ -n ${LAB_NS:-} ]] && lab_cleanup
	true
}

# the unit with its paths pointing here; bindir holds a pktscope wrapper
unit() {
	sed -e "s|@bindir@|$BIN|g" -e "s|@sysconfdir@|$ETC|g" \
		"$SRC/systemd/$1.service.in"
}

# a unit's setting, as the shell will run it ($$ is systemd's $)
unit_cmd() {
	unit "$1" | sed -n "s/^$2=//p" | sed 's/\$\$/$/g'
}

# the capabilities a unit's CapabilityBoundingSet takes away, for capsh
unit_caps_drop() {
	local keep
	keep=$(unit "$1" | sed -n 's/^CapabilityBoundingSet=//p' | tr 'A-Z ' 'a-z,')
	capsh --print | sed -n 's/^Bounding set =//p' | tr , '\n' |
		grep -vxF -e "${keep//,/$'\n'}" | paste -sd, -
}

# run a command line with the capabilities of a unit's bounding set only
with_unit_caps() {
	local drop
	drop=$(unit_caps_drop "$1")
	shift
	capsh --drop="$drop" -- -c "$*"
}

@test "units: systemd-analyze verify passes" {
	require_cmd systemd-analyze
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$REAL_PKTSCOPE" >"$BIN/pktscope"
	chmod +x "$BIN/pktscope"
	unit pktscope >"$BATS_TEST_TMPDIR/pktscope.service"
	unit pktscope-serve >"$BATS_TEST_TMPDIR/pktscope-serve.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/pktscope.service" \
		"$BATS_TEST_TMPDIR/pktscope-serve.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "pktscope.conf round-trips: the unit's ExecStart attaches it, status matches, ExecStop detaches" {
	require_lab
	require_cmd capsh jq
	lab_up boot
	IF=$LAB_HOST_IF
	PRIVATE_BPFFS_DIR=$BIN private_bpffs
	# the example, its proto-stats and src-log lines switched on
	sed -e "s/^# \(proto-stats attach dev\) eth0/\1 $IF/" \
	    -e "s/^# \(src-log attach dev\) eth0/\1 $IF/" \
		"$SRC/examples/pktscope.conf" >"$ETC/pktscope/pktscope.conf"
	[ "$(grep -c "^[a-z].* attach dev $IF" "$ETC/pktscope/pktscope.conf")" -eq 2 ]

	run with_unit_caps pktscope "$(unit_cmd pktscope ExecStart)"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$BIN/pktscope" -j status
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.attachments[] | [.ifname, .plugin]] | sort' <<<"$output")" = \
	  "[[\"$IF\",\"proto-stats\"],[\"$IF\",\"src-log\"]]" ]
	# the settings of the line came through: src-log filters tcp SYNs
	run "$BIN/pktscope" -j src-log filter dev "$IF"
	[[ $output == *'"tcp"'* ]]
	# and it counts
	lab_send --count 2 >/dev/null
	run "$BIN/pktscope" -j metrics dev "$IF"
	[ "$(jq '.metrics[] | select(.name == "pktscope_proto_stats_packets_total") | .samples[0].value' <<<"$output")" -gt 0 ]

	run with_unit_caps pktscope "$(unit_cmd pktscope ExecStop)"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$BIN/pktscope" -j status
	[ "$(jq '.attachments | length' <<<"$output")" -eq 0 ]
	[ -z "$(ls -A "$BPFFS/pktscope/$IF" 2>/dev/null)" ]
	[ -z "$(tc filter show dev "$IF" ingress 2>/dev/null)" ]
}

@test "pktscope-serve.service: ExecStart serves with no capability at all" {
	require_lab
	require_cmd capsh curl
	lab_up bootserve
	IF=$LAB_HOST_IF
	PRIVATE_BPFFS_DIR=$BIN private_bpffs
	"$BIN/pktscope" proto-stats attach dev "$IF" >/dev/null
	# the unit's command on a free port instead of 9877
	cmd=$(unit_cmd pktscope-serve ExecStart | sed -e "s/127.0.0.1:9877/127.0.0.1:0/" -e "s|pktscope serve|pktscope -j serve|")
	[[ $(unit pktscope-serve | grep '^CapabilityBoundingSet=') == "CapabilityBoundingSet=" ]]
	drop=$(unit_caps_drop pktscope-serve)
	# capsh execs the shell, which execs pktscope: $! is the server
	capsh --drop="$drop" -- -c "exec $cmd" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for i in $(seq 50); do
		port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/out")
		[[ -n $port ]] && break
		sleep 0.1
	done
	run curl -sf "http://127.0.0.1:$port/metrics"
	kill "$pid"
	wait "$pid" || true
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ $output == *"pktscope_proto_stats_packets_total{ifname=\"$IF\""* ]]
}

@test "rules: promtool check rules and the rules' unit test pass" {
	require_cmd promtool
	run promtool check rules "$SRC/examples/prometheus/pktscope-rules.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	cd "$SRC/examples/prometheus"
	run promtool test rules pktscope-rules.test.yml
	echo "$output"
	[ "$status" -eq 0 ]
}
