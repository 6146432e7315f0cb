#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull flake APP[@ID] (what flake-pull@.service runs): VM flakes
# fetch from their vm.pull section and are idempotent; container flakes
# get their images from podman, into the flake image store.
. "$FLAKE_SOURCE_ROOT/tests/integration/pull/common.sh"
require podman

start_servers
make_kis_dir "$W/kis"
pack_kis test.tar.xz "$W/kis"
make_rootfs "$SRV/rootfs.ext4" ext4 8M
head -c 100000 /dev/urandom > "$SRV/vmlinux"
FLAKES="$FLAKE_ROOT/usr/share/flakes"
mkdir -p "$FLAKES"

vm_flake() {    # $1 app, $2 image name, $3... vm.pull lines
        local app=$1 name=$2; shift 2
        {
                echo "vm:"
                echo "  name: $name"
                echo "  host_app_path: /usr/bin/$app"
                echo "  target_app_path: /usr/bin/$app"
                [ $# -gt 0 ] && echo "  pull:"
                for l in "$@"; do echo "    $l"; done
                echo "  runtime:"
                echo "    firecracker:"
                echo "      boot_args: [\"init=/usr/sbin/sci\"]"
                echo "      rootfs_image_path: /var/lib/firecracker/images/$name/rootfs"
                echo "      kernel_image_path: /var/lib/firecracker/images/$name/kernel"
        } > "$FLAKES/$app.yaml"
}

vm_flake kisapp kisimg "kis_image: $HTTPS/files/test.tar.xz"
pull flake kisapp
assert_eq "vm flake: kis image pulled" "0 checksum checksum.installed initrd kernel rootfs" "$RC $(ls "$REG/kisimg" | xargs)"
ino=$(stat -c %i "$REG/kisimg")
pull flake kisapp@second
assert_eq "vm flake: second run (app@id) succeeds" 0 "$RC"
assert_contains "vm flake: second run does not fetch" "$ERR" "present and verified"
assert_eq "vm flake: image untouched" "$ino" "$(stat -c %i "$REG/kisimg")"

# a damaged image is fetched again
printf 'garbage' | dd of="$REG/kisimg/rootfs" bs=1 seek=4096 conv=notrunc 2>/dev/null
pull flake kisapp
assert_eq "vm flake: damaged image re-pulled" 0 "$RC"
assert_contains "vm flake: damage reported" "$ERR" "does not match its checksum record"
assert_eq "vm flake: repaired image verifies" "$(cat "$REG/kisimg/checksum.installed")" "$(sha256sum "$REG/kisimg/rootfs" | cut -d' ' -f1)"
assert_eq "vm flake: repaired image has the archive's content" "$(debugfs -R 'cat /usr/bin/payload' "$W/kis/test.x86_64-1.0.ext2" 2>/dev/null | sha256sum)" \
        "$(debugfs -R 'cat /usr/bin/payload' "$REG/kisimg/rootfs" 2>/dev/null | sha256sum)"

# an image pulled before flake-pull installed sci (only the KIS record,
# the rootfs as pulled) is still verified against that record
rm "$REG/kisimg/checksum.installed"; cp "$W/kis/test.x86_64-1.0.ext2" "$REG/kisimg/rootfs"
pull flake kisapp
assert_contains "vm flake: an image with only the KIS record verifies" "$ERR" "present and verified"

vm_flake compapp compimg "rootfs: $HTTPS/files/rootfs.ext4" "kernel: $HTTPS/files/vmlinux" \
        "sha256: $(sha256sum "$SRV/rootfs.ext4" | cut -d' ' -f1)"
pull flake compapp
assert_eq "vm flake: components pulled" "0 checksum.installed kernel rootfs" "$RC $(ls "$REG/compimg" | xargs)"
pull flake compapp
assert_contains "vm flake: components present" "$ERR" "present and verified"
printf 'garbage' | dd of="$REG/compimg/rootfs" bs=1 seek=4096 conv=notrunc 2>/dev/null
pull flake compapp
assert_contains "vm flake: a damaged component rootfs is fetched again" "$ERR" "does not match its checksum record"

# bad input
vm_flake nopull noimg
expect_failure "vm flake without vm.pull" "has no vm.pull section" flake nopull
vm_flake badkey badimg "kis_image: $HTTPS/files/test.tar.xz" "colour: blue"
expect_failure "unknown vm.pull key" "unknown key vm.pull.colour" flake badkey
vm_flake both bothimg "kis_image: $HTTPS/files/test.tar.xz" "kernel: $HTTPS/files/vmlinux"
expect_failure "kis_image with kernel" "vm.pull.kis_image conflicts with" flake both
vm_flake insecure insecimg "kis_image: $HTTP/files/test.tar.xz"
expect_failure "http source refused" "only https:// is allowed" flake insecure
expect_failure "unregistered flake" "No flake 'ghost' is registered" flake ghost
expect_failure "invalid instance" "Invalid flake instance" flake "../etc"
pull flake
assert_eq "missing instance is a usage error" 2 "$RC"

# container flakes: the real podman, a private image store
# the configured store: flakes.yml names it
mkdir -p "$FLAKE_ROOT/etc/flakes"
export FLAKE_CONFIG="$FLAKE_ROOT/etc/flakes.yml"
printf "generic:\n  podman_storage_conf: /etc/flakes/storage.conf\n" > "$FLAKE_CONFIG"    # under FLAKE_ROOT
cat > "$FLAKE_ROOT/etc/flakes/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$W/storage"
runroot = "$W/runroot"
CONF
echo '[[registry]]
location = "127.0.0.1:1"
insecure = true' > "$W/registries.conf"
export CONTAINERS_CONF="$FLAKE_SOURCE_ROOT/tests/fixtures/containers.conf" CONTAINERS_REGISTRIES_CONF="$W/registries.conf"
mkdir -p "$W/img/bin"; cp /bin/busybox "$W/img/bin/"; tar -C "$W/img" -cf "$W/img.tar" .
CONTAINERS_STORAGE_CONF="$FLAKE_ROOT/etc/flakes/storage.conf" podman import "$W/img.tar" localhost/flake-pull-test:latest >/dev/null 2>&1 \
        || { echo "Bail out! cannot import the test image"; exit 1; }

cat > "$FLAKES/capp.yaml" <<YAML
container:
  name: localhost/flake-pull-test:latest
  target_app_path: /bin/busybox
  host_app_path: /usr/bin/capp
YAML
pull flake capp
assert_eq "container flake: image present in the flake store" 0 "$RC"
assert_contains "container flake: not pulled again" "$ERR" "localhost/flake-pull-test:latest is present"

cat > "$FLAKES/cmissing.yaml" <<YAML
container:
  name: 127.0.0.1:1/absent:latest
  target_app_path: /bin/sh
  host_app_path: /usr/bin/cmissing
YAML
pull flake cmissing
assert_eq "container flake: unreachable image fails" 1 "$RC"
assert_contains "container flake: podman pull error" "$ERR" "podman pull 127.0.0.1:1/absent:latest failed"
CONTAINERS_STORAGE_CONF="$FLAKE_ROOT/etc/flakes/storage.conf" podman rmi -a -f >/dev/null 2>&1

finish
