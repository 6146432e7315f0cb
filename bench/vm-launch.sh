#!/bin/bash
# Launch overhead of a VM flake: from invoking the stub to the app's first
# output byte, and in total, for a trivial command (echo hello), compared
# side by side with bare QEMU booting the same kernel, initramfs and rootfs
# with the command as init; and a one-shot call restored from the flake's
# snapshot against the same flake booting cold (vm.runtime.snapshot: false).
# All under the same accelerator (TCG on our CI).
#
#   bench/vm-launch.sh [BUILD_DIR] [RUNS]
# Prints medians in ms, the ratio cold pilot/bare (target <= 1.15), the ratio
# snapshot/cold (target <= 0.2), the snapshot's size and the VMM's memory.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
runs=${2:-5}
export FLAKE_BUILD_ROOT=$build FLAKE_SOURCE_ROOT=$src

image=$build/tests/integration/vm/image
"$src/tests/integration/vm/build-image.sh" "$image" "$build/helpers/sci/sci"

T=$(mktemp -d /tmp/flake-vm-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export FLAKES_DIR=$T/flakes FLAKE_RUNTIME_DIR=$T/run FLAKE_FIRECRACKER_DIR=$T/fc
export FLAKE_QEMU_ACCEL=${FLAKE_QEMU_ACCEL:-tcg} FLAKE_NO_SYSTEMD=1 FLAKE_LIBEXECDIR=$build/helpers
mkdir -p "$FLAKES_DIR" "$T/bin"
# As root the VMM runs as the system user flake-vm (flake-vm@.service(8)),
# which a build host may not have: nobody then, who must reach the files.
if [ "$(id -u)" = 0 ] && ! getent passwd flake-vm >/dev/null; then
        export FLAKE_VM_USER=nobody
        chmod 0755 "$T"
fi
# flake NAME TARGET SNAPSHOT
flake() {
        cat > "$FLAKES_DIR/$1.yaml" <<EOY
vm:
  name: bench
  target_app_path: $2
  host_app_path: $T/bin/$1
  runtime:
    vmm: qemu
    resume: false
    snapshot: $3
    firecracker:
      boot_args: ["init=/usr/sbin/sci", "console=ttyS0", "root=/dev/vda", "quiet", "panic=-1"]
      rootfs_image_path: $image/rootfs
      kernel_image_path: $image/kernel
      initrd_path: $image/initrd
      mem_size_mib: 256
      vcpu_count: 1
EOY
        ln -s "$build/helpers/firecracker-pilot/firecracker-pilot" "$T/bin/$1"
}
flake bench /bin/echo false
flake snap /bin/echo true
flake snapsh /bin/sh true

accel=$FLAKE_QEMU_ACCEL
tsc=""
[ "$accel" = tcg ] && tsc="tsc_early_khz=2400000"
bare=(qemu-system-x86_64 -M microvm -accel "$accel" -cpu max -m 256 -smp 1 -nodefaults -no-user-config
      -nographic -no-reboot -chardev file,id=console,path=/dev/stdout -serial chardev:console
      -kernel "$image/kernel" -initrd "$image/initrd"
      -drive "id=rootfs,file=$image/rootfs,format=raw,if=none,readonly=on" -device virtio-blk-device,drive=rootfs
      -append "console=ttyS0 quiet panic=-1 $tsc root=/dev/vda init=/usr/sbin/bench-init")

# time_to_marker CMD...: "<ms to the first 'hello'> <ms total>"
time_to_marker() {
        python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
buf, first = b"", None
while True:
    b = p.stdout.read1(4096)
    if not b:
        break
    buf += b
    if first is None and b"hello" in buf:
        first = time.monotonic()
p.wait()
t1 = time.monotonic()
if first is None or p.returncode != 0:
    sys.exit(f"no output or failure (status {p.returncode})")
print(int((first - t0) * 1000), int((t1 - t0) * 1000))
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$T/pilot"; : > "$T/bare"; : > "$T/snap"
# The first call saves the snapshot; the measured ones restore it.
"$T/bin/snap" hello >/dev/null
for i in $(seq "$runs"); do
        # Alternate, so that load from other jobs hits all alike.
        time_to_marker "$T/bin/bench" hello >> "$T/pilot"
        time_to_marker "$T/bin/snap" hello >> "$T/snap"
        time_to_marker "${bare[@]}" >> "$T/bare"
done
pf=$(cut -d' ' -f1 "$T/pilot" | median); pt=$(cut -d' ' -f2 "$T/pilot" | median)
sf=$(cut -d' ' -f1 "$T/snap" | median); st=$(cut -d' ' -f2 "$T/snap" | median)
bf=$(cut -d' ' -f1 "$T/bare" | median); bt=$(cut -d' ' -f2 "$T/bare" | median)

# The VMM's resident memory while a session runs: booted, and restored.
vmm_rss() {
        local inst=$1 k
        "$T/bin/$inst" -c 'sleep 2' &
        for k in $(seq 300); do [ -e "$FLAKE_RUNTIME_DIR/vm/$inst/ready" ] && break; sleep 0.1; done
        awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$(cat "$FLAKE_RUNTIME_DIR/vm/$inst/vmm.pid")/status"
        wait
}
"$T/bin/snapsh" -c true
sed -i 's/snapshot: true/snapshot: false/' "$FLAKES_DIR/snapsh.yaml"
rss_cold=$(vmm_rss snapsh)
sed -i 's/snapshot: false/snapshot: true/' "$FLAKES_DIR/snapsh.yaml"
rss_snap=$(vmm_rss snapsh)
snapdir=$FLAKE_FIRECRACKER_DIR/snapshots/snap

echo "VM flake launch, $runs runs, accel=$accel, medians in ms"
printf '%-40s %8s %8s\n' "" "first" "total"
printf '%-40s %8s %8s\n' "firecracker-pilot, cold boot" "$pf" "$pt"
printf '%-40s %8s %8s\n' "firecracker-pilot, from the snapshot" "$sf" "$st"
printf '%-40s %8s %8s\n' "bare qemu, command as init" "$bf" "$bt"
awk -v a="$pf" -v b="$bf" -v c="$pt" -v d="$bt" 'BEGIN { printf "ratio cold pilot/bare: first byte %.2f, total %.2f (target <= 1.15)\n", a/b, c/d }'
awk -v a="$sf" -v b="$pf" -v c="$st" -v d="$pt" 'BEGIN { printf "ratio snapshot/cold: first byte %.2f, total %.2f (target <= 0.2)\n", a/b, c/d }'
echo "snapshot: memory stream $(du -m --apparent-size "$snapdir/memory" | cut -f1) MiB for a 256 MiB guest;" \
     "VMM resident memory in a session: $rss_cold MiB booted, $rss_snap MiB restored"
