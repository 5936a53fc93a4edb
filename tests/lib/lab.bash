# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# lab.bash - the pktscope test lab: a network namespace joined to the root
# namespace by a veth pair.  Shared by the integration tests (bats), the
# benchmarks and `quickstart demo`.  Source it; it changes no shell options.
#
#   lab_up [NAME]             create a lab, make it current, export LAB_*
#   lab_down [NAME|NS]        remove a lab (default: the current one); idempotent
#   lab_down_all              remove every lab this process created
#   lab_use NAME|NS           make another lab of this process current
#   lab_exec CMD...           run CMD inside the current lab's namespace
#   lab_send ARGS...          run sendpkts.py in the namespace, every address
#                             filled in (ARGS: --mix, --count, --rate, ...)
#   lab_trap                  clean up on EXIT, INT, TERM, HUP (scripts only:
#                             never in bats, which owns those traps; use
#                             teardown() { lab_down_all; } there)
#   lab_on_cleanup CMD        run CMD (a string, eval'd) at cleanup time,
#                             before the labs go; last registered runs first
#   lab_cleanup               run the cleanup hooks, then lab_down_all
#   lab_capture_start FILE [TCPDUMP_ARGS...]
#                             tcpdump on the host end, writing FILE; returns
#                             once tcpdump is listening.  Direction "in"
#                             unless LAB_CAPTURE_DIRECTION=inout|out.
#   lab_capture_stop [FILE]   let the capture drain, stop it, flush FILE (all
#                             captures when no FILE); fails if the kernel
#                             dropped packets
#   lab_count FILTER FILE     number of frames in FILE matching a tshark
#                             display filter ("" = all)
#   lab_count_bpf FILTER FILE same with a tcpdump (BPF) filter
#   lab_bytes FILTER FILE     sum of frame lengths matching a display filter
#   lab_ifstats [IF]          "rx_packets rx_bytes rx_dropped" of the host end
#   lab_arp on|off            let the kernel do ARP/ND on both ends (off: the
#                             default, static neighbours only, no noise)
#   lab_reap                  remove labs whose owner process has died
#   lab_list                  print the labs that exist on this machine
#
# After lab_up these are exported (the current lab):
#   LAB_NAME LAB_NS LAB_HOST_IF LAB_PEER_IF LAB_HOST_MAC LAB_PEER_MAC
#   LAB_HOST_IP4 LAB_HOST_IP6 LAB_PEER_IP4 LAB_PEER_IP6
#   LAB_PREFIX4 LAB_PREFIX6 (24, 64)  LAB_POOL4 LAB_POOL6  LAB_SLOT
#
# Addressing.  The first lab on a machine gets host 192.0.2.1/24 and
# 2001:db8:1::1/64, peer 192.0.2.2/24 and 2001:db8:1::2/64.  Labs that exist
# at the same time get slot k = 0, 1, 2...: host .(2k+1), peer .(2k+2) in the
# same /24 and /64, so the root namespace can route to every peer.  The host
# end's addresses carry no prefix route (noprefixroute); the root namespace
# gets a /32 and a /128 route to its own peer, and routes for the "pools" via
# the peer.  The pools are where sendpkts takes other and random sources from
# (LAB_POOL4 198.51.100.0/24, LAB_POOL6 2001:db8:ff::/48): whatever the host
# answers to them goes back into the lab (the namespace blackholes the pools)
# and never out of a real interface.
#
# If the root namespace already uses 192.0.2.0/24 (some machines' own
# uplink does), the lab moves to 198.51.100.0/24 (host .1, peer .2) and the
# IPv4 pool to 198.51.100.128/25; likewise 2001:db8:1::/64 moves on to
# 2001:db8:2::/64 and so on.  Override with LAB_NET4=... LAB_NET6=...
# LAB_POOL4_NET=... LAB_POOL6_NET=... (documentation ranges only; at most
# 32 labs at once).
#
# Quiet by construction: both ends have IFF_NOARP and no IPv6 link-local
# address (addrgenmode none), IPv6 addresses are added nodad, and the
# neighbours are static, so nothing arrives at the host end that a test did
# not send: no ARP, no neighbour solicitation, no MLD report, no router
# solicitation.
#
# Names: host end psl<id>h, peer end psl<id>p, namespace pktscope-<NAME>-<id>,
# where <id> is the calling process's pid ($BASHPID) in base 36 plus a
# per-process counter.
# State lives in $LAB_STATE_DIR (default /run/pktscope-lab), so that a later
# lab_up can reap the labs of a process that was killed with SIGKILL.

_LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SENDPKTS=${LAB_SENDPKTS:-$_LAB_LIB_DIR/sendpkts.py}
LAB_STATE_DIR=${LAB_STATE_DIR:-/run/pktscope-lab}

if ! declare -p _LAB_ENV >/dev/null 2>&1; then
	declare -gA _LAB_ENV=()		# label -> serialized LAB_* assignments
	declare -gA _LAB_CAPS=()	# capture file -> "pid errfile"
	declare -ga _LAB_LABELS=()	# labels of the labs of this process
	declare -ga _LAB_HOOKS=()	# cleanup hooks
	declare -g _LAB_SEQ=0
	declare -g _LAB_CLEANING=0
	declare -g _LAB_CURRENT=
fi

_LAB_VARS=(LAB_NAME LAB_NS LAB_HOST_IF LAB_PEER_IF LAB_HOST_MAC LAB_PEER_MAC
	LAB_HOST_IP4 LAB_HOST_IP6 LAB_PEER_IP4 LAB_PEER_IP6 LAB_PREFIX4
	LAB_PREFIX6 LAB_POOL4 LAB_POOL6 LAB_SLOT)

_lab_err() { printf 'lab: %s\n' "$*" >&2; }

_lab_need_root() {
	if [[ $EUID -ne 0 ]]; then
		_lab_err "$1 needs root"
		return 1
	fi
}

_lab_python() {
	if [[ -n ${LAB_PYTHON:-} ]]; then
		printf '%s\n' "$LAB_PYTHON"
	elif [[ -x /usr/bin/python3 ]]; then
		printf '%s\n' /usr/bin/python3
	else
		command -v python3
	fi
}

# base 36 of a non-negative integer
_lab_b36() {
	local n=$1 digits=0123456789abcdefghijklmnopqrstuvwxyz out=
	while ((n > 0)); do
		out=${digits:n % 36:1}$out
		n=$((n / 36))
	done
	printf '%s\n' "${out:-0}"
}

# Pick the lab networks: prints "net4 net6 pool4 pool6" avoiding whatever the
# root namespace already uses (addresses and routes not on lab interfaces).
_lab_pick_nets() {
	local py
	py=$(_lab_python) || return 1
	{
		ip -o addr show 2>/dev/null | awk '{ sub(/@.*/, "", $2) } $2 !~ /^psl[0-9a-z]+h$/ {print "A", $4}'
		ip -o route show table all 2>/dev/null | awk '
			{ dev = ""; for (i = 1; i < NF; i++) if ($i == "dev") dev = $(i + 1) }
			dev ~ /^psl[0-9a-z]+h$/ { next }
			{ print "R", $0 }'
		ip -o -6 route show table all 2>/dev/null | awk '
			{ dev = ""; for (i = 1; i < NF; i++) if ($i == "dev") dev = $(i + 1) }
			dev ~ /^psl[0-9a-z]+h$/ { next }
			{ print "R", $0 }'
	} | LAB_NET4=${LAB_NET4:-} LAB_NET6=${LAB_NET6:-} \
		LAB_POOL4=${LAB_POOL4_NET:-} LAB_POOL6=${LAB_POOL6_NET:-} "$py" -c '
import ipaddress as ia, os, sys
DOC = [ia.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")]
used = []
for line in sys.stdin:
    f = line.split()
    if len(f) < 2:
        continue
    if f[0] == "A":
        cand = [f[1]]
    else:
        w = f[1:]
        if w[0] in ("local", "broadcast", "unicast", "anycast", "multicast",
                    "blackhole", "unreachable", "prohibit", "throw", "nat"):
            w = w[1:]
        cand = [w[0]] if w else []
        for i, x in enumerate(w[:-1]):
            if x in ("via", "src"):
                cand.append(w[i + 1].split("/")[0])
    for c in cand:
        if c == "default":
            continue
        try:
            n = ia.ip_network(c, strict=False)
        except ValueError:
            continue
        if n.prefixlen == 0 or n.is_link_local or n.is_multicast:
            continue
        used.append(n)

def free(n):
    return not any(n.version == u.version and n.overlaps(u) for u in used)

def doc(n, what):
    if not any(n.version == d.version and n.subnet_of(d) for d in DOC):
        sys.exit("lab: %s %s is outside the documentation ranges" % (what, n))
    return n

env = os.environ.get
if env("LAB_NET4"):
    net4 = doc(ia.ip_network(env("LAB_NET4")), "LAB_NET4")
else:
    net4 = next((n for n in map(ia.ip_network, ("192.0.2.0/24", "198.51.100.0/24"))
                 if free(n)), None)
    if net4 is None:
        sys.exit("lab: both 192.0.2.0/24 and 198.51.100.0/24 are in use on this machine; "
                 "set LAB_NET4 and LAB_POOL4")
if env("LAB_POOL4"):
    pool4 = doc(ia.ip_network(env("LAB_POOL4")), "LAB_POOL4")
else:
    other = [n for n in map(ia.ip_network, ("198.51.100.0/24", "192.0.2.0/24"))
             if n != net4 and free(n)]
    pool4 = other[0] if other else list(net4.subnets(new_prefix=net4.prefixlen + 1))[1]
if env("LAB_NET6"):
    net6 = doc(ia.ip_network(env("LAB_NET6")), "LAB_NET6")
else:
    net6 = next((ia.ip_network("2001:db8:%x::/64" % i) for i in range(1, 0xff)
                 if free(ia.ip_network("2001:db8:%x::/64" % i))), None)
if env("LAB_POOL6"):
    pool6 = doc(ia.ip_network(env("LAB_POOL6")), "LAB_POOL6")
else:
    pool6 = next((ia.ip_network("2001:db8:%x::/48" % i) for i in range(0xff, 0x7f, -1)
                  if free(ia.ip_network("2001:db8:%x::/48" % i))), None)
if net6 is None or pool6 is None:
    sys.exit("lab: no free IPv6 documentation prefix")
print(net4, net6, pool4, pool6)
'
}

# Wait (2 s at most) until a process is gone or a zombie.
_lab_wait_gone() {
	local i state
	for ((i = 0; i < 40; i++)); do
		state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)
		[[ -z $state || $state == Z ]] && return 0
		sleep 0.05
	done
	return 1
}

# Remove the state of labs whose owner is gone (and their leftovers).
# Caller holds the lock.
_lab_reap_locked() {
	local d owner ns hif cpid
	for d in "$LAB_STATE_DIR"/slot.*; do
		[[ -d $d ]] || continue
		owner='' ns='' hif=''
		if [[ -f $d/env ]]; then read -r owner ns hif _ <"$d/env" || true; fi
		if [[ -n $owner ]] && kill -0 "$owner" 2>/dev/null; then
			continue
		fi
		if [[ -f $d/captures && -n $hif ]]; then
			while read -r cpid; do
				if [[ -r /proc/$cpid/cmdline ]] &&
					tr '\0' ' ' <"/proc/$cpid/cmdline" | grep -q "tcpdump.* $hif "; then
					kill "$cpid" 2>/dev/null || true
					_lab_wait_gone "$cpid"
				fi
			done <"$d/captures"
		fi
		if [[ -n $hif ]]; then ip link del "$hif" >/dev/null 2>&1 || true; fi
		if [[ -n $ns ]]; then ip netns del "$ns" >/dev/null 2>&1 || true; fi
		rm -rf -- "$d"
	done
	return 0
}

_lab_lock() {
	mkdir -p -- "$LAB_STATE_DIR" || return 1
	exec {_LAB_LOCK_FD}>"$LAB_STATE_DIR/lock" || return 1
	if ! flock -w 30 "$_LAB_LOCK_FD"; then
		_lab_err "cannot lock $LAB_STATE_DIR/lock"
		exec {_LAB_LOCK_FD}>&-
		return 1
	fi
}

_lab_unlock() {
	if [[ -n ${_LAB_LOCK_FD:-} ]]; then
		exec {_LAB_LOCK_FD}>&-
		unset _LAB_LOCK_FD
	fi
	return 0
}

lab_reap() {
	_lab_need_root lab_reap || return 1
	_lab_lock || return 1
	_lab_reap_locked
	_lab_unlock
}

lab_list() {
	local d owner ns hif label
	for d in "$LAB_STATE_DIR"/slot.*; do
		[[ -f $d/env ]] || continue
		read -r owner ns hif label <"$d/env" || true
		printf '%s slot=%s owner=%s ns=%s host_if=%s\n' \
			"$label" "${d##*.}" "$owner" "$ns" "$hif"
	done
}

# Export the LAB_* variables of a lab of this process.
_lab_load() {
	local label=$1
	[[ -n ${_LAB_ENV[$label]+set} ]] || return 1
	eval "${_LAB_ENV[$label]}"
	_LAB_CURRENT=$label
}

_lab_unset_vars() {
	unset "${_LAB_VARS[@]}"
	_LAB_CURRENT=
}

_lab_find() {
	local want=$1 l
	if [[ -n ${_LAB_ENV[$want]+set} ]]; then
		printf '%s\n' "$want"
		return 0
	fi
	for l in "${_LAB_LABELS[@]}"; do
		if [[ ${_LAB_ENV[$l]} == *"LAB_NS=$want;"* ]]; then
			printf '%s\n' "$l"
			return 0
		fi
	done
	return 1
}

lab_use() {
	local label
	if ! label=$(_lab_find "${1:?usage: lab_use NAME|NS}"); then
		_lab_err "no lab $1 in this process"
		return 1
	fi
	_lab_load "$label"
}

_lab_run() {
	local out
	if ! out=$("$@" 2>&1); then
		_lab_err "failed: $* ${out:+($out)}"
		return 1
	fi
}

lab_up() {
	local name=${1:-lab} label id hif pif ns slot d nets net4 net6 pool4 pool6
	local base4 base6 h4 p4 h6 p6 hmac pmac n cmd
	_lab_need_root lab_up || return 1
	for cmd in ip flock; do
		command -v "$cmd" >/dev/null || { _lab_err "$cmd not found"; return 1; }
	done
	name=${name//[^A-Za-z0-9_-]/_}
	name=${name:0:32}
	label=$name
	n=1
	while [[ -n ${_LAB_ENV[$label]+set} ]]; do
		n=$((n + 1))
		label=$name-$n
	done

	_lab_lock || return 1
	_lab_reap_locked
	# pick names that nothing on the machine uses
	while :; do
		_LAB_SEQ=$((_LAB_SEQ + 1))
		id=$(_lab_b36 "$BASHPID")$(_lab_b36 "$_LAB_SEQ")
		hif=psl${id}h pif=psl${id}p ns=pktscope-$label-$id
		if ! ip link show dev "$hif" >/dev/null 2>&1 && [[ ! -e /run/netns/$ns ]]; then
			break
		fi
	done
	if ((${#hif} > 15)); then
		_lab_unlock
		_lab_err "interface name $hif too long"
		return 1
	fi
	slot=
	for ((n = 0; n < 32; n++)); do
		if mkdir -- "$LAB_STATE_DIR/slot.$n" 2>/dev/null; then
			slot=$n
			break
		fi
	done
	if [[ -z $slot ]]; then
		_lab_unlock
		_lab_err "32 labs exist already (see lab_list)"
		return 1
	fi
	d=$LAB_STATE_DIR/slot.$slot
	printf '%s %s %s %s\n' "$BASHPID" "$ns" "$hif" "$label" >"$d/env"
	if ! nets=$(_lab_pick_nets); then
		rm -rf -- "$d"
		_lab_unlock
		return 1
	fi
	read -r net4 net6 pool4 pool6 <<<"$nets"
	_lab_unlock

	# host .(2k+1), peer .(2k+2)
	base4=${net4%/*}
	base4=${base4%.*}
	local last4=${net4%/*}
	last4=${last4##*.}
	h4=$base4.$((last4 + 2 * slot + 1))
	p4=$base4.$((last4 + 2 * slot + 2))
	base6=${net6%/*}
	base6=${base6%::}
	h6=$base6::$(printf '%x' $((2 * slot + 1)))
	p6=$base6::$(printf '%x' $((2 * slot + 2)))

	_LAB_LABELS+=("$label")
	_LAB_ENV[$label]="LAB_NAME=$label; LAB_NS=$ns; LAB_HOST_IF=$hif; LAB_PEER_IF=$pif; LAB_SLOT=$slot; "
	_lab_load "$label"

	if ! _lab_run ip netns add "$ns" ||
		! _lab_run ip link add "$hif" type veth peer name "$pif" netns "$ns" ||
		! _lab_run ip link set dev "$hif" addrgenmode none arp off ||
		! _lab_run ip -n "$ns" link set dev "$pif" addrgenmode none arp off ||
		! _lab_run ip -n "$ns" link set dev lo up; then
		lab_down "$label"
		return 1
	fi
	echo 0 >"/proc/sys/net/ipv6/conf/$hif/accept_dad" 2>/dev/null || true
	echo 0 >"/proc/sys/net/ipv6/conf/$hif/accept_ra" 2>/dev/null || true
	echo 0 >"/proc/sys/net/ipv6/conf/$hif/router_solicitations" 2>/dev/null || true
	ip netns exec "$ns" sh -c "
		echo 0 > /proc/sys/net/ipv6/conf/$pif/accept_dad
		echo 0 > /proc/sys/net/ipv6/conf/$pif/accept_ra
		echo 0 > /proc/sys/net/ipv6/conf/$pif/router_solicitations" 2>/dev/null || true
	hmac=$(<"/sys/class/net/$hif/address")
	pmac=$(ip -n "$ns" link show dev "$pif" | awk '$1 == "link/ether" {print $2; exit}')
	if [[ -z $hmac || -z $pmac ]]; then
		_lab_err "cannot read the MAC addresses of $hif/$pif"
		lab_down "$label"
		return 1
	fi

	if ! _lab_run ip addr add "$h4/${net4#*/}" dev "$hif" noprefixroute ||
		! _lab_run ip -6 addr add "$h6/${net6#*/}" dev "$hif" nodad noprefixroute ||
		! _lab_run ip -n "$ns" addr add "$p4/${net4#*/}" dev "$pif" ||
		! _lab_run ip -n "$ns" -6 addr add "$p6/${net6#*/}" dev "$pif" nodad ||
		! _lab_run ip neigh replace "$p4" lladdr "$pmac" nud permanent dev "$hif" ||
		! _lab_run ip -6 neigh replace "$p6" lladdr "$pmac" nud permanent dev "$hif" ||
		! _lab_run ip -n "$ns" neigh replace "$h4" lladdr "$hmac" nud permanent dev "$pif" ||
		! _lab_run ip -n "$ns" -6 neigh replace "$h6" lladdr "$hmac" nud permanent dev "$pif" ||
		! _lab_run ip link set dev "$hif" up ||
		! _lab_run ip -n "$ns" link set dev "$pif" up ||
		! _lab_run ip route add "$p4/32" dev "$hif" src "$h4" ||
		! _lab_run ip -6 route add "$p6/128" dev "$hif" src "$h6" ||
		! _lab_run ip route add "$pool4" via "$p4" dev "$hif" metric $((1000 + slot)) ||
		! _lab_run ip -6 route add "$pool6" via "$p6" dev "$hif" metric $((1000 + slot)) ||
		! _lab_run ip -n "$ns" route add blackhole "$pool4" ||
		! _lab_run ip -n "$ns" -6 route add blackhole "$pool6"; then
		lab_down "$label"
		return 1
	fi

	_LAB_ENV[$label]+="LAB_HOST_MAC=$hmac; LAB_PEER_MAC=$pmac; "
	_LAB_ENV[$label]+="LAB_HOST_IP4=$h4; LAB_PEER_IP4=$p4; LAB_HOST_IP6=$h6; LAB_PEER_IP6=$p6; "
	_LAB_ENV[$label]+="LAB_PREFIX4=${net4#*/}; LAB_PREFIX6=${net6#*/}; LAB_POOL4=$pool4; LAB_POOL6=$pool6; "
	_LAB_ENV[$label]+="export ${_LAB_VARS[*]}"
	_lab_load "$label"
}

# Stop the captures whose interface belongs to the lab, then remove it.
lab_down() {
	local want=${1:-$_LAB_CURRENT} label ns hif slot f rest=() l
	[[ -n $want ]] || return 0
	label=$(_lab_find "$want") || return 0
	# read the lab's variables without disturbing the current ones
	ns=$(eval "${_LAB_ENV[$label]}"; printf '%s' "$LAB_NS")
	hif=$(eval "${_LAB_ENV[$label]}"; printf '%s' "$LAB_HOST_IF")
	slot=$(eval "${_LAB_ENV[$label]}"; printf '%s' "$LAB_SLOT")
	for f in "${!_LAB_CAPS[@]}"; do
		if [[ ${_LAB_CAPS[$f]} == *" $hif" ]]; then
			lab_capture_stop "$f" >/dev/null 2>&1 || true
		fi
	done
	# Deleting the link first removes both ends at once; deleting the
	# namespace alone would let the host end linger until the kernel's
	# asynchronous namespace cleanup ran.
	ip link del "$hif" >/dev/null 2>&1 || true
	ip netns del "$ns" >/dev/null 2>&1 || true
	if [[ -n $slot && -f $LAB_STATE_DIR/slot.$slot/env ]] &&
		[[ $(<"$LAB_STATE_DIR/slot.$slot/env") == *" $ns "* ]]; then
		rm -rf -- "$LAB_STATE_DIR/slot.$slot"
	fi
	unset '_LAB_ENV[$label]'
	for l in "${_LAB_LABELS[@]}"; do
		[[ $l == "$label" ]] || rest+=("$l")
	done
	_LAB_LABELS=("${rest[@]}")
	if [[ $_LAB_CURRENT == "$label" ]]; then
		_lab_unset_vars
	fi
	if ip link show dev "$hif" >/dev/null 2>&1 || [[ -e /run/netns/$ns ]]; then
		_lab_err "could not remove $hif / $ns"
		return 1
	fi
	return 0
}

lab_down_all() {
	local l rc=0
	for l in "${_LAB_LABELS[@]}"; do
		lab_down "$l" || rc=1
	done
	return "$rc"
}

lab_exec() {
	if [[ -z ${LAB_NS:-} ]]; then
		_lab_err "lab_exec: no lab (call lab_up first)"
		return 1
	fi
	ip netns exec "$LAB_NS" "$@"
}

# shellcheck disable=SC2153 # LAB_* are set by _lab_load (eval)
lab_send() {
	local py
	if [[ -z ${LAB_NS:-} ]]; then
		_lab_err "lab_send: no lab (call lab_up first)"
		return 1
	fi
	py=$(_lab_python) || return 1
	ip netns exec "$LAB_NS" "$py" "$LAB_SENDPKTS" --iface "$LAB_PEER_IF" \
		--dst-mac "$LAB_HOST_MAC" --src-mac "$LAB_PEER_MAC" \
		--dst4 "$LAB_HOST_IP4" --dst6 "$LAB_HOST_IP6" \
		--src4 "$LAB_PEER_IP4" --src6 "$LAB_PEER_IP6" \
		--pool4 "$LAB_POOL4" --pool6 "$LAB_POOL6" "$@"
}

lab_arp() {
	local flag
	case ${1:-} in
	on) flag=on ;;
	off) flag=off ;;
	*) _lab_err "usage: lab_arp on|off"; return 1 ;;
	esac
	ip link set dev "$LAB_HOST_IF" arp "$flag" &&
		ip -n "$LAB_NS" link set dev "$LAB_PEER_IF" arp "$flag"
}

lab_on_cleanup() {
	_LAB_HOOKS+=("$*")
}

lab_cleanup() {
	local i
	((_LAB_CLEANING)) && return 0
	_LAB_CLEANING=1
	for ((i = ${#_LAB_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${_LAB_HOOKS[i]}" || true
	done
	_LAB_HOOKS=()
	lab_capture_stop >/dev/null 2>&1 || true
	lab_down_all || true
	_LAB_CLEANING=0
}

# The command string of an existing trap, or nothing.
_lab_old_trap() {
	local t
	t=$(trap -p "$1")
	[[ -n $t ]] || return 0
	eval "set -- $t"
	printf '%s' "$3"
}

lab_trap() {
	local old sig code
	old=$(_lab_old_trap EXIT)
	# shellcheck disable=SC2064
	trap "lab_cleanup; ${old:-:}" EXIT
	for sig in INT TERM HUP; do
		case $sig in
		INT) code=130 ;;
		TERM) code=143 ;;
		HUP) code=129 ;;
		esac
		# shellcheck disable=SC2064
		trap "lab_cleanup; trap - $sig; exit $code" "$sig"
	done
}

# ---------------------------------------------------------------- capture

lab_capture_start() {
	local file=${1:?usage: lab_capture_start FILE [TCPDUMP_ARGS...]} err pid i
	shift
	if [[ -z ${LAB_HOST_IF:-} ]]; then
		_lab_err "lab_capture_start: no lab (call lab_up first)"
		return 1
	fi
	if [[ -n ${_LAB_CAPS[$file]+set} ]]; then
		_lab_err "lab_capture_start: $file is being captured already"
		return 1
	fi
	# tcpdump's stderr goes into the lab's state directory, so that
	# lab_reap removes it with the lab if we are killed
	if [[ -d $LAB_STATE_DIR/slot.${LAB_SLOT:-x} ]]; then
		err=$(mktemp "$LAB_STATE_DIR/slot.$LAB_SLOT/tcpdump.XXXXXX") || return 1
	else
		err=$(mktemp "${TMPDIR:-/tmp}/lab-tcpdump.XXXXXX") || return 1
	fi
	rm -f -- "$file"
	# fd 3 closed so that bats does not wait for tcpdump; -Z root so that
	# tcpdump can write wherever we can; --immediate-mode and -U so every
	# packet reaches the file at once; a big buffer so floods are not
	# dropped.
	tcpdump -i "$LAB_HOST_IF" -Q "${LAB_CAPTURE_DIRECTION:-in}" -nn -U \
		--immediate-mode -B "${LAB_CAPTURE_BUFFER_KB:-32768}" -Z root \
		-w "$file" "$@" </dev/null >/dev/null 2>"$err" 3>&- &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		if grep -q '^listening on\|^tcpdump: listening on' "$err" 2>/dev/null; then
			_LAB_CAPS[$file]="$pid $err $LAB_HOST_IF"
			if [[ -d $LAB_STATE_DIR/slot.${LAB_SLOT:-x} ]]; then
				echo "$pid" >>"$LAB_STATE_DIR/slot.$LAB_SLOT/captures" || true
			fi
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	_lab_err "tcpdump on $LAB_HOST_IF did not start: $(cat "$err")"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f -- "$err"
	return 1
}

_lab_capture_stop_one() {
	local file=$1 pid err size last stable i dropped rc=0
	read -r pid err _ <<<"${_LAB_CAPS[$file]}"
	unset '_LAB_CAPS[$file]'
	# Wait until the file stops growing: 3 looks 0.1 s apart, 5 s at most.
	last=-1 stable=0
	for ((i = 0; i < 50 && stable < 3; i++)); do
		size=$(stat -c %s -- "$file" 2>/dev/null || echo 0)
		if [[ $size == "$last" ]]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		last=$size
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	# wait only works for our own children; poll otherwise
	wait "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		_lab_err "tcpdump ($pid) did not stop on SIGTERM; killed"
		rc=1
	fi
	dropped=$(awk '/packets dropped by kernel/ {print $1}' "$err" 2>/dev/null || true)
	if [[ -n $dropped && $dropped != 0 ]]; then
		_lab_err "capture $file: $dropped packets dropped by kernel"
		rc=1
	fi
	if [[ ! -s $file ]]; then
		_lab_err "capture $file: no file written: $(cat "$err")"
		rc=1
	fi
	rm -f -- "$err"
	return "$rc"
}

lab_capture_stop() {
	local f rc=0
	if [[ $# -gt 0 ]]; then
		if [[ -z ${_LAB_CAPS[$1]+set} ]]; then
			_lab_err "lab_capture_stop: no capture to $1"
			return 1
		fi
		_lab_capture_stop_one "$1"
		return
	fi
	for f in "${!_LAB_CAPS[@]}"; do
		_lab_capture_stop_one "$f" || rc=1
	done
	return "$rc"
}

# tshark with an empty personal configuration, so that nobody's saved
# preferences (disabled protocols, decode-as...) change what is counted.
_lab_tshark() {
	local cfg rc=0
	cfg=$(mktemp -d "${TMPDIR:-/tmp}/lab-wireshark.XXXXXX") || return 1
	WIRESHARK_CONFIG_DIR=$cfg tshark "$@" || rc=$?
	rm -rf -- "$cfg"
	return "$rc"
}

_lab_tshark_fields() {
	local filter=$1 file=$2 field=$3 err out
	err=$(mktemp "${TMPDIR:-/tmp}/lab-tshark.XXXXXX") || return 1
	if ! out=$(_lab_tshark -n -r "$file" ${filter:+-Y "$filter"} -T fields -e "$field" 2>"$err"); then
		_lab_err "tshark -r $file -Y '$filter': $(grep -v 'Running as user' "$err")"
		rm -f -- "$err"
		return 1
	fi
	rm -f -- "$err"
	printf '%s' "$out"
}

lab_count() {
	local out
	[[ $# -eq 2 ]] || { _lab_err "usage: lab_count FILTER FILE"; return 2; }
	out=$(_lab_tshark_fields "$1" "$2" frame.number) || return 1
	if [[ -z $out ]]; then
		echo 0
	else
		printf '%s\n' "$out" | wc -l | tr -d ' '
	fi
}

lab_bytes() {
	local out
	[[ $# -eq 2 ]] || { _lab_err "usage: lab_bytes FILTER FILE"; return 2; }
	out=$(_lab_tshark_fields "$1" "$2" frame.len) || return 1
	printf '%s\n' "$out" | awk '{ s += $1 } END { print s + 0 }'
}

lab_count_bpf() {
	local out err
	[[ $# -eq 2 ]] || { _lab_err "usage: lab_count_bpf FILTER FILE"; return 2; }
	err=$(mktemp "${TMPDIR:-/tmp}/lab-tcpdump.XXXXXX") || return 1
	# shellcheck disable=SC2086
	if ! out=$(tcpdump -nn -q -r "$2" ${1:+"$1"} 2>"$err"); then
		_lab_err "tcpdump -r $2 '$1': $(cat "$err")"
		rm -f -- "$err"
		return 1
	fi
	rm -f -- "$err"
	if [[ -z $out ]]; then
		echo 0
	else
		printf '%s\n' "$out" | wc -l | tr -d ' '
	fi
}

lab_ifstats() {
	local ifc=${1:-${LAB_HOST_IF:-}} s=/sys/class/net/${1:-${LAB_HOST_IF:-}}/statistics
	if [[ -z $ifc || ! -d $s ]]; then
		_lab_err "lab_ifstats: no interface ${ifc:-(none)}"
		return 1
	fi
	printf '%s %s %s\n' "$(<"$s/rx_packets")" "$(<"$s/rx_bytes")" "$(<"$s/rx_dropped")"
}

# lab_proto_counts FILE [DISPLAY_FILTER]
# One tshark pass over FILE; prints one JSON line shaped like sendpkts.py's
# report: {"frames":N,"bytes":N,"proto":{...},"sizes":{...}}, counted by the
# rules of sendpkts.py (first transport after the first IP header, so the
# IP header quoted inside an ICMP error does not count; a frame cut inside
# its network header counts as "truncated", not as ipv4/ipv6).
lab_proto_counts() {
	local file=${1:?usage: lab_proto_counts FILE [DISPLAY_FILTER]} filter=${2:-} err out
	err=$(mktemp "${TMPDIR:-/tmp}/lab-tshark.XXXXXX") || return 1
	if ! out=$(_lab_tshark -n -r "$file" ${filter:+-Y "$filter"} -T fields -E separator=/t \
		-e frame.len -e frame.protocols -e _ws.malformed 2>"$err"); then
		_lab_err "tshark -r $file: $(grep -v 'Running as user' "$err")"
		rm -f -- "$err"
		return 1
	fi
	rm -f -- "$err"
	printf '%s\n' "$out" | awk -F '\t' '
	BEGIN {
		nk = split("ipv4 ipv6 arp vlan qinq tcp udp icmp icmpv6 truncated other", keys, " ")
		for (i = 1; i <= nk; i++) c[keys[i]] = 0
		frames = 0; bytes = 0
	}
	$1 == "" { next }
	{
		frames++; bytes += $1; sizes[$1]++
		n = split($2, p, ":")
		tags = 0; l3 = ""; l4 = ""; last = ""
		for (i = 1; i <= n; i++) {
			if (p[i] == "vlan" || p[i] == "ieee8021ad") { if (l3 == "") tags++; continue }
			if (p[i] == "eth" || p[i] == "ethertype") continue
			if (l3 == "") { l3 = p[i]; last = i; continue }
			if (p[i] ~ /^ipv6\./) { last = i; continue }     # extension headers
			if (l4 == "") { l4 = p[i]; last = i }
			break
		}
		if (tags >= 1) c["vlan"]++
		if (tags >= 2) c["qinq"]++
		if ($3 != "" && (l3 == "ip" || l3 == "ipv6") && l4 == "") { c["truncated"]++; next }
		if (l3 == "ip") c["ipv4"]++
		else if (l3 == "ipv6") c["ipv6"]++
		else if (l3 == "arp") c["arp"]++
		else { c["other"]++; next }
		if (l4 == "tcp" || l4 == "udp" || l4 == "icmp" || l4 == "icmpv6") c[l4]++
	}
	END {
		printf "{\"frames\":%d,\"bytes\":%d,\"proto\":{", frames, bytes
		for (i = 1; i <= nk; i++) printf "%s\"%s\":%d", (i > 1 ? "," : ""), keys[i], c[keys[i]]
		printf "},\"sizes\":{"
		sep = ""
		for (s in sizes) { printf "%s\"%s\":%d", sep, s, sizes[s]; sep = "," }
		printf "}}\n"
	}'
}
