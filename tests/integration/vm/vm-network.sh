#!/bin/bash
# SPDX-License-Identifier: MIT
# A networked VM flake for real: QEMU microvm (TCG) attached to the TAP that
# flake-tap made from the flake's vm.runtime.network, the guest side set up
# by sci from the ip=/nameserver= boot arguments the runner puts on the
# kernel command line. Everything runs in private network namespaces:
#
#   host ns ($NS): flake-tap, pilot, runner, QEMU; uplink up0 10.99.0.1/24
#   server ns ($SRV): up0-peer 10.99.0.2/24, an HTTP server, no route back
#                     to the guest network (only NAT makes replies work)
#
# One boot (a resume VM) serves every check of the guest.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require ip nft python3 debugfs
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

FLAKE_TAP="$FLAKE_BUILD_ROOT/helpers/tap/flake-tap"
FLAKE_CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
[ -x "$FLAKE_TAP" ] && [ -x "$FLAKE_CTL" ] || { echo "Bail out! flake-tap or flake-ctl not built"; exit 1; }
export FLAKE_TEMPLATE_DIR=$T/templates

NS=fvn$$
SRV=${NS}s
SERVER_PID=
DNS_PID=
net_cleanup() {
        [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
        [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
        for p in "$FLAKE_RUNTIME_DIR"/vm/*.lock "$FLAKE_RUNTIME_DIR"/vm/*/vmm.pid; do
                [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
        done
        sleep 0.5
        ip netns exec "$NS" "$FLAKE_TAP" stop nsh >/dev/null 2>&1
        ip netns exec "$NS" "$FLAKE_TAP" stop nsl >/dev/null 2>&1
        ip netns del "$SRV" 2>/dev/null
        ip netns del "$NS" 2>/dev/null
        vm_cleanup
}
trap net_cleanup EXIT INT TERM

in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" && ip netns add "$SRV" || { echo "Bail out! cannot create network namespaces"; exit 1; }
ip -n "$NS" link set lo up
ip -n "$NS" link add up0 type veth peer name up0-peer netns "$SRV"
ip -n "$NS" addr add 10.99.0.1/24 dev up0
ip -n "$NS" link set up0 up
ip -n "$SRV" link set lo up
ip -n "$SRV" addr add 10.99.0.2/24 dev up0-peer
ip -n "$SRV" link set up0-peer up
mkdir -p "$T/www" && echo "payload-from-the-uplink-side" > "$T/www/x"
ip netns exec "$SRV" python3 -m http.server 8080 --bind 10.99.0.2 --directory "$T/www" >/dev/null 2>"$T/server.log" &
SERVER_PID=$!

# --- registration: a resume flake without overlay (read-only root: sci
# covers /etc/resolv.conf with a file of its own), network through flake-ctl.
register nsh true
N=$T/bin/nsh
check "flake-ctl firecracker network add (nat on the uplink)" in_ns "$FLAKE_CTL" firecracker network add nsh \
        --uplink up0 --host-address 172.16.0.1/30 --guest-address 172.16.0.2/30 --nameserver 192.0.2.53
assert_contains "the settings are in the flake" "$(cat "$FLAKES_DIR/nsh.yaml")" "guest_address: 172.16.0.2/30"
tap=$(in_ns "$FLAKE_CTL" firecracker network show nsh --format csv | tail -n1 | tr ',' '\n' | grep '^tap-')
[ -n "$tap" ] || tap=tap-nsh

# --- no TAP yet: one clear line, its own status, nothing left behind ------
out=$(in_ns "$N" -c true 2>&1); rc=$?
assert_eq "without its TAP the pilot exits with 121" 121 "$rc"
assert_contains "the error names the unit to start" "$out" "flake-tap@nsh.service"
assert_eq "the error is one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check_fails "no runtime directory left" test -e "$FLAKE_RUNTIME_DIR/vm/nsh"
check_fails "no console log left (the line said it all)" test -e "$FLAKE_RUNTIME_DIR/vm/nsh.log"
check_fails "no runner left" pgrep -f "flake-vm run nsh"

# --- the TAP, then the VM -------------------------------------------------
check "flake-tap start nsh" in_ns "$FLAKE_TAP" start nsh
check "the TAP exists in the host namespace" in_ns ip link show "$tap"
for _ in $(seq 50); do grep -q "Serving HTTP" "$T/server.log" 2>/dev/null && break; sleep 0.1; done

# Not -T: Debian's busybox-static 1.35 wget crashes with it.
out=$(in_ns "$N" -c 'wget -q -O - http://10.99.0.2:8080/x' 2>"$T/err"); rc=$?
assert_eq "wget in the guest: exit status 0" 0 "$rc"
assert_eq "wget in the guest: the file's content" "payload-from-the-uplink-side" "$out"
[ "$rc" = 0 ] || diag "$(cat "$T/err")" "$(tail -n 30 "$FLAKE_RUNTIME_DIR/vm/nsh.log" 2>/dev/null)"
log=$(cat "$T/server.log")
assert_contains "the server saw the host's uplink address (NAT)" "$log" '10.99.0.1 - - '
assert_not_contains "the server never saw the guest address" "$log" '172.16.0.2'

out=$(in_ns "$N" -c 'cat /etc/resolv.conf')
assert_contains "nameserver= reached the guest's /etc/resolv.conf" "$out" "nameserver 192.0.2.53"
out=$(in_ns "$N" -c 'ip -o -4 addr show dev eth0; ip route; ip -o link show lo')
assert_contains "eth0 has the guest address" "$out" "inet 172.16.0.2/30"
assert_contains "default route via the TAP's address" "$out" "default via 172.16.0.1 dev eth0"
assert_contains "lo is up" "$out" "UP"
out=$(in_ns "$N" %remove -c 'cat /sys/class/net/eth0/address')
check "the resume VM is stopped (%remove)" test -n "$out"
for _ in $(seq 50); do [ -e "$FLAKE_RUNTIME_DIR/vm/nsh" ] || break; sleep 0.1; done
check_fails "nothing left in the runtime dir" test -e "$FLAKE_RUNTIME_DIR/vm/nsh"

# --- a read-only root whose /etc/resolv.conf is a symlink into /run -------
# As distribution images have it (systemd-resolved's stub file, netconfig's):
# nothing in a flake VM creates the target and a bind mount cannot cover a
# dangling link. The image: the test rootfs with the link (debugfs, no mount).
cp "$VM_IMAGE/rootfs" "$T/rootfs-link"
debugfs -w -R "rm /etc/resolv.conf" "$T/rootfs-link" >/dev/null 2>&1
debugfs -w -R "symlink /etc/resolv.conf /run/systemd/resolve/stub-resolv.conf" "$T/rootfs-link" >/dev/null 2>&1
assert_contains "the image's /etc/resolv.conf is a symlink" \
        "$(debugfs -R 'stat /etc/resolv.conf' "$T/rootfs-link" 2>/dev/null)" "Type: symlink"
# A DNS server on the uplink side: flake.test is 10.99.0.2.
cat > "$T/dns.py" <<'EOP'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.2", 53))
while True:
    q, a = s.recvfrom(512)
    i = 12
    while q[i]:
        i += q[i] + 1
    name, qtype = q[12:i + 1], struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    hit = name == b"\x05flake\x04test\x00" and qtype == 1
    r = q[:2] + struct.pack(">HHHHH", 0x8180 if name == b"\x05flake\x04test\x00" else 0x8183, 1, 1 if hit else 0, 0, 0) + question
    if hit:
        r += struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("10.99.0.2")
    s.sendto(r, a)
EOP
ip netns exec "$SRV" python3 "$T/dns.py" 2>"$T/dns.log" &
DNS_PID=$!
ROOTFS=$T/rootfs-link register nsl true
check "flake-ctl firecracker network add nsl (a nameserver on the uplink side)" in_ns "$FLAKE_CTL" firecracker network add nsl \
        --uplink up0 --host-address 172.16.0.5/30 --guest-address 172.16.0.6/30 --nameserver 10.99.0.2
check "flake-tap start nsl" in_ns "$FLAKE_TAP" start nsl
out=$(in_ns "$T/bin/nsl" -c 'cat /etc/resolv.conf; grep -c " / ext4 ro" /proc/mounts' 2>"$T/err"); rc=$?
assert_eq "read-only root, resolv.conf a symlink: the call works" 0 "$rc"
assert_contains "nameserver= reached /etc/resolv.conf" "$out" "nameserver 10.99.0.2"
assert_contains "the root stayed read-only (no overlay)" "$out" "$(printf '\n1')"
assert_eq "no complaint from sci" "" "$(grep 'sci:' "$FLAKE_RUNTIME_DIR/vm/nsl.log")"
out=$(in_ns "$T/bin/nsl" -c 'nslookup flake.test' 2>&1)
assert_contains "the guest resolves a name through that nameserver (NAT)" "$out" "Address: 10.99.0.2"
[ "$rc" = 0 ] || diag "$(cat "$T/err")" "$(tail -n 30 "$FLAKE_RUNTIME_DIR/vm/nsl.log" 2>/dev/null)"
in_ns "$T/bin/nsl" %remove -c true >/dev/null 2>&1
check "flake-tap stop nsl" in_ns "$FLAKE_TAP" stop nsl

# --- teardown -------------------------------------------------------------
check "flake-tap stop nsh" in_ns "$FLAKE_TAP" stop nsh
check_fails "the TAP is gone" in_ns ip link show "$tap"
assert_not_contains "no NAT rule left for the TAP" "$(in_ns nft list ruleset 2>/dev/null)" "$tap"
assert_eq "no flake-tap state left" "" "$(ls "$FLAKE_RUNTIME_DIR/tap" 2>/dev/null | grep '\.state$')"

finish
