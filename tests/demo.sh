#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The demo: trace a bundled program with known leaks (tests/fixtures/leaky.c: 5 x 64 bytes
# from make_node and 4096 bytes from read_config) and show what memleak reports.
# usage: tests/demo.sh OUTPUT
set -eu
out=$1
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: memleak loads BPF programs: run as root (sudo make demo)" >&2
	exit 1
fi
echo "\$ memleak -c $out/tests/fixtures/leaky"
"$out/memleak" -c "$out/tests/fixtures/leaky"
if [ -x "$out/memleak-run" ]; then
	echo
	echo "\$ memleak-run --junit $out/demo-leaks.xml -- $out/tests/fixtures/leaky"
	status=0
	"$out/memleak-run" --junit "$out/demo-leaks.xml" -- "$out/tests/fixtures/leaky" || status=$?
	echo "(exit status $status; JUnit report in $out/demo-leaks.xml)"
fi
