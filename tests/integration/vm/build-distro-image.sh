#!/bin/sh
# Builds a VM image as a user of a distribution brings it: Debian's kernel,
# the initrd Debian's own tool (initramfs-tools' mkinitramfs) makes with its
# default configuration, and an ext4 root filesystem with that kernel's
# modules under /lib/modules (modules.dep by depmod), kmod's modprobe, busybox
# and the project's sci as /usr/sbin/sci.
#
# Nothing of ours loads a driver: the initrd loads what mounting the root
# needs, everything else (virtio_console, vsock, overlay, ...) is for the
# booted system, i.e. sci, to load through the rootfs' modprobe.
#
#   build-distro-image.sh OUTDIR SCI
# Writes OUTDIR/{kernel,initrd,rootfs}. The initrd (about 30 s to make) is
# kept as long as the kernel and this script are older; the rootfs is
# remade when sci or this script is newer.
set -eu
out=$1
sci=$2
script=$(readlink -f "$0")

kver=$(ls /lib/modules | sort -V | tail -n1)
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || { echo "build-distro-image: no kernel $kernel (install linux-image-amd64)" >&2; exit 1; }
command -v mkinitramfs >/dev/null || { echo "build-distro-image: mkinitramfs missing (install initramfs-tools)" >&2; exit 1; }
command -v depmod >/dev/null || { echo "build-distro-image: depmod missing (install kmod)" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "build-distro-image: busybox-static missing" >&2; exit 1; }
kmod=$(command -v kmod) || { echo "build-distro-image: kmod missing" >&2; exit 1; }
# The point of this image is the distribution's default: refuse a host whose
# initramfs-tools was configured otherwise rather than test something else.
conf=/etc/initramfs-tools/initramfs.conf
modules=$(sed -n 's/^MODULES=//p' "$conf" | tail -n1)
[ "$modules" = most ] ||
        { echo "build-distro-image: $conf has MODULES=$modules, not Debian's default MODULES=most" >&2; exit 1; }

fresh() {
        [ -s "$out/rootfs" ] && [ -s "$out/initrd" ] && [ -s "$out/kernel" ] &&
                [ "$out/rootfs" -nt "$sci" ] && [ "$out/rootfs" -nt "$script" ] &&
                [ "$out/initrd" -nt "$kernel" ] && [ "$out/initrd" -nt "$script" ]
}

mkdir -p "$out"
fresh && exit 0
# One builder at a time; the others wait and then find the result.
exec 9>"$out/.lock"
flock 9
fresh && exit 0

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! { [ -s "$out/initrd" ] && [ "$out/initrd" -nt "$kernel" ] && [ "$out/initrd" -nt "$script" ]; }; then
        # Writes OUT only (not /boot, not the host's initrd).
        mkinitramfs -o "$work/initrd" "$kver" 2>"$work/mkinitramfs.log" ||
                { cat "$work/mkinitramfs.log" >&2; echo "build-distro-image: mkinitramfs failed" >&2; exit 1; }
        mv "$work/initrd" "$out/initrd"
fi

rf=$work/rootfs.d
mkdir -p "$rf/bin" "$rf/sbin" "$rf/usr/sbin" "$rf/etc" "$rf/proc" "$rf/sys" "$rf/dev" "$rf/run" \
        "$rf/tmp" "$rf/mnt" "$rf/overlayroot" "$rf/root" "$rf/lib/modules"
cp "$busybox" "$rf/bin/busybox"
for a in $("$busybox" --list); do
        case "$a" in
        # kmod's tools, as on a distribution's root, not busybox's.
        modprobe|insmod|rmmod|lsmod|modinfo|depmod) continue ;;
        esac
        [ -e "$rf/bin/$a" ] || ln -s busybox "$rf/bin/$a"
done
# kmod and its libraries from the host, at the same paths.
for f in "$kmod" $(ldd "$kmod" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
        mkdir -p "$rf$(dirname "$f")"
        cp -L "$f" "$rf$f"
done
for a in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf "$kmod" "$rf/sbin/$a"; done
# The kernel's modules, without the hardware a VM never has; modules.dep
# and friends made for what is there, as a package's postinst would.
tar -C /lib/modules -cf - --exclude="$kver/kernel/sound" --exclude="$kver/kernel/drivers/gpu" \
        --exclude="$kver/kernel/drivers/media" --exclude="$kver/kernel/drivers/net/wireless" \
        --exclude="$kver/kernel/drivers/infiniband" --exclude="$kver/kernel/drivers/staging" "$kver" |
        tar -C "$rf/lib/modules" -xf -
depmod -b "$rf" "$kver"
for m in virtio_console vmw_vsock_virtio_transport overlay virtio_net; do
        grep -q "/$m\.ko" "$rf/lib/modules/$kver/modules.dep" ||
                { echo "build-distro-image: module $m not in the rootfs' modules.dep" >&2; exit 1; }
done
install -m 0755 "$sci" "$rf/usr/sbin/sci"
echo 'root:x:0:0:root:/root:/bin/sh' > "$rf/etc/passwd"
echo 'root:x:0:' > "$rf/etc/group"
: > "$rf/etc/resolv.conf"
echo 'flake-distro-image' > "$rf/etc/flake-test-image"
size=$(du -sm "$rf" | cut -f1)
mke2fs -q -t ext4 -d "$rf" "$work/rootfs" "$((size + size / 4 + 16))M" >/dev/null

cp "$kernel" "$work/kernel"
mv "$work/kernel" "$out/kernel"
mv "$work/rootfs" "$out/rootfs"
