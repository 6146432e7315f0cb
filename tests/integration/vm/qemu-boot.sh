#!/bin/bash
# Real VM flakes under QEMU microvm (TCG): Debian's kernel, the test
# initramfs, an ext4 rootfs with sci. Boots are shared between checks:
# one resume VM for most behaviour, one-shot VMs for teardown.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"

# Includes: a tar and a host path, written into the overlay.
mkdir -p "$T/inc/opt/tarred" "$T/hostdir"
echo "from tar" > "$T/inc/opt/tarred/file"
tar -C "$T/inc" -cf "$T/inc.tar" opt
echo "from host path" > "$T/hostdir/note"

OVERLAY=32MiB INCLUDE_TAR="[$T/inc.tar]" INCLUDE_PATH="[$T/hostdir]" register rsh true
R=$T/bin/rsh

# --- resume VM: one boot for the session behaviour -------------------------
out=$("$R" -c 'echo out; echo err >&2; exit 7' 2>"$T/err"); rc=$?
assert_eq "exit status of the app" 7 "$rc"
assert_eq "stdout arrives on stdout" "out" "$out"
assert_eq "stderr arrives on stderr" "err" "$(cat "$T/err")"
check "runner and agent socket exist while the resume VM runs" test -S "$FLAKE_RUNTIME_DIR/vm/rsh/agent.sock"

# Privileges (flake-vm@.service(8)): started by root, the runner stays root
# only as a supervisor; its child and the VMM run as the VMM user (here
# FLAKE_VM_USER, the flake has no runas), without capabilities, with
# no_new_privs, QEMU in its own seccomp sandbox on top.
if [ "$(id -u)" = 0 ]; then
        vmm=$(cat "$FLAKE_RUNTIME_DIR/vm/rsh/vmm.pid")
        sup=$(cat "$FLAKE_RUNTIME_DIR/vm/rsh.lock")
        child=$(ps -o ppid= -p "$vmm" | tr -d ' ')
        st() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
        assert_eq "the VMM runs as the VMM user" nobody "$(ps -o user= -p "$vmm")"
        assert_eq "... with no capability" "0000000000000000 0000000000000000" "$(st "$vmm" CapEff) $(st "$vmm" CapPrm)"
        assert_eq "... with no_new_privs" 1 "$(st "$vmm" NoNewPrivs)"
        assert_contains "... in group kvm, for /dev/kvm" "$(ps -o supgrp= -p "$vmm")" kvm
        assert_eq "... in a seccomp filter (-sandbox on)" 2 "$(st "$vmm" Seccomp)"
        assert_contains "... which QEMU was told" "$(tr '\0' ' ' <"/proc/$vmm/cmdline")" "-sandbox on,obsolete=deny"
        assert_eq "the runner that relays sessions is the VMM user too" "nobody 0000000000000000" \
                "$(ps -o user= -p "$child") $(st "$child" CapEff)"
        assert_eq "... the child of the root supervisor, whose pid is in rsh.lock" "$sup root" \
                "$(ps -o ppid= -p "$child" | tr -d ' ') $(ps -o user= -p "$sup")"
        assert_eq "... which keeps only CAP_CHOWN and CAP_KILL, with no_new_privs" "0000000000000021 1" \
                "$(st "$sup" CapEff) $(st "$sup" NoNewPrivs)"
        assert_eq "the runtime dir is the VMM user's, private" "nobody 700" \
                "$(stat -c '%U %a' "$FLAKE_RUNTIME_DIR/vm/rsh")"
        assert_eq "the resume overlay is the VMM user's, private" "nobody 600" \
                "$(stat -c '%U %a' "$FLAKE_FIRECRACKER_DIR/storage/rsh.ext2")"
fi

out=$(seq 1 20000 | "$R" -c 'wc -l')
assert_eq "stdin streams into the app" "20000" "$(echo $out)"
out=$(printf 'a\nb\n' | "$R" -c 'while read l; do echo "<$l>"; done')
assert_eq "stdin line by line" "$(printf '<a>\n<b>')" "$out"

out=$("$R" -- -c 'echo "$0" "$@"' @x %y --z)
assert_eq "@ and % arguments after -- reach the app" "@x %y --z" "$out"

"$R" -c 'echo persisted > /root/state' >/dev/null
out=$("$R" -c 'cat /root/state; cat /proc/mounts | grep -c " / overlay"')
assert_eq "overlay writes persist across sessions of a resume VM" "$(printf 'persisted\n1')" "$out"
out=$("$R" -c "cat /opt/tarred/file $T/hostdir/note")
assert_eq "includes (tar and host path) are in the overlay" "$(printf 'from tar\nfrom host path')" "$out"

# No vm.runtime.network: no NIC, no address but lo's (sci brings lo up).
out=$("$R" -c 'ls /sys/class/net; ip -o -4 addr | while read -r _ dev _ a _; do echo "$dev $a"; done')
assert_eq "a flake without network settings has only lo, with 127.0.0.1" "$(printf 'lo\nlo 127.0.0.1/8')" "$out"

# Each session waits for the other's mark: they can only both finish if
# they run at the same time (bounded, so a serialising bug fails, not hangs).
wait_for='i=0; touch /tmp/$1; while [ ! -e /tmp/$2 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e /tmp/$2 ] && echo $1'
"$R" -c "$wait_for" sh one two > "$T/c1" &
p1=$!
"$R" -c "$wait_for" sh two one > "$T/c2" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
assert_eq "concurrent session 1 saw session 2" "0 one" "$r1 $(cat "$T/c1")"
assert_eq "concurrent session 2 saw session 1" "0 two" "$r2 $(cat "$T/c2")"

"$R" -c 'sleep 30' &
p=$!
sleep 2
kill -TERM $p
wait $p; rc=$?
assert_eq "SIGTERM reaches the app, status 128+15" 143 "$rc"

out=$(script -qec "$R -c 'test -t 0 && echo tty; stty size'" /dev/null </dev/null | tr -d '\r')
assert_contains "a terminal caller gets a pty session" "$out" "tty"

# Window size: the caller's at the start, and a resize reaches the app.
out=$("$FLAKE_SOURCE_ROOT/tests/integration/vm/pty-run.py" 30 90 41 123 -- "$R" -c \
        'stty size; echo RESIZE-NOW; i=0; while [ "$(stty size)" = "30 90" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size')
assert_contains "the session starts with the caller's window size" "$out" "30 90"
assert_contains "a window-size change reaches the app (SIGWINCH)" "$out" "41 123"

out=$("$R" -c 'exec /no/such/program' 2>&1); rc=$?
assert_eq "a missing program gives 127" 127 "$rc"

# VMM crash mid-session: the pilot reports it, the runner cleans up.
"$R" -c 'sleep 30' 2>"$T/crash" &
p=$!
sleep 2
kill -KILL "$(cat "$FLAKE_RUNTIME_DIR/vm/rsh/vmm.pid")"
wait $p; rc=$?
assert_eq "a VMM crash mid-session gives 122" 122 "$rc"
assert_contains "the crash is named" "$(cat "$T/crash")" "rsh: the VM went away"
for i in $(seq 50); do [ -e "$FLAKE_RUNTIME_DIR/vm/rsh" ] || break; sleep 0.1; done
check_fails "nothing left in the runtime dir after the crash" test -e "$FLAKE_RUNTIME_DIR/vm/rsh"
check "the resume overlay is kept" test -s "$FLAKE_FIRECRACKER_DIR/storage/rsh.ext2"

# The runtime dir is the VMM user's: what is in it is hostile to the root
# pilot and flake-ctl (a guest that broke out into QEMU is that user).
if [ "$(id -u)" = 0 ]; then
        "$R" -c true
        D=$FLAKE_RUNTIME_DIR/vm/rsh
        sleep 300 &
        victim=$!
        echo "flake-test-secret" >"$T/secret" && chmod 600 "$T/secret"
        as_vmm() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
        as_vmm sh -c "rm -f '$D/runner.pid'; echo $victim > '$D/runner.pid'"
        as_vmm sh -c "rm -f '$D/vmm.pid'; mkfifo '$D/vmm.pid'"
        out=$(timeout 20 "$FLAKE_BUILD_ROOT/ctl/flake-ctl" firecracker show --format csv 2>&1); rc=$?
        assert_eq "firecracker show: a FIFO as vmm.pid does not hang it" 0 "$rc"
        assert_contains "... the instance is listed" "$out" "rsh,"
        as_vmm sh -c "rm -f '$D/vmm.pid'; ln -s '$T/secret' '$D/vmm.pid'"
        out=$(timeout 20 "$FLAKE_BUILD_ROOT/ctl/flake-ctl" firecracker show --format csv 2>&1)
        assert_not_contains "... a link to a root-only file is not read" "$out" "flake-test-secret"
        out=$(setpriv --reuid=65533 --regid=65533 --clear-groups -- "$FLAKE_BUILD_ROOT/ctl/flake-ctl" firecracker show --format csv 2>&1)
        assert_contains "firecracker show as another user: the running VM is unknown to him, not stopped" "$out" "rsh,root,,unknown,"
        as_vmm sh -c "rm -f '$D/vmm.pid'; ln -s /dev/zero '$D/vmm.pid'"
        out=$(timeout 20 "$FLAKE_BUILD_ROOT/ctl/flake-ctl" firecracker show --format csv 2>&1); rc=$?
        assert_eq "... nor /dev/zero read forever" 0 "$rc"
        timeout 60 "$R" %remove -c true
        check "%remove signals the runner, not the pid the VMM user wrote into a runner.pid" kill -0 "$victim"
        for i in $(seq 100); do [ -e "$D" ] || break; sleep 0.1; done
        check_fails "... and the VM is gone" test -e "$D"
        kill "$victim" 2>/dev/null
fi

# --- one-shot VMs: a fresh VM per call, torn down after --------------------
# With a runas user, the VMM runs as that user.
RUNAS=daemon OVERLAY=16MiB register osh false
O=$T/bin/osh
out=$(echo data | "$O" -c 'cat; echo scratch > /root/x; ls /root'); rc=$?
assert_eq "one-shot: status and output" "0 $(printf 'data\nx')" "$rc $out"
if [ "$(id -u)" = 0 ]; then
        "$O" @user -c 'sleep 4' &
        p=$!
        for i in $(seq 300); do [ -e "$FLAKE_RUNTIME_DIR/vm/osh@user/ready" ] && break; sleep 0.1; done
        assert_eq "one-shot: the VMM runs as the flake's runas user" daemon \
                "$(ps -o user= -p "$(cat "$FLAKE_RUNTIME_DIR/vm/osh@user/vmm.pid" 2>/dev/null)" 2>&1)"
        wait $p
fi
check_fails "one-shot: runtime dir (sockets, overlay) removed" test -e "$FLAKE_RUNTIME_DIR/vm/osh"
# The runner ends after the call has its status (it removes the runtime dir,
# then exits; under ASan the exit itself takes a moment): give it 5 s.
for _ in $(seq 50); do pgrep -f "flake-vm run osh" >/dev/null || break; sleep 0.1; done
check_fails "one-shot: no runner left" pgrep -f "flake-vm run osh"
out=$("$O" @second -c 'ls /root; echo fresh'); rc=$?
assert_eq "one-shot @NAME instance: a fresh VM, the overlay was discarded" "0 fresh" "$rc $out"
check_fails "one-shot @NAME: nothing left behind" test -e "$FLAKE_RUNTIME_DIR/vm/osh@second"

# --- serial compatibility: the original protocol (run=... on the console) --
out=$("$O" %serial -c 'echo [$1]; echo [$2]' sh 'a b' --dashes </dev/null); rc=$?
assert_contains "serial mode: the command ran on the console, words kept" "$out" "[a b]"
assert_contains "serial mode: dashes survive the kernel command line" "$out" "[--dashes]"
assert_eq "serial mode: the VMM's status, as in the original" 0 "$rc"
check_fails "serial mode: nothing left behind" test -e "$FLAKE_RUNTIME_DIR/vm/osh"
out=$("$O" %serial -c 'echo "quoted"' 2>&1 </dev/null); rc=$?
assert_contains "serial mode: a double quote cannot be carried, said so" "$out" "osh: an argument contains"
assert_eq "serial mode: refused without a boot" 2 "$rc"

finish
