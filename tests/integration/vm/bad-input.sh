#!/bin/bash
# Bad input to VM flakes: one line naming the instance and what failed, a
# distinct exit status, and nothing left behind. Only the last case boots.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

# run_bad NAME EXPECTED_STATUS EXPECTED_TEXT ARGS...
run_bad() {
        local name=$1 want=$2 text=$3
        shift 3
        out=$("$T/bin/$name" "$@" 2>&1 >/dev/null); rc=$?
        assert_eq "$name: exit status $want" "$want" "$rc"
        assert_contains "$name: message names it" "$out" "$text"
        assert_eq "$name: a single line" 1 "$(printf '%s\n' "$out" | wc -l)"
        check_fails "$name: nothing left in the runtime dir" test -e "$FLAKE_RUNTIME_DIR/vm/$name"
        check_fails "$name: no overlay left" test -e "$FLAKE_FIRECRACKER_DIR/storage/$name.ext2"
}

KERNEL=$T/nokernel register nokernel false
run_bad nokernel 125 "nokernel: kernel image $T/nokernel"

ROOTFS=$T/norootfs register norootfs false
run_bad norootfs 125 "norootfs: rootfs image $T/norootfs"

register novmm false
FLAKE_QEMU=/nonexistent/qemu run_bad novmm 123 "novmm: the VMM /nonexistent/qemu is not installed"

OVERLAY=20kb register smallovl false
run_bad smallovl 125 "smallovl: overlay size"

OVERLAY=lots register badsize false
run_bad badsize 125 "overlay_size"

VMM=bochs register badvmm false
run_bad badvmm 125 "badvmm: vm.runtime.vmm must be"

# A hand-written nfs= the guest could not use (flake-ctl refuses to write it).
register badnfs false
sed -i 's|"panic=-1"\]|"panic=-1", "nfs=172.16.0.1:/srv:/mnt"]|' "$FLAKES_DIR/badnfs.yaml"
run_bad badnfs 125 "badnfs: $FLAKES_DIR/badnfs.yaml: boot argument nfs=: '172.16.0.1:/srv:/mnt': guest path is under /mnt"

register okname false
run_bad okname 124 "invalid instance name" '@bad/name'
run_bad okname 124 "unknown pilot option '%frobnicate'" %frobnicate

INCLUDE_TAR="[$T/missing.tar]" OVERLAY=8MiB register badtar false
run_bad badtar 125 "badtar: include tar $T/missing.tar"

if [ "$(id -u)" = 0 ]; then
        RUNAS=no-such-user register nouser false
        run_bad nouser 125 "nouser: the VMM user 'no-such-user' does not exist"
        register rootvmm false
        FLAKE_VM_USER=root run_bad rootvmm 125 "rootvmm: the VMM user 'root' is root: a VMM never runs as root"
fi

check_fails "the pilot refuses to run as itself" "$PILOT"

# An image whose init does not speak the agent protocol (a shell as init):
# the deadline applies, the VM is stopped, nothing is left.
INIT=/bin/sh register noagent false
FLAKE_VM_AGENT_TIMEOUT=8 run_bad noagent 120 "noagent: the guest agent did not answer within 8 s"
check_fails "noagent: no VMM left running" pgrep -f "flake-vm run noagent"

finish
