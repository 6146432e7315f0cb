#!/bin/bash
# make demo: the mission in under three minutes, without internet and
# without touching /etc or /usr (everything lives in a private FLAKE_ROOT).
#   1-6   container flakes: a busybox image made locally, registered with
#         flake-ctl, run through podman-pilot
#   7-9   a VM flake: the host's kernel and its distribution-made initrd, a
#         small rootfs with sci, booted by firecracker-pilot under QEMU
#   10    the systemd units flake-generator makes for these flakes
# Exits non-zero when a step does not show what it says.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FLAKE_BUILD_ROOT:-$SRC/build}
CTL="$BUILD/ctl/flake-ctl"
GENERATOR="$BUILD/generator/flake-generator"
SCI="$BUILD/helpers/sci/sci"
export FLAKE_BINDIR="$BUILD/tests/bin" FLAKE_LIBEXECDIR="$BUILD/tests/bin"
for p in podman busybox qemu-system-x86_64 "$CTL" "$GENERATOR" "$SCI" "$FLAKE_BINDIR/podman-pilot" \
         "$FLAKE_BINDIR/firecracker-pilot" "$FLAKE_BINDIR/flake-vm"; do
        command -v "$p" >/dev/null || { echo "demo: $p is missing (run make and tests/install-deps.sh)" >&2; exit 1; }
done

D=$(mktemp -d /tmp/flake-demo.XXXXXX)
export FLAKE_ROOT="$D/root" FLAKE_CONFIG="$D/root/etc/flakes.yml"
cleanup() {
        for p in "$FLAKE_ROOT"/run/flakes/vm/*/vmm.pid; do
                [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
        done
        podman rm --all --force --time 0 >/dev/null 2>&1
        podman rmi --all --force >/dev/null 2>&1
        rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$FLAKE_ROOT/etc" "$FLAKE_ROOT/usr/bin"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$D" "$D" > "$FLAKE_ROOT/etc/storage.conf"
printf 'generic:\n  flakes_dir: /usr/share/flakes\n  podman_ids_dir: /ids\n  podman_storage_conf: /etc/storage.conf\n' > "$FLAKE_CONFIG"
# The demo's own podman configuration: the tests' settings, and no CNI
# config podman cannot use (see the file).
export CONTAINERS_CONF="$SRC/tests/fixtures/demo-containers.conf" CONTAINERS_STORAGE_CONF="$FLAKE_ROOT/etc/storage.conf"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

say "1. Build a tiny image (busybox) locally with podman import"
mkdir -p "$D/img/bin" "$D/img/etc" "$D/img/proc" "$D/img/sys" "$D/img/dev" "$D/img/tmp"
cp "$(command -v busybox)" "$D/img/bin/"
for a in sh echo cat wc tr uname sleep; do ln -s busybox "$D/img/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$D/img/etc/passwd"
tar -C "$D/img" -cf "$D/img.tar" .
podman import --quiet --change 'ENV PATH=/bin' "$D/img.tar" localhost/demo:latest >/dev/null || die "podman import failed"
podman images --format '   {{.Repository}}:{{.Tag}}  {{.Size}}'

say "2. Register two flakes: 'shout' (tr, one-shot) and 'box' (sh, resume)"
"$CTL" podman register --container localhost/demo --app /usr/bin/shout --target /bin/tr || die "register shout failed"
"$CTL" podman register --container localhost/demo --app /usr/bin/box --target /bin/sh --resume || die "register box failed"
"$CTL" list
export PATH="$FLAKE_ROOT/usr/bin:$PATH"

say "3. Arguments pass verbatim; stdin streams through a pipe"
echo "  \$ echo 'hello from the host' | shout a-z A-Z"
echo 'hello from the host' | shout a-z A-Z

say "4. The app's exit status is the command's exit status"
echo "  \$ box -c 'echo in the container: \$(uname -n); exit 3'"
box -c 'echo in the container: $(uname -n); exit 3'
rc=$?
echo "  exit status: $rc"
[ "$rc" = 3 ] || die "box returned $rc, not 3"

say "5. stdout and stderr stay separate"
echo "  \$ box -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null"
box -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null

say "6. The resumed instance is kept; flake-ctl shows and stops it"
"$CTL" podman show
"$CTL" podman stop box

say "7. Make a VM image as a distribution's user has it: this host's kernel, Debian's own initrd, a small rootfs with sci"
IMAGE="$BUILD/tests/integration/vm/distro-image"
[ -s "$IMAGE/rootfs" ] || echo "   first run: mkinitramfs and the rootfs take about a minute; cached in $IMAGE"
"$SRC/tests/integration/vm/build-distro-image.sh" "$IMAGE" "$SCI" || die "cannot build the VM image"
kver=$(ls /lib/modules | sort -V | tail -n1)
printf '   kernel  %5s  /boot/vmlinuz-%s\n' "$(du -h "$IMAGE/kernel" | cut -f1)" "$kver"
printf '   initrd  %5s  mkinitramfs (initramfs-tools, default MODULES=most): loads what mounting / needs\n' \
        "$(du -h "$IMAGE/initrd" | cut -f1)"
printf '   rootfs  %5s  ext4: busybox, kmod, the kernel'"'"'s modules, sci as init (loads the rest itself)\n' \
        "$(du -h "$IMAGE/rootfs" | cut -f1)"

say "8. Register a VM flake 'vmbox' (sh in the VM, one-shot, 64 MiB overlay) on that image"
# The VM image registry is a directory per image; flake-ctl firecracker pull
# fills it from https URLs or a KIWI .kis archive, here it links local files.
reg="$FLAKE_ROOT/var/lib/firecracker/images/debian"
mkdir -p "$reg"
for f in kernel initrd rootfs; do ln -s "$IMAGE/$f" "$reg/$f"; done
echo "   images/debian/{kernel,initrd,rootfs} in the VM image registry (flake-ctl firecracker pull fills it from URLs)"
"$CTL" firecracker register --vm debian --app /usr/bin/vmbox --target /bin/sh --overlay-size 64MiB --no-net ||
        die "register vmbox failed"
"$CTL" list

say "9. Run it: a QEMU microvm boots, sci runs the app, its exit status and separate stdout/stderr come back"
# This machine's /dev/kvm cannot run a guest (para-virtualized KVM): unpinned,
# the runner would try KVM, fail, warn and boot again under TCG. The demo
# pins the accelerator instead and says so.
export FLAKE_QEMU_ACCEL=${FLAKE_QEMU_ACCEL:-tcg}
echo "   accelerator: FLAKE_QEMU_ACCEL=$FLAKE_QEMU_ACCEL (unset: KVM when it can run the guest, else TCG with one warning)"
# The VMM never runs as root: a root flake's VM runs as the system user
# flake-vm, which an installation makes (sysusers.d). This build is not
# installed, so the demo names another unprivileged user, as the tests do.
if [ "$(id -u)" = 0 ] && ! getent passwd flake-vm >/dev/null; then
        export FLAKE_VM_USER=nobody
        chmod 0755 "$D"
        echo "   VMM user: nobody (an installation runs root's VMs as its system user flake-vm; FLAKE_VM_USER)"
fi
cmd='echo "in the VM: kernel $(uname -r), root $(grep " / " /proc/mounts | cut -d" " -f3)"; cat /etc/flake-test-image; echo to-stderr >&2; exit 4'
echo "  \$ vmbox -c '$cmd' >out 2>err"
start=$(date +%s.%N)
vmbox -c "$cmd" > "$D/vm.out" 2> "$D/vm.err"
rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
echo "  exit status: $rc   (boot, run and power-off: $(printf '%.1f' "$took") s)"
sed 's/^/  stdout: /' "$D/vm.out"
sed 's/^/  stderr: /' "$D/vm.err"
[ "$rc" = 4 ] || die "vmbox returned $rc, not 4"

say "10. The systemd units flake-generator makes for these flakes (flake-generator --dry-run)"
echo "   (systemd runs it at boot and daemon-reload: a drop-in on the flake-vm@ template for a VM flake,"
echo "    .wants/ links for what starts at boot; flake-pull@/flake-tap@ read the flake when they run)"
# A flake's systemd: section (flakes.yaml(5)), here as drop-ins in NAME.d/.
mkdir -p "$FLAKE_ROOT/usr/share/flakes/vmbox.d" "$FLAKE_ROOT/usr/share/flakes/box.d"
printf 'systemd:\n  MemoryMax: 1G\n  CPUQuota: 150%%\n' > "$FLAKE_ROOT/usr/share/flakes/vmbox.d/50-limits.yaml"
printf 'systemd:\n  pull_at_boot: true\n' > "$FLAKE_ROOT/usr/share/flakes/box.d/50-boot.yaml"
echo "   with vmbox.d/50-limits.yaml: systemd: {MemoryMax: 1G, CPUQuota: 150%} and box.d/50-boot.yaml: systemd: {pull_at_boot: true}"
"$GENERATOR" --dry-run | sed 's/^/   /'
[ "${PIPESTATUS[0]}" = 0 ] || die "flake-generator --dry-run failed"
echo
echo "Done: everything lived in $D and is removed now."
