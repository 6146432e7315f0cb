#!/bin/sh
# ORIGINAL-SCI STAND-IN: a guest init that behaves like the original
# flake-pilot's sci (OSInside/flake-pilot, firecracker-pilot/guestvm-tools/
# sci/src/main.rs) in its default, serial mode, as images of the upstream
# appstore carry it as /usr/sbin/sci. The test puts it into a KIS image
# (original-kis.sh) to show that flake-pull replaces it.
#
# What it keeps of the original: the command comes from the kernel command
# line as run="<target> <args...>" (the kernel hands unknown name=value
# parameters to init as environment variables, quotes removed); it is split
# into words like the original's shell_words::split (quotes and backslashes
# honoured, so the pilot's "\-" escapes are undone; nothing is expanded:
# xargs splits that way); no or an unparsable run= means reboot; proc, sysfs, devtmpfs and devpts are
# mounted; the command runs on the console, and whatever happens the VM
# reboots (Firecracker and QEMU -no-reboot end there). The exit status of
# the command is not transported: the original cannot. Its vsock mode
# (sci_resume / sci_force_vsock: a listener on vsock port 52) cannot be
# written in a shell; the stand-in says so and reboots, as the original
# does on a setup failure. overlay_root= is ignored (the test boots it
# without an overlay).
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts 2>/dev/null
mount -t devpts devpts /dev/pts 2>/dev/null
export PS1='\[\]\u@\h: > '
[ -n "$TERM" ] || TERM=${sci_term:-xterm}
export TERM

if [ -n "${sci_resume:-}${sci_force_vsock:-}" ]; then
        echo "original-sci stand-in: vsock mode is not implemented" >/dev/console
        reboot -f
fi
[ -n "${run:-}" ] || reboot -f
words=$(printf '%s' "$run" | xargs printf '%s\n') || reboot -f
set -f
IFS='
'
# shellcheck disable=SC2086
set -- $words
unset IFS
set +f
[ $# -gt 0 ] || reboot -f
"$@"
reboot -f
