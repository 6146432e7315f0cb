#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull@.service: a valid template (systemd-analyze verify with an
# instance name, against the built helper) and its sandbox exposure.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require systemd-analyze sed

unit="$FLAKE_BUILD_ROOT/units/flake-pull@.service"
[ -f "$unit" ] || { echo "Bail out! $unit was not generated"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# The installed unit names LIBEXECDIR; check a copy that names the build.
libexec=$(sed -n 's|^ExecStart=\(.*\)/flake-pull flake %I$|\1|p' "$unit")
assert_eq "ExecStart runs flake-pull flake %I from libexecdir" 1 "$(grep -c '^ExecStart=.*/flake-pull flake %I$' "$unit")"
sed "s|^ExecStart=$libexec/|ExecStart=$FLAKE_LIBEXECDIR/|" "$unit" > "$W/flake-pull@.service"

out=$(cd "$W" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "./flake-pull@myapp.service" 2>&1); rc=$?
assert_eq "systemd-analyze verify flake-pull@myapp.service" 0 "$rc"
assert_eq "no warnings" "" "$out"
out=$(cd "$W" && systemd-analyze verify --man=no "./flake-pull@myapp\\x40one.service" 2>&1); rc=$?
assert_eq "verify with an app@id instance" 0 "$rc"

# A hostile or stuck pull must end: a finite start timeout, long enough to
# hash an archive at the size cap (flake-pull@.service(8)).
timeout=$(sed -n 's/^TimeoutStartSec=//p' "$unit")
assert_eq "finite start timeout" 30min "$timeout"

# Writable: the registry, podman's store and runtime state, nothing more;
# the registrations in /usr/share/flakes stay read-only.
assert_eq "ReadWritePaths" "-/var/lib/firecracker -/usr/share/flakes/storage -/run/flakes -/run/containers -/var/tmp" \
        "$(sed -n 's/^ReadWritePaths=//p' "$unit")"
# The image editor's sandbox (flake-pull(8)) needs capset and seccomp,
# which ~@privileged and @system-service leave out.
assert_contains "the image editor may drop its capabilities and load its filter" \
        "$(grep '^SystemCallFilter=' "$unit")" "SystemCallFilter=capset seccomp"
assert_eq "ProtectSystem=strict" strict "$(sed -n 's/^ProtectSystem=//p' "$unit")"

out=$(systemd-analyze security --offline=true --no-pager "$W/flake-pull@.service" 2>&1)
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "exposure level reported ($level)" test -n "$level"
check "exposure level <= 3.0 ($level)" awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'

finish
