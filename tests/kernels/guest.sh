#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check-kernels, inside the guest, from the source tree: every BPF program loaded on its
# own, then memleak and memleak-run on the leaky fixture. KC_OUT: build output; KC_RES:
# this kernel's results (writable). Exit status: the number of failed steps.
out=$KC_OUT res=$KC_RES fails=0
echo "KC kernel $(uname -r)"
mkdir -p "$res/verifier"
"$out/tests/kernels/progcheck" "$out/bpf/memleak.bpf.o" "$res/verifier" >"$res/progcheck.txt" 2>&1 ||
	fails=$((fails + 1))
sed 's/^/KC /' "$res/progcheck.txt"
# What each tool must say of the fixture, and the status it must exit with.
smoke() {
	name=$1 want=$2
	shift 2
	timeout 300 "$@" >"$res/$name.txt" 2>&1
	rc=$?
	# The list's nodes are indirectly lost: only said when the memory was read at the end.
	if [ $rc -eq "$want" ] && grep -q 'read_config' "$res/$name.txt" &&
		grep -q 'make_node' "$res/$name.txt" && grep -q 'indirectly lost' "$res/$name.txt"; then
		echo "KC ok   $name (exit $rc)"
	else
		echo "KC FAIL $name (exit $rc, want $want, both leaks named, their kinds read)"
		tail -n 5 "$res/$name.txt" | sed 's/^/KC      /'
		fails=$((fails + 1))
	fi
}
smoke memleak 0 "$out/memleak" -c "$out/tests/fixtures/leaky"
smoke memleak-run 23 "$out/memleak-run" -- "$out/tests/fixtures/leaky"
smoke memleak-run-nofp 23 "$out/memleak-run" -- "$out/tests/fixtures/nofp_leaky"
# From an overlay, as in a container: the same names.
mkdir -p /tmp/kc-empty /tmp/kc-overlay
if mount -t overlay -o ro,lowerdir="$out/tests/fixtures":/tmp/kc-empty overlay /tmp/kc-overlay; then
	smoke memleak-run-overlay 23 "$out/memleak-run" -- /tmp/kc-overlay/nofp_leaky
	umount -l /tmp/kc-overlay
else
	echo "KC FAIL memleak-run-overlay (no overlay mount)"
	fails=$((fails + 1))
fi
exit $fails
