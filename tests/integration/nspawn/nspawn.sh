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
require systemd-nspawn debootstrap meson python3 flock timeout mount umount

here="$FLAKE_SOURCE_ROOT/tests/integration/nspawn"
reload="$FLAKE_BUILD_ROOT/tests/integration/nspawn/test-systemd-reload"

tmp=$(mktemp -d /var/tmp/flake-nspawn.XXXXXX)
merged="$tmp/merged"
nspawn_pid=
cgdir=
cleanup() {
        [ -n "$nspawn_pid" ] && kill "$nspawn_pid" 2>/dev/null && wait "$nspawn_pid" 2>/dev/null
        [ -n "$cgdir" ] && find "$cgdir" -depth -type d -exec rmdir {} + 2>/dev/null
        mountpoint -q "$merged" && umount "$merged"
        rm -rf "$tmp"
}
trap cleanup EXIT

# --- outside any systemd: reloading is a quiet no-op ---
out=$("$reload" 2>&1); status=$?
if [ -d /run/systemd/system ]; then
        _t_result 0 "host runs systemd: reload no-op check not applicable here"
else
        assert_eq "flake_systemd_reload() without systemd returns 0" 0 "$status"
        assert_contains "... and says so at debug level" "$out" "not running"
fi

# --- the root, the installation, the payload ---
root=$("$here/make-root.sh") || { echo "Bail out! cannot build the nspawn root"; exit 1; }
upper="$tmp/upper"
mkdir -p "$upper" "$tmp/work" "$merged"

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

mkdir -p "$upper/opt/flake-test" "$upper/usr/share/flakes" "$upper/results" \
         "$upper/etc/systemd/system/multi-user.target.wants"
cp "$here/inner.sh" "$here"/check-*.sh "$reload" "$upper/opt/flake-test/"
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

mount -t overlay overlay -o "lowerdir=$root,upperdir=$upper,workdir=$tmp/work" "$merged" ||
        { echo "Bail out! cannot mount the overlay"; exit 1; }

# --- boot ---
start=$(date +%s)
require_file() { [ -e "$1" ] || { echo "Bail out! $1 is missing"; exit 1; }; }
require_file /dev/net/tun
require_file /dev/fuse
# What podman needs in nspawn (test-environment.md). QEMU runs under TCG
# and needs no device.
# Its own cgroup: with --keep-unit the container's cgroup tree lives below
# ours, and two test runs at once (several sessions share this machine)
# would share one tree: one container's PID 1 then removes the cgroup of a
# same-named unit of the other (seen: ExecStopPost of flake-vm@vmr failing
# with "Failed to attach to cgroup ...: No such file or directory").
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ "$(stat -fc %T "$m" 2>/dev/null)" = cgroup2fs ]; then
                own=$(sed -n 's/^0:://p' /proc/self/cgroup)
                cgdir="$m${own%/}/flake-nspawn-$$"
                mkdir "$cgdir" 2>/dev/null || cgdir=
                break
        fi
done
[ -n "$cgdir" ] || diag "no private cgroup for the container: concurrent runs may disturb each other"
(
        [ -n "$cgdir" ] && echo "$BASHPID" >"$cgdir/cgroup.procs"
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec timeout 420 systemd-nspawn -q --register=no --keep-unit -D "$merged" \
                --private-network --bind=/dev/net/tun --bind=/dev/fuse \
                --capability=all --system-call-filter='@keyring @mount bpf' \
                --bind="$tmp/storage:/usr/share/flakes/storage" \
                --console=passive -b >"$tmp/console.log" 2>&1
) &
nspawn_pid=$!
wait "$nspawn_pid"
status=$?
nspawn_pid=
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
results="$upper/results/tap"
if [ ! -f "$results" ]; then
        _t_result 1 "the test unit wrote its results"
else
        while IFS= read -r line; do
                case "$line" in
                "ok - "*) _t_result 0 "${line#ok - }" ;;
                "not ok - "*) _t_result 1 "${line#not ok - }" ;;
                "#"*) echo "$line" ;;
                esac
        done <"$results"
        if grep -qx done "$results"; then
                _t_result 0 "the test unit ran to the end"
        else
                _t_result 1 "the test unit ran to the end"
        fi
fi

if [ "$T_FAILED" != 0 ] || [ "$status" != 0 ]; then
        diag "--- console ---" "$(head -n 40 "$tmp/console.log")" "..." "$(tail -n 20 "$tmp/console.log")"
        if [ -f "$upper/results/journal" ]; then
                diag "--- journal ---" "$(cat "$upper/results/journal")"
        fi
fi
finish
