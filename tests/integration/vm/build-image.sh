#!/bin/sh
# Builds the test VM image from what the host has: Debian's kernel, an
# initramfs with busybox and the virtio/ext4/overlay modules, and an ext4
# root filesystem (mke2fs -d, no loop mounts) holding busybox and the
# project's sci as /usr/sbin/sci.
#
# The initramfs plays the role dracut plays for a real image: load the
# drivers, mount root= read-only and switch_root into init= (sci).
#
#   build-image.sh OUTDIR SCI
# Writes OUTDIR/{kernel,initrd,rootfs}; reuses them when they are newer than
# sci and this script (the test suite calls it from several tests).
set -eu
out=$1
sci=$2
script=$(readlink -f "$0")

kver=$(ls /lib/modules | sort -V | tail -n1)
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || { echo "build-image: no kernel $kernel (install linux-image-amd64)" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "build-image: busybox-static missing" >&2; exit 1; }

mkdir -p "$out"
if [ -s "$out/rootfs" ] && [ -s "$out/initrd" ] && [ "$out/rootfs" -nt "$sci" ] && [ "$out/rootfs" -nt "$script" ]; then
        exit 0
fi
# One builder at a time; the others wait and then find the result.
exec 9>"$out/.lock"
flock 9
if [ -s "$out/rootfs" ] && [ -s "$out/initrd" ] && [ "$out/rootfs" -nt "$sci" ] && [ "$out/rootfs" -nt "$script" ]; then
        exit 0
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# initramfs
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/newroot" "$ir/lib/modules"
cp "$busybox" "$ir/bin/busybox"
for a in sh mount umount insmod switch_root cat mkdir sleep; do ln -s busybox "$ir/bin/$a"; done
# virtio_net needs failover and net_failover (modules.dep of Debian's 6.1).
mods="virtio_ring virtio virtio_mmio virtio_blk virtio_console failover net_failover virtio_net crc16 crc32c_generic mbcache jbd2 ext4 overlay"
for m in $mods; do
        f=$(modinfo -k "$kver" -n "$m")
        case "$f" in
        *.ko) cp "$f" "$ir/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$ir/lib/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$ir/lib/modules/$m.ko" ;;
        *) echo "build-image: module $m not found" >&2; exit 1 ;;
        esac
done
cat > "$ir/init" <<EOS
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Module parameters on the kernel command line are modprobe's business;
# insmod needs them spelled out (QEMU microvm without ACPI and Firecracker
# describe their virtio-mmio devices as virtio_mmio.device=...).
mmio=\$(for w in \$(cat /proc/cmdline); do case "\$w" in virtio_mmio.device=*) echo "\${w#virtio_mmio.}" ;; esac; done)
for m in $mods; do
        p=
        [ "\$m" = virtio_mmio ] && p=\$mmio
        insmod /lib/modules/\$m.ko \$p || echo "initramfs: insmod \$m failed"
done
root=/dev/vda
init=/sbin/init
for w in \$(cat /proc/cmdline); do
        case "\$w" in
        root=*) root=\${w#root=} ;;
        init=*) init=\${w#init=} ;;
        esac
done
i=0
while [ ! -b "\$root" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
mount -o ro "\$root" /newroot || { echo "initramfs: cannot mount \$root"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "\$init"
EOS
chmod 755 "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd"

# root filesystem
rf=$work/rootfs.d
mkdir -p "$rf/bin" "$rf/usr/sbin" "$rf/etc" "$rf/proc" "$rf/sys" "$rf/dev" "$rf/run" \
        "$rf/tmp" "$rf/mnt" "$rf/overlayroot" "$rf/root"
cp "$busybox" "$rf/bin/busybox"
for a in $("$busybox" --list); do [ -e "$rf/bin/$a" ] || ln -s busybox "$rf/bin/$a"; done
# The network tests need these applets (sci runs udhcpc for ip=dhcp).
for a in wget ip ifconfig route udhcpc; do
        [ -L "$rf/bin/$a" ] || { echo "build-image: busybox has no $a applet" >&2; exit 1; }
done
install -m 0755 "$sci" "$rf/usr/sbin/sci"
echo 'root:x:0:0:root:/root:/bin/sh' > "$rf/etc/passwd"
echo 'root:x:0:' > "$rf/etc/group"
# Something to mount over: without an overlay the root is read-only, and
# sci covers this file with its own for nameserver=.
: > "$rf/etc/resolv.conf"
echo 'flake-test-image' > "$rf/etc/flake-test-image"
# For bench/vm-launch.sh: the trivial command as init, then power-off.
printf '#!/bin/sh\necho hello\nexec poweroff -f\n' > "$rf/usr/sbin/bench-init"
chmod 755 "$rf/usr/sbin/bench-init"
mke2fs -q -t ext4 -d "$rf" "$work/rootfs" 16M >/dev/null

cp "$kernel" "$work/kernel"
mv "$work/kernel" "$work/initrd" "$out/"
mv "$work/rootfs" "$out/rootfs"
