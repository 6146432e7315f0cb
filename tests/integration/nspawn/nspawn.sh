#!/bin/bash
# SPDX-License-Identifier: MIT
# The booted-systemd system test. Boots a real systemd in systemd-nspawn on a
# cached Debian root (make-root.sh) with the project installed into it
# ("meson install" into the upper layer of an overlay over that root, so the
# cache is never modified), runs inner.sh as a unit inside, and reads back
# the TAP lines it wrote. On any failure the container's journal is printed.
#
# Checked (one check_* function each in inner.sh): generated units after
# boot and after a reload from flake_systemd_reload() (drop-ins,
# SourcePath=, dependencies, limits, escaping, .wants/), tmpfiles and
# sysusers, the installed generators; flake-tap@ creating and removing its
# TAP (private network, /dev/net/tun); a podman flake launched by the
# installed podman-pilot in its transient scope, with "journalctl
# FLAKE_NAME="; flake-pull@ fetching a KIS image from a server inside, then
# idempotent; VM flakes under QEMU (TCG) through firecracker-pilot's sd-bus
# path: flake-vm@ started, status, console in its journal, stop, one-shot
# teardown, failures of the unit and of its pull reported at once.
#
# Time: about 100 s with the root cached (two TCG boots and a failed one
# dominate); a cold root (debootstrap) adds about 90 s.

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/nspawn/boot.sh"
require systemd-nspawn debootstrap meson python3 flock timeout mount umount

here="$FLAKE_SOURCE_ROOT/tests/integration/nspawn"
reload="$FLAKE_BUILD_ROOT/tests/integration/nspawn/test-systemd-reload"

tmp=$(mktemp -d /var/tmp/flake-nspawn.XXXXXX)
trap 'nspawn_cleanup; rm -rf "$tmp"' EXIT

# --- outside any systemd: reloading is a quiet no-op ---
out=$("$reload" 2>&1); status=$?
if [ -d /run/systemd/system ]; then
        _t_result 0 "host runs systemd: reload no-op check not applicable here"
else
        assert_eq "flake_systemd_reload() without systemd returns 0" 0 "$status"
        assert_contains "... and says so at debug level" "$out" "not running"
fi

# --- the root, the installation, the payload ---
nspawn_overlay "$tmp"
upper=$NSPAWN_UPPER

if ! out=$(meson install -C "$FLAKE_BUILD_ROOT" --no-rebuild --quiet --destdir "$upper" 2>&1); then
        echo "Bail out! meson install failed: $out"
        exit 1
fi
option() {
        meson introspect "$FLAKE_BUILD_ROOT" --buildoptions |
                python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$1"
}
prefix=$(option prefix)
if [ "$(option b_sanitize)" != none ]; then
        # A sanitizer build: ASan still catches memory errors inside, but
        # LeakSanitizer needs ptrace, which the hardened units forbid (their
        # own tests check leaks outside any sandbox).
        mkdir -p "$upper/etc/systemd/system.conf.d"
        printf '[Manager]\nDefaultEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
                >"$upper/etc/systemd/system.conf.d/50-asan.conf"
fi
unitdir="$prefix/lib/systemd/system"

# The templates come from units/ once flake-pull@, flake-tap@ and flake-vm@
# are there; until then stand-ins (tests/generator/stub-units) take their
# place so that the generated wiring can be checked against a real manager.
for t in flake-pull@ flake-tap@ flake-vm@; do
        if [ ! -e "$upper$unitdir/$t.service" ]; then
                diag "$t.service is not installed by this tree: using a stand-in"
                mkdir -p "$upper/etc/systemd/system"
                cp "$FLAKE_SOURCE_ROOT/tests/generator/stub-units/$t.service" "$upper/etc/systemd/system/"
        fi
done

mkdir -p "$upper/opt/flake-test" "$upper/usr/share/flakes" \
         "$upper/etc/systemd/system/multi-user.target.wants"
cp "$here/inner.sh" "$here/inner-lib.sh" "$here"/check-*.sh "$reload" "$upper/opt/flake-test/"
echo "PREFIX=$prefix" >"$upper/opt/flake-test/env"
cp "$here"/flakes/*.yaml "$upper/usr/share/flakes/"
cp "$here/flake-test.service" "$upper/etc/systemd/system/"

# Podman inside the container: its default cgroup handling, with what this
# host forces (containers.conf says which and why). The flake image store is
# a bind mount (see the boot below): overlayfs cannot stack on the
# container's root overlay.
mkdir -p "$upper/etc/containers" "$tmp/storage"
cp "$here/containers.conf" "$upper/etc/containers/containers.conf"

# A registry to pull from: docker-registry with a config of our own (the
# packaged service wants basic auth: masked), plain HTTP on loopback.
mkdir -p "$upper/etc/containers/registries.conf.d"
printf '[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = true\n' \
        >"$upper/etc/containers/registries.conf.d/50-flake-test.conf"
ln -s /dev/null "$upper/etc/systemd/system/docker-registry.service"
cat >"$upper/opt/flake-test/registry.yml" <<EOC
version: 0.1
storage: {filesystem: {rootdirectory: /var/lib/flake-test-registry}}
http: {addr: 127.0.0.1:5000}
EOC

# The VM test image (kernel, initramfs, ext4 root with the build's sci) as a
# KIS archive, for flake-pull@ to fetch from a server inside the container.
img="$FLAKE_BUILD_ROOT/tests/integration/vm/image"
"$FLAKE_SOURCE_ROOT/tests/integration/vm/build-image.sh" "$img" "$FLAKE_BUILD_ROOT/helpers/sci/sci" ||
        { echo "Bail out! cannot build the VM test image"; exit 1; }
kis="$tmp/kis"
mkdir -p "$kis" "$upper/opt/flake-test/srv"
cp "$img/rootfs" "$kis/tcg.x86_64-1.0.ext4"
cp "$img/kernel" "$kis/tcg.x86_64-1.0.kernel"
cp "$img/initrd" "$kis/tcg.x86_64-1.0.initrd"
echo "$(sha256sum "$kis/tcg.x86_64-1.0.ext4" | cut -d' ' -f1) $(( $(stat -c %s "$kis/tcg.x86_64-1.0.ext4") / 4096 )) 4096" \
        >"$kis/tcg.x86_64-1.0.sha256"
sha256sum <"$kis/tcg.x86_64-1.0.ext4" | cut -d' ' -f1 >"$upper/opt/flake-test/srv/rootfs.sha256"
XZ_OPT=-0 tar -C "$kis" -cJf "$upper/opt/flake-test/srv/tcg.tar.xz" . ||
        { echo "Bail out! cannot pack the KIS archive"; exit 1; }
# The test server speaks plain HTTP: allowed for this test only, the way an
# admin would do it, with a drop-in.
mkdir -p "$upper/etc/systemd/system/flake-pull@.service.d"
printf '[Service]\nEnvironment=FLAKE_ALLOW_INSECURE_TRANSPORT=1\n' \
        >"$upper/etc/systemd/system/flake-pull@.service.d/50-test-http.conf"
ln -s ../flake-test.service "$upper/etc/systemd/system/multi-user.target.wants/flake-test.service"

nspawn_mount

# --- boot ---
start=$(date +%s)
nspawn_boot "$tmp/console.log" --bind="$tmp/storage:/usr/share/flakes/storage"
status=$?
diag "container booted, tested and powered off in $(( $(date +%s) - start ))s"
assert_eq "container powered off cleanly" 0 "$status"

# A container has no /dev/kmsg: the generator's log lines (like systemd's
# own generators') go to the console there. One line for the bad flake.
line=$(grep "flake-generator:" "$tmp/console.log" | head -n 1)
assert_contains "the generator logged the malformed flake with file and line" "$line" \
        "flake-generator: /usr/share/flakes/broken.yaml:3:1: did not find expected ',' or ']', ignoring flake 'broken'."
assert_eq "... in one line at boot" 1 \
        "$(sed '/Queued start job/q' "$tmp/console.log" | grep -c "flake-generator:")"

# --- results ---
nspawn_results
if [ "$T_FAILED" != 0 ] || [ "$status" != 0 ]; then
        nspawn_diag "$tmp/console.log"
fi
finish
