#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds (once) the Debian root the booted-systemd tests run in, and prints
# its path. The root is cached across runs because debootstrap takes about
# two minutes; it is rebuilt when absent or when the package list below changes
# (the root's name carries a hash of the list). CI starts clean, so the
# first run always builds it.
#
#   make-root.sh [CACHE_DIR]     (default: /var/cache/flake-pilot-tests)
set -eu

cache=${1:-${FLAKE_TEST_CACHE:-/var/cache/flake-pilot-tests}}
mirror=${FLAKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Keep this minimal: CI rebuilds it on every clean run.
# The project's runtime libraries (and the sanitizer runtimes of the ASan
# build), so that the installed build runs inside; rootful podman (crun,
# conmon, catatonit for --init, netavark: containers-common needs a network
# stack) and a registry to pull from (docker-registry, which serves
# 127.0.0.1:5000 as packaged), busybox for the test image and the HTTP
# server, QEMU and e2fsprogs for the VM flakes. runc is the runtime there (crun
# cannot run with cgroups on these hosts). Not needed: fuse-overlayfs (the image store is a bind mount from an ext4
# host directory, native overlay works). A test user's own manager and rootless
# podman (check-usermode.sh): uidmap (newuidmap), libpam-systemd (logind makes
# user@UID.service and /run/user/UID for a lingering user) and
# dbus-user-session (the user's bus, which pilots and podman talk to).
include="systemd,systemd-sysv,dbus,iproute2,procps,libyaml-0-2,libssl3,libcurl4,libarchive13,libnl-3-200,libnl-route-3-200,libnftables1,libasan8,libubsan1"
include="$include,podman,runc,conmon,catatonit,netavark,docker-registry,busybox-static,qemu-system-x86,e2fsprogs"
include="$include,uidmap,libpam-systemd,dbus-user-session"
stamp="bookworm minbase $include v1"
# One root per package list: a tree with another list (another branch, an
# older checkout) never replaces a root that a running test has mounted.
root="$cache/nspawn-root-$(echo "$stamp" | sha256sum | cut -c1-12)"

if [ -f "$root/.flake-test-root" ] && [ "$(cat "$root/.flake-test-root")" = "$stamp" ]; then
        echo "$root"
        exit 0
fi

mkdir -p "$cache"
# One builder at a time; a second caller waits and then finds the root.
exec 9>"$cache/.lock"
flock 9
if [ -f "$root/.flake-test-root" ] && [ "$(cat "$root/.flake-test-root")" = "$stamp" ]; then
        echo "$root"
        exit 0
fi

tmp="$root.new"
rm -rf "$tmp"
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$include" bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
        tail -n 30 "$cache/debootstrap.log" >&2
        rm -rf "$tmp"
        echo "make-root: debootstrap failed (log: $cache/debootstrap.log)" >&2
        exit 1
fi
# Boot quickly and quietly: nothing the tests do not need.
rm -f "$tmp"/etc/systemd/system/*.wants/apt-daily* \
      "$tmp"/etc/systemd/system/timers.target.wants/* 2>/dev/null || true
echo "flake-test" >"$tmp/etc/hostname"
: >"$tmp/etc/machine-id"
apt_clean_dirs="$tmp/var/cache/apt/archives/*.deb $tmp/var/lib/apt/lists/*_Packages"
# shellcheck disable=SC2086
rm -f $apt_clean_dirs 2>/dev/null || true
echo "$stamp" >"$tmp/.flake-test-root"
rm -rf "$root"
mv "$tmp" "$root"
echo "make-root: built $root in $(( $(date +%s) - start ))s" >&2
echo "$root"
