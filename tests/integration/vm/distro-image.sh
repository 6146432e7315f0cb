#!/bin/bash
# SPDX-License-Identifier: MIT
# A VM flake on an image as a distribution's user brings it
# (build-distro-image.sh): Debian's kernel, the initrd Debian's mkinitramfs
# makes with its default configuration, that kernel's modules only in the
# rootfs. Nothing of ours preloads a driver: sci has to load virtio_console
# (its agent port), overlay (the overlay root) and virtio_net (the network)
# through the image's modprobe. Booted through firecracker-pilot under QEMU
# microvm (TCG), then restored from the snapshot its first call saved; and
# with QEMU's user-mode network.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require mkinitramfs unmkinitramfs depmod kmod
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

DISTRO="$VM_BUILD/distro-image"
"$FLAKE_SOURCE_ROOT/tests/integration/vm/build-distro-image.sh" "$DISTRO" "$SCI" ||
        { echo "Bail out! cannot build the distribution image"; exit 1; }
unmkinitramfs "$DISTRO/initrd" "$T/unpacked" || { echo "Bail out! unmkinitramfs cannot unpack the initrd"; exit 1; }
check "the initrd is initramfs-tools' (its init and scripts)" \
        test -x "$T/unpacked/init" -a -e "$T/unpacked/scripts/functions" -a -e "$T/unpacked/conf/initramfs.conf"
mods=$(find "$T/unpacked" -name '*.ko*' | sed 's|.*/||; s|\.ko.*||' | sort)
assert_contains "the initrd has what mounting the root needs" "$mods" "virtio_blk"
for m in virtio_console vmw_vsock_virtio_transport overlay; do
        assert_not_contains "the initrd has no $m (the booted system's business)" "$mods" "$m"
done
rm -rf "$T/unpacked"

KERNEL=$DISTRO/kernel INITRD=$DISTRO/initrd ROOTFS=$DISTRO/rootfs OVERLAY=32MiB register dsh false
out=$("$T/bin/dsh" -c 'cat /etc/flake-test-image; echo written > /root/w; cat /root/w; echo err >&2; exit 5' 2>"$T/err"); rc=$?
assert_eq "exit status of the app" 5 "$rc"
assert_eq "stdout: the distribution image's root, an overlay write" "$(printf 'flake-distro-image\nwritten')" "$out"
assert_eq "stderr arrives on stderr, alone" "err" "$(cat "$T/err")"

# Snapshots (on by default for one-shot flakes) on this image: the first call
# saved the VM after sci had loaded the drivers from the rootfs; later calls
# restore it, those modules in the restored memory, each with a fresh overlay.
check "the first call saved a snapshot of the distribution image's VM" \
        test -s "$FLAKE_FIRECRACKER_DIR/snapshots/dsh/key"
"$T/bin/dsh" -c 'sleep 3' &
p=$!
assert_contains "the next call restores it (-incoming)" "$(vmm_cmdline dsh)" "-incoming fd:"
wait $p
assert_eq "... and ends with the app's status" 0 "$?"
out=$("$T/bin/dsh" -c 'for m in virtio_console overlay; do grep -q "^$m " /proc/modules && echo "$m"; done; grep -c " / overlay" /proc/mounts; cat /root/w 2>/dev/null || echo fresh')
assert_eq "restored: virtio_console and overlay loaded by sci from the rootfs, the root an overlay, a fresh one" \
        "$(printf 'virtio_console\noverlay\n1\nfresh')" "$out"
[ "$rc" = 5 ] || diag "$(cat "$T/err")" "$(tail -n 40 "$FLAKE_RUNTIME_DIR/vm/dsh.log" 2>/dev/null)"

# QEMU's user-mode network on this image: sci loads virtio_net from the
# rootfs and brings eth0 up; the guest fetches from a server on the host's
# loopback as 10.0.2.2.
mkdir -p "$T/srv" && echo "hello-distro" >"$T/srv/hello"
python3 "$FLAKE_SOURCE_ROOT/tests/integration/pull/server.py" --dir "$T/srv" --port-file "$T/port" 2>"$T/server.log" &
server=$!
trap 'kill $server 2>/dev/null; vm_cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
KERNEL=$DISTRO/kernel INITRD=$DISTRO/initrd ROOTFS=$DISTRO/rootfs OVERLAY=32MiB register dnet false
sed -i 's/^    resume: false/    resume: false\n    network:\n      mode: user/' "$FLAKES_DIR/dnet.yaml"
out=$("$T/bin/dnet" -c "grep -q '^virtio_net ' /proc/modules && echo virtio_net; wget -q -O - http://10.0.2.2:$(cat "$T/port")/files/hello" 2>"$T/err"); rc=$?
assert_eq "user-mode network: sci loaded virtio_net from the rootfs, the guest fetched from the host" \
        "0 $(printf 'virtio_net\nhello-distro')" "$rc $out"
[ "$rc" = 0 ] || diag "$(cat "$T/err")"

finish
