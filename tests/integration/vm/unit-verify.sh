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

# The user manager's variants (units/user/): flake-vm@ and flake-pull@.
mkdir -p "$dir/user" "$dir/xdg"; chmod 700 "$dir/xdg"   # a user manager needs a runtime dir
for u in flake-vm@ flake-pull@; do
        sed "s|@libexecdir@/flake-vm|$FLAKE_BUILD_ROOT/helpers/vm/flake-vm|; s|@libexecdir@/flake-pull|$FLAKE_BUILD_ROOT/helpers/pull/flake-pull|" \
                "$FLAKE_SOURCE_ROOT/units/user/$u.service.in" > "$dir/user/${u}mybash.service"
        out=$(XDG_RUNTIME_DIR="$dir/xdg" systemd-analyze verify --user --man=no "$dir/user/${u}mybash.service" 2>&1); rc=$?
        assert_eq "user $u.service verifies (instance)" "0" "$rc"
        assert_eq "... without a warning" "" "$out"
        assert_contains "installed user $u.service runs the libexec program" \
                "$(grep '^ExecStart=' "$FLAKE_BUILD_ROOT/units/user/$u.service")" "/libexec/flake-pilot/${u%@} "
done
finish
