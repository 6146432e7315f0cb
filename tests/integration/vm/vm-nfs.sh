#!/bin/bash
# SPDX-License-Identifier: MIT
# NFS volumes for real (flake-ctl-firecracker-volume(8), sci(8) VOLUMES): a
# real NFS server (Debian's NFS-Ganesha, FSAL VFS, NFSv4 only) in a private
# network namespace with flake-tap's NAT network, and a VM flake on the
# distribution image (build-distro-image.sh: Debian's kernel, its modules in
# the rootfs, kmod's modprobe) that mounts the export through sci.
#
#   host ns ($NS): ganesha on :2049, flake-tap, pilot, runner, QEMU;
#                  uplink up0 (a veth going nowhere), the flakes' TAPs
#                  172.16.0.1/30 and 172.16.0.5/30
#
# Checked: the app reads a host file with its host owner, writes one the host
# sees with the owner the guest gave it (numeric ids both ways); a server that
# drops the guest's packets ends the call within the mount's bound, with a
# console line naming the volume, and the app never runs.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require ip nft ss ganesha.nfsd mkinitramfs depmod kmod
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

FLAKE_TAP="$FLAKE_BUILD_ROOT/helpers/tap/flake-tap"
FLAKE_CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
[ -x "$FLAKE_TAP" ] && [ -x "$FLAKE_CTL" ] || { echo "Bail out! flake-tap or flake-ctl not built"; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || ls /usr/lib/*/ganesha/libfsalvfs.so >/dev/null 2>&1 ||
        { echo "Bail out! nfs-ganesha-vfs is not installed (tests/install-deps.sh)"; exit 1; }
export FLAKE_TEMPLATE_DIR=$T/templates

DISTRO="$VM_BUILD/distro-image"
"$FLAKE_SOURCE_ROOT/tests/integration/vm/build-distro-image.sh" "$DISTRO" "$SCI" ||
        { echo "Bail out! cannot build the distribution image"; exit 1; }

NS=fvf$$
GANESHA_PID=
nfs_cleanup() {
        [ -n "$GANESHA_PID" ] && kill "$GANESHA_PID" 2>/dev/null
        for p in "$FLAKE_RUNTIME_DIR"/vm/*.lock "$FLAKE_RUNTIME_DIR"/vm/*/vmm.pid; do
                [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
        done
        sleep 0.5
        for f in nfs nfsdrop; do ip netns exec "$NS" "$FLAKE_TAP" stop "$f" >/dev/null 2>&1; done
        [ -n "$GANESHA_PID" ] && wait "$GANESHA_PID" 2>/dev/null
        ip netns del "$NS" 2>/dev/null
        vm_cleanup
}
trap nfs_cleanup EXIT INT TERM
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || { echo "Bail out! cannot create a network namespace"; exit 1; }
ip -n "$NS" link set lo up
ip -n "$NS" link add up0 type veth peer name up0-peer
ip -n "$NS" addr add 10.98.0.1/24 dev up0
ip -n "$NS" link set up0-peer up
ip -n "$NS" link set up0 up

# --- the export and the server ----------------------------------------------
EXPORT=$T/export
mkdir -p "$EXPORT" "$T/ganesha"
echo "from-the-host" > "$EXPORT/hostfile"
chown 1234:2345 "$EXPORT/hostfile"
cat > "$T/ganesha/ganesha.conf" <<EOC
NFS_CORE_PARAM {
        Protocols = 4;
        Enable_NLM = false;
        Enable_RQUOTA = false;
        Enable_UDP = false;
}
NFSV4 {
        # No grace period: the test's server starts fresh.
        Graceless = true;
        RecoveryBackend = fs;
        RecoveryRoot = $T/ganesha/recovery;
        # Owners as numbers both ways (sec=sys, no idmapd).
        Allow_Numeric_Owners = true;
        Only_Numeric_Owners = true;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
        Export_Id = 1;
        Path = $EXPORT;
        Pseudo = $EXPORT;
        Protocols = 4;
        Transports = TCP;
        SecType = sys;
        Squash = No_Root_Squash;
        Access_Type = RW;
        FSAL { Name = VFS; }
}
EOC
# exec: $! is ganesha itself (ip netns exec execs it), not a subshell.
ip netns exec "$NS" ganesha.nfsd -F -f "$T/ganesha/ganesha.conf" -L "$T/ganesha/ganesha.log" -p "$T/ganesha/ganesha.pid" \
        -N NIV_EVENT >/dev/null 2>&1 &
GANESHA_PID=$!
for _ in $(seq 100); do in_ns ss -Hltn 'sport = :2049' | grep -q . && break; sleep 0.1; done
check "ganesha listens on 2049 in the namespace" sh -c "ip netns exec $NS ss -Hltn 'sport = :2049' | grep -q ."

# --- the flake: network, volume, the TAP -------------------------------------
KERNEL=$DISTRO/kernel INITRD=$DISTRO/initrd ROOTFS=$DISTRO/rootfs OVERLAY=32MiB register nfs false
check "network add" in_ns "$FLAKE_CTL" firecracker network add nfs \
        --uplink up0 --host-address 172.16.0.1/30 --guest-address 172.16.0.2/30
out=$(in_ns "$FLAKE_CTL" firecracker volume add --app nfs "$EXPORT:/data" 2>&1)
assert_eq "volume add: from the host's address on the flake's network" \
        "nfs: volume /data from 172.16.0.1:$EXPORT (export it there)" "$out"
assert_contains "the flake has the nfs= boot argument" "$(cat "$FLAKES_DIR/nfs.yaml")" "nfs=172.16.0.1:$EXPORT:/data"
check "flake-tap start nfs" in_ns "$FLAKE_TAP" start nfs

# --- the app reads and writes the host's directory ---------------------------
out=$(in_ns "$T/bin/nfs" -c '
        cat /data/hostfile
        stat -c "%u:%g" /data/hostfile
        echo from-the-guest > /data/guestfile && chown 4321:5432 /data/guestfile
        awk "\$2 == \"/data\" { print \$1, \$3 }" /proc/mounts
        grep -c " / overlay" /proc/mounts' 2>"$T/err"); rc=$?
assert_eq "the call works: exit status 0" 0 "$rc"
assert_eq "the app read the host's file, with its host owner; /data is the NFS mount; the root the overlay" \
        "$(printf 'from-the-host\n1234:2345\n172.16.0.1:%s nfs4\n1' "$EXPORT")" "$out"
assert_eq "the host sees the file the guest wrote" "from-the-guest" "$(cat "$EXPORT/guestfile" 2>&1)"
assert_eq "... with the owner the guest gave it" "4321:5432" "$(stat -c %u:%g "$EXPORT/guestfile" 2>&1)"
[ "$rc" = 0 ] || diag "$(cat "$T/err")" "$(tail -n 40 "$FLAKE_RUNTIME_DIR/vm/nfs.log" 2>/dev/null)" \
        "$(tail -n 20 "$T/ganesha/ganesha.log" 2>/dev/null)"
check_fails "a flake with volumes makes no snapshot" test -e "$FLAKE_FIRECRACKER_DIR/snapshots/nfs/key"
out=$(in_ns "$T/bin/nfs" -c 'cat /data/guestfile')
assert_eq "a second call (booted again) mounts it again" "from-the-guest" "$out"

# --- a server that does not answer ------------------------------------------
# A firewall dropping the guest's NFS packets: the kernel's RPC client would
# retry for minutes; sci gives up after SCI_VOLUME_MOUNT_TIMEOUT_MS and ends
# the VM. The bound here only keeps a broken sci from hanging the suite.
KERNEL=$DISTRO/kernel INITRD=$DISTRO/initrd ROOTFS=$DISTRO/rootfs OVERLAY=32MiB register nfsdrop false
check "network add (nfsdrop)" in_ns "$FLAKE_CTL" firecracker network add nfsdrop \
        --uplink up0 --host-address 172.16.0.5/30 --guest-address 172.16.0.6/30
check "volume add (nfsdrop)" in_ns "$FLAKE_CTL" firecracker volume add --app nfsdrop "$EXPORT:/data"
check "flake-tap start nfsdrop" in_ns "$FLAKE_TAP" start nfsdrop
in_ns nft -f - <<'EON'
table inet nfstest {
        chain input {
                type filter hook input priority -10;
                ip saddr 172.16.0.6 tcp dport 2049 drop
        }
}
EON
out=$(in_ns timeout 240 "$T/bin/nfsdrop" -c 'echo the-app-ran; echo x > /data/x' 2>&1); rc=$?
assert_not_contains "the app never ran" "$out" "the-app-ran"
check_fails "nothing was written to the export" test -e "$EXPORT/x"
assert_eq "the call fails as a VM that ended while booting (123), within the test's bound" 123 "$rc"
log=$(cat "$FLAKE_RUNTIME_DIR/vm/nfsdrop.log" 2>/dev/null)
assert_contains "the console names the volume and says why" "$log" \
        "sci: nfs: cannot mount 172.16.0.5:$EXPORT on /data: the server did not answer within 20 s"
[ "$rc" != 0 ] || diag "$out"

# --- no server at all: refused at once ---------------------------------------
kill "$GANESHA_PID"; wait "$GANESHA_PID" 2>/dev/null; GANESHA_PID=
check_fails "the server is gone" sh -c "ip netns exec $NS ss -Hltn 'sport = :2049' | grep -q ."
out=$(in_ns timeout 240 "$T/bin/nfs" -c 'echo the-app-ran' 2>&1); rc=$?
assert_not_contains "without the server the app never runs" "$out" "the-app-ran"
assert_eq "... and the call fails with status 123" 123 "$rc"
assert_contains "... the console says the server refused" "$(cat "$FLAKE_RUNTIME_DIR/vm/nfs.log" 2>/dev/null)" \
        "sci: nfs: cannot mount 172.16.0.1:$EXPORT on /data: Connection refused"

check "flake-tap stop nfs" in_ns "$FLAKE_TAP" stop nfs
check "flake-tap stop nfsdrop" in_ns "$FLAKE_TAP" stop nfsdrop
finish
