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
        assert_eq "$fs: files" "checksum.installed initrd kernel rootfs" "$(ls "$REG/c-$fs" | xargs)"
        assert_eq "$fs: checksum.installed is the installed rootfs" "$(sha256sum < "$img" | cut -d' ' -f1)" "$(cat "$REG/c-$fs/checksum.installed")"
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

# an image that already has a sci (the original flake-pilot's, say) gets
# ours instead: a regular file, a symbolic link, a file with a second name
mkdir -p "$W/t/usr/sbin" "$W/t/usr/bin"; echo "#!/bin/sh" > "$W/t/usr/sbin/sci"; chmod 755 "$W/t/usr/sbin/sci"
mke2fs -q -F -t ext4 -d "$W/t" "$SRV/withsci.ext4" 8M >/dev/null 2>&1
pull vm --name keep --rootfs "$HTTPS/files/withsci.ext4" --kernel "$HTTPS/files/vmlinux"
assert_eq "existing sci: pull succeeds" 0 "$RC"
assert_eq "existing sci is replaced by ours" "regular 0755 $(stat -c %s "$FLAKE_SCI")" "$(in_image "$REG/keep/rootfs" /usr/sbin/sci)"
check "existing sci replaced: filesystem consistent (e2fsck -fn)" e2fsck -fn "$REG/keep/rootfs"
rm -f "$W/t/usr/sbin/sci"; echo "#!/bin/sh" > "$W/t/usr/bin/orig-sci"; ln -s ../bin/orig-sci "$W/t/usr/sbin/sci"
mke2fs -q -F -t ext2 -d "$W/t" "$SRV/scilink.ext2" 8M >/dev/null 2>&1
pull vm --name link --rootfs "$HTTPS/files/scilink.ext2" --kernel "$HTTPS/files/vmlinux"
assert_eq "sci as a symlink: replaced by a file" "0 regular 0755 $(stat -c %s "$FLAKE_SCI")" "$RC $(in_image "$REG/link/rootfs" /usr/sbin/sci)"
assert_eq "sci as a symlink: its target is left alone" "regular 0644 10" "$(in_image "$REG/link/rootfs" /usr/bin/orig-sci)"
check "sci as a symlink: filesystem consistent (e2fsck -fn)" e2fsck -fn "$REG/link/rootfs"
rm -f "$W/t/usr/sbin/sci"; ln "$W/t/usr/bin/orig-sci" "$W/t/usr/sbin/sci"
mke2fs -q -F -t ext4 -d "$W/t" "$SRV/scihard.ext4" 8M >/dev/null 2>&1
pull vm --name hard --rootfs "$HTTPS/files/scihard.ext4" --kernel "$HTTPS/files/vmlinux"
assert_eq "sci with a second name: replaced" "0 regular 0755 $(stat -c %s "$FLAKE_SCI")" "$RC $(in_image "$REG/hard/rootfs" /usr/sbin/sci)"
assert_eq "sci with a second name: the other name keeps the file" "regular 0644 10" "$(in_image "$REG/hard/rootfs" /usr/bin/orig-sci)"
check "sci with a second name: filesystem consistent (e2fsck -fn)" e2fsck -fn "$REG/hard/rootfs"
rm -rf "$W/t/usr/sbin/sci"; mkdir -p "$W/t/usr/sbin/sci"
mke2fs -q -F -t ext2 -d "$W/t" "$SRV/scidir.ext2" 8M >/dev/null 2>&1
expect_failure "sci is a directory in the image" "/usr/sbin/sci is a directory" \
        vm --name d --rootfs "$HTTPS/files/scidir.ext2" --kernel "$HTTPS/files/vmlinux"

# damaged images: libext2fs parses them in the sandboxed child, which
# fails with one line; nothing is installed, the parent is unharmed
corrupt() {     # $1 source image, $2 output, $3 byte offset, $4 length: random bytes there
        cp "$1" "$2"
        head -c "$4" /dev/urandom | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}
ino_table=$(dumpe2fs "$SRV/rootfs.ext2" 2>/dev/null | sed -n 's/^ *Inode table at \([0-9]*\)-.*/\1/p' | head -n1)
corrupt "$SRV/rootfs.ext2" "$SRV/bad-gdt.ext2" 2048 1024                       # group descriptors
corrupt "$SRV/rootfs.ext2" "$SRV/bad-inodes.ext2" $(( ino_table * 1024 )) 4096  # the root directory's inode
corrupt "$SRV/rootfs.ext4" "$SRV/bad-super.ext4" 1024 200                      # superblock
for bad in bad-gdt.ext2 bad-inodes.ext2 bad-super.ext4; do
        expect_failure "damaged image $bad" "$HTTPS/files/$bad" vm --name dmg --rootfs "$HTTPS/files/$bad" --kernel "$HTTPS/files/vmlinux" --quiet
        assert_eq "damaged image $bad: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
        check_fails "damaged image $bad: no crash of the child" grep -q "killed by signal" <<< "$ERR"
done

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

# the image is edited in a child that has no capabilities, no_new_privs, a
# seccomp filter and only the image and sci's host copy open (as root here)
strace -f -qq -o "$W/strace" -e trace=capset,prctl,seccomp,close_range,openat,execve \
        "$PULL" vm --name sb --rootfs "$HTTPS/files/rootfs.ext2" --kernel "$HTTPS/files/vmlinux" --quiet 2>/dev/null
assert_eq "sandboxed edit: pull succeeds" "regular 0755 $(stat -c %s "$FLAKE_SCI")" "$(in_image "$REG/sb/rootfs" /usr/sbin/sci)"
child=$(awk '/seccomp\(SECCOMP_SET_MODE_FILTER/ { print $1; exit }' "$W/strace")
check "sandboxed edit: a child loads a seccomp filter" test -n "$child"
trace_of_child() { awk -v p="$child" '$1 == p' "$W/strace"; }
assert_contains "sandboxed edit: no_new_privs" "$(trace_of_child)" "prctl(PR_SET_NO_NEW_PRIVS, 1"
check "sandboxed edit: all capabilities cleared" grep -Eq 'capset\(.*\{effective=0, permitted=0, inheritable=0\}\) += 0' <<< "$(trace_of_child)"
check "sandboxed edit: every other descriptor closed" grep -Eq 'close_range\(5, 4294967295, 0\) += 0' <<< "$(trace_of_child)"
assert_eq "sandboxed edit: the child opens nothing, executes nothing" "" "$(trace_of_child | grep -E 'openat|execve')"

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
