#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo stays true: it runs to the end (status 0), every step shows what
# its headline says, and nothing in its output is noise a newcomer has to
# ignore (podman's CNI warnings, logrus warnings).
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require podman qemu-system-x86_64 mkinitramfs bc

out=$("$FLAKE_SOURCE_ROOT/tests/demo.sh" 2>&1); rc=$?
assert_eq "the demo exits 0" 0 "$rc"
[ "$rc" = 0 ] || diag "$(echo "$out" | tail -n 30)"

for n in 1 2 3 4 5 6 7 8 9 10; do
        assert_contains "step $n is announced" "$out" "== $n. "
done
# Containers.
assert_contains "1: the local image" "$out" "localhost/demo:latest"
assert_contains "2: both container flakes registered" "$out" "Registered /usr/bin/box (container localhost/demo)"
assert_contains "3: arguments and stdin reach tr" "$out" "HELLO FROM THE HOST"
assert_contains "4: the container app's exit status" "$out" "  exit status: 3"
block5=$(echo "$out" | sed -n '/== 5\./,/== 6\./{/==/d;p}')
assert_eq "5: stdout only, stderr went to /dev/null" \
        "$(printf '%s\n' "  \$ box -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null" to-stdout)" "$block5"
assert_contains "6: the resumed instance is shown running" "$out" "running  localhost/demo"
assert_contains "6: and stopped" "$out" "flake-ctl: Stopped box"
# The VM flake.
assert_contains "7: the host's kernel" "$out" "/boot/vmlinuz-"
assert_contains "7: the distribution's initrd" "$out" "mkinitramfs (initramfs-tools, default MODULES=most)"
assert_contains "8: the VM flake registered" "$out" "Registered /usr/bin/vmbox (VM debian)"
assert_contains "8: flake-ctl list shows both engines" "$out" "vmbox  firecracker  /bin/sh"
assert_contains "9: the accelerator is said" "$out" "accelerator: FLAKE_QEMU_ACCEL=tcg"
assert_contains "9: the VM app's exit status" "$out" "  exit status: 4 "
assert_contains "9: stdout from the VM's overlay root" "$out" "  stdout: in the VM: kernel $(ls /lib/modules | sort -V | tail -n1), root overlay"
assert_contains "9: stdout from the distribution image" "$out" "  stdout: flake-distro-image"
assert_contains "9: stderr separate" "$out" "  stderr: to-stderr"
# The generator.
assert_contains "10: the VM flake's drop-in" "$out" "# flake-vm@vmbox.service.d/50-flake.conf"
assert_contains "10: its resource limits" "$out" "MemoryMax=1G"
assert_not_contains "10: no drop-in for a container flake" "$out" "flake-pull@shout"
assert_contains "10: pull_at_boot's wants link" "$out" "# multi-user.target.wants/flake-pull@box.service -> "
assert_contains "the demo ends" "$out" "Done: everything lived in"

noise=$(echo "$out" | grep -E 'Error validating|WARN\[|level=warning|[Ww]arning:')
assert_eq "no warning or error noise in the output" "" "$noise"
d=$(echo "$out" | sed -n 's/^Done: everything lived in \(\/tmp\/flake-demo\.[A-Za-z0-9]*\).*/\1/p')
check "the demo names its directory" test -n "$d"
[ -n "$d" ] && check_fails "the demo's directory is removed" test -e "$d"
finish
