#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo: registers flakes in a private root (nothing on the host is
# touched) and shows what flake-ctl sees. Run through "make demo".
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CTL=$PWD/$BUILD/ctl/flake-ctl
ROOT=$(mktemp -d /tmp/flake-demo.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
export FLAKE_ROOT=$ROOT FLAKE_BINDIR=$PWD/$BUILD/helpers

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "Private root: $ROOT"
step "$CTL" podman register --container localhost/flake-demo --app /usr/bin/hello --target /bin/echo
step "$CTL" podman register --container localhost/flake-demo --app /usr/bin/shell --target /bin/sh --resume
mkdir -p "$ROOT/var/lib/firecracker/images/demo-vm"
touch "$ROOT/var/lib/firecracker/images/demo-vm/"{rootfs,kernel}
step "$CTL" firecracker register --vm demo-vm --app /usr/bin/vmsh --target /bin/sh --overlay-size 64MiB
step "$CTL" list
step "$CTL" list --format json
step cat "$ROOT/usr/share/flakes/hello.yaml"
step ls -l "$ROOT/usr/bin"
step "$CTL" podman remove --app /usr/bin/hello
step "$CTL" list --format csv
