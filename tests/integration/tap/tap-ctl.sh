#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-ctl firecracker network init|add|remove|show against a private root,
# in a private netns (host routes are part of address allocation), and the
# admin's flow end to end: "network add", then flake-tap brings it up.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/tap/lib-tap.sh"
CTL=$3
[ -x "$CTL" ] || { echo "Bail out! flake-ctl not built: $CTL"; exit 1; }
export FLAKE_TEMPLATE_DIR=$FLAKE_ROOT/etc/flakes
net() { in_ns "$CTL" firecracker network "$@"; }
yaml() { cat "$FLAKES/$1.yaml"; }

register app ""
register other ""
register br ""
printf 'container:\n  name: img\n  runtime:\n    runas: root\n' > "$FLAKES/box.yaml"
in_ns ip route add 172.16.0.0/29 dev up0
in_ns ip link add br0 type bridge

out=$(net add app 2>&1); rc=$?
assert_eq "add without any uplink is a usage error" 2 "$rc"
assert_contains "add without uplink says how to fix it" "$out" "network init --uplink"
assert_not_contains "nothing written on failure" "$(yaml app)" "network:"

check "init --uplink" net init --uplink up0 --nameserver 192.0.2.53
assert_contains "defaults file written" "$(cat "$FLAKE_TEMPLATE_DIR/network.yml")" "uplink: up0"

check "add app (by NAME)" net add app
y=$(yaml app)
assert_contains "app: first /30 not covered by a host route" "$y" "host_address: 172.16.0.9/30"
assert_contains "app: guest address" "$y" "guest_address: 172.16.0.10/30"
assert_contains "app: uplink from the defaults" "$y" "uplink: up0"
assert_contains "app: nameserver from the defaults" "$y" "192.0.2.53"
assert_contains "other keys are kept" "$y" "rootfs_image_path: /var/lib/firecracker/images/img/rootfs"
check "add other (by --app PATH)" net add --app /usr/bin/other
assert_contains "other: next free /30" "$(yaml other)" "host_address: 172.16.0.13/30"
check "re-adding app keeps its addresses" net add app
assert_contains "app unchanged" "$(yaml app)" "host_address: 172.16.0.9/30"

check_fails "explicit address used by another flake" net add app --host-address 172.16.0.13/30 --guest-address 172.16.0.14/30
check_fails "explicit address on a host route" net add app --host-address 172.16.0.1/30 --guest-address 172.16.0.2/30
check_fails "mismatched addresses" net add app --host-address 172.16.1.1/30 --guest-address 172.16.2.2/30
check_fails "only one address" net add app --host-address 172.16.1.1/30
check_fails "bad mode" net add app --mode tunnel
check_fails "container flake" net add box
check_fails "unknown flake" net add ghost
assert_contains "failed adds left app alone" "$(yaml app)" "host_address: 172.16.0.9/30"
check "bridge mode" net add br --bridge br0
assert_contains "br: bridge stored" "$(yaml br)" "bridge: br0"

t=$(net show)
assert_contains "show lists app" "$t" "172.16.0.9/30"
assert_contains "show lists the device" "$t" "tap-other"
assert_contains "show lists br" "$t" "br0"
j=$(net show --format json)
assert_eq "json output parses" "app br other" "$(printf '%s' "$j" | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)))')"
assert_contains "csv output" "$(net show app --format csv)" "app,nat,up0,172.16.0.9/30,172.16.0.10/30,tap-app"

check "flake-tap brings up what add wrote" tap start other
assert_contains "TAP has the allocated address" "$(in_ns ip -4 addr show dev tap-other)" "172.16.0.13/30"
check "flake-tap stop" tap stop other

check "remove app" net remove app
assert_contains "network set to null" "$(yaml app)" "network: ~"
assert_not_contains "show no longer lists app" "$(net show)" "172.16.0.9/30"
assert_contains "remove again says so" "$(net remove app 2>&1)" "has no network settings"
out=$(tap start app 2>&1)
assert_contains "flake-tap refuses a flake without network" "$out" "has no network settings"
check "next add reuses the freed block" net add app
assert_contains "freed /30 reused" "$(yaml app)" "host_address: 172.16.0.9/30"

# User mode: QEMU's own network inside the VMM, nothing for flake-tap to do.
check "user mode" net add br --mode user
assert_contains "br: mode user stored" "$(yaml br)" "mode: user"
assert_not_contains "... without the bridge" "$(yaml br)" "bridge:"
assert_contains "show: user mode with QEMU's addresses, no device" "$(net show br --format csv)" "br,user,,10.0.2.2,10.0.2.15,,"
check_fails "user mode takes no --uplink" net add br --mode user --uplink up0
out=$(tap start br 2>&1); rc=$?
assert_eq "flake-tap refuses a user-mode network" 1 "$rc"
assert_contains "... saying why" "$out" "is in user mode: QEMU's own network inside the VMM, no TAP to make"
finish
