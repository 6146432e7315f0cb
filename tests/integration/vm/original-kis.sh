#!/bin/bash
# SPDX-License-Identifier: MIT
# The original README's path with an image made for the original
# flake-pilot: a KIS archive laid out like the upstream appstore's (kernel,
# initrd, append, sha256 record, ext2 rootfs) whose /usr/sbin/sci is the
# ORIGINAL sci (a stand-in faithful to its serial protocol:
# original-sci.sh). Pull it, register it, run the app with the default
# settings (no %serial): flake-pull put this project's sci in its place, so
# the app's output and exit status come back. Booted through
# firecracker-pilot under QEMU microvm (TCG).
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require debugfs xz tar python3 sha256sum
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

export FLAKE_SCI=$SCI FLAKE_ALLOW_INSECURE_TRANSPORT=1
STANDIN=$FLAKE_SOURCE_ROOT/tests/integration/vm/original-sci.sh

# --- the appstore-like archive ---------------------------------------------
K=$T/kis
base=firecracker-leap.x86_64-1.15.5
mkdir -p "$K"
cp "$VM_IMAGE/rootfs" "$K/$base.ext2"
debugfs -w -R "rm /usr/sbin/sci" "$K/$base.ext2" >/dev/null 2>&1
debugfs -w -f - "$K/$base.ext2" >/dev/null 2>&1 <<EOD
write $STANDIN /usr/sbin/sci
sif /usr/sbin/sci mode 0100755
EOD
assert_contains "the archive's rootfs carries the original-sci stand-in" \
        "$(debugfs -R 'cat /usr/sbin/sci' "$K/$base.ext2" 2>/dev/null)" "ORIGINAL-SCI STAND-IN"
cp "$VM_IMAGE/kernel" "$K/$base.kernel"
cp "$VM_IMAGE/initrd" "$K/$base.initrd"
echo "root=/dev/vda console=ttyS0 init=/usr/sbin/sci" > "$K/$base.append"
bs=4096
echo "$(sha256sum "$K/$base.ext2" | cut -d' ' -f1) $(( $(stat -c %s "$K/$base.ext2") / bs )) $bs" > "$K/$base.sha256"
mkdir -p "$T/srv"
tar -C "$K" -cJf "$T/srv/leap.tar.xz" .

python3 "$FLAKE_SOURCE_ROOT/tests/integration/pull/server.py" --dir "$T/srv" --port-file "$T/port" 2>"$T/server.log" &
server=$!
trap 'kill $server 2>/dev/null; vm_cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "Bail out! test server did not start: $(cat "$T/server.log")"; exit 1; }
URL=http://127.0.0.1:$(cat "$T/port")/files/leap.tar.xz

# --- the stand-in is faithful: with %serial it runs the command -------------
ROOTFS=$K/$base.ext2 register orig false
out=$("$T/bin/orig" %serial -c 'echo [$0] from-the-original' '--x' </dev/null 2>&1); rc=$?
assert_contains "original image, %serial: the stand-in runs run= on the console" "$out" "[--x] from-the-original"
assert_eq "original image, %serial: the VMM's status (the original has no other)" 0 "$rc"
# ... and it does not speak this project's agent protocol: without the
# replacement the default launch cannot work.
"$T/bin/orig" -c 'echo never' </dev/null >"$T/orig.out" 2>"$T/orig.err"; rc=$?
check "original image, default mode: fails without the replacement (status $rc: $(head -c 300 "$T/orig.err"))" test "$rc" -ne 0
assert_not_contains "original image, default mode: the app did not run" "$(cat "$T/orig.out")" "never"

# --- the README's path: pull, register, run ---------------------------------
out=$("$FLAKE_BUILD_ROOT/ctl/flake-ctl" firecracker pull --name leap --kis-image "$URL" 2>&1); rc=$?
assert_eq "flake-ctl firecracker pull of the KIS image" 0 "$rc"
[ "$rc" = 0 ] || diag "$out"
IMG=$FLAKE_FIRECRACKER_DIR/images/leap
assert_eq "the KIS record is kept: the rootfs as pulled" "$(cat "$K/$base.sha256")" "$(cat "$IMG/checksum")"
assert_eq "checksum.installed: the rootfs as installed" "$(sha256sum "$IMG/rootfs" | cut -d' ' -f1)" "$(cat "$IMG/checksum.installed")"
assert_eq "the pulled image's /usr/sbin/sci is ours" "$(sha256sum < "$SCI")" \
        "$(debugfs -R 'cat /usr/sbin/sci' "$IMG/rootfs" 2>/dev/null | sha256sum)"

ROOTFS=$IMG/rootfs KERNEL=$IMG/kernel INITRD=$IMG/initrd OVERLAY=32MiB register mybash false
out=$("$T/bin/mybash" -c 'ls -l /etc/flake-test-image; echo err >&2; exit 3' 2>"$T/err"); rc=$?
assert_eq "mybash -c ...: the app's exit status" 3 "$rc"
assert_contains "mybash -c 'ls -l': the app's output" "$out" "/etc/flake-test-image"
assert_eq "stderr on stderr" "err" "$(cat "$T/err")"
[ "$rc" = 3 ] || diag "$(cat "$T/err")" "$(tail -n 40 "$FLAKE_RUNTIME_DIR/vm/mybash.log" 2>/dev/null)"
out=$("$T/bin/mybash" -c 'sha256sum /proc/1/exe | cut -d" " -f1; tr "\0" " " < /proc/1/cmdline')
assert_eq "PID 1 is this project's sci, not the stand-in" "$(sha256sum "$SCI" | cut -d' ' -f1) /usr/sbin/sci " "$(echo "$out" | xargs -d '\n' echo)"

finish
