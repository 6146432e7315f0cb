# SPDX-License-Identifier: MIT
# A private root for flake-ctl: FLAKE_ROOT makes /etc, /usr and /var live
# below a temp dir, so nothing on the host is touched.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"

CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
ROOT=$(mktemp -d /tmp/flake-cli.XXXXXX)
chmod 755 "$ROOT"
trap 'rm -rf "$ROOT"' EXIT
export FLAKE_ROOT="$ROOT"
unset FLAKES_DIR FLAKE_CONFIG FLAKE_USER_CONFIG FLAKE_TEMPLATE_DIR FLAKE_FIRECRACKER_DIR
FLAKES="$ROOT/usr/share/flakes"
# flake-ctl only links to the pilots and checks that they are there: stand-ins
# keep these tests about flake-ctl alone.
export FLAKE_BINDIR="$ROOT/pilots"
mkdir -p "$FLAKE_BINDIR"
printf '#!/bin/sh\nexit 0\n' > "$FLAKE_BINDIR/podman-pilot"
cp "$FLAKE_BINDIR/podman-pilot" "$FLAKE_BINDIR/firecracker-pilot"
chmod 755 "$FLAKE_BINDIR"/*
PILOT="$FLAKE_BINDIR/podman-pilot"
FC_PILOT="$FLAKE_BINDIR/firecracker-pilot"

# A fake VM image: only its presence matters to registration.
make_vm_image() {
        mkdir -p "$ROOT/var/lib/firecracker/images/$1"
        echo rootfs > "$ROOT/var/lib/firecracker/images/$1/rootfs"
        echo kernel > "$ROOT/var/lib/firecracker/images/$1/kernel"
}

# Everything in the root, for "nothing changed" checks.
snapshot() {
        (cd "$ROOT" && find . -printf '%p %y %l\n' | sort && find . -type f -exec md5sum {} + | sort)
}
