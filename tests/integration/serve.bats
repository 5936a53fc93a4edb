#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `pktscope metrics` and `pktscope serve`, judged from outside: a real
# Prometheus server (Debian's) scrapes serve while the lab sends traffic,
# and its query API must then give the same totals as `proto-stats show`
# and `src-log counters`; promtool and prometheus_client read a scrape;
# hostile clients do not stop the server or grow it; a reader of the
# textfile never sees part of one.  A private bpffs: serve exports every
# attachment it finds, and other tests attach at the same time.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

PY=/usr/bin/python3
CHECK=$PKTSCOPE_TESTLIB/serve_check.py

setup() {
	require_lab
	require_cmd curl jq
	"$PY" -c 'import prometheus_client' 2>/dev/null ||
		pktscope_unavailable "needs python3-prometheus-client"
	lab_up serve
	IF=$LAB_HOST_IF
	private_bpffs
	PKTSCOPE=$BATS_TEST_TMPDIR/pktscope
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	"$PKTSCOPE" -q proto-stats detach dev all >/dev/null 2>&1 || true
	"$PKTSCOPE" -q src-log detach dev all >/dev/null 2>&1 || true
	lab_cleanup
	umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null || true
	# a global sysctl: put back what the test found
	if [[ -n ${OLD_BPF_STATS:-} ]]; then
		echo "$OLD_BPF_STATS" >/proc/sys/kernel/bpf_stats_enabled
	fi
}

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start `serve listen 127.0.0.1:0 ARGS...`; sets SERVE_PID and PORT
start_serve() {
	local out=$BATS_TEST_TMPDIR/serve.out i
	"$PKTSCOPE" -j serve listen 127.0.0.1:0 "$@" >"$out" 2>"$BATS_TEST_TMPDIR/serve.err" &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	for i in $(seq 50); do
		PORT=$(jq -r '.port // empty' "$out" 2>/dev/null | head -1)
		[[ -n $PORT ]] && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/serve.err" >&2
	return 1
}

attach_both() {
	"$PKTSCOPE" proto-stats attach dev "$IF" >/dev/null
	"$PKTSCOPE" src-log attach dev "$IF" >/dev/null
}

@test "metrics: a table per attachment, -j families with core labels, dev filter" {
	attach_both
	lab_send --count 3 >/dev/null
	run "$PKTSCOPE" metrics
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "$IF  proto-stats  mode tcx" ]]
	[[ $output == *"$IF  src-log  mode tcx"* ]]
	[[ $output =~ pktscope_proto_stats_l4_packets_total\ +proto=udp\ +[0-9]+ ]]

	run "$PKTSCOPE" -j metrics dev "$IF"
	[ "$status" -eq 0 ]
	# one document; the family of the verdict counters has every plugin
	[ "$(jq '[.metrics[] | select(.name == "pktscope_verdict_packets_total")
		  | .samples[] | .labels.plugin] | unique' <<<"$output" | jq -c .)" = \
	  '["proto-stats","src-log"]' ]
	# pass verdicts of both equal what proto-stats counted
	total=$(jq '.metrics[] | select(.name == "pktscope_proto_stats_packets_total")
		    | .samples[0].value' <<<"$output")
	[ "$total" -gt 0 ]
	[ "$(jq --argjson t "$total" '[.metrics[] | select(.name == "pktscope_verdict_packets_total")
		| .samples[] | select(.labels.verdict == "pass") | .value == $t] | all' <<<"$output")" = true ]
	# labels: ifname, plugin, mode on every attachment sample
	[ "$(jq '[.metrics[].samples[].labels | has("ifname") and has("plugin") and has("mode")] | all' <<<"$output")" = true ]

	run "$PKTSCOPE" metrics dev nosuch0
	[ "$status" -eq 1 ]
	[[ $output == *"Error: nothing is attached to nosuch0"* ]]
}

@test "metrics: with kernel.bpf_stats_enabled the program's runs equal bpftool's run_cnt; without it the family is absent" {
	require_cmd bpftool
	OLD_BPF_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	"$PKTSCOPE" proto-stats attach dev "$IF" >/dev/null
	lab_send --count 20 >/dev/null
	id=$("$PKTSCOPE" -j proto-stats status dev "$IF" | jq -r '.attachments[0].prog_id')
	before=$(bpftool -j prog show id "$id" | jq .run_cnt)
	run "$PKTSCOPE" -j metrics dev "$IF"
	[ "$status" -eq 0 ]
	after=$(bpftool -j prog show id "$id" | jq .run_cnt)
	runs=$(jq '.metrics[] | select(.name == "pktscope_program_runs_total") | .samples[0].value' <<<"$output")
	secs=$(jq '.metrics[] | select(.name == "pktscope_program_run_seconds_total") | .samples[0].value' <<<"$output")
	echo "bpftool $before..$after, metrics $runs runs, $secs s"
	[ "$before" -ge 20 ]
	[ "$runs" -ge "$before" ]
	[ "$runs" -le "$after" ]
	[ "$(jq -n --argjson s "$secs" '$s > 0')" = true ]
	echo 0 >/proc/sys/kernel/bpf_stats_enabled
	run "$PKTSCOPE" -j metrics dev "$IF"
	[ "$status" -eq 0 ]
	[ "$(jq '[.metrics[] | select(.name == "pktscope_program_runs_total")] | length' <<<"$output")" -eq 0 ]
}

@test "metrics: top sources capped at top N" {
	"$PKTSCOPE" proto-stats attach dev "$IF" >/dev/null
	lab_send --mix syn-flood --src-random --count 300 >/dev/null
	"$PKTSCOPE" -j proto-stats top limit 1000 >"$BATS_TEST_TMPDIR/top.json"
	seen=$(jq '.interfaces[0].top_sources | length' "$BATS_TEST_TMPDIR/top.json")
	[ "$seen" -gt 5 ]
	run "$PKTSCOPE" -j metrics top 5
	[ "$status" -eq 0 ]
	[ "$(jq '[.metrics[] | select(.name == "pktscope_proto_stats_top_source_packets_total") | .samples[]] | length' <<<"$output")" -eq 5 ]
	run "$PKTSCOPE" -j metrics
	n=$(jq '[.metrics[] | select(.name == "pktscope_proto_stats_top_source_packets_total") | .samples[]] | length' <<<"$output")
	[ "$n" -le 20 ]
	[ "$n" -eq $((seen < 20 ? seen : 20)) ]
}

@test "serve: Prometheus scrapes it during traffic; its totals equal proto-stats show and src-log counters" {
	require_cmd prometheus
	attach_both
	start_serve interval 0
	PPORT=$(free_port)
	mkdir -p "$BATS_TEST_TMPDIR/prom/data"
	cat >"$BATS_TEST_TMPDIR/prom/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: pktscope
	    static_configs:
	      - targets: ['127.0.0.1:$PORT']
	EOF
	prometheus --config.file="$BATS_TEST_TMPDIR/prom/prometheus.yml" \
		--storage.tsdb.path="$BATS_TEST_TMPDIR/prom/data" \
		--web.listen-address="127.0.0.1:$PPORT" \
		>"$BATS_TEST_TMPDIR/prom/log" 2>&1 &
	PIDS+=($!)
	PROM=http://127.0.0.1:$PPORT
	for i in $(seq 100); do
		curl -sf "$PROM/-/ready" >/dev/null && break
		sleep 0.2
	done
	curl -sf "$PROM/-/ready" >/dev/null || { tail "$BATS_TEST_TMPDIR/prom/log"; false; }

	lab_send --duration 4 --rate 400 >/dev/null

	# the oracle: what pktscope itself reports once traffic has stopped
	"$PKTSCOPE" -j proto-stats show dev "$IF" >"$BATS_TEST_TMPDIR/show.json"
	want_l4=$(jq -cS '.interfaces[0].l4 | to_entries | map({("proto=" + .key): .value.packets}) | add' "$BATS_TEST_TMPDIR/show.json")
	want_l4b=$(jq -cS '.interfaces[0].l4 | to_entries | map({("proto=" + .key): .value.bytes}) | add' "$BATS_TEST_TMPDIR/show.json")
	want_l3=$(jq -cS '.interfaces[0].l3 | to_entries | map({("proto=" + .key): .value.packets}) | add' "$BATS_TEST_TMPDIR/show.json")
	want_l3b=$(jq -cS '.interfaces[0].l3 | to_entries | map({("proto=" + .key): .value.bytes}) | add' "$BATS_TEST_TMPDIR/show.json")
	"$PKTSCOPE" -j src-log counters dev "$IF" >"$BATS_TEST_TMPDIR/slog.json"
	want_slog=$(jq -cS '.interfaces[0] | del(.ifname, .seen) | to_entries
		| map({("outcome=" + (if .key == "events" then "event" else .key end)): .value}) | add' \
		"$BATS_TEST_TMPDIR/slog.json")
	[ "$(jq '.interfaces[0].total.packets' "$BATS_TEST_TMPDIR/show.json")" -gt 1000 ]

	q() {
		"$PY" "$CHECK" query "$PROM" "sum by (proto) ($1{ifname=\"$IF\"})"
	}
	for i in $(seq 30); do
		got_l4=$(q pktscope_proto_stats_l4_packets_total)
		[[ $got_l4 == "$want_l4" ]] && break
		sleep 0.5
	done
	assert_eq "$want_l4" "$got_l4" "L4 packets per protocol"
	assert_eq "$want_l4b" "$(q pktscope_proto_stats_l4_bytes_total)" "L4 bytes per protocol"
	assert_eq "$want_l3" "$(q pktscope_proto_stats_l3_packets_total)" "L3 packets"
	assert_eq "$want_l3b" "$(q pktscope_proto_stats_l3_bytes_total)" "L3 bytes"
	got_slog=$("$PY" "$CHECK" query "$PROM" "sum by (outcome) (pktscope_src_log_packets_total{ifname=\"$IF\"})")
	assert_eq "$want_slog" "$got_slog" "src-log outcomes"
	got_seen=$("$PY" "$CHECK" query "$PROM" "pktscope_src_log_seen_packets_total{ifname=\"$IF\"}")
	assert_eq "{\"ifname=$IF,mode=tcx,plugin=src-log\":$(jq '.interfaces[0].seen' "$BATS_TEST_TMPDIR/slog.json")}" "$got_seen" "src-log seen"
	# the scrape itself was healthy every time
	run "$PY" "$CHECK" query "$PROM" 'up{job="pktscope"}'
	[ "$output" = '{"":1}' ]
}

@test "serve: a scrape passes promtool check metrics and prometheus_client, HELP/TYPE once a name" {
	require_cmd promtool
	attach_both
	lab_send --count 2 >/dev/null
	start_serve
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$BATS_TEST_TMPDIR/scrape"
	run promtool check metrics <"$BATS_TEST_TMPDIR/scrape"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	n=$("$PY" "$CHECK" parse "$BATS_TEST_TMPDIR/scrape")
	[ "$n" -gt 100 ]
	[ "$(tail -c1 "$BATS_TEST_TMPDIR/scrape" | od -An -c | tr -d ' ')" = '\n' ]
	[ -z "$(grep '^# TYPE' "$BATS_TEST_TMPDIR/scrape" | sort | uniq -d)" ]
	[ -z "$(grep '^# HELP' "$BATS_TEST_TMPDIR/scrape" | awk '{print $3}' | sort | uniq -d)" ]
	grep -q '^pktscope_build_info{version="[^"]*",abi="2"} 1$' "$BATS_TEST_TMPDIR/scrape"
	grep -q "^pktscope_attachment_info{ifname=\"$IF\",plugin=\"src-log\",mode=\"tcx\",prog_id=\"[0-9]*\"} 1\$" "$BATS_TEST_TMPDIR/scrape"
	# every name has the prefix; no gauge ends in _total
	[ -z "$(grep -v '^#' "$BATS_TEST_TMPDIR/scrape" | grep -v '^pktscope_')" ]
	[ -z "$(grep '^# TYPE .*_total gauge' "$BATS_TEST_TMPDIR/scrape")" ]
	run curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/metrics"
	[ "$output" = "text/plain; version=0.0.4; charset=utf-8" ]
	# privileges: none left once listening
	[ "$(awk '/^CapEff/ {print $2}' "/proc/$SERVE_PID/status")" = 0000000000000000 ]
	[ "$(awk '/^CapBnd/ {print $2}' "/proc/$SERVE_PID/status")" = 0000000000000000 ]
	run "$PKTSCOPE" serve listen 127.0.0.1:99999
	[ "$status" -eq 2 ]
	[[ $output == *"Error: bad port in listen address '127.0.0.1:99999'"* ]]
}

@test "serve under abuse: 50 slow clients, a 1 MB request line, POST, traversal; others served, memory and fds flat" {
	attach_both
	start_serve interval 0
	run "$PY" "$CHECK" abuse "$PORT" "$SERVE_PID"
	echo "$output"
	[ "$status" -eq 0 ]
	r=$output
	[ "$(jq .served_during_slow <<<"$r")" -ge 10 ]
	[[ $(jq .huge_request_line <<<"$r") =~ ^(414|431|null)$ ]]
	[ "$(jq .post <<<"$r")" -eq 405 ]
	[ "$(jq .delete <<<"$r")" -eq 405 ]
	[ "$(jq .traversal <<<"$r")" -eq 404 ]
	[ "$(jq .traversal_encoded <<<"$r")" -eq 404 ]
	[ "$(jq .index <<<"$r")" -eq 200 ]
	# every trickling client was cut off by the request deadline (10 s)
	[ "$(jq '.slow_closed_after_s | length' <<<"$r")" -eq 50 ]
	[ "$(jq '.slow_max_s < 15' <<<"$r")" = true ]
	[ "$(jq .scrapes <<<"$r")" -ge 20 ]
	[ "$(jq '.fds1 - .fds0' <<<"$r")" -le 0 ]
	[ "$(jq '.rss1_kib - .rss0_kib' <<<"$r")" -lt 1024 ]
	kill -0 "$SERVE_PID"
}

@test "serve textfile: rewritten atomically, a tight reader never sees part of it" {
	attach_both
	lab_send --count 2 >/dev/null
	F=$BATS_TEST_TMPDIR/out/pktscope.prom
	mkdir -p "$BATS_TEST_TMPDIR/out"
	"$PKTSCOPE" serve textfile "$F" count 1
	want=$("$PY" "$CHECK" parse "$F")
	"$PKTSCOPE" serve textfile "$F" interval 1ms count 150 &
	PIDS+=($!)
	run "$PY" "$CHECK" textfile "$F" "${PIDS[-1]}" 100000
	echo "$output"
	wait "${PIDS[-1]}"
	[ "$(jq .bad <<<"$output")" -eq 0 ]
	[ "$(jq .reads <<<"$output")" -ge 1000 ]
	[ "$(jq -c .sample_counts <<<"$output")" = "[$want]" ]
	# no temporary file left; readable by node_exporter's user
	[ "$(ls -A "$BATS_TEST_TMPDIR/out")" = pktscope.prom ]
	[ "$(stat -c %a "$F")" = 644 ]
	run "$PKTSCOPE" serve textfile "$BATS_TEST_TMPDIR/nodir/x.prom" count 1
	[ "$status" -eq 1 ]
	[[ $output == *"Error: textfile directory $BATS_TEST_TMPDIR/nodir does not exist"* ]]
	run "$PKTSCOPE" serve textfile "$F" listen 127.0.0.1:0
	[ "$status" -eq 2 ]
}
