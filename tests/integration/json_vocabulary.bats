#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# One JSON vocabulary (man pktscope, JSON VOCABULARY) over the -j output of
# every core command and every proto-stats command, with an attachment and
# traffic so that every list has rows:
#   - a timestamp is RFC 3339 in UTC with Z (fromdateiso8601 reads it once
#     jq 1.6 is given it without the fraction of a second);
#     no epoch numbers under time-like keys;
#   - one name per thing: src, dst, sport, dport, proto, ifname, mode,
#     plugin_abi -- never addr, port, abi, iface;
#   - units in key names: no bare pps, bps, interval_s;
#   - numbers exact: no exponent form;
#   - every per-interface object carries ifname and mode.
# (src-log's event stream is out of scope here: it is being reworked.)
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	lab_bpffs_setup vocab || return
}

teardown() {
	lab_bpffs_teardown proto-stats
}

# what is wrong with one JSON document (or JSON Lines), one line a problem
vocabulary_errors() {
	jq -r '
	def bad_keys: ["addr", "port", "abi", "iface", "pps", "bps", "interval_s"];
	def timey: test("(^|_)(ts|time|since|timestamp|at|first_seen|last_seen)$");
	[paths as $p | {p: $p, v: getpath($p)}] as $all |
	($all[] | select(.p[-1] | type == "string") |
		if (.p[-1] | IN(bad_keys[])) then "key \(.p | map(tostring) | join(".")): not in the vocabulary"
		elif (.p[-1] | timey) and (.v | type) != "string" then "time \(.p | map(tostring) | join(".")) = \(.v): not RFC 3339"
		elif (.p[-1] | timey) and ((.v | try (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) catch null) == null) then "time \(.p | map(tostring) | join(".")) = \(.v): not RFC 3339 UTC Z"
		else empty end),
	(.interfaces // [] | .[] | select(has("ifname") and has("mode") | not) | "interface object without ifname and mode: \(tostring)"),
	(.attachments // [] | .[] | select(has("ifname") and has("mode") | not) | "attachment without ifname and mode: \(tostring)"),
	(.reset // [] | .[] | select(has("ifname") and has("mode") | not) | "reset without ifname and mode: \(tostring)"),
	(select(has("ifname") and (has("mode") | not)) | "object with ifname but no mode")
	' 2>&1
	# exponents, in the text itself
	grep -oE '[0-9]e[+-][0-9]+' <<<"$1" | sed 's/^/number in exponent form: /' || true
}

@test "json vocabulary: core commands and proto-stats speak one vocabulary" {
	local c out errs all=""
	"$PKTSCOPE" --bpffs "$BPFFS" proto-stats attach dev "$IF" >/dev/null || fail "attach failed"
	lab_send --mix default --count 3 >/dev/null || fail "sendpkts failed"
	local -a cmds=(
		"version" "plugin list" "plugin info proto-stats" "feature" "status"
		"proto-stats status" "proto-stats show" "proto-stats top"
		"proto-stats watch interval 200ms count 2" "proto-stats reset"
		"proto-stats attach dev $IF replace"
	)
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # word splitting wanted
		out=$("$PKTSCOPE" --bpffs "$BPFFS" -j $c) || fail "'$c' failed: $out"
		errs=$(jq -c . <<<"$out" | while read -r line; do
			printf '%s\n' "$line" | vocabulary_errors "$line"; done)
		[[ -z $errs ]] || all+="$c: "$'\n'"$errs"$'\n'
	done
	[[ -z $all ]] || fail "$all"
	assert_eq 2 "$("$PKTSCOPE" -j version | jq .json_schema)" "json_schema"
}
