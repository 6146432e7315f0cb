#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull vm --kis-image against real HTTP(S) servers: the happy paths,
# the transport policy, network failures, bad archives, and the registry
# state after each.
. "$FLAKE_SOURCE_ROOT/tests/integration/pull/common.sh"

start_servers
make_kis_dir "$W/kis"
pack_kis test.tar.xz "$W/kis"
record=$(cat "$W/kis/test.x86_64-1.0.sha256")

# --- the happy path over HTTPS (test CA through FLAKE_CA_BUNDLE)
pull vm --name good --kis-image "$HTTPS/files/test.tar.xz"
assert_eq "https kis pull succeeds" 0 "$RC"
# The rootfs is the archive's with this project's sci (and mount points)
# added: the KIS record (of the rootfs as pulled, verified) is kept as it
# is, checksum.installed records the rootfs as installed.
assert_eq "rootfs has our sci" "$(sha256sum < "$FLAKE_SCI")" "$(debugfs -R 'cat /usr/sbin/sci' "$REG/good/rootfs" 2>/dev/null | sha256sum)"
assert_eq "rootfs content is the archive's" "$(debugfs -R 'cat /usr/bin/payload' "$W/kis/test.x86_64-1.0.ext2" 2>/dev/null | sha256sum)" \
        "$(debugfs -R 'cat /usr/bin/payload' "$REG/good/rootfs" 2>/dev/null | sha256sum)"
assert_eq "checksum.installed is the installed rootfs" "$(sha256sum "$REG/good/rootfs" | cut -d' ' -f1)" "$(cat "$REG/good/checksum.installed")"
assert_eq "kernel" "$(sha256sum < "$W/kis/test.x86_64-1.0.kernel")" "$(sha256sum < "$REG/good/kernel")"
assert_eq "initrd" "$(sha256sum < "$W/kis/test.x86_64-1.0.initrd")" "$(sha256sum < "$REG/good/initrd")"
assert_eq "checksum record kept" "$record" "$(cat "$REG/good/checksum")"
assert_eq "exactly the five files" "checksum checksum.installed initrd kernel rootfs" "$(ls "$REG/good" | xargs)"
assert_eq "no staging dirs left" "good" "$(ls -A "$REG" | xargs)"
assert_eq "image dir mode" 755 "$(stat -c %a "$REG/good")"
check "storage dir created" test -d "$FLAKE_ROOT/var/lib/firecracker/storage"
check "rootfs is a valid filesystem" e2fsck -fn "$REG/good/rootfs"
check "rootfs stored sparse" test "$(du -k "$REG/good/rootfs" | cut -f1)" -lt 4096

# --- existing name, --force
expect_failure "existing name without --force" "already exists" \
        vm --name good --kis-image "$HTTPS/files/test.tar.xz"
before_ino=$(stat -c %i "$REG/good")
pull vm --name good --kis-image "$HTTPS/files/test.tar.xz" --force
assert_eq "--force replaces" 0 "$RC"
check "--force: new directory" test "$(stat -c %i "$REG/good")" != "$before_ino"
assert_eq "--force: no leftovers" "good" "$(ls -A "$REG" | xargs)"

# --- transport policy
expect_failure "plain http refused" "only https:// is allowed" vm --name h --kis-image "$HTTP/files/test.tar.xz"
pull vm --name h --kis-image "$HTTP/files/test.tar.xz" --allow-insecure
assert_eq "http with --allow-insecure" 0 "$RC"
FLAKE_ALLOW_INSECURE_TRANSPORT=1 pull vm --name h2 --kis-image "$HTTP/files/test.tar.xz"
assert_eq "http with FLAKE_ALLOW_INSECURE_TRANSPORT" 0 "$RC"
expect_failure "redirect to http refused" "redirects to '$HTTP/files/test.tar.xz'" \
        vm --name r --kis-image "$HTTPS/redirect/x?to=$HTTP/files/test.tar.xz"
pull vm --name r --kis-image "$HTTPS/redirect/x?to=$HTTPS/files/test.tar.xz"
assert_eq "redirect to https followed" 0 "$RC"
FLAKE_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt expect_failure "unknown CA refused" "$HTTPS/files/test.tar.xz" \
        vm --name ca --kis-image "$HTTPS/files/test.tar.xz"
expect_failure "ftp scheme refused" "only https:// URLs are supported" vm --name f --kis-image "ftp://127.0.0.1/x"

# --- network failures
expect_failure "404" "HTTP 404" vm --name n --kis-image "$HTTPS/files/missing.tar.xz"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_failure "connection refused (after retries)" "gave up after 4 attempts" \
        vm --name n --kis-image "https://127.0.0.1:$port/test.tar.xz"
expect_failure "server closes mid-stream, cannot resume" "broke off" \
        vm --name n --kis-image "$HTTPS/truncate/test.tar.xz"
pull vm --name flaky --kis-image "$HTTPS/flaky/test.tar.xz"
assert_eq "server closes mid-stream, resume with Range" 0 "$RC"
assert_eq "resumed download is intact" "$(debugfs -R 'cat /usr/bin/payload' "$W/kis/test.x86_64-1.0.ext2" 2>/dev/null | sha256sum)" \
        "$(debugfs -R 'cat /usr/bin/payload' "$REG/flaky/rootfs" 2>/dev/null | sha256sum)"
pull vm --name busy --kis-image "$HTTPS/busy/test.tar.xz"
assert_eq "503 is retried" 0 "$RC"
assert_contains "503 retry is reported" "$ERR" "HTTP 503"
head -c 30000 "$SRV/test.tar.xz" > "$SRV/short.tar.xz"
expect_failure "truncated body (no length)" "short.tar.xz" vm --name n --kis-image "$HTTPS/nolength/short.tar.xz"

# --- bad archives
cp "$W/kis/test.x86_64-1.0.kernel" "$SRV/notanarchive"
expect_failure "not an archive" "not a KIS archive" vm --name b --kis-image "$HTTPS/files/notanarchive"
# A URL's credentials and query never reach a message (the archive's own
# errors name it by its URL).
secret_url="${HTTPS/https:\/\//https://flake:s3cret@}/files/notanarchive"
expect_failure "credentials in the URL" "not a KIS archive" vm --name b --kis-image "$secret_url"
assert_not_contains "... its password is not shown" "$ERR" "s3cret"
assert_contains "... the URL is shown redacted" "$ERR" "https://***@"

cp -r "$W/kis" "$W/bad"; echo "$(printf '%064d' 0) 2048 4096" > "$W/bad/test.x86_64-1.0.sha256"
pack_kis badsum.tar.xz "$W/bad"
expect_failure "checksum mismatch" "checksum verification failed" vm --name b --kis-image "$HTTPS/files/badsum.tar.xz"
echo "garbage" > "$W/bad/test.x86_64-1.0.sha256"; pack_kis badrec.tar.xz "$W/bad"
expect_failure "malformed checksum record" "malformed checksum record" vm --name b --kis-image "$HTTPS/files/badrec.tar.xz"

rm -rf "$W/bad"; cp -r "$W/kis" "$W/bad"; rm "$W/bad/test.x86_64-1.0.kernel"; pack_kis nokernel.tar.xz "$W/bad"
expect_failure "archive without kernel" "no kernel" vm --name b --kis-image "$HTTPS/files/nokernel.tar.xz"
rm -rf "$W/bad"; cp -r "$W/kis" "$W/bad"; rm "$W/bad/test.x86_64-1.0.ext2"; pack_kis norootfs.tar.xz "$W/bad"
expect_failure "archive without rootfs" "no filesystem image" vm --name b --kis-image "$HTTPS/files/norootfs.tar.xz"
rm -rf "$W/bad"; cp -r "$W/kis" "$W/bad"; rm "$W/bad/test.x86_64-1.0.sha256"; pack_kis nosum.tar.xz "$W/bad"
expect_failure "archive without checksum record" "no checksum record" vm --name b --kis-image "$HTTPS/files/nosum.tar.xz"
rm -rf "$W/bad"; cp -r "$W/kis" "$W/bad"; echo x > "$W/bad/README"; pack_kis tworootfs.tar.xz "$W/bad"
expect_failure "two rootfs candidates" "would be the rootfs" vm --name b --kis-image "$HTTPS/files/tworootfs.tar.xz"

# unsafe entries, each added to an otherwise good archive (GNU tar would
# sanitise them, so python's tarfile writes them as an attacker would)
evil() {    # $1 archive, $2 entry type, $3 name, $4 link target
        python3 - "$W/kis" "$SRV/$1" "$2" "$3" "${4:-}" <<'PY'
import io, os, sys, tarfile
src, out, kind, name, target = sys.argv[1:]
with tarfile.open(out, "w:xz") as t:
    for f in sorted(os.listdir(src)):
        t.add(os.path.join(src, f), arcname=f)
    i = tarfile.TarInfo(name)
    i.type = {"file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
              "chardev": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
    i.linkname = target
    t.addfile(i, io.BytesIO(b"") if kind == "file" else None)
PY
}
evil abs.tar.xz file /etc/evil.append
expect_failure "absolute path entry" "unsafe archive entry '/etc/evil.append'" vm --name u --kis-image "$HTTPS/files/abs.tar.xz"
evil dotdot.tar.xz file ../evil.append
expect_failure "'..' entry" "unsafe archive entry '../evil.append'" vm --name u --kis-image "$HTTPS/files/dotdot.tar.xz"
evil symlink.tar.xz symlink sub/evil ../../etc/shadow
expect_failure "symlink leaving the tree" "symbolic link to '../../etc/shadow'" vm --name u --kis-image "$HTTPS/files/symlink.tar.xz"
evil abslink.tar.xz symlink evil /etc/shadow
expect_failure "absolute symlink" "symbolic link to '/etc/shadow'" vm --name u --kis-image "$HTTPS/files/abslink.tar.xz"
evil hardlink.tar.xz hardlink evil ../etc/shadow
expect_failure "hard link leaving the tree" "hard link" vm --name u --kis-image "$HTTPS/files/hardlink.tar.xz"
evil device.tar.xz chardev null
expect_failure "device node" "device nodes are not allowed" vm --name u --kis-image "$HTTPS/files/device.tar.xz"
evil fifo.tar.xz fifo pipe
expect_failure "fifo" "fifos are not allowed" vm --name u --kis-image "$HTTPS/files/fifo.tar.xz"
evil inner.tar.xz symlink evil test.x86_64-1.0.kernel
pull vm --name inner --kis-image "$HTTPS/files/inner.tar.xz"
assert_eq "symlink inside the tree is ignored" "0 checksum checksum.installed initrd kernel rootfs" "$RC $(ls "$REG/inner" | xargs)"

# --- a KIS rootfs that is not ext2/3/4 (libext2fs cannot put sci in): the
# pull goes on with the image as it is, and says what that means
rm -rf "$W/other"; mkdir -p "$W/other"
head -c 100000 /dev/urandom > "$W/other/other.x86_64-1.0.squashfs"
head -c 1000 /dev/urandom > "$W/other/other.x86_64-1.0.kernel"
echo "$(sha256sum "$W/other/other.x86_64-1.0.squashfs" | cut -d' ' -f1)" > "$W/other/other.x86_64-1.0.sha256"
pack_kis other.tar.xz "$W/other"
pull vm --name other --kis-image "$HTTPS/files/other.tar.xz" --quiet
assert_eq "non-ext KIS rootfs: pulled" 0 "$RC"
assert_eq "non-ext KIS rootfs: one warning" "flake-pull: $HTTPS/files/other.tar.xz: not an ext2/ext3/ext4 filesystem image (Bad magic number in super-block): sci not installed, the image boots its own /usr/sbin/sci (an image made for the original flake-pilot then needs %serial, see flake-pull(8))" "$ERR"
assert_eq "non-ext KIS rootfs: kept as pulled, no installed record" \
        "$(sha256sum < "$W/other/other.x86_64-1.0.squashfs") checksum kernel rootfs" "$(sha256sum < "$REG/other/rootfs") $(ls "$REG/other" | xargs)"

# --- --sha256 of the archive
sum=$(sha256sum "$SRV/test.tar.xz" | cut -d' ' -f1)
pull vm --name s1 --kis-image "$HTTPS/files/test.tar.xz" --sha256 "$sum"
assert_eq "--sha256 matching" 0 "$RC"
expect_failure "--sha256 mismatch" "SHA-256 mismatch" vm --name s2 --kis-image "$HTTPS/files/test.tar.xz" --sha256 "$(printf '%064d' 1)"

# --- the registry cannot take it
mkdir -p "$W/full"; mount -t tmpfs -o size=256k tmpfs "$W/full"; MOUNTS="$MOUNTS $W/full"
FLAKE_FIRECRACKER_DIR="$W/full" pull vm --name big --kis-image "$HTTPS/files/test.tar.xz"
assert_eq "disk full: exit 1" 1 "$RC"
assert_contains "disk full: message" "$ERR" "No space left on device"
assert_eq "disk full: nothing left" "" "$(ls -A "$W/full/images")"
mkdir -p "$W/ro"; mount -t tmpfs -o size=1m tmpfs "$W/ro"; mkdir -p "$W/ro/images" "$W/ro/storage"
mount -o remount,ro "$W/ro"; MOUNTS="$MOUNTS $W/ro"
FLAKE_FIRECRACKER_DIR="$W/ro" pull vm --name x --kis-image "$HTTPS/files/test.tar.xz"
assert_eq "read-only registry: exit 1" 1 "$RC"
assert_contains "read-only registry: message" "$ERR" "Cannot write to the image registry"

# --- size cap: a tiny archive with a 1 TiB sparse rootfs (tar -S keeps only
# the map: hashing its holes would take hours)
rm -rf "$W/bomb"; mkdir -p "$W/bomb"
truncate -s 1T "$W/bomb/test.x86_64-1.0.ext2"
echo kernel > "$W/bomb/test.x86_64-1.0.kernel"
echo "$(printf '%064d' 0) 1 4096" > "$W/bomb/test.x86_64-1.0.sha256"
tar -S -C "$W/bomb" -cJf "$SRV/bomb.tar.xz" .
check "sparse bomb: the archive is small" test "$(stat -c %s "$SRV/bomb.tar.xz")" -lt 20000
start=$(date +%s)
expect_failure "sparse bomb: refused by the default size cap" \
        "archive entry './test.x86_64-1.0.ext2' is 1.0TiB, more than the limit of 32.0GiB" \
        vm --name bomb --kis-image "$HTTPS/files/bomb.tar.xz" --quiet
check "sparse bomb: refused at once" test $(( $(date +%s) - start )) -lt 10
assert_eq "sparse bomb: one line" "flake-pull: $HTTPS/files/bomb.tar.xz: archive entry './test.x86_64-1.0.ext2' is 1.0TiB, more than the limit of 32.0GiB" "$ERR"
export FLAKE_PULL_MAX_SIZE=64K
expect_failure "FLAKE_PULL_MAX_SIZE lowers the cap" "more than the limit of 64.0KiB" \
        vm --name capped --kis-image "$HTTPS/files/test.tar.xz"
unset FLAKE_PULL_MAX_SIZE
expect_failure "--max-size lowers the cap" "more than the limit of 64.0KiB" \
        vm --name capped --kis-image "$HTTPS/files/test.tar.xz" --max-size 64K
pull vm --name capped --kis-image "$HTTPS/files/test.tar.xz" --max-size 64M
assert_eq "--max-size: an archive under the cap is pulled" 0 "$RC"
pull vm --name x --kis-image "$HTTPS/files/test.tar.xz" --max-size lots
assert_eq "--max-size: not a size is a usage error" 2 "$RC"
assert_contains "--max-size: named" "$ERR" "Invalid --max-size 'lots'"

# --- SIGTERM while the holes of a (permitted) huge entry are hashed: the
# pull stops at once and leaves the registry as it was
before=$(registry_state)
"$PULL" vm --name bomb --kis-image "$HTTPS/files/bomb.tar.xz" --max-size 2T 2>"$W/bomb.err" & pid=$!
sleep 2
check "hashing: still running after 2 s" kill -0 $pid
kill -TERM $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
        assert_eq "SIGTERM during hashing: exits within 5 s" exited running
        kill -KILL $pid
fi
wait $pid; rc=$?
assert_eq "SIGTERM during hashing: exit 143" 143 "$rc"
assert_contains "SIGTERM during hashing: message" "$(cat "$W/bomb.err")" "interrupted"
assert_eq "SIGTERM during hashing: registry unchanged (no staging dir)" "$before" "$(registry_state)"

# --- Ctrl-C in the middle of a slow download
head -c 3000000 /dev/urandom > "$W/kis/test.x86_64-1.0.kernel"; pack_kis slow.tar.xz "$W/kis"
before=$(registry_state)
"$PULL" vm --name slow --kis-image "$HTTPS/slow/slow.tar.xz" 2>"$W/slow.err" & pid=$!
sleep 1
check "interrupted pull: staging dir exists while running" sh -c "ls -A '$REG' | grep -q '^\.slow\.pull-'"
kill -INT $pid; wait $pid; rc=$?
assert_eq "interrupted pull: exit 130" 130 "$rc"
assert_contains "interrupted pull: message" "$(cat "$W/slow.err")" "interrupted"
assert_eq "interrupted pull: registry unchanged" "$before" "$(registry_state)"

# --- a staging dir left by a killed pull is cleaned up by the next one
"$PULL" vm --name killed --kis-image "$HTTPS/slow/slow.tar.xz" 2>/dev/null & pid=$!
sleep 1; kill -KILL $pid; wait $pid 2>/dev/null
check "killed pull leaves its staging dir" sh -c "ls -A '$REG' | grep -q '^\.killed\.pull-'"
pull vm --name after --kis-image "$HTTPS/files/test.tar.xz"
check_fails "next pull removes it" sh -c "ls -A '$REG' | grep -q '^\.killed\.pull-'"

finish
