# SPDX-License-Identifier: MIT
# Sourced by inner.sh: flake-vm@ in a booted systemd runs its VMM
# unprivileged (flake-vm@.service(8), "Privileges"). Runs after check_vm:
# the image is there.

# status PID FIELD: a field of /proc/PID/status.
vmh_status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# The QEMU of a unit, and the runner child between it and the main PID.
vmh_qemu() { pgrep -x qemu-system-x86 -P "$(pgrep -P "$(prop "$1" MainPID)" | head -n 1)" | head -n 1; }

check_vmharden() {
        u=flake-vm@vmr.service
        check "the system user flake-vm exists (sysusers.d)" getent passwd flake-vm
        contains "... in group kvm, for /dev/kvm" "$(id -nG flake-vm 2>&1)" kvm

        s=$(systemd-analyze security --no-pager $u 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        check "systemd-analyze security $u: exposure ${s:-?} at most 4.0" \
                awk -v s="${s:-99}" 'BEGIN { exit !(s <= 4.0) }'

        # A resume VM, kept running while we look at it.
        out=$(/usr/bin/vmr -c 'echo up' 2>&1); rc=$?
        eq "the hardened $u runs a VM" "0 up" "$rc $out"
        main=$(prop $u MainPID)
        qemu=$(vmh_qemu $u)
        runner=$(ps -o ppid= -p "${qemu:-1}" | tr -d ' ')
        eq "the main process (the supervisor) is root, with CAP_CHOWN and CAP_KILL only" \
                "root 0000000000000021" "$(ps -o user= -p "$main" 2>&1) $(vmh_status "$main" CapEff)"
        eq "QEMU runs as flake-vm (vmr has no runas)" flake-vm "$(ps -o user= -p "${qemu:-1}" 2>&1)"
        eq "... with no capability" "0000000000000000 0000000000000000" \
                "$(vmh_status "$qemu" CapEff) $(vmh_status "$qemu" CapPrm)"
        eq "... with no_new_privs, in a seccomp filter" "1 2" \
                "$(vmh_status "$qemu" NoNewPrivs) $(vmh_status "$qemu" Seccomp)"
        contains "... QEMU's own (-sandbox on)" "$(tr '\0' ' ' <"/proc/$qemu/cmdline" 2>&1)" "-sandbox on"
        eq "the session relay runs as flake-vm, without capabilities" "flake-vm 0000000000000000 $main" \
                "$(ps -o user= -p "$runner" 2>&1) $(vmh_status "$runner" CapEff) $(ps -o ppid= -p "$runner" | tr -d ' ')"
        eq "its runtime dir is flake-vm's, 0700" "flake-vm 700" "$(stat -c '%U %a' /run/flakes/vm/vmr 2>&1)"
        contains "/usr is read-only in its mount namespace, even for root (ProtectSystem=strict)" \
                "$(nsenter -t "${qemu:-1}" -m -- touch /usr/flake-x 2>&1)" "Read-only file system"
        t0=$(date +%s)
        check "systemctl stop $u" systemctl stop $u
        t=$(( $(date +%s) - t0 ))
        eq "... the root supervisor passed SIGTERM on: a clean stop" "inactive success" \
                "$(prop $u ActiveState) $(prop $u Result)"
        check "... in time (${t} s)" test "$t" -lt 10
        check "... leaves no runtime dir" sh -c '! test -e /run/flakes/vm/vmr'

        # A runas user: its VMM runs as that user (one-shot, looked at mid-call).
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmu
        /usr/bin/vmu -c 'sleep 6; echo done' >/tmp/vmu.out 2>&1 &
        p=$!
        wait_for 600 test -e /run/flakes/vm/vmu/ready
        q=$(vmh_qemu flake-vm@vmu.service)
        eq "a flake with runas: daemon: QEMU runs as daemon" daemon "$(ps -o user= -p "${q:-1}" 2>&1)"
        eq "... and its overlay is daemon's, 0600" "daemon 600" \
                "$(stat -c '%U %a' /run/flakes/vm/vmu/overlay.ext2 2>&1)"
        wait $p; rc=$?
        eq "... the call succeeds" "0 done" "$rc $(cat /tmp/vmu.out)"
        eq "flake-vm@vmu ended cleanly" "inactive success" \
                "$(prop flake-vm@vmu.service ActiveState) $(prop flake-vm@vmu.service Result)"

        # Its snapshot (flake-vm@.service(8), SNAPSHOTS): saved by the
        # hardened unit in its StateDirectory, the VMM user's alone.
        check "the one-shot call saved a snapshot" test -s /var/lib/firecracker/snapshots/vmu/key
        eq "... in a dir of the VMM user, 0700" "daemon 700" \
                "$(stat -c '%U %a' /var/lib/firecracker/snapshots/vmu 2>&1)"
        out=$(/usr/bin/vmu -c 'echo again' 2>&1); rc=$?
        eq "the next call restores it" "0 again" "$rc $out"
        contains "... as the unit's journal says" \
                "$(journalctl --no-pager -o cat -u flake-vm@vmu.service 2>&1)" "vmu: restored from the snapshot"

        # The TAP of a flake without runas is flake-vm's: QEMU opens it
        # without CAP_NET_ADMIN (check_vm_network), nobody else can.
        check "systemctl start flake-tap@vmnet" systemctl start flake-tap@vmnet.service
        eq "flake-tap@vmnet gives tap-vmnet to flake-vm" "$(id -u flake-vm)" \
                "$(cat /sys/class/net/tap-vmnet/owner 2>&1)"
        check "systemctl stop flake-tap@vmnet" systemctl stop flake-tap@vmnet.service
}
