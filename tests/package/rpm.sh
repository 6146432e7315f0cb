#!/bin/bash
# SPDX-License-Identifier: MIT
# The RPM packages (package/flake-pilot.spec, README.md "Packages"): built
# with rpmbuild from a tarball of the tree, as a distribution would, and
# checked: the split, what each package needs, its scriptlets. On Debian,
# rpmbuild runs with --nodeps: Debian's rpm has no package database that
# could satisfy BuildRequires (the build dependencies are Debian packages
# here), and the packages are not installed (that is deb.sh's part).
#
# Time: about 20 s.

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/package/common.sh"
require rpmbuild rpm tar gzip

version=$(package_version)
tmp=$(mktemp -d /var/tmp/flake-rpm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

assert_eq "the spec's Version: is meson.build's" "$version" \
        "$(sed -n 's/^Version: *//p' "$FLAKE_SOURCE_ROOT/package/flake-pilot.spec")"

package_tree "$tmp/flake-pilot-$version"
mkdir -p "$tmp/top/SOURCES"
tar -C "$tmp" -czf "$tmp/top/SOURCES/flake-pilot-$version.tar.gz" "flake-pilot-$version"
rpmbuild -bb --nodeps --define "_topdir $tmp/top" --define "_smp_build_ncpus 2" \
        "$FLAKE_SOURCE_ROOT/package/flake-pilot.spec" >"$tmp/build.log" 2>&1
status=$?
assert_eq "rpmbuild builds the packages" 0 "$status"
if [ "$status" != 0 ]; then
        diag "$(tail -n 40 "$tmp/build.log")"
        finish; exit $?
fi
# rpmbuild fails on a file installed but in no %files ("Installed (but
# unpackaged) file(s) found"): every file is in a package.

arch=$(rpm --eval '%{_arch}')
rpmf() { echo "$tmp/top/RPMS/$arch/$1-$version-1.$arch.rpm"; }
q() { local p=$1; shift; rpm -qp "$@" "$(rpmf "$p")" 2>&1; }
for p in flake-pilot flake-pilot-podman flake-pilot-firecracker flake-pilot-firecracker-guestvm-tools; do
        check "package $p is built" test -s "$(rpmf $p)"
done

# --- the split, as in the Debian packages ---
f=$(q flake-pilot -l)
for p in /usr/bin/flake-ctl /usr/lib/systemd/system-generators/flake-generator /usr/libexec/flake-pilot/flake-pull \
         /usr/lib/systemd/system/flake-pull@.service /usr/lib/tmpfiles.d/flake-pilot.conf \
         /usr/lib/sysusers.d/flake-pilot.conf /usr/share/polkit-1/rules.d/50-flake-pilot.rules /etc/flakes.yml; do
        assert_contains "flake-pilot has $p" "$f" "$p"
done
f=$(q flake-pilot-podman -l)
for p in /usr/bin/podman-pilot /usr/libexec/flake-pilot/flake-agent /etc/flakes/storage.conf /usr/lib/systemd/system/flake-launch.socket; do
        assert_contains "flake-pilot-podman has $p" "$f" "$p"
done
f=$(q flake-pilot-firecracker -l)
for p in /usr/bin/firecracker-pilot /usr/libexec/flake-pilot/flake-vm /usr/lib/flake-pilot/sci \
         /usr/lib/systemd/system/flake-vm@.service /etc/flakes/firecracker-flake.yaml; do
        assert_contains "flake-pilot-firecracker has $p" "$f" "$p"
done
assert_eq "flake-pilot-firecracker-guestvm-tools has sci and /overlayroot" \
        "$(printf '/overlayroot\n/usr/sbin/sci')" "$(q flake-pilot-firecracker-guestvm-tools -l | grep -v /usr/share/man)"
assert_eq "the configuration files are %config(noreplace)" \
        "$(printf '/etc/flakes.yml\n/etc/flakes/container-flake.yaml\n/etc/flakes/storage.conf\n/etc/flakes/firecracker-flake.yaml')" \
        "$(q flake-pilot -c; q flake-pilot-podman -c; q flake-pilot-firecracker -c)"
assert_eq "the user generator link is relative" "../system-generators/flake-generator" \
        "$(q flake-pilot --qf '[%{FILENAMES} %{FILELINKTOS}\n]' | sed -n 's,^/usr/lib/systemd/user-generators/flake-user-generator ,,p')"

# --- what each needs ---
r=$(q flake-pilot-podman -R)
assert_contains "flake-pilot-podman requires podman" "$r" podman
assert_contains "... and flake-pilot of its version" "$r" "flake-pilot = $version-1"
assert_contains "flake-pilot-firecracker requires flake-pilot of its version" "$(q flake-pilot-firecracker -R)" "flake-pilot = $version-1"
assert_not_contains "flake-pilot-firecracker-guestvm-tools needs no shared library (sci is static)" \
        "$(q flake-pilot-firecracker-guestvm-tools -R)" ".so"

# --- scriptlets: sysusers, tmpfiles, a reload for the generator, nothing enabled ---
s=$(q flake-pilot --scripts)
assert_contains "flake-pilot's %post applies sysusers" "$s" "systemd-sysusers /usr/lib/sysusers.d/flake-pilot.conf"
assert_contains "... and tmpfiles" "$s" "systemd-tmpfiles --create /usr/lib/tmpfiles.d/flake-pilot.conf"
assert_contains "... and reloads systemd (the generator)" "$s" "systemctl daemon-reload"
assert_not_contains "no package enables or starts a unit" \
        "$(q flake-pilot --scripts; q flake-pilot-podman --scripts; q flake-pilot-firecracker --scripts)" "enable"
finish
