#!/bin/bash
# The Firecracker path, end to end, against tests/integration/vm/fake-firecracker
# (a stand-in VMM: Firecracker's command line, its config schema, its hybrid
# vsock handshake, with the real sci agent code as the guest).
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/vm/vm-env.sh"
require python3

python3 -c 'import jsonschema, yaml' 2>/dev/null ||
        { echo "Bail out! python3-jsonschema and python3-yaml are needed"; exit 1; }

mkdir -p "$T/fcbin"
ln -s "$FLAKE_SOURCE_ROOT/tests/integration/vm/fake-firecracker" "$T/fcbin/firecracker"
export PATH="$T/fcbin:$PATH"
export FAKE_FIRECRACKER_LOG=$T/configs.jsonl
# The stand-in runs as the VMM user (vm-env.sh): its log must be that user's.
: >"$FAKE_FIRECRACKER_LOG"
[ -n "${FLAKE_VM_USER-}" ] && chown "$FLAKE_VM_USER" "$FAKE_FIRECRACKER_LOG"

# The stand-in itself refuses what Firecracker refuses.
echo '{"boot-source": {"kernel_image_path": "/k"}, "drives": [], "bogus": 1}' > "$T/bad.json"
check_fails "stand-in: unknown top-level key refused" firecracker --no-api --config-file "$T/bad.json"
echo '{"boot-source": {"kernel_image_path": "/k"}, "drives": [{"drive_id": "r"}]}' > "$T/bad2.json"
out=$(firecracker --no-api --config-file "$T/bad2.json" 2>&1)
assert_contains "stand-in: schema violations are named" "$out" "is_root_device"
check_fails "stand-in: --no-api together with --api-sock refused" firecracker --no-api --api-sock /x

# With firecracker on PATH and no vm.runtime.vmm, Firecracker is chosen.
VMM= OVERLAY=8MiB register fsh true
check_fails "no vmm key in the flake" grep -q vmm: "$FLAKES_DIR/fsh.yaml"
F=$T/bin/fsh
out=$("$F" -c 'echo out; echo err >&2; exit 9' 2>"$T/err"); rc=$?
assert_eq "firecracker: exit status" 9 "$rc"
assert_eq "firecracker: stdout" "out" "$out"
assert_eq "firecracker: stderr separate" "err" "$(cat "$T/err")"
check "firecracker: config.json generated" test -s "$FLAKE_RUNTIME_DIR/vm/fsh/config.json"
check "firecracker: vsock socket is the transport" test -S "$FLAKE_RUNTIME_DIR/vm/fsh/vsock.sock"
if [ "$(id -u)" = 0 ]; then
        fc=$(cat "$FLAKE_RUNTIME_DIR/vm/fsh/vmm.pid")
        assert_eq "firecracker runs as the VMM user, without capabilities" "nobody 0000000000000000" \
                "$(ps -o user= -p "$fc") $(awk '$1 == "CapEff:" { print $2 }' "/proc/$fc/status")"
fi
cfg=$(head -n1 "$T/configs.jsonl")
assert_contains "config: read-only root drive" "$cfg" '"drive_id": "rootfs", "path_on_host": "'"$VM_IMAGE"'/rootfs", "is_root_device": true, "is_read_only": true'
assert_contains "config: overlay drive" "$cfg" '"drive_id": "overlay"'
assert_contains "config: vsock" "$cfg" '"guest_cid": 3, "uds_path": "'"$FLAKE_RUNTIME_DIR"'/vm/fsh/vsock.sock"'
assert_contains "config: boot args keep acpi=off and carry the overlay" "$cfg" 'overlay_root=/dev/vdb init=/usr/sbin/sci console=ttyS0 root=/dev/vda acpi=off'
assert_contains "config: resume mode for sci" "$cfg" "sci_resume=1 run=vsock"
assert_contains "config: machine" "$cfg" '"vcpu_count": 1, "mem_size_mib": 256'

out=$(seq 1 5000 | "$F" -c 'wc -l')
assert_eq "firecracker: stdin streams" 5000 "$(echo $out)"

"$F" -c 'sleep 2; echo one' > "$T/c1" &
p1=$!
out2=$("$F" -c 'echo two')
wait $p1
assert_eq "firecracker: concurrent sessions" "one two" "$(cat "$T/c1") $out2"

"$F" -c 'sleep 30' &
p=$!
sleep 1
kill -INT $p
wait $p; rc=$?
assert_eq "firecracker: SIGINT reaches the app" 130 "$rc"

"$F" %remove -c true
for i in $(seq 50); do [ -e "$FLAKE_RUNTIME_DIR/vm/fsh" ] || break; sleep 0.1; done
check_fails "firecracker: %remove stops the resume VM and cleans up" test -e "$FLAKE_RUNTIME_DIR/vm/fsh"

VMM=firecracker OVERLAY=8MiB register fone false
out=$("$T/bin/fone" -c 'echo once; ls /tmp/x 2>&1; exit 4' 2>&1); rc=$?
assert_eq "firecracker one-shot: status and output" "4 once" "$rc $(echo "$out" | head -n1)"
check_fails "firecracker one-shot: nothing left behind" test -e "$FLAKE_RUNTIME_DIR/vm/fone"

# --- snapshots through Firecracker's API (flake-vm@.service(8), SNAPSHOTS) ---
api() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if "api" in e:
        print(e["api"], "valid" if e["valid"] else "INVALID", json.dumps(e["body"], sort_keys=True))' "$FAKE_FIRECRACKER_LOG"; }
SNAP=$FLAKE_FIRECRACKER_DIR/snapshots/fone
calls=$(api)
assert_contains "the first one-shot call paused the VM" "$calls" 'PATCH /vm valid {"state": "Paused"}'
assert_contains "... created a full snapshot in the app's snapshot dir" "$calls" \
        "PUT /snapshot/create valid {\"mem_file_path\": \"$SNAP/memory.new\", \"snapshot_path\": \"$SNAP/vmstate.new\", \"snapshot_type\": \"Full\"}"
assert_contains "... and resumed it for its session" "$calls" 'PATCH /vm valid {"state": "Resumed"}'
check "snapshot: key, memory, VM state and overlay" test -s "$SNAP/key" -a -s "$SNAP/memory" -a -s "$SNAP/vmstate" -a -s "$SNAP/overlay"
owner=$([ "$(id -u)" = 0 ] && echo nobody || id -un)
assert_eq "... the VMM user's, private (whatever Firecracker's umask)" "$owner 600 $owner 600" \
        "$(stat -c '%U %a' "$SNAP/memory" "$SNAP/vmstate" | tr '\n' ' ' | sed 's/ $//')"

: > "$FAKE_FIRECRACKER_LOG"
out=$("$T/bin/fone" @r -c 'echo once; ls /tmp/x 2>&1; exit 4' 2>&1); rc=$?
assert_eq "restored call: the same status and output" "4 once" "$rc $(echo "$out" | head -n1)"
calls=$(api)
assert_contains "a later call loads the snapshot, with its own vsock socket, paused" "$calls" \
        "PUT /snapshot/load valid {\"mem_backend\": {\"backend_path\": \"$SNAP/memory\", \"backend_type\": \"File\"}, \"resume_vm\": false, \"snapshot_path\": \"$SNAP/vmstate\", \"vsock_override\": {\"uds_path\": \"$FLAKE_RUNTIME_DIR/vm/fone@r/vsock.sock\"}}"
assert_contains "... points the overlay drive at its own copy" "$calls" \
        "PATCH /drives/overlay valid {\"drive_id\": \"overlay\", \"path_on_host\": \"$FLAKE_RUNTIME_DIR/vm/fone@r/overlay.ext2\"}"
assert_contains "... and resumes it" "$calls" 'PATCH /vm valid {"state": "Resumed"}'
assert_not_contains "every API call was valid against the schema" "$calls" "INVALID"
check_fails "no config file: nothing booted cold" grep -q boot-source "$FAKE_FIRECRACKER_LOG"

echo garbage > "$SNAP/vmstate"
out=$("$T/bin/fone" -c 'echo again' 2>"$T/err"); rc=$?
assert_eq "a broken snapshot: the call succeeds" "0 again" "$rc $out"
assert_eq "... with one warning" 1 "$(grep -c warning "$T/err")"
assert_contains "... naming Firecracker's refusal" "$(cat "$T/err")" "cannot be restored"
check "... and a new snapshot" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$SNAP/vmstate"

# QEMU's user-mode network has no Firecracker counterpart: one line, no VM.
VMM=firecracker register fnet false
sed -i 's/^    resume: false/    resume: false\n    network:\n      mode: user/' "$FLAKES_DIR/fnet.yaml"
: >"$FAKE_FIRECRACKER_LOG"
out=$("$T/bin/fnet" -c 'echo never' 2>&1); rc=$?
assert_eq "network mode user under Firecracker: a configuration error" 125 "$rc"
assert_contains "... in one line naming the mode and the VMM" "$out" \
        "fnet: vm.runtime.network mode user is QEMU's user-mode network, which firecracker does not have"
assert_eq "... and nothing started" "" "$(cat "$FAKE_FIRECRACKER_LOG")"

finish
