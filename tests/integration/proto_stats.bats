#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# proto-stats end to end, once per attach mode (tcx, tc, xdp-native,
# xdp-generic): attach to the lab's host end, capture the same interface with
# tcpdump (the independent oracle), send a known mix from the namespace, and
# require every counter of `proto-stats show` -- packets AND bytes -- to equal
# what tshark counts in the capture.  The expected numbers are derived from
# the capture, never hard-coded; the sender's own report is a second
# cross-check of the capture, and tcpdump's BPF filters a third for a few
# classes.  Then the top tables, reset, watch and `top by bytes`.
#
# Where the hook and the capture legitimately differ, the difference is
# derived and asserted exactly:
#   - none in bytes: at TC ingress (tc, tcx) the kernel has already taken
#     the outer VLAN tag out of the frame (skb_vlan_untag: it lives in
#     skb->vlan_tci), so skb->len is 4 bytes less per tagged frame than what
#     tcpdump writes (libpcap puts the tag back from the packet's auxdata);
#     proto-stats counts the wire length, tag included (ps_pkt.wire_len), in
#     every mode, so the bytes equal tcpdump's.  (STRIP below stays as the
#     knob for a mode that could not see a tag.)
#   - tshark dissects the truncated frame (Ethernet + 10 bytes of IPv4) as
#     "ip" plus a malformed marker; proto-stats counts it under `truncated`
#     and not under ipv4 (bpf/proto_stats.h), and so does the oracle
#     (lab_proto_counts, and classify() below, which follows its rules).
#
# Top tables.  A source (port) is counted exactly once it is in the table;
# it gets in for certain when its per-CPU cache entry is written back with
# >= 16 (PSTAT_SAMPLE_DEFAULT) packets, and the 4-way cache keeps up to four
# keys of a set without evicting any (bpf/proto_stats.h states the exact
# guarantee).  Keys written back in smaller batches get in only with some
# probability, so the test does not rely on luck: it sends in two phases,
# both pinned to one CPU (the veth receive path runs on the sender's CPU, so
# all counts land in one CPU's cache):
#   A. the 7 TCP SYNs of the default mix, 16 times: every pool source and
#      every SYN port gets >= 16 packets in its slot before any colliding key
#      is seen (the pool sources and the SYN ports do not collide with each
#      other), so each is admitted with certainty the first time it is
#      evicted and counted exactly from then on;
#   B. the whole default mix (SYNs, UDP, ICMP, IPv6 UDP and ICMPv6, 802.1Q,
#      QinQ, a truncated frame, ARP) 3 times.
# Keys with >= 16 packets must then be exact; keys with fewer are checked
# against an upper bound, and the totals against the documented invariant
# sum(keys) + untracked == packets with a key.
#
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

MIX_A=(--mix default --only 'TCP SYN' --count 16)
MIX_B=(--mix default --count 3)
WATCH_RATE=1000		# frames/s of the steady send during watch
SAMPLE=16		# PSTAT_SAMPLE_DEFAULT

setup() {
	require_lab || return
	require_cmd taskset || return
	PKTSCOPE=$(pktscope_bin) || fail "pktscope is not built"
	T=$BATS_TEST_TMPDIR
	# every sendpkts of this test runs on one CPU (see "Top tables")
	local cpu py
	cpu=$(awk '/^Cpus_allowed_list:/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)
	py=/usr/bin/python3
	[[ -x $py ]] || py=$(command -v python3)
	printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$cpu" "$py" >"$T/python-pinned"
	chmod +x "$T/python-pinned"
	export LAB_PYTHON=$T/python-pinned
	# A private bpffs: `make -j check` runs other files at the same time,
	# and a `detach dev all` there must not take our attachment away.
	BPFFS=$T/bpffs
	mkdir -p "$BPFFS"
	if mount -t bpf bpf "$BPFFS" 2>/dev/null; then
		BPFFS_MOUNTED=1
	else
		BPFFS=/sys/fs/bpf
	fi
	lab_up pstats
	IF=$LAB_HOST_IF
}

psc() {
	"$PKTSCOPE" --bpffs "$BPFFS" "$@"
}

teardown() {
	if [[ -n ${SENDER_PID:-} ]]; then
		kill "$SENDER_PID" 2>/dev/null || true
		wait "$SENDER_PID" 2>/dev/null || true
	fi
	# only our interface: other tests may have attachments of their own
	if [[ -n ${PKTSCOPE:-} && -n ${IF:-} ]]; then
		psc -q proto-stats detach dev "$IF" >/dev/null 2>&1 || true
	fi
	if declare -F lab_cleanup >/dev/null; then
		lab_cleanup
	fi
	if [[ -n ${BPFFS_MOUNTED:-} ]]; then
		umount "$BPFFS" || umount -l "$BPFFS" || true
	fi
}

# ------------------------------------------------------------------ oracle

# One tshark pass: a line per frame.
capture_fields() {
	local cfg rc=0
	cfg=$(mktemp -d "$T/wireshark.XXXXXX")
	WIRESHARK_CONFIG_DIR=$cfg tshark -n -r "$1" -T fields -E separator=/t \
		-E occurrence=f -e frame.len -e frame.protocols -e _ws.malformed \
		-e ip.src -e ipv6.src -e tcp.flags -e tcp.dstport -e udp.dstport \
		-e ip.flags.mf -e ip.frag_offset 2>"$T/tshark.err" || rc=$?
	rm -rf -- "$cfg"
	if ((rc)); then
		cat "$T/tshark.err" >&2
		return "$rc"
	fi
}

# classify STRIP <fields
# What proto-stats must show for these frames, as JSON shaped like `show`,
# plus sources, ports and helper totals.  Frames are classified by the rules
# of lab_proto_counts (tests/lib/lab.bash: the first network header after
# the tags, the first transport header after it; cut inside the network
# header = truncated) and counted by those of bpf/proto_stats.h.  STRIP is
# what the hook does not see of a VLAN-tagged frame: 4 at TC, 0 at XDP.
classify() {
	awk -F '\t' -v strip="$1" -v sample="$SAMPLE" '
	function add(k, len) { P[k]++; B[k] += len }
	function hex(s,   v, i) {     # "0x0012" (mawk has no strtonum)
		v = 0
		sub(/^0[xX]/, "", s)
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
		return v
	}
	function val(k) { return sprintf("{\"packets\":%d,\"bytes\":%d}", P[k], B[k]) }
	function group(name, keys,   n, a, i, s) {
		n = split(keys, a, " ")
		s = "\"" name "\":{"
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? "," : "") "\"" a[i] "\":" val(name "." a[i])
		return s "}"
	}
	function keyed(name, arr, parr, barr,   k, s, sep) {
		s = "\"" name "\":{"; sep = ""
		for (k in arr) {
			s = s sep "\"" k "\":{\"packets\":" parr[k] ",\"bytes\":" barr[k] "}"
			sep = ","
		}
		return s "}"
	}
	$1 == "" { next }
	{
		n = split($2, p, ":")
		tags = 0; l3 = ""; l4 = ""; frag6 = 0
		for (i = 1; i <= n; i++) {
			if (p[i] == "vlan" || p[i] == "ieee8021ad") { if (l3 == "") tags++; continue }
			if (p[i] == "eth" || p[i] == "ethertype") continue
			if (l3 == "") { l3 = p[i]; continue }
			if (p[i] ~ /^ipv6\./) { if (p[i] == "ipv6.fraghdr") frag6 = 1; continue }
			if (l4 == "") l4 = p[i]
			break
		}
		len = $1 - (tags ? strip : 0)
		raw += $1
		add("total", len)
		if (len <= 64) add("sizes.le64", len)
		else if (len <= 127) add("sizes.65-127", len)
		else if (len <= 255) add("sizes.128-255", len)
		else if (len <= 511) add("sizes.256-511", len)
		else if (len <= 1023) add("sizes.512-1023", len)
		else if (len <= 1518) add("sizes.1024-1518", len)
		else add("sizes.jumbo", len)
		if (tags >= 2) add("qinq", len)

		src = $4 != "" ? $4 : $5
		if (src != "") { add("with_source", len); SP[src]++; SB[src] += len }

		if ($3 != "" && (l3 == "ip" || l3 == "ipv6") && l4 == "") { add("truncated", len); next }
		if ($3 != "") { add("malformed", len); next }   # none in the mix: must stay 0
		if (tags) add("vlan", len)
		if (l3 == "ip") add("l3.ipv4", len)
		else if (l3 == "ipv6") add("l3.ipv6", len)
		else if (l3 == "arp") { add("l3.arp", len); next }
		else { add("l3.other", len); next }

		later = ($10 != "" && $10 > 0)
		if ($9 == "1" || $9 == "True" || later || frag6) add("fragments", len)
		if (l4 == "tcp" || l4 == "udp" || l4 == "icmp" || l4 == "icmpv6" ||
		    l4 == "sctp" || l4 == "gre")
			add("l4." l4, len)
		else
			add("l4.other", len)
		t = ""
		if (l4 == "tcp") {
			f = hex($6)
			fin = f % 2; syn = int(f / 2) % 2; rst = int(f / 4) % 2
			ack = int(f / 16) % 2
			if ($6 == "") t = "other"        # later fragment: no TCP header
			else if (syn) t = (fin || rst) ? "other" : (ack ? "synack" : "syn")
			else if (rst) t = "rst"
			else if (fin) t = "fin"
			else if (ack) t = "ack"
			else t = "other"
			add("tcp_flags." t, len)
		}
		port = ""
		if (l4 == "tcp" && $7 != "") port = "tcp/" $7
		if (l4 == "udp" && $8 != "") port = "udp/" $8
		if (port != "") { add("with_port", len); PP[port]++; PB[port] += len }
		if (port != "" && t == "syn") SYNP[port] = 1
	}
	END {
		printf "{\"total\":%s,", val("total")
		printf "%s,", group("l3", "ipv4 ipv6 arp other")
		printf "%s,", group("l4", "tcp udp icmp icmpv6 sctp gre other")
		printf "%s,", group("tcp_flags", "syn synack fin rst ack other")
		printf "%s,", group("sizes", "le64 65-127 128-255 256-511 512-1023 1024-1518 jumbo")
		printf "\"malformed\":%s,\"truncated\":%s,\"vlan\":%s,\"fragments\":%s,",
			val("malformed"), val("truncated"), val("vlan"), val("fragments")
		printf "\"qinq\":%s,\"with_source\":%s,\"with_port\":%s,\"raw_bytes\":%d,",
			val("qinq"), val("with_source"), val("with_port"), raw
		printf "%s,%s,", keyed("sources", SP, SP, SB), keyed("ports", PP, PP, PB)
		printf "\"syn_ports\":["; sep = ""
		for (k in SYNP) { printf "%s\"%s\"", sep, k; sep = "," }
		printf "]}\n"
	}'
}

# the counter part of `show` (what classify computes)
COUNTERS='{total, l3, l4, tcp_flags, sizes, malformed, truncated, vlan, fragments}'

# Sum sendpkts reports (one JSON document each, in one file).
sum_reports() {
	jq -s 'def addobj: map(to_entries) | add | group_by(.key)
			| map({key: .[0].key, value: (map(.value) | add)}) | from_entries;
		{frames: (map(.frames) | add), bytes: (map(.bytes) | add),
		 tcp_syn: (map(.tcp_syn) | add), send_errors: (map(.send_errors) | add),
		 proto: (map(.proto) | addobj), proto_bytes: (map(.proto_bytes) | addobj),
		 sizes: (map(.sizes) | addobj), sources: (map(.sources) | addobj)}' "$@"
}

# The capture against the sender's report, lab_proto_counts and tcpdump: the
# oracle is right before proto-stats is compared with it.
check_oracle() {
	local sent=$1 cap=$2 pcap=$3 lpc mine
	lpc=$(lab_proto_counts "$pcap") || return
	assert_eq 0 "$(jq .send_errors <<<"$sent")" "send errors" || return
	assert_eq "$(jq .frames <<<"$sent")" "$(jq .frames <<<"$lpc")" "frames: sent vs captured" || return
	assert_eq "$(jq .frames <<<"$sent")" "$(jq .total.packets <<<"$cap")" "frames: sent vs classify" || return
	assert_eq "$(jq .bytes <<<"$sent")" "$(jq .bytes <<<"$lpc")" "bytes: sent vs captured" || return
	assert_eq "$(jq .bytes <<<"$sent")" "$(jq .total.bytes <<<"$cap")" "bytes: sent vs classify" || return
	assert_json_eq "$(jq .proto <<<"$sent")" "$(jq .proto <<<"$lpc")" "classes: sent vs lab_proto_counts" || return
	assert_json_eq "$(jq .sizes <<<"$sent")" "$(jq .sizes <<<"$lpc")" "sizes: sent vs lab_proto_counts" || return
	# classify() agrees with lab_proto_counts, packets and (vs the sender) bytes
	mine=$(jq -c '{ipv4: .l3.ipv4, ipv6: .l3.ipv6, arp: .l3.arp, other: .l3.other,
		vlan, qinq, tcp: .l4.tcp, udp: .l4.udp, icmp: .l4.icmp,
		icmpv6: .l4.icmpv6, truncated}' <<<"$cap")
	assert_json_eq "$(jq .proto <<<"$lpc")" "$(jq 'map_values(.packets)' <<<"$mine")" \
		"classes: lab_proto_counts vs classify" || return
	assert_json_eq "$(jq .proto_bytes <<<"$sent")" "$(jq 'map_values(.bytes)' <<<"$mine")" \
		"class bytes: sent vs classify" || return
	assert_eq "$(jq .tcp_syn <<<"$sent")" "$(jq .tcp_flags.syn.packets <<<"$cap")" "SYNs: sent vs classify" || return
	assert_json_eq "$(jq .sources <<<"$sent")" "$(jq '.sources | map_values(.packets)' <<<"$cap")" \
		"sources: sent vs classify" || return
	# tcpdump's own parser, for a few classes
	assert_eq "$(jq .total.packets <<<"$cap")" "$(lab_count_bpf '' "$pcap")" "tcpdump: all" || return
	assert_eq "$(jq .l3.arp.packets <<<"$cap")" "$(lab_count_bpf arp "$pcap")" "tcpdump: arp" || return
	assert_eq "$(jq .vlan.packets <<<"$cap")" "$(lab_count_bpf vlan "$pcap")" "tcpdump: vlan" || return
	assert_eq "$(jq .tcp_flags.syn.packets <<<"$cap")" \
		"$(lab_count_bpf '(tcp[tcpflags] & (tcp-syn|tcp-ack)) == tcp-syn or (ip6 and ip6[6] == 6 and (ip6[53] & 0x12) == 0x02)' "$pcap")" \
		"tcpdump: SYN" || return
	# the mix exercises what it is meant to
	local k
	for k in l3.ipv4 l3.ipv6 l3.arp l4.tcp l4.udp l4.icmp l4.icmpv6 tcp_flags.syn vlan qinq truncated; do
		(($(jq ".$k.packets" <<<"$cap") > 0)) || fail "the mix has no $k frame" || return
	done
	assert_eq 0 "$(jq .malformed.packets <<<"$cap")" "malformed frames in the capture" || return
}

# ------------------------------------------------------------------ checks

# proto-stats counters == the capture, adjusted for what the hook cannot see
check_counters() {
	local show=$1 cap=$2 exp=$3 strip=$4 got
	got=$(jq -c "$COUNTERS" <<<"$show")
	assert_json_eq "$(jq -c "$COUNTERS" <<<"$exp")" "$got" "proto-stats vs capture" || return
	# the difference, spelled out (none: the tag is counted at TC too)
	assert_eq "$(($(jq .total.bytes <<<"$cap") - strip * $(jq .vlan.packets <<<"$cap")))" \
		"$(jq .total.bytes <<<"$show")" "total bytes = captured - $strip x tagged frames" || return
	assert_eq "$(($(jq .vlan.bytes <<<"$cap") - strip * $(jq .vlan.packets <<<"$cap")))" \
		"$(jq .vlan.bytes <<<"$show")" "vlan bytes = captured - $strip x tagged frames" || return
	# the documented sums (bpf/proto_stats.h)
	assert_eq "$(jq .total.packets <<<"$show")" "$(jq '[.sizes[].packets] | add' <<<"$show")" "sum(sizes) packets" || return
	assert_eq "$(jq .total.bytes <<<"$show")" "$(jq '[.sizes[].bytes] | add' <<<"$show")" "sum(sizes) bytes" || return
	assert_eq "$(jq .total.packets <<<"$show")" \
		"$(jq '([.l3[].packets] | add) + .truncated.packets + .malformed.packets' <<<"$show")" \
		"sum(l3) + truncated + malformed" || return
	assert_eq "$(jq '.l3.ipv4.packets + .l3.ipv6.packets' <<<"$show")" "$(jq '[.l4[].packets] | add' <<<"$show")" \
		"sum(l4) == ipv4 + ipv6" || return
	assert_eq "$(jq .l4.tcp.packets <<<"$show")" "$(jq '[.tcp_flags[].packets] | add' <<<"$show")" \
		"sum(tcp_flags) == tcp" || return
}

# check_top TOP_JSON SHOW_JSON EXPECTED: top_sources and top_dst_ports
check_top() {
	local top=$1 show=$2 exp=$3 bad
	# a table row as "key" -> {packets, bytes}
	local srcs ports
	srcs=$(jq -c '.top_sources | map({key: .src, value: {packets, bytes}}) | from_entries' <<<"$top")
	ports=$(jq -c '.top_dst_ports | map({key: "\(.proto)/\(.dport)", value: {packets, bytes}}) | from_entries' <<<"$top")
	[[ $(jq '.top_sources | length' <<<"$top") == "$(jq '.top_sources | map(.src) | unique | length' <<<"$top")" ]] ||
		fail "a source is listed twice: $top" || return
	# >= 16 packets: present and exact; fewer: at most what was sent
	bad=$(jq -rn --argjson want "$(jq .sources <<<"$exp")" --argjson got "$srcs" --argjson n "$SAMPLE" '
		$want | to_entries[] |
		if .value.packets >= $n then
			select($got[.key] != .value) |
			"source \(.key): want \(.value), got \($got[.key])"
		else
			select($got[.key] != null and ($got[.key].packets > .value.packets or
						       $got[.key].bytes > .value.bytes)) |
			"source \(.key): at most \(.value), got \($got[.key])"
		end')
	[[ -z $bad ]] || fail "top_sources: $bad" || return
	bad=$(jq -rn --argjson want "$(jq .sources <<<"$exp")" --argjson got "$srcs" \
		'$got | keys[] | select($want[.] == null) | "unexpected source \(.)"')
	[[ -z $bad ]] || fail "top_sources: $bad" || return
	(($(jq --argjson n "$SAMPLE" '[.sources[] | select(.packets >= $n)] | length' <<<"$exp") >= 5)) ||
		fail "the mix should give 5 sources >= $SAMPLE packets: $(jq -c .sources <<<"$exp")" || return
	# every packet with a source is in a row or untracked (no LRU eviction here)
	assert_eq "$(jq .with_source.packets <<<"$exp")" \
		"$(jq -n --argjson t "$top" --argjson s "$show" '([$t.top_sources[].packets] | add) + $s.untracked_sources.packets')" \
		"sum(top_sources) + untracked_sources" || return
	assert_eq "$(jq .with_source.bytes <<<"$exp")" \
		"$(jq -n --argjson t "$top" --argjson s "$show" '([$t.top_sources[].bytes] | add) + $s.untracked_sources.bytes')" \
		"sum(top_sources) + untracked_sources, bytes" || return

	# the SYN ports: present and exact (>= 16 packets each, by design)
	(($(jq '.syn_ports | length' <<<"$exp") >= 4)) ||
		fail "expected >= 4 SYN ports, got: $(jq -c .syn_ports <<<"$exp")" || return
	bad=$(jq -rn --argjson want "$(jq .ports <<<"$exp")" --argjson got "$ports" --argjson n "$SAMPLE" \
		--argjson syn "$(jq .syn_ports <<<"$exp")" '
		$want | to_entries[] |
		if (.key | IN($syn[])) and ($got[.key] == null) then
			"SYN port \(.key) (\(.value.packets) packets) missing"
		elif (.key | IN($syn[])) and .value.packets < $n then
			"SYN port \(.key): only \(.value.packets) packets, the mix must send >= \($n)"
		elif .value.packets >= $n then
			select($got[.key] != .value) | "port \(.key): want \(.value), got \($got[.key])"
		else
			select($got[.key] != null and ($got[.key].packets > .value.packets or
						       $got[.key].bytes > .value.bytes)) |
			"port \(.key): at most \(.value), got \($got[.key])"
		end')
	[[ -z $bad ]] || fail "top_dst_ports: $bad" || return
	assert_eq "$(jq .with_port.packets <<<"$exp")" \
		"$(jq -n --argjson t "$top" --argjson s "$show" '([$t.top_dst_ports[].packets] | add) + $s.untracked_ports.packets')" \
		"sum(top_dst_ports) + untracked_ports" || return
	assert_eq "$(jq .with_port.bytes <<<"$exp")" \
		"$(jq -n --argjson t "$top" --argjson s "$show" '([$t.top_dst_ports[].bytes] | add) + $s.untracked_ports.bytes')" \
		"sum(top_dst_ports) + untracked_ports, bytes" || return
	# show's own (shortened) tables agree with top's
	bad=$(jq -rn --argjson s "$show" --argjson got "$srcs" '
		$s.top_sources[] | select($got[.src] != {packets, bytes}) | "show: \(.)"')
	[[ -z $bad ]] || fail "show's top_sources differ from top's: $bad" || return
}

# `top by bytes limit 3`: 3 rows each, in byte order, the 3 biggest
check_top_by_bytes() {
	local full=$1 out t
	out=$(psc -j proto-stats top dev "$IF" by bytes limit 3) || fail "top by bytes failed" || return
	out=$(jq -c '.interfaces[0]' <<<"$out")
	for t in top_sources top_dst_ports; do
		assert_eq 3 "$(jq ".${t} | length" <<<"$out")" "$t rows with limit 3" || return
		assert_eq "$(jq -c "[.${t}[].bytes] | sort | reverse" <<<"$out")" \
			"$(jq -c "[.${t}[].bytes]" <<<"$out")" "$t in byte order" || return
		assert_eq "$(jq -c "[.${t}[].bytes] | sort | reverse | .[:3]" <<<"$full")" \
			"$(jq -c "[.${t}[].bytes]" <<<"$out")" "$t: the 3 biggest by bytes" || return
	done
	# the text table too: three rows under each header, biggest first
	out=$(psc proto-stats top dev "$IF" by bytes limit 3) || return
	assert_eq "3 3" "$(awk '/^(SOURCE|PROTO) / { n[++t] = 0; in_t = 1; next }
		/^$/ { in_t = 0 } in_t { n[t]++ } END { print n[1], n[2] }' <<<"$out")" \
		"text: rows under each header" || return
	assert_eq "$(jq -r '.top_sources | max_by(.bytes) | .src' <<<"$full")" \
		"$(awk '/^SOURCE / { getline; print $1; exit }' <<<"$out")" "text: biggest source first" || return
}

check_reset() {
	local out
	psc -j proto-stats reset dev "$IF" >/dev/null || fail "reset failed" || return
	out=$(psc -j proto-stats show dev "$IF") || return
	assert_eq "[]" "$(jq -c '[.interfaces[0] | .. | objects | select(has("packets")) |
		select(.packets != 0 or .bytes != 0)]' <<<"$out")" "nonzero counters after reset" || return
	(($(jq '[.interfaces[0] | .. | objects | select(has("packets"))] | length' <<<"$out") >= 30)) ||
		fail "show after reset lists too few counters: $out" || return
	out=$(psc -j proto-stats top dev "$IF" limit 1000) || return
	assert_eq '0 0' "$(jq -r '.interfaces[0] | "\(.top_sources | length) \(.top_dst_ports | length)"' <<<"$out")" \
		"top rows after reset" || return
}

# `watch interval 200ms count 3` during a steady send at WATCH_RATE frames/s
check_watch() {
	local rows sent pps
	local rx0 rx i
	read -r rx0 _ < <(lab_ifstats "$IF")
	lab_send --mix udp-flood --rate "$WATCH_RATE" --duration 2.5 >"$T/steady.json" 2>"$T/steady.err" 3>&- &
	SENDER_PID=$!
	# the watch starts once the flood does: a loaded machine takes the
	# sender a second or more to start (seen: all three rows at 0 pps)
	for ((i = 0; i < 200; i++)); do
		read -r rx _ < <(lab_ifstats "$IF")
		((rx - rx0 >= 20)) && break
		sleep 0.05
	done
	((rx - rx0 >= 20)) || fail "the steady sender did not start within 10 s" || return
	rows=$(psc -j proto-stats watch dev "$IF" interval 200ms count 3) || fail "watch failed" || return
	wait "$SENDER_PID" || fail "steady sender failed: $(cat "$T/steady.err")" || return
	SENDER_PID=
	sent=$(jq .pps "$T/steady.json")
	echo "steady send: $sent pps; watch rows:"
	echo "$rows"
	assert_eq 3 "$(wc -l <<<"$rows")" "watch rows" || return
	assert_eq 3 "$(jq -s "[.[] | select(.ifname == \"$IF\")] | length" <<<"$rows")" "rows of $IF" || return
	for pps in $(jq '.total.packets_per_second' <<<"$rows"); do
		awk -v p="$pps" -v s="$sent" -v r="$WATCH_RATE" 'BEGIN { exit !(p > 0 && p >= 0.7 * s && p <= 1.3 * s && p >= 0.7 * r && p <= 1.3 * r) }' ||
			fail "watch pps $pps not within 30% of the send rate $sent (asked $WATCH_RATE)" || return
	done
	# every frame of the flood is IPv4 UDP: the per-protocol rates follow
	for pps in $(jq '.packets_per_second.udp' <<<"$rows"); do
		awk -v p="$pps" -v s="$sent" 'BEGIN { exit !(p >= 0.7 * s && p <= 1.3 * s) }' ||
			fail "watch udp pps $pps not within 30% of $sent" || return
	done
	assert_eq "" "$(jq -r 'select(.interval_seconds < 0.15 or .interval_seconds > 0.5) | .interval_seconds' <<<"$rows")" \
		"watch intervals near 200ms" || return
}

# ------------------------------------------------------------------ the run

proto_stats_e2e() {
	local mode=$1 strip out show top cap exp sent
	strip=0		# tag bytes counted in every mode (see the top)
	out=$(psc -j proto-stats attach dev "$IF" mode "$mode") ||
		fail "attach mode $mode failed" || return
	assert_eq "$mode" "$(jq -r .mode <<<"$out")" "attached mode" || return
	assert_eq "$BPFFS/pktscope/$IF/proto-stats" "$(jq -r .pin_dir <<<"$out")" "pin directory" || return

	lab_capture_start "$T/cap.pcap" || return
	lab_send "${MIX_A[@]}" >"$T/sent" || fail "sendpkts (phase A) failed" || return
	lab_send "${MIX_B[@]}" >>"$T/sent" || fail "sendpkts (phase B) failed" || return
	lab_capture_stop "$T/cap.pcap" || return

	show=$(psc -j proto-stats show dev "$IF") || fail "show failed" || return
	show=$(jq -c '.interfaces[0]' <<<"$show")
	top=$(psc -j proto-stats top dev "$IF" limit 1000) || fail "top failed" || return
	top=$(jq -c '.interfaces[0]' <<<"$top")
	assert_eq "$IF $mode" "$(jq -r '"\(.ifname) \(.mode)"' <<<"$show")" "show: interface and mode" || return

	capture_fields "$T/cap.pcap" >"$T/cap.tsv" || return
	cap=$(classify 0 <"$T/cap.tsv")
	exp=$(classify "$strip" <"$T/cap.tsv")
	sent=$(sum_reports "$T/sent")
	echo "mode $mode"
	echo "capture:     $(jq -c "$COUNTERS" <<<"$cap")"
	echo "expected:    $(jq -c "$COUNTERS" <<<"$exp")"
	echo "proto-stats: $(jq -c "$COUNTERS" <<<"$show")"
	echo "top:         $top"

	check_oracle "$sent" "$cap" "$T/cap.pcap" || return
	check_counters "$show" "$cap" "$exp" "$strip" || return
	check_top "$top" "$show" "$exp" || return
	check_top_by_bytes "$top" || return
	check_reset || return
	check_watch || return

	psc proto-stats detach dev "$IF" >/dev/null || fail "detach failed" || return
	[[ ! -e $BPFFS/pktscope/$IF/proto-stats ]] || fail "pins left after detach" || return
}

@test "proto-stats tcx: counts, bytes and top tables equal the capture; reset; watch" {
	proto_stats_e2e tcx
}

@test "proto-stats tc: counts, bytes and top tables equal the capture; reset; watch" {
	proto_stats_e2e tc
}

@test "proto-stats xdp-native: counts, bytes and top tables equal the capture; reset; watch" {
	proto_stats_e2e xdp-native
}

@test "proto-stats xdp-generic: counts, bytes and top tables equal the capture; reset; watch" {
	proto_stats_e2e xdp-generic
}

# ---------------------------------------------------------------- live view

# the N-th address of the IPv4 pool: sendpkts' floods come from the 7th
pool4() {
	"$LAB_PYTHON" -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1]).network_address + int(sys.argv[2]))' "$LAB_POOL4" "$1"
}

# a known mix for a few seconds: a UDP flood from pool address 7 (port
# 9) over the default mix from addresses 7, 8, 9
live_traffic() {
	(
		lab_send --mix udp-flood --rate 300 --duration "${1:-6}" >/dev/null &
		for _ in 1 2 3; do
			lab_send --mix default --family 4 >/dev/null
			sleep 1
		done
		wait
	) &
	SENDER_PID=$!
}

@test "top (proto-stats live) on a terminal: the heaviest sender first, redrawn on resize, q restores the terminal" {
	local heavy
	heavy=$(pool4 7)
	live_traffic 8
	# stty after the view: the terminal's modes are back (icanon, echo)
	run "$LAB_PYTHON" "$PKTSCOPE_SRCDIR/tests/lib/ptydrive.py" --timeout 8 --cols 100 -- \
		sh -c '"$0" --bpffs "$1" top dev "$2" interval 3s; echo "rc=$?"; stty -a' \
		"$PKTSCOPE" "$BPFFS" "$IF" <<EOF2
rawexpect \x1b\[\?1049h
expect total .* pps
expect #\s+SOURCE\s+PPS\s+BIT/S\s+SHARE\s*\n\s*1\s+${heavy//./\\.}\s
expect q: quit
mark
resize 12 60
expect #\s+SOURCE
expect q: quit
within 1.5
send q
rawexpect \x1b\[\?25h\x1b\[\?1049l
expect rc=0
expect (?<!-)icanon
expect (?<!-)echo
eof
EOF2
	echo "$output"
	[ "$status" -eq 0 ]
	# attached for the view only
	run psc -j proto-stats status dev "$IF"
	[[ $output != *'"prog_id"'* ]]
}

@test "live without a terminal: one snapshot per interval (-j), by source and by port; Ctrl-C on a terminal restores it" {
	local heavy
	heavy=$(pool4 7)
	live_traffic 12
	run psc -j proto-stats live dev "$IF" interval 1s count 3
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(echo "$output" | wc -l)" -eq 3 ]
	[ "$(echo "$output" | tail -1 | jq -r '.top[0].key')" = "$heavy" ]
	[ "$(echo "$output" | tail -1 | jq -r '.top[0].share_pct > 50')" = true ]
	run psc -j proto-stats live dev "$IF" interval 1s count 2 group port
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tail -1 | jq -r '.top[0].key')" = udp/9 ]
	# top is the same view, by its short name
	run psc -j top dev "$IF" interval 1s count 2 group port
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tail -1 | jq -r '.top[0].key')" = udp/9 ]
	run psc proto-stats live dev "$IF" interval 1s count 1 group proto
	[ "$status" -eq 0 ]
	[[ $(echo "$output" | sed -n 2p) == *udp* ]]
	run "$LAB_PYTHON" "$PKTSCOPE_SRCDIR/tests/lib/ptydrive.py" --timeout 8 -- \
		sh -c 'trap "" INT; "$0" --bpffs "$1" proto-stats live dev "$2"; echo "rc=$?"; stty -a' \
		"$PKTSCOPE" "$BPFFS" "$IF" <<EOF2
expect q: quit
send \x03
rawexpect \x1b\[\?1049l
expect rc=0
expect (?<!-)echo
eof
EOF2
	echo "$output"
	[ "$status" -eq 0 ]
}
