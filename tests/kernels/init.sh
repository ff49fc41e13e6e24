#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /init of check-kernels' initramfs: the host's root, read-only over 9p, with tmpfs for
# what must be writable and the shares named by kc.shares=TAG:PATH,... at their host
# paths (the source tree, read-only, and the build output, writable); then kc.run (a script) in a chroot there. "KC-RC=N" ends the console.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "KC: $*"; echo KC-RC=98; poweroff -f; }
for m in $(cat /modules); do insmod "/lib/$m.ko" || echo "KC: insmod $m failed"; done
for a in $(cat /proc/cmdline); do
	case $a in kc.shares=*) shares=${a#*=} ;; kc.run=*) run=${a#*=} ;; esac
done
o=trans=virtio,version=9p2000.L,cache=loose,msize=262144
r=/root
mkdir -p $r
mount -t 9p -o $o,ro host $r || fail "cannot mount the host's root"
for d in tmp run var/tmp root; do mount -t tmpfs -o mode=1777 tmpfs $r/$d; done
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/shm
mount -t tmpfs tmpfs $r/dev/shm
mount -t bpf bpf $r/sys/fs/bpf
mount -t tracefs tracefs $r/sys/kernel/tracing
mount -t debugfs debugfs $r/sys/kernel/debug
# In order: a share inside another (the build output in the source tree) comes after it.
# A path under one of the tmpfs (a tree in /tmp) gets its mount point made there.
for s in $(echo "${shares:-}" | tr , ' '); do
	mkdir -p "$r${s#*:}" 2>/dev/null
	mount -t 9p -o $o "${s%%:*}" "$r${s#*:}" || fail "cannot mount ${s#*:}"
done
chroot $r /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	/bin/sh "${run:?no kc.run}"
echo "KC-RC=$?"
poweroff -f
