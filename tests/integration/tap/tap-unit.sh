#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-tap@.service passes systemd-analyze verify (template and an instance),
# with ExecStart=/ExecStop= pointing at the flake-tap of this build, and its
# hardening stays where flake-tap@.service(8) says it is.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require systemd-analyze
UNIT=$FLAKE_BUILD_ROOT/units/flake-tap@.service
FLAKE_TAP=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

assert_contains "unit starts flake-tap" "$(grep ^ExecStart= "$UNIT")" "/flake-tap start %I"
assert_contains "unit stops through flake-tap" "$(grep ^ExecStop= "$UNIT")" "/flake-tap stop %I"
libexec=$(sed -n 's|^ExecStart=\(.*\)/flake-tap start %I$|\1|p' "$UNIT")
sed "s|$libexec/flake-tap|$FLAKE_TAP|" "$UNIT" > "$TMP/flake-tap@.service"

check "systemd-analyze verify (template)" systemd-analyze verify --man=no "$TMP/flake-tap@.service"
cp "$TMP/flake-tap@.service" "$TMP/flake-tap@app.service"
check "systemd-analyze verify (instance)" systemd-analyze verify --man=no "$TMP/flake-tap@app.service"
mkdir -p "$TMP/bad"
sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/flake-tap|' "$TMP/flake-tap@.service" > "$TMP/bad/flake-tap@.service"
check_fails "verify catches a broken unit (the check can fail)" systemd-analyze verify --man=no "$TMP/bad/flake-tap@.service"

exposure=$(systemd-analyze security --offline=true "$TMP/flake-tap@app.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "security exposure measured ($exposure)" test -n "$exposure"
check "security exposure <= 3.0 ($exposure)" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 3.0) }'
finish
