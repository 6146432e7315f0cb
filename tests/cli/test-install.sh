#!/bin/bash
# SPDX-License-Identifier: MIT
# make install puts everything where a distribution would, and the installed
# configuration works with flake-ctl.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require meson
DEST=$(mktemp -d /tmp/flake-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT

check "meson install --destdir" meson install -C "$FLAKE_BUILD_ROOT" --destdir "$DEST" --no-rebuild --quiet
for f in usr/bin/flake-ctl etc/flakes.yml etc/flakes/storage.conf etc/flakes/container-flake.yaml \
         etc/flakes/firecracker-flake.yaml usr/share/bash-completion/completions/flake-ctl \
         usr/share/man/man8/flake-ctl.8 usr/share/man/man5/flakes.yaml.5 usr/share/man/man7/flake-pilot.7 \
         usr/share/man/man8/flake-ctl-podman-register.8 usr/share/man/man8/flake-ctl-firecracker-register.8 \
         usr/share/man/man8/flake-ctl-init.8 usr/share/man/man8/flake-ctl-list.8; do
        check "installed: /$f" test -s "$DEST/$f"
done
assert_eq "installed container template = built-in one" "$("$FLAKE_BUILD_ROOT/ctl/flake-ctl" template container)" \
        "$(cat "$DEST/etc/flakes/container-flake.yaml")"

# The installed files as the configuration of a private root.
export FLAKE_ROOT="$DEST" FLAKE_BINDIR="$DEST/usr/bin"
out=$("$DEST/usr/bin/flake-ctl" list 2>&1)
assert_contains "installed flakes.yml loads" "$out" "Flake applications registered in $DEST/usr/share/flakes"
check "register with the installed template" "$DEST/usr/bin/flake-ctl" podman register --container c --app /usr/bin/t
assert_contains "installed template used" "$(cat "$DEST/usr/share/flakes/t.yaml")" '- "-ti"'
finish
