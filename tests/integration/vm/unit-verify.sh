#!/bin/bash
# flake-vm@.service passes systemd-analyze verify, as a template and as an
# instance, with ExecStart pointing at this build's runner.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require systemd-analyze

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|@libexecdir@|$FLAKE_BUILD_ROOT/helpers/vm|g" "$FLAKE_SOURCE_ROOT/units/flake-vm@.service.in" > "$dir/flake-vm@.service"
check "template verifies" systemd-analyze verify --man=no "$dir/flake-vm@.service"
cp "$dir/flake-vm@.service" "$dir/flake-vm@mybash.service"
check "instance verifies" systemd-analyze verify --man=no "$dir/flake-vm@mybash.service"
out=$(systemd-analyze verify --man=no "$dir/flake-vm@mybash.service" 2>&1)
assert_not_contains "no warnings" "$out" "Unknown"
installed=$(grep '^ExecStart=' "$FLAKE_BUILD_ROOT/units/flake-vm@.service")
assert_contains "installed unit runs the libexec runner" "$installed" "/libexec/flake-pilot/flake-vm run %I"
finish
