#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Runs the unit tests, then the integration tests, and prints one closing line.
# usage: tests/run.sh OUTPUT UNIT_TEST... -- INTEGRATION_TEST...
#
# Integration tests load BPF programs: they need root. Without it they are skipped with a
# reason, except under CI (CI set), where a missing capability is a failure.
set -u
out=$1
shift
export MEMLEAK_OUTPUT="$out"
# Check cuts a failure's message at 4 KiB and then reports only an early exit: the
# messages here carry the tool's whole stderr.
export CK_MAX_MSG_SIZE="${CK_MAX_MSG_SIZE:-65536}"

passed=0
failed=0
skipped=0

run_one() {
	log="$out/tests/$(basename "$1").log"
	if "$1" >"$log" 2>&1; then
		status=ok
	else
		status=FAIL
	fi
	# Check's summary line: "100%: Checks: N, Failures: F, Errors: E"
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
	checks=$(echo "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	fails=$(echo "$line" | sed -n 's/.*Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2/p')
	checks=${checks:-0}
	bad=0
	for n in $fails; do bad=$((bad + n)); done
	if [ "$status" = FAIL ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	passed=$((passed + checks - bad))
	failed=$((failed + bad))
	printf '%-4s %s (%s)\n' "$status" "$(basename "$1")" "${line:-no summary}"
	if [ "$status" = FAIL ]; then
		grep -E ':[EF]:|Assertion|error' "$log" | head -n 20 | sed 's/^/     /'
	fi
}

while [ $# -gt 0 ] && [ "$1" != -- ]; do
	run_one "$1"
	shift
done
[ $# -gt 0 ] && shift

if [ $# -gt 0 ]; then
	reason=""
	if [ "$(id -u)" -ne 0 ]; then
		reason="integration tests need root (BPF programs, uprobes)"
	elif [ ! -e /sys/kernel/btf/vmlinux ]; then
		reason="integration tests need kernel BTF (/sys/kernel/btf/vmlinux)"
	fi
	if [ -n "$reason" ]; then
		if [ -n "${CI:-}" ]; then
			echo "FAIL $reason" >&2
			failed=$((failed + 1))
		else
			echo "SKIP $reason" >&2
			skipped=$#
		fi
	else
		for t in "$@"; do
			run_one "$t"
		done
	fi
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
