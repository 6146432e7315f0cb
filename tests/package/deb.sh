#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages (debian/, README.md "Packages"): built with
# dpkg-buildpackage from a copy of the tree, lintian-clean, split as the
# README says; then installed with apt into a booted systemd (a fresh
# overlay over the nspawn test's cached root, without the meson-installed
# build of nspawn.sh), where a container flake and a VM flake run from the
# packaged programs, and removed and purged again (inner-deb.sh).
#
# Time: about 20 s to build, 20 s of lintian, 60 s in the container.

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/package/common.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/nspawn/boot.sh"
require dpkg-buildpackage dh dpkg-deb lintian systemd-nspawn debootstrap flock timeout mount umount

here="$FLAKE_SOURCE_ROOT/tests/package"
version=$(package_version)
tmp=$(mktemp -d /var/tmp/flake-deb.XXXXXX)
trap 'nspawn_cleanup; rm -rf "$tmp"' EXIT

# --- build ---
package_tree "$tmp/src"
(cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc) >"$tmp/build.log" 2>&1
status=$?
assert_eq "dpkg-buildpackage builds the source and binary packages" 0 "$status"
if [ "$status" != 0 ]; then
        diag "$(tail -n 40 "$tmp/build.log")"
        finish; exit $?
fi
# Debian's build flags (-O2, _FORTIFY_SOURCE=2, -Wformat-security) warn
# where the CI builds' flags do not (warn_unused_result on write(), say).
assert_eq "... without a compiler warning under Debian's build flags" "" \
        "$(grep -E '\.[ch]:[0-9]+:[0-9]+: warning:' "$tmp/build.log" | head -n 5)"
check "... from a copy: nothing of the build in the checkout" \
        sh -c "! ls -d '$FLAKE_SOURCE_ROOT'/debian/.debhelper '$FLAKE_SOURCE_ROOT'/debian/files '$FLAKE_SOURCE_ROOT'/debian/flake-pilot 2>/dev/null"
assert_contains "... every installed file is in a package (dh_missing --fail-missing, compat 13)" \
        "$(cat "$tmp/build.log")" "dh_missing"

deb() { echo "$tmp/${1}_${version}_$(dpkg --print-architecture).deb"; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{ print $6 }' | sed 's,^\.,,'; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
check "the source package is built" test -s "$tmp/flake-pilot_$version.dsc"
for p in flake-pilot flake-pilot-podman flake-pilot-firecracker flake-pilot-firecracker-guestvm-tools; do
        check "package $p is built" test -s "$(deb $p)"
done

# --- lintian, everything down to pedantic, of the source and the binaries
# together (its group checks see files that two packages would both ship) ---
out=$(lintian --pedantic --info "$tmp/flake-pilot_${version}_$(dpkg --print-architecture).changes" 2>&1 |
        grep -v '^running with root privileges')
assert_eq "lintian --pedantic --info: no tag (debian/*.lintian-overrides say why for the rest)" "" "$out"

# --- the split ---
f=$(files flake-pilot)
for p in /usr/bin/flake-ctl /usr/lib/systemd/system-generators/flake-generator /usr/libexec/flake-pilot/flake-pull \
         /lib/systemd/system/flake-pull@.service /usr/lib/tmpfiles.d/flake-pilot.conf \
         /usr/lib/sysusers.d/flake-pilot.conf /usr/share/polkit-1/rules.d/50-flake-pilot.rules /etc/flakes.yml; do
        assert_contains "flake-pilot has $p" "$f" "$p"
done
f=$(files flake-pilot-podman)
for p in /usr/bin/podman-pilot /usr/libexec/flake-pilot/flake-agent /etc/flakes/storage.conf /etc/flakes/container-flake.yaml \
         /lib/systemd/system/flake-launch.socket; do
        assert_contains "flake-pilot-podman has $p" "$f" "$p"
done
f=$(files flake-pilot-firecracker)
for p in /usr/bin/firecracker-pilot /usr/libexec/flake-pilot/flake-vm /usr/libexec/flake-pilot/flake-tap \
         /usr/lib/flake-pilot/sci /lib/systemd/system/flake-vm@.service /etc/flakes/firecracker-flake.yaml; do
        assert_contains "flake-pilot-firecracker has $p" "$f" "$p"
done
f=$(files flake-pilot-firecracker-guestvm-tools)
assert_contains "flake-pilot-firecracker-guestvm-tools has sci" "$f" /usr/sbin/sci
assert_contains "... and the /overlayroot mount point" "$f" /overlayroot/
assert_eq "... and depends on no shared library (sci is static)" "" "$(field flake-pilot-firecracker-guestvm-tools Depends)"
assert_contains "flake-pilot-podman depends on podman" "$(field flake-pilot-podman Depends)" podman
assert_contains "... and on flake-pilot of its version" "$(field flake-pilot-podman Depends)" "flake-pilot (= $version)"
assert_contains "flake-pilot-firecracker depends on flake-pilot of its version" \
        "$(field flake-pilot-firecracker Depends)" "flake-pilot (= $version)"
assert_contains "the packages with sci say which C library is in it (Built-Using)" \
        "$(field flake-pilot-firecracker Built-Using) $(field flake-pilot-firecracker-guestvm-tools Built-Using)" "glibc (= "

# --- installed into a booted systemd ---
nspawn_overlay "$tmp/ns"
upper=$NSPAWN_UPPER
mkdir -p "$upper/opt/flake-test/debs" "$upper/opt/flake-test/vm" "$upper/etc/containers" \
         "$upper/etc/systemd/system/multi-user.target.wants" "$tmp/storage"
for p in flake-pilot flake-pilot-podman flake-pilot-firecracker flake-pilot-firecracker-guestvm-tools; do
        cp "$(deb $p)" "$upper/opt/flake-test/debs/"
done
cp "$here/inner-deb.sh" "$upper/opt/flake-test/inner.sh"
cp "$FLAKE_SOURCE_ROOT/tests/integration/nspawn/inner-lib.sh" "$upper/opt/flake-test/"
cp "$FLAKE_SOURCE_ROOT/tests/integration/nspawn/flake-test.service" "$upper/etc/systemd/system/"
ln -s ../flake-test.service "$upper/etc/systemd/system/multi-user.target.wants/flake-test.service"
# podman in the container, as for nspawn.sh (containers.conf says why).
cp "$FLAKE_SOURCE_ROOT/tests/integration/nspawn/containers.conf" "$upper/etc/containers/containers.conf"
# The VM image an admin would pull, with the packaged guest init as its sci.
dpkg-deb -x "$(deb flake-pilot-firecracker-guestvm-tools)" "$tmp/guest"
"$FLAKE_SOURCE_ROOT/tests/integration/vm/build-image.sh" "$tmp/vmimage" "$tmp/guest/usr/sbin/sci" ||
        { echo "Bail out! cannot build the VM test image"; exit 1; }
cp "$tmp/vmimage/kernel" "$tmp/vmimage/initrd" "$tmp/vmimage/rootfs" "$upper/opt/flake-test/vm/"
nspawn_mount

start=$(date +%s)
# The flake image store is a bind mount: overlayfs cannot stack on the
# container's root overlay.
nspawn_boot "$tmp/console.log" --bind="$tmp/storage:/usr/share/flakes/storage"
status=$?
diag "container booted, tested and powered off in $(( $(date +%s) - start ))s"
assert_eq "container powered off cleanly" 0 "$status"
nspawn_results
if [ "$T_FAILED" != 0 ] || [ "$status" != 0 ]; then
        nspawn_diag "$tmp/console.log"
fi
finish
