#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# usage: tests/kernels/check-kernels.sh OUTPUT KERNEL...
# Boots each KERNEL under qemu (KVM when /dev/kvm is usable, else TCG) on this machine's
# own userland, and there loads every BPF program on its own and runs memleak and
# memleak-run on the fixtures (tests/kernels/guest.sh). A KERNEL is a Debian linux-image
# release (6.1.0-57-amd64) or a series (6.1, 6.12: its newest amd64 package); packages
# are fetched with apt-get download into OUTPUT/kernels/cache, the host's /boot and
# /lib/modules are left alone. Results in OUTPUT/kernels/RELEASE/. Run as root, from the
# source tree, after `make all fixtures`.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUTPUT KERNEL..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(pwd)
out=$(cd "$1" && pwd)
shift
cache=$out/kernels/cache
mkdir -p "$cache"

# The newest plain amd64 image of a series (not -cloud, which has no 9p, nor -rt).
release() {
	case $1 in *-amd64) echo "$1"; return ;; esac
	apt-cache search --names-only "^linux-image-$(echo "$1" | sed 's/\./\\./g')\.[0-9][0-9.+a-z-]*-amd64\$" |
		cut -d' ' -f1 | grep -v -e -cloud- -e -rt- | sed 's/^linux-image-//' | sort -V | tail -n 1
}

# An initramfs: busybox, init.sh, and the modules 9p needs (with theirs, from modules.dep).
initramfs() {
	root=$1 k=$2 to=$3
	tmp=$(mktemp -d)
	mkdir -p "$tmp/bin" "$tmp/lib" "$tmp/proc" "$tmp/sys" "$tmp/dev"
	cp "$(command -v busybox)" "$tmp/bin/busybox"
	cp "$here/init.sh" "$tmp/init"
	: >"$tmp/modules"
	dep=$root/lib/modules/$k/modules.dep
	[ -e "$dep" ] || depmod -b "$root" "$k"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		line=$(grep -E "/$(echo $m | sed 's/_/[-_]/g')\.ko(\.xz|\.zst)?:" "$dep" || true)
		[ -n "$line" ] || continue	# built in
		# Its dependencies, the last listed loads first, then the module itself.
		for f in $(echo "${line#*:}" | tr ' ' '\n' | tac) "${line%%:*}"; do
			n=$(basename "$f" | sed 's/\.ko.*//')
			grep -qx "$n" "$tmp/modules" && continue
			case $f in
			*.xz) xz -dc "$root/lib/modules/$k/$f" >"$tmp/lib/$n.ko" ;;
			*.zst) zstd -qdc "$root/lib/modules/$k/$f" >"$tmp/lib/$n.ko" ;;
			*) cp "$root/lib/modules/$k/$f" "$tmp/lib/$n.ko" ;;
			esac
			echo "$n" >>"$tmp/modules"
		done
	done
	(cd "$tmp" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$to"
	rm -rf "$tmp"
}

status=0
for want in "$@"; do
	k=$(release "$want")
	# Only the kernels this machine's package sources have are checked.
	[ -n "$k" ] || { echo "$want: skipped, no linux-image package in the package sources"; continue; }
	root=$cache/$k
	if [ ! -e "$root/boot/vmlinuz-$k" ]; then
		rm -rf "$root" "$cache"/linux-image-"$k"_*.deb
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$k" >/dev/null)
		dpkg-deb -x "$cache"/linux-image-"$k"_*.deb "$root"
		rm -f "$cache"/linux-image-"$k"_*.deb
	fi
	initramfs "$root" "$k" "$cache/initrd-$k.gz"
	res=$out/kernels/$k
	rm -rf "$res"
	mkdir -p "$res"
	cat >"$res/run.sh" <<EOS
cd '$src'
KC_OUT='$out' KC_RES='$res' CI='${CI:-}' exec /bin/sh '$here/guest.sh'
EOS
	accel=tcg cpu=max
	[ -w /dev/kvm ] && accel=kvm cpu=host
	t0=$(date +%s)
	# A kernel that dies before the guest script starts is booted once more (under TCG
	# 6.12 has been seen to trip on its own int3 while patching text at boot).
	for boot in 1 2; do
		timeout --foreground -k 10 "${KC_TIMEOUT:-900}" qemu-system-x86_64 -accel $accel \
			-cpu $cpu -m 2G -smp 2 -nographic -no-reboot -nodefaults -serial stdio \
			-kernel "$root/boot/vmlinuz-$k" -initrd "$cache/initrd-$k.gz" \
			-append "console=ttyS0 panic=-1 loglevel=4 mitigations=off kc.run=$res/run.sh kc.shares=src:$src,out:$out" \
			-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
			-virtfs local,path="$src",mount_tag=src,security_model=none,readonly=on,multidevs=remap \
			-virtfs local,path="$out",mount_tag=out,security_model=none,multidevs=remap \
			</dev/null >"$res/console.log" 2>&1 || true
		grep -aq 'KC kernel' "$res/console.log" && break
		cp "$res/console.log" "$res/console-boot$boot.log"
		echo "$k: the kernel died booting ($res/console-boot$boot.log)"
	done
	t1=$(date +%s)
	tr -d '\r' <"$res/console.log" | sed -n "s/^KC /$k: /p"
	rc=$(tr -d '\r' <"$res/console.log" | sed -n 's/^KC-RC=\([0-9]*\)$/\1/p' | tail -n 1)
	if [ -n "$rc" ]; then
		echo "$k: $rc failed steps, $((t1 - t0)) s under $accel"
	else
		echo "$k: no result (timeout or crash: $res/console.log), $((t1 - t0)) s under $accel"
	fi
	[ "${rc:-1}" = 0 ] || status=1
done
exit $status
