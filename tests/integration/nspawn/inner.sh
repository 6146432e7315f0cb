#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the booted container as flake-test.service (see nspawn.sh) and
# writes TAP lines ("ok - ...", "not ok - ...", "# ...") to /results/tap,
# then "done". Each area is one check_* function; the ones whose programs
# have not landed yet are listed in nspawn.sh.
set -u

OUT=/results/tap
: >"$OUT"
. /opt/flake-test/env

ok() { echo "ok - $1" >>"$OUT"; }
not_ok() {
        echo "not ok - $1" >>"$OUT"
        shift
        for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /' >>"$OUT"; done
}
check() {
        d=$1; shift
        if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "command: $*" "$out"; fi
}
contains() {
        case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1" "expected to contain: $3" "actual: $2" ;; esac
}
not_contains() {
        case "$2" in *"$3"*) not_ok "$1" "expected not to contain: $3" "actual: $2" ;; *) ok "$1" ;; esac
}
eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}
prop() { systemctl show -p "$2" --value "$1"; }

GEN=/run/systemd/generator

# The generator ran at boot and its drop-ins extend the templates.
check_generated_units() {
        u=flake-vm@mybash.service
        eq "$u is loaded" loaded "$(prop $u LoadState)"
        contains "$u has the generated drop-in" "$(prop $u DropInPaths)" "$GEN/$u.d/50-flake.conf"
        eq "$u SourcePath= is the flake" /usr/share/flakes/mybash.yaml "$(prop $u SourcePath)"
        eq "$u Description=" "Virtual machine of flake mybash" "$(prop $u Description)"
        contains "$u requires its TAP" "$(prop $u Requires)" "flake-tap@mybash.service"
        contains "$u requires its pull" "$(prop $u Requires)" "flake-pull@mybash.service"
        contains "$u is ordered after its TAP" "$(prop $u After)" "flake-tap@mybash.service"
        contains "$u is ordered after its pull" "$(prop $u After)" "flake-pull@mybash.service"
        eq "$u MemoryMax= from the flake" 1073741824 "$(prop $u MemoryMax)"
        eq "$u CPUQuota= from the flake" 500ms "$(prop $u CPUQuotaPerSecUSec)"
        contains "systemctl cat $u shows the drop-in" "$(systemctl cat $u 2>&1)" "# $GEN/$u.d/50-flake.conf"
        st=$(systemctl status --no-pager $u 2>&1)
        contains "systemctl status $u shows the flake" "$st" "Virtual machine of flake mybash"
        contains "systemctl status $u shows the drop-in" "$st" "50-flake.conf"
        eq "flake-tap@mybash.service SourcePath=" /usr/share/flakes/mybash.yaml \
                "$(prop flake-tap@mybash.service SourcePath)"
        eq "flake-pull@joe.service (container) SourcePath=" /usr/share/flakes/joe.yaml \
                "$(prop flake-pull@joe.service SourcePath)"

        # Names are escaped as systemd itself escapes them.
        e=$(systemd-escape --template=flake-vm@.service my-app)
        eq "our escaping matches systemd-escape" 'flake-vm@my\x2dapp.service' "$e"
        eq "$e is loaded" loaded "$(prop "$e" LoadState)"
        eq "$e Description=" "Virtual machine of flake my-app" "$(prop "$e" Description)"
        # (systemctl show quotes names with a backslash: "flake-tap@my\\x2dapp.service")
        contains "$e requires its TAP" "$(prop "$e" Requires)" 'flake-tap@my\\x2dapp.service'

        # .wants/ symlinks: started and pulled at boot.
        w=$(prop multi-user.target Wants)
        contains "start_at_boot: multi-user.target wants flake-vm@boot" "$w" "flake-vm@boot.service"
        contains "pull_at_boot: multi-user.target wants flake-pull@joe" "$w" "flake-pull@joe.service"
        not_contains "flakes without start_at_boot are not started at boot" "$w" "flake-vm@mybash.service"
        t=$(prop flake-vm@boot.service InactiveExitTimestampMonotonic)
        check "flake-vm@boot was started at boot" test "${t:-0}" -gt 0

        # A malformed flake is skipped with one log line; the others are there.
        check "no units for the malformed flake" sh -c "! ls -d $GEN/*broken* 2>/dev/null"
        # (its log line goes to the kernel log, or in a container without
        # /dev/kmsg to the console: nspawn.sh checks that one)
}

check_tmpfiles_sysusers() {
        eq "/tmp/flakes is 1777" 1777 "$(stat -c %a /tmp/flakes 2>&1)"
        eq "/run/flakes is 755" 755 "$(stat -c %a /run/flakes 2>&1)"
        check "/var/lib/firecracker/images exists" test -d /var/lib/firecracker/images
        check "/var/lib/firecracker/storage exists" test -d /var/lib/firecracker/storage
        check "the flake group exists" getent group flake
}

check_installed_generators() {
        check "system generator installed" test -x "$PREFIX/lib/systemd/system-generators/flake-generator"
        check "user generator installed" test -x "$PREFIX/lib/systemd/user-generators/flake-user-generator"
}

# flake-ctl register/remove reload systemd themselves: the units of a new
# flake are there at once, and gone at once after its removal.
check_register_reload() {
        u=flake-vm@late.service
        mkdir -p /var/lib/firecracker/images/late
        echo rootfs >/var/lib/firecracker/images/late/rootfs
        echo kernel >/var/lib/firecracker/images/late/kernel
        check "flake-ctl firecracker register" "$PREFIX/bin/flake-ctl" firecracker register --vm late --app /usr/bin/late
        contains "a newly registered flake has its units at once" "$(prop $u DropInPaths)" "$GEN/$u.d/50-flake.conf"
        eq "... with its SourcePath=" /usr/share/flakes/late.yaml "$(prop $u SourcePath)"
        check "flake-ctl firecracker remove" "$PREFIX/bin/flake-ctl" firecracker remove --app /usr/bin/late
        eq "a removed flake loses its units" "" "$(prop $u DropInPaths)"
        check "flake_systemd_reload() works on its own" /opt/flake-test/test-systemd-reload
}

# flake-tap@ (helpers/tap): the generated wiring starts the real unit, which
# creates the TAP with its address, and removes it on stop.
check_tap() {
        u=flake-tap@net.service
        if [ ! -x "$PREFIX/libexec/flake-pilot/flake-tap" ]; then
                not_ok "flake-tap is installed"
                return
        fi
        eq "$u SourcePath= is the flake" /usr/share/flakes/net.yaml "$(prop $u SourcePath)"
        if out=$(systemctl start $u 2>&1); then ok "systemctl start $u"; else
                not_ok "systemctl start $u" "$out" "$(journalctl -u $u --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        eq "$u is active" active "$(prop $u ActiveState)"
        contains "the TAP exists with the host address" "$(ip -o addr show dev tap-net 2>&1)" "172.16.0.1/30"
        check "systemctl stop $u" systemctl stop $u
        check "the TAP is gone after stop" sh -c '! ip link show dev tap-net 2>/dev/null'
}

check_installed_generators
check_generated_units
check_tap
check_tmpfiles_sysusers
check_register_reload

journalctl -b --no-pager -o short-monotonic >/results/journal 2>&1
echo done >>"$OUT"
