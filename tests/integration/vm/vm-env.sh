# Shared setup of the VM tests: a private flake root, the test image (built
# once per build dir), helpers to register flakes. Sourced after lib.sh.
require qemu-system-x86_64 mke2fs cpio busybox modinfo

VM_BUILD="$FLAKE_BUILD_ROOT/tests/integration/vm"
VM_IMAGE="$VM_BUILD/image"
PILOT="$FLAKE_BUILD_ROOT/helpers/firecracker-pilot/firecracker-pilot"
SCI="$FLAKE_BUILD_ROOT/helpers/sci/sci"

T=$(mktemp -d /tmp/flake-vm-test.XXXXXX)
export FLAKES_DIR=$T/flakes FLAKE_RUNTIME_DIR=$T/run FLAKE_FIRECRACKER_DIR=$T/fc
export FLAKE_QEMU_ACCEL=tcg FLAKE_NO_SYSTEMD=1
export FLAKE_CONFIG=$T/flakes.yml
mkdir -p "$FLAKES_DIR" "$FLAKE_RUNTIME_DIR" "$FLAKE_FIRECRACKER_DIR" "$T/bin"
# As root the runner hands the VMM to an unprivileged user (flake-vm@.service(8),
# "Privileges"): the system user flake-vm is not on a build host, nobody is.
# It must reach the test's images, includes and runtime dir.
if [ "$(id -u)" = 0 ]; then
        export FLAKE_VM_USER=nobody
        chmod 0755 "$T"
fi
unset PILOT_DEBUG

vm_cleanup() {
        # Stop every runner and VMM this test started, by pid.
        for p in "$FLAKE_RUNTIME_DIR"/vm/*/vmm.pid; do
                [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
        done
        sleep 0.5
        rm -rf "$T"
}
trap vm_cleanup EXIT

"$FLAKE_SOURCE_ROOT/tests/integration/vm/build-image.sh" "$VM_IMAGE" "$SCI" ||
        { echo "Bail out! cannot build the test image"; exit 1; }

# The VMM's command line while a call of instance $1 runs: a call restored
# from a snapshot has "-incoming fd:N".
vmm_cmdline() {
        local inst=$1 i pid
        for i in $(seq 300); do [ -e "$FLAKE_RUNTIME_DIR/vm/$inst/ready" ] && break; sleep 0.1; done
        pid=$(cat "$FLAKE_RUNTIME_DIR/vm/$inst/vmm.pid" 2>/dev/null)
        [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>&1 || echo "no VMM running for $inst"
}

# register NAME RESUME(true|false) [extra YAML lines for vm.runtime...]
register() {
        local name=$1 resume=$2 vmm=${VMM-qemu}
        cat > "$FLAKES_DIR/$name.yaml" <<EOY
vm:
  name: flake-test
  target_app_path: ${TARGET:-/bin/sh}
  host_app_path: $T/bin/$name
  runtime:
$([ -n "$vmm" ] && echo "    vmm: $vmm")
$([ -n "${QEMU_ACCEL-}" ] && echo "    qemu_accel: $QEMU_ACCEL")
$([ -n "${RUNAS-}" ] && echo "    runas: $RUNAS")
    resume: $resume
    firecracker:
      boot_args: ["init=${INIT:-/usr/sbin/sci}", "console=ttyS0", "root=/dev/vda", "acpi=off", "quiet", "panic=-1"]
      overlay_size: ${OVERLAY:-~}
      rootfs_image_path: ${ROOTFS:-$VM_IMAGE/rootfs}
      kernel_image_path: ${KERNEL:-$VM_IMAGE/kernel}
      initrd_path: ${INITRD:-$VM_IMAGE/initrd}
      mem_size_mib: 256
      vcpu_count: 1
include:
  tar: ${INCLUDE_TAR:-~}
  path: ${INCLUDE_PATH:-~}
EOY
        ln -sf "$PILOT" "$T/bin/$name"
}
