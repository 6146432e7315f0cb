#!/bin/bash
# A user's own VM flake, as a user without root and without systemd would
# use it (issue 10, points 5 and 6): "flake-ctl init --user", "flake-ctl
# firecracker --user register", then the app. The flake is found in the
# user's flakes dir (after the system's), its VM runs with the runtime state
# in the user's $XDG_RUNTIME_DIR and its overlay in the user's registry, and
# an image that is missing is pulled at launch from the flake's vm.pull (a
# local HTTP server) into the user's registry. A failed pull is one line and
# status 125, with no boot.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"
require setpriv python3

CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
U=4711          # no passwd entry needed: HOME says where the user's files are
H=$T/home
chmod 755 "$T"
mkdir -p "$H" "$T/xdg" "$T/srv" "$H/bin"
chown -R $U:$U "$H" "$T/xdg"
chmod 700 "$T/xdg"
# The system side: no flakes, no configuration (only the user's count).
export FLAKES_DIR=$T/sysflakes FLAKE_CONFIG=$T/no-flakes.yml
mkdir -p "$FLAKES_DIR"
# flake-ctl links to the pilot it finds in FLAKE_BINDIR.
export FLAKE_BINDIR="$FLAKE_BUILD_ROOT/helpers/firecracker-pilot"
export FLAKE_LIBEXECDIR="$FLAKE_BUILD_ROOT/helpers" FLAKE_SCI="$SCI"

as_user() {
        env -u FLAKE_RUNTIME_DIR -u FLAKE_FIRECRACKER_DIR HOME="$H" XDG_RUNTIME_DIR="$T/xdg" \
                setpriv --reuid=$U --regid=$U --clear-groups -- "$@"
}

# The image the vm.pull section points to, served over HTTP.
cp "$VM_IMAGE/kernel" "$VM_IMAGE/rootfs" "$VM_IMAGE/initrd" "$T/srv/"
python3 "$FLAKE_SOURCE_ROOT/tests/integration/pull/server.py" --dir "$T/srv" --port-file "$T/port" \
        2>"$T/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; vm_cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "Bail out! the HTTP server did not start: $(cat "$T/server.log")"; exit 1; }
URL=http://127.0.0.1:$(cat "$T/port")/files
export FLAKE_ALLOW_INSECURE_TRANSPORT=1

check "flake-ctl init --user (as uid $U)" as_user "$CTL" init --user
REG=$H/.config/flakes/firecracker
# Registration needs the image in place; it goes away before the launch.
as_user mkdir -p "$REG/images/flake-test"
as_user cp "$VM_IMAGE/kernel" "$VM_IMAGE/rootfs" "$VM_IMAGE/initrd" "$REG/images/flake-test/"
out=$(as_user "$CTL" firecracker --user register --vm flake-test --app "$H/bin/ush" --target /bin/sh \
        --overlay-size 16MiB --resume 2>&1); rc=$?
assert_eq "flake-ctl firecracker --user register" "0" "$rc"
[ $rc = 0 ] || diag "$out"
UF=$H/.config/flakes
check "the registration is the user's" test -e "$UF/ush.yaml"
check_fails "... not the system's" test -e "$FLAKES_DIR/ush.yaml"
# The test image's boot arguments (the template's are for the original's
# images), and where the image comes from, in a drop-in of the user's.
as_user mkdir -p "$UF/ush.d"
as_user sh -c "cat > '$UF/ush.d/test.yaml'" <<EOY
vm:
  name: flake-test
  target_app_path: /bin/sh
  host_app_path: $H/bin/ush
  pull:
    kernel: $URL/kernel
    rootfs: $URL/rootfs
    initrd: $URL/initrd
  runtime:
    vmm: qemu
    resume: true
    firecracker:
      boot_args: ["init=/usr/sbin/sci", "console=ttyS0", "root=/dev/vda", "acpi=off", "quiet", "panic=-1", "sci_resume=1"]
      overlay_size: 16MiB
      rootfs_image_path: $REG/images/flake-test/rootfs
      kernel_image_path: $REG/images/flake-test/kernel
      initrd_path: $REG/images/flake-test/initrd
      mem_size_mib: 256
      vcpu_count: 1
EOY
as_user rm -rf "$REG/images/flake-test"

# --- the first call pulls the image, boots, runs ----------------------------
out=$(as_user "$H/bin/ush" -c 'echo "uid $(id -u)"; echo err >&2; exit 6' 2>"$T/err"); rc=$?
assert_eq "user flake: exit status of the app" 6 "$rc"
assert_eq "user flake: its output (the program runs as the guest's root)" "uid 0" "$out"
assert_eq "user flake: stderr is the app's alone (a quiet pull)" "err" "$(cat "$T/err")"
check "the missing image was pulled into the user's registry" test -s "$REG/images/flake-test/rootfs"
assert_eq "... owned by the user" "$U" "$(stat -c %u "$REG/images/flake-test/rootfs")"
check "the VM's runtime state is in the user's \$XDG_RUNTIME_DIR" test -S "$T/xdg/flakes/vm/ush/agent.sock"
check_fails "... not in the system's runtime dir" test -e "$FLAKE_RUNTIME_DIR/vm/ush"
assert_eq "... owned by the user" "$U" "$(stat -c %u "$T/xdg/flakes/vm/ush")"
check "the resume overlay is in the user's registry" test -s "$REG/storage/ush.ext2"
assert_eq "the VMM runs as the user" "$U" "$(stat -c %u /proc/"$(cat "$T/xdg/flakes/vm/ush/vmm.pid")")"
out=$(as_user "$CTL" firecracker --user show --format csv 2>&1)
assert_contains "firecracker --user show lists the user's running instance" "$out" \
        "ush,$U,$(cat "$T/xdg/flakes/vm/ush/vmm.pid"),running,"
assert_not_contains "firecracker show (the system's) does not" "$("$CTL" firecracker show --format csv 2>&1)" "ush,"

# --- the second call: no pull (the image is there), same VM ------------------
out=$(as_user "$H/bin/ush" %progress -c 'echo again'); rc=$?
assert_eq "second call: the resumed VM answers" "0 again" "$rc $out"
# A running VM has what it needs: its image gone, no pull is tried.
as_user mv "$REG/images/flake-test" "$REG/images/away"
out=$(as_user "$H/bin/ush" -c 'echo still'); rc=$?
assert_eq "image gone while the VM runs: the call still works" "0 still" "$rc $out"
check_fails "... without a pull" test -e "$REG/images/flake-test"
as_user mv "$REG/images/away" "$REG/images/flake-test"
as_user "$H/bin/ush" %remove -c true
for _ in $(seq 100); do [ -e "$T/xdg/flakes/vm/ush" ] || break; sleep 0.1; done
check_fails "%remove: the VM is gone, its runtime dir too" test -e "$T/xdg/flakes/vm/ush"

# --- a pull that fails: one line, status 125, no boot ------------------------
as_user rm -rf "$REG/images/flake-test"
as_user sed -i "s|$URL/kernel|$URL/no-such-kernel|" "$UF/ush.d/test.yaml"
out=$(as_user "$H/bin/ush" -c true 2>&1); rc=$?
assert_eq "failed pull: status 125" 125 "$rc"
assert_eq "failed pull: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_contains "failed pull: names the instance and the pull" "$out" "ush: pulling its images failed:"
assert_contains "failed pull: and what failed" "$out" "no-such-kernel"
check_fails "failed pull: no VM was started" test -e "$T/xdg/flakes/vm/ush"
check_fails "failed pull: nothing half-pulled" test -e "$REG/images/flake-test/kernel"

# --- %progress: what the pull says reaches stderr (never stdout) -------------
as_user sed -i "s|$URL/no-such-kernel|$URL/kernel|" "$UF/ush.d/test.yaml"
out=$(as_user "$H/bin/ush" %progress -c 'echo done' 2>"$T/progress"); rc=$?
assert_eq "%progress: the app's output alone on stdout" "0 done" "$rc $out"
assert_contains "%progress: the pull's messages on stderr" "$(cat "$T/progress")" "Image 'flake-test' installed in $REG/images/flake-test"
as_user "$H/bin/ush" %remove -c true

# --- the lookup order: a system flake of the same name wins ------------------
cat > "$FLAKES_DIR/ush.yaml" <<EOY
container:
  name: localhost/nothing
  target_app_path: /bin/true
  host_app_path: $H/bin/ush
EOY
out=$(as_user "$H/bin/ush" -c true 2>&1); rc=$?
assert_eq "a system flake of the same name is found first" "125" "$rc"
assert_contains "... and it is the system's (a container flake here)" "$out" "'ush' is not a VM flake"
rm "$FLAKES_DIR/ush.yaml"
out=$(HOME="$H" FLAKE_USER_CONFIG="$H/.config/flakes.yml" "$H/bin/ush" -c true 2>&1); rc=$?
assert_eq "root never runs a user's flake (as in the original)" 125 "$rc"
assert_contains "... the system's flakes dir alone is searched" "$out" "no flake 'ush' registered in $FLAKES_DIR"
assert_not_contains "... not the user's" "$out" "$UF"
ln -sf "$PILOT" "$T/bin/nosuch"
out=$(as_user "$T/bin/nosuch" -c true 2>&1)
assert_contains "no such flake: both dirs are named" "$out" "registered in $FLAKES_DIR and $UF"

finish
