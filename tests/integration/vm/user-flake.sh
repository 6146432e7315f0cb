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
# The firecracker: section of a user's flake on the test image in the
# user's registry, with the test image's boot arguments ($1 appended).
image_section() {
        cat <<EOY
    firecracker:
      boot_args: ["init=/usr/sbin/sci", "console=ttyS0", "root=/dev/vda", "acpi=off", "quiet", "panic=-1"${1-}]
      overlay_size: 16MiB
      rootfs_image_path: $REG/images/flake-test/rootfs
      kernel_image_path: $REG/images/flake-test/kernel
      initrd_path: $REG/images/flake-test/initrd
      mem_size_mib: 256
      vcpu_count: 1
EOY
}

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
$(image_section ', "sci_resume=1"')
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

# --- a user's VM flake with a network: QEMU's user-mode network ------------
# No TAP, no flake-tap@, no admin: the guest reaches the outside through the
# VMM's own sockets, here the HTTP server on the host's loopback as 10.0.2.2.
# Registered by hand (the test image's boot arguments), the network by
# flake-ctl as the user.
echo "hello-from-the-host" >"$T/srv/hello"
as_user sh -c "cat > '$UF/unet.yaml'" <<EOY
vm:
  name: flake-test
  target_app_path: /bin/sh
  host_app_path: $H/bin/unet
  runtime:
    vmm: qemu
    resume: false
$(image_section)
EOY
as_user ln -s "$PILOT" "$H/bin/unet"
# A nat network needs a TAP, which no manager makes for a user's flake.
check "flake-ctl firecracker --user network add (nat)" as_user "$CTL" firecracker --user network add unet --uplink lo
out=$(as_user "$H/bin/unet" -c true 2>&1); rc=$?
assert_eq "a nat network in a user's flake: the network status" 121 "$rc"
assert_eq "... one line" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_contains "... pointing to the user-mode network" "$out" \
        "flake-tap@ makes them for the system's flakes only (a user's VM flake can use QEMU's user-mode network"
out=$(as_user "$CTL" firecracker --user network add --mode user unet 2>&1); rc=$?
assert_eq "flake-ctl firecracker --user network add --mode user (as the user)" 0 "$rc"
assert_contains "... says the guest's address, no device" "$out" "unet: user (QEMU's own network, no device), guest 10.0.2.15"
assert_contains "... written into the user's flake" "$(cat "$UF/unet.yaml")" "mode: user"
out=$(as_user "$CTL" firecracker --user network add --mode user --uplink lo unet 2>&1); rc=$?
assert_eq "... --uplink in user mode: a usage error" 2 "$rc"
taps_before=$(ip -o link | grep -c 'tap-')
out=$(as_user "$H/bin/unet" -c "ip -o -4 addr show dev eth0; ip route; cat /etc/resolv.conf; wget -q -O - http://10.0.2.2:$(cat "$T/port")/files/hello" 2>"$T/err"); rc=$?
assert_eq "user-mode network: the call works" "0 " "$rc $(cat "$T/err")"
assert_contains "... the guest is 10.0.2.15/24" "$out" "inet 10.0.2.15/24"
assert_contains "... its gateway QEMU's 10.0.2.2" "$out" "default via 10.0.2.2"
assert_contains "... its nameserver QEMU's forwarder" "$out" "nameserver 10.0.2.3"
assert_contains "... and it fetched from the host's loopback" "$out" "hello-from-the-host"
assert_eq "... with no TAP on the host" "$taps_before" "$(ip -o link | grep -c 'tap-')"
# The one-shot call saved a snapshot; QEMU carries the user-mode network's
# state in it: a restored guest fetches again.
check "the call saved a snapshot" test -s "$REG/snapshots/unet/key"
as_user "$H/bin/unet" -c "sleep 3; wget -q -O - http://10.0.2.2:$(cat "$T/port")/files/hello" >"$T/out2" 2>"$T/err" &
p=$!
for _ in $(seq 300); do [ -e "$T/xdg/flakes/vm/unet/ready" ] && break; sleep 0.1; done
assert_contains "the next call restores it (-incoming)" \
        "$(tr '\0' ' ' <"/proc/$(cat "$T/xdg/flakes/vm/unet/vmm.pid")/cmdline" 2>&1)" "-incoming fd:"
wait $p
assert_eq "... and the restored guest fetched from the host, no warning" "0 hello-from-the-host " \
        "$? $(cat "$T/out2") $(cat "$T/err")"

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
