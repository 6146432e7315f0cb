#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-tap start/stop in a private network namespace: what start creates,
# that a second start changes nothing, that stop removes exactly that, and
# that every instance gets its own TAP.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/tap/lib-tap.sh"

register app "$(nat up0 172.16.0.1/30 172.16.0.2/30)"
register other "$(nat up0 172.16.0.5/30 172.16.0.6/30)"
register averyveryverylongappname "$(nat up0 172.16.0.9/30 172.16.0.10/30)"
register br "$(printf '      mode: bridge\n      bridge: br0')"

# Things flake-tap must never touch.
in_ns ip tuntap add dev tap-admin mode tap
in_ns nft add table inet admin
in_ns nft add chain inet admin input '{ type filter hook input priority 0; policy accept; }'
in_ns nft add rule inet admin input counter
in_ns ip link add br0 type bridge
in_ns ip link set br0 up

check "start creates the instance" tap start app
check "tap-app exists" link_exists tap-app
assert_contains "tap-app is a TAP device" "$(in_ns ip -d link show tap-app)" "tun type tap"
assert_eq "tap-app is owned by runas (nobody)" "65534" "$(in_ns cat /sys/class/net/tap-app/owner)"
assert_contains "tap-app carries the host address" "$(in_ns ip -4 addr show dev tap-app)" "inet 172.16.0.1/30"
assert_contains "tap-app is up" "$(in_ns ip link show tap-app)" ",UP"
assert_contains "route to the guest network via tap-app" "$(in_ns ip route show 172.16.0.0/30)" "dev tap-app"
assert_contains "masquerade rule for the guest network on the uplink" "$(nft_table)" \
        'ip saddr 172.16.0.0/30 oifname "up0" masquerade comment "tap-app"'
assert_contains "forward rule tap -> uplink" "$(nft_table)" 'iifname "tap-app" oifname "up0" accept'
assert_eq "IPv4 forwarding enabled" 1 "$(ip_forward)"
assert_eq "state recorded" "tap-app.state " "$(state_files)"

before=$(nft_table; in_ns ip -4 addr show dev tap-app)
check "second start succeeds" tap start app
assert_eq "second start changes nothing" "$before" "$(nft_table; in_ns ip -4 addr show dev tap-app)"
assert_eq "one masquerade rule" 1 "$(nft_table | grep -c masquerade)"
check "status of a started instance" tap status app

check "start a second flake" tap start other
assert_eq "both rules present" 2 "$(nft_table | grep -c masquerade)"
check "start an instance with a long name" tap start averyveryverylongappname
long_tap=$(tap status averyveryverylongappname | sed -n 's/^tap: //p')
assert_contains "long name is hashed" "$long_tap" "tap-aver-"
assert_eq "hashed name fits in 15 bytes" 15 "${#long_tap}"
check "hashed TAP exists" link_exists "$long_tap"
check "stop the long-named instance" tap stop averyveryverylongappname
check_fails "hashed TAP is gone" link_exists "$long_tap"

check_fails "app@two cannot reuse app's addresses while app runs" tap start app@two
check_fails "no tap-app@two left behind" link_exists tap-app@two

check "stop app" tap stop app
check_fails "tap-app is gone" link_exists tap-app
nt=$(nft_table)
assert_not_contains "app's rules are gone" "$nt" 'tap-app"'
assert_contains "other's rules stay" "$nt" 'comment "tap-other"'
assert_eq "forwarding stays on while other runs" 1 "$(ip_forward)"
check "tap-other still up" link_exists tap-other
check "second stop is a no-op" tap stop app
check_fails "status of a stopped instance fails" tap status app

check "now app@two gets its own TAP" tap start app@two
check "tap-app@two exists" link_exists tap-app@two
check "stop app@two" tap stop app@two
check "stop other" tap stop other
check_fails "project table removed when the last instance stops" nft_table
assert_eq "forwarding restored" 0 "$(ip_forward)"
assert_eq "no state left" "" "$(state_files)"

check "bridge instance br" tap start br
check "bridge instance br@x" tap start br@x
assert_contains "tap-br is in br0" "$(in_ns ip link show tap-br)" "master br0"
assert_contains "tap-br@x is in br0" "$(in_ns ip link show tap-br@x)" "master br0"
assert_eq "bridge mode does not touch forwarding" 0 "$(ip_forward)"
check "stop br" tap stop br
check "stop br@x" tap stop br@x
check "br0 is still there" link_exists br0

# runas root: the VMM runs as the VMM user (flake-vm@.service(8)), whose
# TAP it is; never a TAP without owner, which any local user could open.
RUNAS=root register rootvm "$(printf '      mode: bridge\n      bridge: br0')"
FLAKE_VM_USER=daemon check "runas root: start" tap start rootvm
assert_eq "runas root: the TAP is the VMM user's (FLAKE_VM_USER=daemon)" "$(id -u daemon)" \
        "$(in_ns cat /sys/class/net/tap-rootvm/owner)"
check "stop rootvm" tap stop rootvm
FLAKE_VM_USER=no-such-user check "runas root, no VMM user: start" tap start rootvm
assert_eq "... root keeps the TAP" 0 "$(in_ns cat /sys/class/net/tap-rootvm/owner)"
check "stop rootvm again" tap stop rootvm
RUNAS=no-such-user register nouser "$(printf '      mode: bridge\n      bridge: br0')"
check "runas names no user: start" tap start nouser
assert_eq "... root keeps the TAP" 0 "$(in_ns cat /sys/class/net/tap-nouser/owner)"
check "stop nouser" tap stop nouser

check "unrelated TAP untouched" link_exists tap-admin
assert_contains "unrelated nft table untouched" "$(in_ns nft list table inet admin)" "counter"
finish
