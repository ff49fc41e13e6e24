#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Builds and runs the make-check integration examples under memleak-run, for real:
# Automake (LOG_COMPILER), CMake/CTest (a test launcher) and Meson (meson test --wrap).
# In each the clean test must pass and the leaky one must fail because of its leak.
# usage: ci/examples/run-examples.sh MEMLEAK_RUN WORKDIR [automake|cmake|meson]...
set -eu
gate=$(realpath "$1")
work=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- automake cmake meson
rm -rf "$work"
mkdir -p "$work"
cp -r "$here/src" "$here/automake" "$here/cmake" "$here/meson" "$work/"

for system in "$@"; do
	echo "== $system"
	case $system in
	automake)
		(cd "$work/automake" && autoreconf -fi >/dev/null 2>&1 &&
			./configure -q MEMLEAK_RUN="$gate" >/dev/null && make -s check)
		grep -q '^:test-result: PASS' "$work/automake/clean_test.trs"
		grep -q '^:test-result: XFAIL' "$work/automake/leaky_test.trs"
		grep -qi 'leak: .*(leaky_test.c)' "$work/automake/leaky_test.log"
		grep -q '<failure' "$work/automake/leaky_test.log.junit.xml"
		;;
	cmake)
		(cd "$work/cmake" && cmake -S . -B build -DMEMLEAK_RUN="$gate" >/dev/null &&
			cmake --build build >/dev/null && cd build && ctest --output-on-failure)
		;;
	meson)
		(cd "$work/meson" && meson setup build >/dev/null &&
			meson test -C build --wrap="$gate --")
		grep -qi 'leak: .*(leaky_test.c)' "$work/meson/build/meson-logs/"testlog*.txt
		;;
	*)
		echo "unknown build system $system" >&2
		exit 2
		;;
	esac
	echo "ok: $system"
done
