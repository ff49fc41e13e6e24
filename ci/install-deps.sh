#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Installs the packages memleak needs to build and test, on Debian and Ubuntu.
# Idempotent and quiet when everything is already there.
set -eu

BUILD="make gcc g++ clang llvm pkg-config bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev
	libxml2-dev libjson-c-dev"
TEST="check libxml2-utils automake autoconf meson ninja-build cmake util-linux binutils valgrind"

# The benchmark compares with other tools: only `make bench` (--bench) installs them.
EXTRA=""
if [ "${1:-}" = --bench ]; then
	EXTRA="bc time sqlite3 heaptrack liblsan0"
fi
# Other kernels under qemu: only `make check-kernels` (--kernels).
if [ "${1:-}" = --kernels ]; then
	EXTRA="qemu-system-x86 busybox-static xz-utils kmod"
fi

missing=""
for p in $BUILD $TEST $EXTRA; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; install these packages by hand:$missing" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-deps: need root to install:$missing" >&2
		exit 1
	fi
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
