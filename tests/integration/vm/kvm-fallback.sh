#!/bin/bash
# SPDX-License-Identifier: MIT
# A host whose /dev/kvm opens but cannot run the guest (nested or
# para-virtualized KVM, as the project's own machines: QEMU aborts setting
# up the vCPU). With the default accelerator the runner boots again under
# TCG, with one warning; with the accelerator pinned (FLAKE_QEMU_ACCEL or
# vm.runtime.qemu_accel) the pilot fails with one line naming the VMM's
# failure, its exit status and its last output.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"
unset FLAKE_QEMU_ACCEL

[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
        { echo "Bail out! no usable /dev/kvm: the default accelerator would be TCG and there is nothing to fall back from"; exit 1; }
# This host's KVM, or a stand-in with its symptom where KVM works.
if echo quit | timeout 10 qemu-system-x86_64 -M microvm -accel kvm -cpu max -m 64 -nodefaults -no-user-config \
        -display none -S -monitor stdio >/dev/null 2>&1; then
        cat > "$T/qemu-bad-kvm" <<'EOS'
#!/bin/sh
case " $* " in
*" -accel kvm "*)
        echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 (stand-in for a KVM that cannot run the guest)" >&2
        kill -ABRT $$ ;;
esac
exec qemu-system-x86_64 "$@"
EOS
        chmod 755 "$T/qemu-bad-kvm"
        export FLAKE_QEMU=$T/qemu-bad-kvm
        diag "this host's KVM runs guests: a stand-in QEMU aborts under KVM instead"
else
        diag "this host's /dev/kvm opens but QEMU cannot run a guest with it: the real thing"
fi

# --- default accelerator: KVM fails, TCG takes over, one warning ----------
OVERLAY=16MiB register ksh false
out=$("$T/bin/ksh" -c 'echo out; echo err >&2; exit 4' 2>"$T/err"); rc=$?
assert_eq "default accelerator: the app's exit status" 4 "$rc"
assert_eq "default accelerator: the app's stdout" "out" "$out"
assert_eq "exactly one warning" 1 "$(grep -c 'warning' "$T/err")"
assert_contains "the warning says KVM failed and TCG is used" "$(cat "$T/err")" \
        "ksh: KVM cannot run the guest (qemu exit status 134, killed by SIGABRT: "
assert_contains "the warning names the way out" "$(cat "$T/err")" "falling back to TCG"
assert_eq "the app's stderr follows, alone" "err" "$(grep -v 'warning' "$T/err")"

# The fallback saved the snapshot under TCG and noted that KVM failed in this
# boot: the next calls go to TCG at once and restore it, without a warning.
check "the failed KVM is noted in the snapshot dir" test -s "$FLAKE_FIRECRACKER_DIR/snapshots/ksh/kvm-failed"
assert_eq "... with this boot's ID" "$(tr -d - </proc/sys/kernel/random/boot_id)" \
        "$(cat "$FLAKE_FIRECRACKER_DIR/snapshots/ksh/kvm-failed")"
"$T/bin/ksh" -c 'sleep 3; echo later' >"$T/out2" 2>"$T/err2" &
p=$!
c=$(vmm_cmdline ksh)
assert_contains "the next call restores the snapshot (-incoming)" "$c" "-incoming fd:"
assert_contains "... under TCG, KVM not tried again" "$c" "-accel tcg"
wait $p
assert_eq "... runs the app" "0 later" "$? $(cat "$T/out2")"
assert_eq "... and does not warn" "" "$(cat "$T/err2")"
# A note from another boot is not trusted: KVM is tried again, fails again.
echo 00000000000000000000000000000000 >"$FLAKE_FIRECRACKER_DIR/snapshots/ksh/kvm-failed"
out=$("$T/bin/ksh" -c 'echo out' 2>"$T/err"); rc=$?
assert_eq "a note of another boot: KVM is tried again (the app runs)" "0 out" "$rc $out"
assert_eq "... and fails again, with the warning" 1 "$(grep -c 'falling back to TCG' "$T/err")"
assert_eq "... noted again with this boot's ID" "$(tr -d - </proc/sys/kernel/random/boot_id)" \
        "$(cat "$FLAKE_FIRECRACKER_DIR/snapshots/ksh/kvm-failed")"
# KVM pinned for one call runs the guest (a stand-in: QEMU under TCG that
# records how it was asked): the note goes, unpinned calls ask for KVM again.
cat > "$T/qemu-good-kvm" <<EOS
#!/bin/bash
echo "\$*" >>"$T/qemu-args"
a=()
for x in "\$@"; do
        case "\$x" in kvm) x=tcg ;; *console=*) x="\$x tsc_early_khz=2400000" ;; esac
        a+=("\$x")
done
exec qemu-system-x86_64 "\${a[@]}"
EOS
chmod 755 "$T/qemu-good-kvm"
install -m 0666 /dev/null "$T/qemu-args"   # the VMM user's to write
out=$(FLAKE_QEMU=$T/qemu-good-kvm FLAKE_QEMU_ACCEL=kvm "$T/bin/ksh" -c 'echo pinned' 2>"$T/err"); rc=$?
assert_eq "pinned KVM that runs the guest: the app runs" "0 pinned" "$rc $out"
check_fails "... and the note is gone" test -e "$FLAKE_FIRECRACKER_DIR/snapshots/ksh/kvm-failed"
: >"$T/qemu-args"
out=$(FLAKE_QEMU=$T/qemu-good-kvm "$T/bin/ksh" -c 'echo unpinned' 2>"$T/err"); rc=$?
assert_eq "the next unpinned call runs" "0 unpinned" "$rc $out"
assert_contains "... and asks for KVM" "$(cat "$T/qemu-args")" "-accel kvm"
assert_eq "... without a warning" "" "$(cat "$T/err")"

# The warning carries QEMU's last output, the VMM user's words: escaped on
# the caller's terminal.
cat > "$T/qemu-esc" <<'EOS'
#!/bin/sh
case " $* " in
*" -accel kvm "*)
        printf 'qemu-system-x86_64: \033[2J\033]0;owned\007 cannot run\n' >&2
        kill -ABRT $$ ;;
esac
exec qemu-system-x86_64 "$@"
EOS
chmod 755 "$T/qemu-esc"
OVERLAY=16MiB register kesc false
out=$(FLAKE_QEMU=$T/qemu-esc "$T/bin/kesc" -c 'echo ok' 2>"$T/err"); rc=$?
assert_eq "QEMU's output in the warning: the call works" "0 ok" "$rc $out"
assert_not_contains "... the warning has no raw escape character" "$(cat "$T/err")" $'\e'
assert_contains "... it shows them escaped" "$(cat "$T/err")" '\x1b[2J\x1b]0;owned\a cannot run'

OVERLAY=16MiB register rks true
"$T/bin/rks" -c true 2>"$T/err1"
out=$("$T/bin/rks" -c 'echo again' 2>"$T/err2"); rc=$?
assert_eq "resume VM: the second call works" "0 again" "$rc $out"
assert_eq "resume VM: the call that booted it warned once" 1 "$(grep -c 'falling back to TCG' "$T/err1")"
assert_eq "resume VM: a later call does not warn again" "" "$(cat "$T/err2")"
assert_contains "the runner's log says TCG runs it" "$(cat "$FLAKE_RUNTIME_DIR/vm/rks.log")" "accelerator tcg"
"$T/bin/rks" %remove -c true 2>/dev/null

# --- pinned: the VMM's failure, one line ----------------------------------
check_pinned() {
        local how=$1 out rc
        shift
        out=$("$@" -c 'echo never' 2>&1); rc=$?
        assert_eq "$how: the pilot's VMM status" 123 "$rc"
        assert_eq "$how: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
        assert_contains "$how: it names the VMM, its accelerator and exit status" "$out" \
                "qemu (accelerator kvm) failed before the guest agent answered (exit status 134, killed by SIGABRT): "
        assert_contains "$how: with QEMU's last output" "$out" "qemu-system-x86_64: "
        assert_not_contains "$how: no blame on the agent protocol" "$out" "agent protocol"
        assert_not_contains "$how: no fallback" "$out" "TCG"
        check_fails "$how: nothing left in the runtime dir" test -e "$FLAKE_RUNTIME_DIR/vm/ksh"
}
check_pinned "FLAKE_QEMU_ACCEL=kvm" env FLAKE_QEMU_ACCEL=kvm "$T/bin/ksh"
OVERLAY=16MiB QEMU_ACCEL=kvm register ksh false
check_pinned "vm.runtime.qemu_accel: kvm" "$T/bin/ksh"

OVERLAY=16MiB QEMU_ACCEL=hvf register ksh false
out=$("$T/bin/ksh" -c true 2>&1); rc=$?
assert_eq "vm.runtime.qemu_accel: an unknown value is a configuration error" 125 "$rc"
assert_eq "one line naming the key" "firecracker-pilot: ksh: vm.runtime.qemu_accel must be 'kvm' or 'tcg'" "$out"

finish
