#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# src-log record refuses, when it reads its arguments, a rotate size its
# writer cannot honour: a .gz file grows a deflate block (up to ~32 KiB)
# at a time, so `rotate 4k` on one never rotated in a short run.
# The refusal names the minimum, exits 2 and creates no file.

setup() {
	PKTSCOPE=${PKTSCOPE:-$BATS_TEST_DIRNAME/../../pktscope}
	[[ $(id -u) == 0 ]] || skip "needs root (src-log record is a BPF command)"
}

run_err() {
	local errf="$BATS_TEST_TMPDIR/stderr"
	run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
	stderr=$(cat "$errf")
}

@test "record: rotate below 64k on a .gz file is refused with the minimum, exit 2" {
	run_err "$PKTSCOPE" src-log record dev lo file "$BATS_TEST_TMPDIR/x.ndjson.gz" rotate 4k
	[ "$status" -eq 2 ]
	[[ "$stderr" == "Error: rotate 4KiB is too small for a .gz file: "*"at least 64KiB"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x.ndjson.gz" ]
	# JSON: the error object, same status
	run "$PKTSCOPE" -j src-log record dev lo file "$BATS_TEST_TMPDIR/x.ndjson.gz" rotate 63k
	[ "$status" -eq 2 ]
	[[ "$output" == *'"error"'*"at least 64KiB"* ]]
}

@test "record: the plain-file minimum stays 4k (it is the declared bound)" {
	run_err "$PKTSCOPE" src-log record dev lo file "$BATS_TEST_TMPDIR/x.ndjson" rotate 1k
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"rotate"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x.ndjson" ]
}
