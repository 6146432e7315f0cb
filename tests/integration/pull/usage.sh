#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line: usage errors (exit 2, one line), and the real user path
# "flake-ctl firecracker pull" running flake-pull.
. "$FLAKE_SOURCE_ROOT/tests/integration/pull/common.sh"

usage() {    # $1 description, $2 expected message, $3... arguments
        local d="$1" m="$2"; shift 2
        pull "$@"
        assert_eq "$d: exit 2" 2 "$RC"
        assert_contains "$d: message" "$ERR" "$m"
        assert_eq "$d: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
}
u=https://127.0.0.1:1/x
usage "no verb" "Missing verb" 
usage "unknown verb" "Unknown verb 'fetch'" fetch
usage "no --name" "--name is required" vm --kis-image $u
usage "no source" "One of --kis-image or --rootfs with --kernel is required" vm --name a
usage "kis and rootfs" "--kis-image conflicts with" vm --name a --kis-image $u --rootfs $u
usage "rootfs without kernel" "--rootfs and --kernel require each other" vm --name a --rootfs $u
usage "kernel without rootfs" "--rootfs and --kernel require each other" vm --name a --kernel $u
usage "initrd alone" "--rootfs and --kernel require each other" vm --name a --initrd $u
usage "bad --sha256" "--sha256: 'xyz' is not a SHA-256 digest" vm --name a --kis-image $u --sha256 xyz
usage "bad name" "Invalid image name '../x'" vm --name ../x --kis-image $u
usage "hidden name" "Invalid image name '.x'" vm --name .x --kis-image $u
usage "unknown option" "Unknown option '--colour'" vm --name a --kis-image $u --colour
usage "missing value" "needs a value" vm --name a --kis-image
usage "stray argument" "Unexpected argument 'extra'" vm --name a --kis-image $u extra
check "nothing created by usage errors" test ! -e "$FLAKE_ROOT/var"
check "--help" "$PULL" --help

# As a user runs it: flake-ctl firecracker pull
CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
[ -x "$CTL" ] || { echo "Bail out! flake-ctl was not built"; exit 1; }
start_servers
make_kis_dir "$W/kis"; pack_kis test.tar.xz "$W/kis"
out=$("$CTL" firecracker pull --name viactl --kis-image "$HTTPS/files/test.tar.xz" 2>&1); rc=$?
assert_eq "flake-ctl firecracker pull --kis-image" 0 "$rc"
assert_eq "flake-ctl: image installed (the archive's rootfs with our sci)" \
        "$(debugfs -R 'cat /usr/bin/payload' "$W/kis/test.x86_64-1.0.ext2" 2>/dev/null | sha256sum) $(sha256sum < "$FLAKE_SCI")" \
        "$(debugfs -R 'cat /usr/bin/payload' "$REG/viactl/rootfs" 2>/dev/null | sha256sum) $(debugfs -R 'cat /usr/sbin/sci' "$REG/viactl/rootfs" 2>/dev/null | sha256sum)"
out=$("$CTL" firecracker pull --name viactl --kis-image "$HTTPS/files/test.tar.xz" 2>&1); rc=$?
assert_eq "flake-ctl: existing name fails" 1 "$rc"
assert_contains "flake-ctl: existing name message" "$out" "already exists"
out=$("$CTL" firecracker pull --name x --rootfs "$HTTPS/files/x" 2>&1); rc=$?
assert_eq "flake-ctl: usage error exit 2" 2 "$rc"

finish
