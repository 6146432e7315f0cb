#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-tap on bad input and failures: one clear line, non-zero exit, and
# nothing left behind (no device, no nft table, no state, forwarding as before).
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/tap/lib-tap.sh"

nothing_left() {   # nothing_left TAP DESCRIPTION
        check_fails "$2: no $1 left" link_exists "$1"
        check_fails "$2: no nft table left" nft_table
        assert_eq "$2: no state left" "" "$(state_files)"
        assert_eq "$2: forwarding unchanged" 0 "$(ip_forward)"
}

fails_with() {     # fails_with DESCRIPTION EXPECTED-MESSAGE ARGS...
        local d=$1 msg=$2 out rc
        shift 2
        out=$("$@" 2>&1); rc=$?
        assert_eq "$d: exit status 1" 1 "$rc"
        assert_contains "$d: says why" "$out" "$msg"
}

register nouplink "$(nat nope0 172.16.0.1/30 172.16.0.2/30)"
fails_with "missing uplink" "Uplink nope0 of nouplink does not exist" tap start nouplink
nothing_left tap-nouplink "missing uplink"

in_ns ip route add 172.16.8.0/24 dev up0
register clash "$(nat up0 172.16.8.1/30 172.16.8.2/30)"
fails_with "route conflict" "conflicts with the existing route 172.16.8.0/24 dev up0" tap start clash
nothing_left tap-clash "route conflict"

in_ns ip tuntap add dev tap-taken mode tap
register taken "$(nat up0 172.16.0.1/30 172.16.0.2/30)"
fails_with "name collision" "Interface tap-taken already exists and was not created by flake-tap" tap start taken
check "name collision: the admin's device survives" link_exists tap-taken
check "stop does not remove a device it did not create" tap stop taken
check "the admin's device survives stop" link_exists tap-taken

register ok "$(nat up0 172.16.0.1/30 172.16.0.2/30)"
fails_with "no CAP_NET_ADMIN" "needs CAP_NET_ADMIN" in_ns setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$FLAKE_TAP" start ok
nothing_left tap-ok "no CAP_NET_ADMIN"

# Fails at the last step (forwarding, with /proc/sys read-only as under
# ProtectKernelTunables=): the TAP, address and nft rules made before must go.
fails_with "failure in the middle" "Failed to enable IPv4 forwarding" in_ns unshare -m sh -c \
        'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$0" start ok' "$FLAKE_TAP"
nothing_left tap-ok "failure in the middle"
check "after the failure a normal start works" tap start ok
check "and stops" tap stop ok

register nonet ""
fails_with "no network settings" "has no network settings" tap start nonet
register badaddr "$(nat up0 172.16.0.1 172.16.0.2/30)"
fails_with "malformed address" "badaddr.yaml:9: vm.runtime.network: 'host_address' must be an IPv4 address with prefix length" tap start badaddr
register badmode "$(printf '      mode: bridge\n      uplink: up0')"
fails_with "incomplete bridge mode" "bridge mode needs 'bridge'" tap start badmode
register nobridge "$(printf '      mode: bridge\n      bridge: up0')"
fails_with "bridge that is not one" "Interface up0 of nobridge is not a bridge" tap start nobridge
fails_with "unregistered flake" "No flake named 'ghost' is registered" tap start ghost
out=$(tap start 'bad/name' 2>&1); rc=$?
assert_eq "invalid instance name: usage error" 2 "$rc"
assert_contains "invalid instance name: says why" "$out" "Invalid instance name 'bad/name'"
nothing_left tap-nonet "after all errors"
finish
