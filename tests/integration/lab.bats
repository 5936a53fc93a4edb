#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The test lab (tests/lib/lab.bash) and the frame sender (tests/lib/sendpkts.py)
# checked against tcpdump/tshark and the kernel's interface counters: what the
# sender says it sent is exactly what arrives at the host end of the veth.
# shellcheck disable=SC2153 # LAB_* come from lab_up

load ../lib/common

setup() {
	case $BATS_TEST_DESCRIPTION in
	"sendpkts offline:"*)
		require_cmd python3 tshark jq
		# shellcheck source=tests/lib/lab.bash
		source "$PKTSCOPE_TESTLIB/lab.bash"
		;;
	*)
		require_lab
		;;
	esac
	SENDPKTS=$PKTSCOPE_TESTLIB/sendpkts.py
	T=$BATS_TEST_TMPDIR
}

teardown() {
	if declare -F lab_cleanup >/dev/null; then
		lab_cleanup
		if [[ $EUID -eq 0 ]]; then
			lab_reap
		fi
	fi
	if [[ -s ${T:-}/sleep.pid ]]; then
		kill "$(cat "$T/sleep.pid")" 2>/dev/null || true
	fi
}

# Compare a capture with a sendpkts report, field by field.
check_capture_matches() {
	local sent=$1 pcap=$2 got key filter want n
	got=$(lab_proto_counts "$pcap")
	assert_eq "$(jq .frames <<<"$sent")" "$(jq .frames <<<"$got")" "frames" || return
	assert_eq "$(jq .bytes <<<"$sent")" "$(jq .bytes <<<"$got")" "bytes" || return
	assert_json_eq "$(jq .proto <<<"$sent")" "$(jq .proto <<<"$got")" "per-protocol counts" || return
	assert_json_eq "$(jq .sizes <<<"$sent")" "$(jq .sizes <<<"$got")" "frame sizes" || return
	# the same through plain display filters, one at a time
	for key in ipv4 ipv6 arp vlan qinq tcp udp icmp icmpv6 truncated; do
		case $key in
		ipv4) filter='ip && !_ws.malformed' ;;
		ipv6) filter='ipv6' ;;
		vlan) filter='vlan || ieee8021ad' ;;
		qinq) filter='ieee8021ad || count(vlan) >= 2' ;;
		truncated) filter='_ws.malformed' ;;
		*) filter=$key ;;
		esac
		want=$(jq ".proto.$key" <<<"$sent")
		n=$(lab_count "$filter" "$pcap")
		assert_eq "$want" "$n" "tshark -Y '$filter'" || return
	done
	# and through tcpdump's BPF filters where they mean the same
	assert_eq "$(jq .frames <<<"$sent")" "$(lab_count_bpf '' "$pcap")" "tcpdump: all" || return
	assert_eq "$(jq .proto.arp <<<"$sent")" "$(lab_count_bpf arp "$pcap")" "tcpdump: arp" || return
	assert_eq "$(jq .proto.vlan <<<"$sent")" "$(lab_count_bpf vlan "$pcap")" "tcpdump: vlan" || return
}

@test "lab_up builds the documented lab" {
	lab_up
	local v
	for v in LAB_NAME LAB_NS LAB_HOST_IF LAB_PEER_IF LAB_HOST_MAC LAB_PEER_MAC \
		LAB_HOST_IP4 LAB_HOST_IP6 LAB_PEER_IP4 LAB_PEER_IP6 LAB_POOL4 LAB_POOL6; do
		[[ -n ${!v} ]] || fail "$v is empty"
		[[ $(declare -p "$v") == "declare -x "* ]] || fail "$v is not exported"
	done
	((${#LAB_HOST_IF} <= 15)) || fail "host interface name too long: $LAB_HOST_IF"
	[[ $LAB_HOST_IF == psl*h ]] || fail "unexpected host interface name $LAB_HOST_IF"
	ip netns list | grep -qw "$LAB_NS" || fail "no namespace $LAB_NS"
	# host end in the root namespace, up, NOARP, with its addresses
	ip -o link show dev "$LAB_HOST_IF" | grep -q 'NOARP,UP,LOWER_UP' || fail "$(ip link show dev "$LAB_HOST_IF")"
	ip -o addr show dev "$LAB_HOST_IF" | grep -q " $LAB_HOST_IP4/$LAB_PREFIX4 " || fail "no $LAB_HOST_IP4"
	ip -o addr show dev "$LAB_HOST_IF" | grep -q " $LAB_HOST_IP6/$LAB_PREFIX6 " || fail "no $LAB_HOST_IP6"
	# no link-local address, so no DAD/RS/MLD chatter; global address not tentative
	! ip -o addr show dev "$LAB_HOST_IF" | grep -q 'fe80::' || fail "link-local address on $LAB_HOST_IF"
	! ip -o addr show dev "$LAB_HOST_IF" | grep -q tentative || fail "tentative address"
	# peer end only in the namespace
	! ip link show dev "$LAB_PEER_IF" >/dev/null 2>&1 || fail "$LAB_PEER_IF in the root namespace"
	lab_exec ip -o addr show dev "$LAB_PEER_IF" | grep -q " $LAB_PEER_IP4/$LAB_PREFIX4 " || fail "no $LAB_PEER_IP4"
	lab_exec ip -o addr show dev "$LAB_PEER_IF" | grep -q " $LAB_PEER_IP6/$LAB_PREFIX6 " || fail "no $LAB_PEER_IP6"
	[[ $(lab_exec cat "/sys/class/net/$LAB_PEER_IF/address") == "$LAB_PEER_MAC" ]] || fail "peer MAC"
	[[ $(cat "/sys/class/net/$LAB_HOST_IF/address") == "$LAB_HOST_MAC" ]] || fail "host MAC"
	# static neighbours both ways
	ip neigh show dev "$LAB_HOST_IF" | grep -q "^$LAB_PEER_IP4 lladdr $LAB_PEER_MAC PERMANENT" || fail "$(ip neigh show dev "$LAB_HOST_IF")"
	ip -6 neigh show dev "$LAB_HOST_IF" | grep -q "^$LAB_PEER_IP6 lladdr $LAB_PEER_MAC PERMANENT" || fail "$(ip -6 neigh)"
	lab_exec ip neigh show dev "$LAB_PEER_IF" | grep -q "^$LAB_HOST_IP4 lladdr $LAB_HOST_MAC PERMANENT" || fail "ns neigh v4"
	lab_exec ip -6 neigh show dev "$LAB_PEER_IF" | grep -q "^$LAB_HOST_IP6 lladdr $LAB_HOST_MAC PERMANENT" || fail "ns neigh v6"
	# the root namespace routes the peer and the pools into the lab
	local a
	ip route get "$LAB_PEER_IP4" | grep -q "dev $LAB_HOST_IF " || fail "$(ip route get "$LAB_PEER_IP4")"
	ip -6 route get "$LAB_PEER_IP6" | grep -q "dev $LAB_HOST_IF " || fail "$(ip -6 route get "$LAB_PEER_IP6")"
	a=$(python3 -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n.network_address+5)' "$LAB_POOL4")
	# (another lab's veth when several labs exist: the lowest metric wins)
	ip route get "$a" | grep -Eq "dev psl[0-9a-z]+h " || fail "pool4: $(ip route get "$a")"
	a=$(python3 -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); print(n.network_address+0x1234)' "$LAB_POOL6")
	ip -6 route get "$a" | grep -Eq "dev psl[0-9a-z]+h " || fail "pool6: $(ip -6 route get "$a")"
	# every address is from the documentation ranges
	python3 - "$LAB_HOST_IP4" "$LAB_PEER_IP4" "$LAB_HOST_IP6" "$LAB_PEER_IP6" "$LAB_POOL4" "$LAB_POOL6" <<-'EOF'
		import ipaddress, sys
		doc = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")]
		for a in sys.argv[1:]:
		    n = ipaddress.ip_network(a)
		    assert any(n.version == d.version and n.subnet_of(d) for d in doc), a
	EOF
}

@test "the lab is quiet: nothing arrives that a test did not send" {
	lab_up
	lab_capture_start "$T/quiet.pcap"
	sleep 2
	lab_capture_stop
	assert_eq 0 "$(lab_count '' "$T/quiet.pcap")" "frames on an idle lab"
}

@test "default mix: tcpdump and the veth counters see exactly what sendpkts reports" {
	lab_up
	local before after sent
	read -r -a before < <(lab_ifstats "$LAB_HOST_IF")
	lab_capture_start "$T/mix.pcap"
	sent=$(lab_send --mix default --count 3)
	lab_capture_stop
	read -r -a after < <(lab_ifstats "$LAB_HOST_IF")
	echo "$sent" | jq -c '{frames, bytes, proto}'
	# the report itself: three rounds of the 31-frame mix
	assert_eq 93 "$(jq .frames <<<"$sent")" "frames sent"
	assert_eq 0 "$(jq .send_errors <<<"$sent")" "send errors"
	assert_json_eq '{"ipv4":51,"ipv6":36,"arp":3,"vlan":6,"qinq":3,"tcp":21,"udp":51,"icmp":9,"icmpv6":6,"truncated":3,"other":0}' \
		"$(jq .proto <<<"$sent")" "default mix x3"
	check_capture_matches "$sent" "$T/mix.pcap"
	# the kernel's own counters on the host end agree
	assert_eq "$(jq .frames <<<"$sent")" "$((after[0] - before[0]))" "rx_packets"
	assert_eq "$(jq .bytes <<<"$sent")" "$((after[1] - before[1]))" "rx_bytes"
	# every checksum is right
	local bad
	bad=$(tshark -n -r "$T/mix.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-o udp.check_checksum:TRUE \
		-Y 'ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 ||
		    icmp.checksum.status == 0 || icmpv6.checksum.status == 0' 2>/dev/null | wc -l)
	assert_eq 0 "$bad" "frames with a bad checksum"
}

@test "byte accounting: a veth does not pad, sendpkts pads below 60 unless --no-pad" {
	lab_up
	local sent got
	lab_capture_start "$T/nopad.pcap"
	sent=$(lab_send --mix default --no-pad)
	lab_capture_stop
	got=$(lab_proto_counts "$T/nopad.pcap")
	assert_json_eq "$(jq .sizes <<<"$sent")" "$(jq .sizes <<<"$got")" "sizes (--no-pad)"
	# the short frames arrive short: ARP 42, bare SYN 54, empty ping 42
	assert_eq 1 "$(lab_count 'arp && frame.len == 42' "$T/nopad.pcap")" "42-byte ARP"
	assert_eq 1 "$(lab_count 'tcp && ip && frame.len == 54' "$T/nopad.pcap")" "54-byte SYN"
	assert_eq 1 "$(lab_count 'icmp && frame.len == 42' "$T/nopad.pcap")" "42-byte ping"
	lab_capture_start "$T/pad.pcap"
	sent=$(lab_send --mix default)
	lab_capture_stop
	assert_eq 0 "$(lab_count 'frame.len < 60 && !_ws.malformed' "$T/pad.pcap")" "frames under 60 bytes"
	assert_eq 1 "$(lab_count 'frame.len == 24' "$T/pad.pcap")" "the 24-byte runt"
	assert_eq 1514 "$(jq '.sizes | keys | map(tonumber) | max' <<<"$sent")" "largest frame"
	assert_eq "$(jq .bytes <<<"$sent")" "$(lab_bytes '' "$T/pad.pcap")" "bytes"
}

@test "lab_down removes the namespace, the veth pair and the state, and is idempotent" {
	lab_up gone
	local ns=$LAB_NS hif=$LAB_HOST_IF slot=$LAB_SLOT
	lab_capture_start "$T/down.pcap"
	lab_down
	! ip netns list | grep -qw "$ns" || fail "namespace $ns still there"
	! ip link show dev "$hif" >/dev/null 2>&1 || fail "interface $hif still there"
	! ip -o link show | grep -q "$hif" || fail "$hif still listed"
	[[ ! -e $LAB_STATE_DIR/slot.$slot/env ]] || fail "state of slot $slot still there: $(cat "$LAB_STATE_DIR/slot.$slot/env")"
	[[ -z ${LAB_NS:-} && -z ${LAB_HOST_IF:-} ]] || fail "LAB_* still set"
	! pgrep -f "tcpdump -i $hif " >/dev/null || fail "tcpdump still running"
	lab_down
	lab_down gone
	lab_down_all
}

@test "two labs at once do not collide" {
	local sent1 sent2 a_if a_ns a_ip4 a_ip6 a_mac
	lab_up one
	a_if=$LAB_HOST_IF a_ns=$LAB_NS a_ip4=$LAB_PEER_IP4 a_ip6=$LAB_PEER_IP6 a_mac=$LAB_HOST_MAC
	lab_up two
	[[ $a_if != "$LAB_HOST_IF" && $a_ns != "$LAB_NS" ]] || fail "same names"
	[[ $a_ip4 != "$LAB_PEER_IP4" && $a_ip6 != "$LAB_PEER_IP6" ]] || fail "same peer addresses"
	[[ $a_mac != "$LAB_HOST_MAC" ]] || fail "same MAC"
	lab_capture_start "$T/two.pcap"
	lab_use one
	[[ $LAB_HOST_IF == "$a_if" ]] || fail "lab_use did not switch"
	lab_capture_start "$T/one.pcap"
	sent1=$(lab_send --mix default --count 1)
	lab_use two
	sent2=$(lab_send --mix default --count 2 --src-random)
	lab_capture_stop
	assert_eq 31 "$(lab_count '' "$T/one.pcap")" "frames in lab one"
	assert_eq 62 "$(lab_count '' "$T/two.pcap")" "frames in lab two"
	check_capture_matches "$sent1" "$T/one.pcap"
	check_capture_matches "$sent2" "$T/two.pcap"
	# each host end routes to its own peer
	ip route get "$a_ip4" | grep -q "dev $a_if " || fail "$(ip route get "$a_ip4")"
	ip route get "$LAB_PEER_IP4" | grep -q "dev $LAB_HOST_IF " || fail "$(ip route get "$LAB_PEER_IP4")"
	ip -6 route get "$a_ip6" | grep -q "dev $a_if " || fail "$(ip -6 route get "$a_ip6")"
	# removing one leaves the other alone
	lab_down one
	ip link show dev "$LAB_HOST_IF" >/dev/null || fail "lab two went with lab one"
	! ip link show dev "$a_if" >/dev/null 2>&1 || fail "lab one still there"
	lab_capture_start "$T/two-again.pcap"
	lab_send --mix default --count 1 >/dev/null
	lab_capture_stop
	assert_eq 31 "$(lab_count '' "$T/two-again.pcap")" "frames in lab two after lab one went"
}

@test "kernel traffic crosses the lab both ways, IPv4 and IPv6, without ARP or ND" {
	lab_up
	LAB_CAPTURE_DIRECTION=inout lab_capture_start "$T/both.pcap"
	# a UDP receiver in the namespace; the host sends to it, it answers
	lab_exec timeout 10 python3 - "$LAB_PEER_IP4" "$LAB_PEER_IP6" >"$T/server.out" 3>&- <<-'EOF' &
		import socket, sys
		socks = []
		for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
		    s = socket.socket(fam, socket.SOCK_DGRAM)
		    s.bind((addr, 9999))
		    socks.append(s)
		print("ready", flush=True)
		for s in socks:
		    data, peer = s.recvfrom(100)
		    s.sendto(b"pong", peer)
		    print(data.decode(), flush=True)
	EOF
	local spid=$! i
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$T/server.out" 2>/dev/null && break
		sleep 0.05
	done
	timeout 10 python3 - "$LAB_PEER_IP4" "$LAB_PEER_IP6" <<-'EOF'
		import socket, sys
		for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
		    s = socket.socket(fam, socket.SOCK_DGRAM)
		    s.settimeout(5)
		    s.sendto(b"ping" + str(fam).encode(), (addr, 9999))
		    assert s.recv(100) == b"pong"
	EOF
	wait "$spid"
	lab_capture_stop
	cat "$T/server.out"
	assert_eq 2 "$(grep -c '^ping' "$T/server.out")" "datagrams received in the namespace"
	assert_eq 4 "$(lab_count 'udp.port == 9999' "$T/both.pcap")" "UDP frames both ways"
	assert_eq 0 "$(lab_count 'arp || (icmpv6.type >= 130 && icmpv6.type <= 143)' "$T/both.pcap")" "ARP/ND/MLD frames"
	assert_eq 4 "$(lab_count '' "$T/both.pcap")" "frames in all"
}

@test "the host's replies go back into the lab, never out of a real interface" {
	lab_up
	LAB_CAPTURE_DIRECTION=out lab_capture_start "$T/replies.pcap"
	lab_send --mix default >/dev/null
	lab_capture_stop
	# the pings from the peer's own addresses are answered on this veth
	assert_eq 1 "$(lab_count "icmp.type == 0 && ip.dst == $LAB_PEER_IP4" "$T/replies.pcap")" "echo replies"
	assert_eq 1 "$(lab_count "icmpv6.type == 129 && ipv6.dst == $LAB_PEER_IP6" "$T/replies.pcap")" "ICMPv6 echo replies"
	# everything else goes to the pools, which every lab routes into its veth
	local a
	for a in $(python3 "$SENDPKTS" --dry-run --pool4 "$LAB_POOL4" --pool6 "$LAB_POOL6" \
		--src4 "$LAB_PEER_IP4" --src6 "$LAB_PEER_IP6" | jq -r '.sources | keys[]'); do
		ip route get "$a" 2>/dev/null | grep -Eq "dev (psl[0-9a-z]+h|lo) " ||
			fail "replies to $a would leave by: $(ip route get "$a")"
	done
	# and the namespace stays silent (it blackholes the pools)
	lab_exec nstat -az TcpOutRsts IcmpOutMsgs Icmp6OutMsgs 2>/dev/null | awk 'NR > 1 && $2 != 0 { bad = 1 } END { exit bad }' ||
		fail "the namespace answered: $(lab_exec nstat -az TcpOutRsts IcmpOutMsgs Icmp6OutMsgs)"
}

@test "sendpkts: --count, --rate and --duration bound the run" {
	lab_up
	local sent
	sent=$(lab_send --mix udp-flood --count 1000)
	assert_eq 1000 "$(jq .frames <<<"$sent")" "udp-flood --count 1000"
	assert_eq 64000 "$(jq .bytes <<<"$sent")" "udp-flood bytes"
	assert_json_eq '{"64":1000}' "$(jq -c .sizes <<<"$sent")" "udp-flood sizes"
	sent=$(lab_send --mix default --rate 100 --duration 1)
	echo "$sent" | jq -c '{frames, duration_s, stopped_by}'
	assert_eq '"duration"' "$(jq .stopped_by <<<"$sent")" "stopped by"
	(($(jq .frames <<<"$sent") <= 101 && $(jq .frames <<<"$sent") >= 80)) || fail "rate not honoured: $(jq .frames <<<"$sent")"
	sent=$(lab_send --mix udp-flood --duration 0.5)
	(($(jq .frames <<<"$sent") > 1000)) || fail "flood too slow: $(jq .frames <<<"$sent")"
	awk -v d="$(jq .duration_s <<<"$sent")" 'BEGIN { exit !(d >= 0.5 && d < 1.5) }' || fail "duration $(jq .duration_s <<<"$sent")"
}

@test "sendpkts: --src-random draws every source from the pools" {
	lab_up
	local sent srcs
	lab_capture_start "$T/random.pcap"
	sent=$(lab_send --mix default --count 4 --src-random --seed 7)
	lab_capture_stop
	check_capture_matches "$sent" "$T/random.pcap"
	tshark -n -r "$T/random.pcap" -Y 'ip || ipv6' -T fields -e ip.src -e ipv6.src 2>/dev/null |
		tr '\t' '\n' | sed '/^$/d' | sort -u >"$T/srcs"
	srcs=$(wc -l <"$T/srcs")
	((srcs > 20)) || fail "too few distinct sources: $(cat "$T/srcs")"
	python3 - "$T/srcs" "$LAB_POOL4" "$LAB_POOL6" <<-'EOF'
		import ipaddress, sys
		pools = [ipaddress.ip_network(n) for n in sys.argv[2:]]
		for line in open(sys.argv[1]):
		    a = ipaddress.ip_address(line.strip())
		    assert any(a.version == p.version and a in p for p in pools), a
	EOF
}

@test "sendpkts offline: --pcap writes the frames it reports" {
	local sent
	sent=$(python3 "$SENDPKTS" --mix default --count 2 --pcap "$T/offline.pcap")
	check_capture_matches "$sent" "$T/offline.pcap"
}

@test "sendpkts offline: refuses addresses outside the documentation ranges" {
	run python3 "$SENDPKTS" --dry-run --dst4 10.0.0.1
	assert_eq 2 "$status" "exit status"
	[[ $output == *"outside the documentation ranges"* ]] || fail "$output"
	run python3 "$SENDPKTS" --dry-run --pool6 fd00::/48
	assert_eq 2 "$status" "exit status"
	run python3 "$SENDPKTS" --dry-run --pool4 203.0.113.0/24
	assert_eq 2 "$status" "exit status"
	run python3 "$SENDPKTS" --iface lo
	assert_eq 2 "$status" "exit status without --dst-mac"
}

@test "lab_trap removes the lab when the script is terminated; lab_reap after SIGKILL" {
	local script=$T/trap.sh pid ns hif i
	cat >"$script" <<-EOF
		set -euo pipefail
		source "$PKTSCOPE_TESTLIB/lab.bash"
		lab_trap
		lab_up trapped
		lab_capture_start "$T/trap.pcap"
		sleep 60 &
		echo "\$!" >"$T/sleep.pid"
		echo "\$LAB_NS \$LAB_HOST_IF" >"$T/names"
		wait
	EOF
	bash "$script" 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do [[ -s $T/names ]] && break; sleep 0.1; done
	read -r ns hif <"$T/names"
	ip link show dev "$hif" >/dev/null || fail "lab did not come up"
	kill -TERM "$pid"
	wait "$pid" || true
	! ip link show dev "$hif" >/dev/null 2>&1 || fail "$hif left behind after SIGTERM"
	! ip netns list | grep -qw "$ns" || fail "$ns left behind after SIGTERM"
	! pgrep -f "tcpdump -i $hif " >/dev/null || fail "tcpdump left behind after SIGTERM"
	kill "$(cat "$T/sleep.pid")" 2>/dev/null || true

	rm -f "$T/names" "$T/sleep.pid"
	bash "$script" 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do [[ -s $T/names ]] && break; sleep 0.1; done
	read -r ns hif <"$T/names"
	kill -KILL "$pid"
	wait "$pid" || true
	ip link show dev "$hif" >/dev/null || fail "lab vanished without cleanup?"
	lab_reap
	! ip link show dev "$hif" >/dev/null 2>&1 || fail "$hif left behind after lab_reap"
	! ip netns list | grep -qw "$ns" || fail "$ns left behind after lab_reap"
	! pgrep -f "tcpdump -i $hif " >/dev/null || fail "tcpdump left behind after lab_reap"
}
