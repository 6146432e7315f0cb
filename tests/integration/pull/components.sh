#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull vm --rootfs/--kernel/--initrd: downloads, --sha256, and the
# injection of sci and the mount points into ext2 and ext4 images (edited
# with libext2fs: checked with debugfs and e2fsck).
. "$FLAKE_SOURCE_ROOT/tests/integration/pull/common.sh"

start_servers
make_rootfs "$SRV/rootfs.ext2" ext2 8M
make_rootfs "$SRV/rootfs.ext4" ext4 16M
head -c 200000 /dev/urandom > "$SRV/vmlinux"
head -c 30000 /dev/urandom > "$SRV/initrd"

in_image() {    # $1 image, $2 path: "type mode size" of the inode
        debugfs -R "stat $2" "$1" 2>/dev/null | awk '/^Inode:/ { t = $4; m = $6 } /Size:/ { for (i = 1; i <= NF; i++) if ($i == "Size:" && s == "") s = $(i + 1) } END { print t, m, s }'
}

for fs in ext2 ext4; do
        pull vm --name "c-$fs" --rootfs "$HTTPS/files/rootfs.$fs" --kernel "$HTTPS/files/vmlinux" --initrd "$HTTPS/files/initrd"
        img="$REG/c-$fs/rootfs"
        assert_eq "$fs: component pull succeeds" 0 "$RC"
        assert_eq "$fs: files" "initrd kernel rootfs" "$(ls "$REG/c-$fs" | xargs)"
        assert_eq "$fs: kernel" "$(sha256sum < "$SRV/vmlinux")" "$(sha256sum < "$REG/c-$fs/kernel")"
        assert_eq "$fs: initrd" "$(sha256sum < "$SRV/initrd")" "$(sha256sum < "$REG/c-$fs/initrd")"
        assert_eq "$fs: sci injected" "regular 0755 $(stat -c %s "$FLAKE_SCI")" "$(in_image "$img" /usr/sbin/sci)"
        debugfs -R "dump /usr/sbin/sci $W/sci.out" "$img" >/dev/null 2>&1
        assert_eq "$fs: sci content" "$(sha256sum < "$FLAKE_SCI")" "$(sha256sum < "$W/sci.out")"
        for m in /overlayroot /proc /sys /dev /dev/pts /mnt; do
                assert_eq "$fs: mount point $m" "directory 0755" "$(in_image "$img" $m | cut -d' ' -f1,2)"
        done
        debugfs -R "dump /usr/bin/payload $W/payload.out" "$img" >/dev/null 2>&1
        check "$fs: existing content intact" test -s "$W/payload.out"
        check "$fs: filesystem consistent (e2fsck -fn)" e2fsck -fn "$img"
done

# an image that already has sci keeps it
mkdir -p "$W/t/usr/sbin"; echo "#!/bin/sh" > "$W/t/usr/sbin/sci"; chmod 755 "$W/t/usr/sbin/sci"
mke2fs -q -F -t ext4 -d "$W/t" "$SRV/withsci.ext4" 8M >/dev/null 2>&1
pull vm --name keep --rootfs "$HTTPS/files/withsci.ext4" --kernel "$HTTPS/files/vmlinux"
assert_eq "existing sci: pull succeeds" 0 "$RC"
assert_eq "existing sci is kept" "regular 0755 10" "$(in_image "$REG/keep/rootfs" /usr/sbin/sci)"

# --sha256 of the rootfs download
sum=$(sha256sum "$SRV/rootfs.ext2" | cut -d' ' -f1)
pull vm --name s --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux" --sha256 "$sum"
assert_eq "--sha256 of the rootfs matches" 0 "$RC"
expect_failure "--sha256 mismatch" "SHA-256 mismatch" \
        vm --name s2 --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux" --sha256 "$(printf 'ab%062d' 0)"

# failures leave nothing behind
expect_failure "kernel 404" "HTTP 404" vm --name f --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/nope"
expect_failure "initrd 404" "HTTP 404" \
        vm --name f --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux" --initrd "$HTTPS/files/nope"
expect_failure "rootfs truncated" "broke off" vm --name f --rootfs "$HTTPS/truncate/rootfs.ext2" --kernel "$HTTPS/files/vmlinux"
expect_failure "rootfs not ext" "not an ext2/ext3/ext4 filesystem image" \
        vm --name f --rootfs "$HTTPS/files/vmlinux" --kernel "$HTTPS/files/vmlinux"
FLAKE_SCI="$W/missing-sci" expect_failure "no host copy of sci" "missing-sci" \
        vm --name f --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux"
expect_failure "insecure component URL refused before any download" "only https:// is allowed" \
        vm --name f --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTP/files/vmlinux"

# user registry (a non-root caller with --user)
id nobody >/dev/null 2>&1 || { echo "Bail out! no user 'nobody'"; exit 1; }
mkdir -p "$W/home"; chown nobody "$W/home"; chmod 755 "$W"
out=$(HOME="$W/home" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$PULL" vm --user --name u --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux" 2>&1); rc=$?
assert_eq "--user pull as non-root" 0 "$rc"
check "--user: image in ~/.config/flakes/firecracker" test -f "$W/home/.config/flakes/firecracker/images/u/rootfs"
check "--user: storage dir" test -d "$W/home/.config/flakes/firecracker/storage"
check_fails "--user: system registry untouched" test -e "$REG/u"

finish
