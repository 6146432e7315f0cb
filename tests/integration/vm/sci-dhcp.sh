#!/bin/bash
# SPDX-License-Identifier: MIT
# sci's network code without a VM boot: sci as busybox udhcpc's event script
# (what it is for ip=dhcp in a guest) in a private network namespace, first
# fed by hand, then by a real udhcpd over a veth pair. /etc is a private
# tmpfs in those runs, so resolv.conf writes stay in the test.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require ip busybox unshare
SCI="$FLAKE_BUILD_ROOT/helpers/sci/sci"
[ -x "$SCI" ] || { echo "Bail out! sci not built: $SCI"; exit 1; }

TMP=$(mktemp -d)
C=fsd$$c S=fsd$$s
PIDS=
cleanup() {
        for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        ip netns del "$C" 2>/dev/null
        ip netns del "$S" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$C" && ip netns add "$S" || { echo "Bail out! cannot create network namespaces"; exit 1; }
ip -n "$C" link add eth0 type veth peer name srv0 netns "$S"
ip -n "$S" addr add 10.55.0.1/24 dev srv0
ip -n "$S" link set srv0 up

# in_guest ENV... -- COMMAND: in the client namespace with a private /etc;
# prints the command's output, then resolv.conf after a "--" line.
in_guest() {
        ip netns exec "$C" unshare -m sh -c 'mount -t tmpfs tmpfs /etc && "$@"; rc=$?; echo --; cat /etc/resolv.conf 2>/dev/null; exit $rc' sh "$@"
}

# --- by hand: the udhcpc events --------------------------------------------
out=$(in_guest env interface=eth0 "$SCI" deconfig); rc=$?
assert_eq "deconfig: status 0" 0 "$rc"
assert_contains "deconfig: the device is up for DHCP" "$(ip -n "$C" link show eth0)" "UP"
out=$(in_guest env interface=eth0 ip=10.55.0.23 subnet=255.255.255.0 router="10.55.0.1 10.55.0.9" \
        dns="192.0.2.7 192.0.2.8" "$SCI" bound); rc=$?
assert_eq "bound: status 0" 0 "$rc"
assert_contains "bound: the lease's address and netmask" "$(ip -n "$C" -o -4 addr show dev eth0)" "inet 10.55.0.23/24"
assert_contains "bound: default route via the first router" "$(ip -n "$C" route)" "default via 10.55.0.1 dev eth0"
assert_eq "bound: the lease's DNS servers in resolv.conf" \
        "$(printf -- '--\n# written by sci(8)\nnameserver 192.0.2.7\nnameserver 192.0.2.8')" "$out"
out=$(in_guest env interface=eth0 ip=10.55.0.23 subnet=24 router=10.55.0.1 dns=192.0.2.7 SCI_KEEP_RESOLV=1 "$SCI" renew); rc=$?
assert_eq "renew with nameserver= given: status 0, resolv.conf untouched" "0 --" "$rc $out"
out=$(in_guest env interface=eth0 "$SCI" leasefail); rc=$?
assert_eq "leasefail: nothing to do" 0 "$rc"
out=$(in_guest env interface=eth0 ip=bogus "$SCI" bound 2>&1); rc=$?
assert_eq "bound without a usable address: status 1" 1 "$rc"
assert_contains "bound without a usable address: said so" "$out" "DHCP lease without a usable address"
out=$(in_guest env interface=nosuch0 ip=10.55.0.5 subnet=24 "$SCI" bound 2>&1); rc=$?
assert_eq "bound on a missing device: status 1" 1 "$rc"
assert_contains "bound on a missing device: named" "$out" "nosuch0: cannot set the address"
ip -n "$C" addr flush dev eth0
ip -n "$C" route flush table main

# --- for real: busybox udhcpc against udhcpd, sci as the script ------------
cat > "$TMP/udhcpd.conf" <<EOF
start 10.55.0.100
end 10.55.0.110
interface srv0
lease_file $TMP/leases
pidfile $TMP/udhcpd.pid
opt subnet 255.255.255.0
opt router 10.55.0.1
opt dns 192.0.2.53
EOF
: > "$TMP/leases"
ip netns exec "$S" busybox udhcpd -f "$TMP/udhcpd.conf" 2>"$TMP/udhcpd.log" &
PIDS="$PIDS $!"
out=$(in_guest busybox udhcpc -i eth0 -s "$SCI" -q -n -t 5 -T 1 2>"$TMP/udhcpc.log"); rc=$?
[ "$rc" = 0 ] || diag "$(cat "$TMP/udhcpc.log" "$TMP/udhcpd.log")"
assert_eq "udhcpc with sci as its script: a lease" 0 "$rc"
addr=$(ip -n "$C" -o -4 addr show dev eth0 | grep -o 'inet [0-9./]*')
check "udhcpc: an address from the pool ($addr)" grep -Eq '^inet 10\.55\.0\.1[01][0-9]/24$' <<<"$addr"
assert_contains "udhcpc: the default route from the lease" "$(ip -n "$C" route)" "default via 10.55.0.1 dev eth0"
assert_contains "udhcpc: the lease's nameserver" "$out" "nameserver 192.0.2.53"
check "the client reaches the server" ip netns exec "$C" busybox ping -c1 -W2 10.55.0.1

finish
