#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# -j prints one JSON document per command, -p the same indented, and errors
# are JSON too, so scripts never choke.

setup() {
	PKTSCOPE=${PKTSCOPE:-$BATS_TEST_DIRNAME/../../pktscope}
}

parses() {
	run bash -c '"$@" 2>/dev/null' _ "$PKTSCOPE" "$@"
	echo "$* -> $status: $output"
	python3 -m json.tool <<<"$output" >/dev/null
}

@test "every built-in command's -j output parses" {
	parses -j version
	parses -j plugin list
	parses -j plugin info hello
	parses -j feature
	parses -j help
	parses -j help plugin
	parses -j help plugin info
	parses -j completion bash
	parses -j hello greet name x
	parses -j hello wait duration 10ms
	parses -j hello kinds rate 1mbit cidr ::1 port 1-2 flag
	if [ "$(id -u)" -eq 0 ]; then parses -j status; fi
}

@test "-p prints the same document indented" {
	run "$PKTSCOPE" -j plugin list
	compact=$output
	run "$PKTSCOPE" -p plugin list
	[ "$(wc -l <<<"$output")" -gt 3 ]
	[ "$(jq -cS . <<<"$output")" = "$(jq -cS . <<<"$compact")" ]
}

@test "version and help carry the fields scripts use" {
	run "$PKTSCOPE" -j version
	[ "$(jq -r .plugin_abi <<<"$output")" = 2 ]
	[[ "$(jq -r .libbpf_version <<<"$output")" == 1.* ]]
	run "$PKTSCOPE" -j help
	jq -e '.objects[] | select(.name == "hello")' <<<"$output"
	run "$PKTSCOPE" -j help hello
	jq -e '.commands[] | select(.command == "hello greet" and .synopsis == "[name WHO]")' <<<"$output"
}

@test "errors under -j are a JSON object on stdout and Error: on stderr" {
	run bash -c '"$1" -j hello kinds rate 0 2>/dev/null' _ "$PKTSCOPE"
	[ "$status" -eq 2 ]
	[[ "$(jq -r .error <<<"$output")" == *"greater than zero"* ]]
	run bash -c '"$1" -j nosuch 2>&1 >/dev/null' _ "$PKTSCOPE"
	[[ "$output" == "Error: unknown object 'nosuch'"* ]]
}

@test "feature reports the kernel probes by name" {
	run "$PKTSCOPE" -j feature
	[ "$status" -eq 0 ]
	for k in bpf_syscall btf jit bpffs xdp tc tcx ringbuf; do
		jq -e --arg k "$k" '.probes[] | select(.feature == $k) | .available | type == "boolean"' <<<"$output"
	done
	jq -e '.kernel_config[] | select(.option == "CONFIG_BPF_SYSCALL")' <<<"$output"
}
