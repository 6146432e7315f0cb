#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end: a "guest" namespace whose eth0 is relayed to the TAP that
# flake-tap created (the way a VMM attaches to it, as the TAP's owner) fetches
# a page from an HTTP server behind the host's uplink. The server must see the
# host's uplink address: the masquerade rule did its job. After stop the path
# is gone.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/tap/lib-tap.sh"
RELAY=$2
SRV=${NS}s GUEST=${NS}g
NAMESPACES="$GUEST $SRV $NS"

ip netns add "$SRV"
ip netns add "$GUEST"
ip -n "$NS" link set up0-peer netns "$SRV"
ip -n "$SRV" link set lo up
ip -n "$SRV" link set up0-peer up
ip -n "$SRV" addr add 10.99.0.2/24 dev up0-peer
# The server has no route back to 172.16.0.0/30: only NAT makes replies work.
mkdir -p "$TMP/www" && echo hello-from-server > "$TMP/www/index.html"
ip netns exec "$SRV" python3 -m http.server 8080 --bind 10.99.0.2 --directory "$TMP/www" >/dev/null 2> "$TMP/server.log" &
PIDS="$PIDS $!"

register app "$(nat up0 172.16.0.1/30 172.16.0.2/30)"
check "flake-tap start" tap start app

in_ns "$RELAY" --uid 65534 tap-app "/run/netns/$GUEST" eth0 > "$TMP/relay.out" 2> "$TMP/relay.err" &
PIDS="$PIDS $!"
for _ in $(seq 50); do grep -q ready "$TMP/relay.out" 2>/dev/null && break; sleep 0.1; done
assert_eq "the TAP's owner (nobody) can attach like a VMM" ready "$(cat "$TMP/relay.out")"

ip -n "$GUEST" link set lo up
ip -n "$GUEST" addr add 172.16.0.2/30 dev eth0
ip -n "$GUEST" link set eth0 up
ip -n "$GUEST" route add default via 172.16.0.1

fetch() {
        ip netns exec "$GUEST" python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://10.99.0.2:8080/index.html", timeout=3).read().decode().strip())'
}
for _ in $(seq 30); do grep -q "Serving HTTP" "$TMP/server.log" 2>/dev/null && break; sleep 0.1; done
assert_eq "guest reaches the server through the TAP" hello-from-server "$(fetch 2>&1)"
log=$(cat "$TMP/server.log")
assert_contains "server sees the translated address" "$log" '10.99.0.1 - - '
assert_not_contains "server never sees the guest address" "$log" '172.16.0.2'
assert_contains "the masquerade rule counted the flow" "$(in_ns nft list table ip flake_pilot)" 'masquerade comment "tap-app"'

check "flake-tap stop" tap stop app
check_fails "after stop the guest is cut off" fetch
finish
