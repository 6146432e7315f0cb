# SPDX-License-Identifier: MIT
# Sourced (bash, after tests/lib.sh) by the host side of the booted-systemd
# tests (nspawn.sh, tests/package/deb.sh): an overlay over the cached Debian
# root (make-root.sh) with the test's files in its upper layer, booted with
# systemd-nspawn until the test unit inside powers it off, and the TAP lines
# the unit wrote (inner-lib.sh) read back.
#
#   nspawn_overlay TMP            root, upper and work dirs in TMP, sets
#                                 NSPAWN_ROOT, NSPAWN_UPPER, NSPAWN_MERGED
#   nspawn_mount                  mounts the overlay
#   nspawn_boot LOG ARGS...       boots it (extra systemd-nspawn ARGS),
#                                 console to LOG, returns nspawn's status
#   nspawn_results                the unit's TAP lines as this test's
#   nspawn_diag LOG               on failure: the console and the journal
#   nspawn_cleanup                kills and unmounts what is left

NSPAWN_HERE="$FLAKE_SOURCE_ROOT/tests/integration/nspawn"
NSPAWN_ROOT=
NSPAWN_UPPER=
NSPAWN_MERGED=
NSPAWN_WORK=
nspawn_pid=
nspawn_cgdir=

nspawn_overlay() {
        NSPAWN_ROOT=$("$NSPAWN_HERE/make-root.sh") || { echo "Bail out! cannot build the nspawn root"; exit 1; }
        NSPAWN_UPPER="$1/upper"
        NSPAWN_MERGED="$1/merged"
        NSPAWN_WORK="$1/work"
        mkdir -p "$NSPAWN_UPPER" "$NSPAWN_WORK" "$NSPAWN_MERGED" "$NSPAWN_UPPER/results"
}

nspawn_mount() {
        mount -t overlay overlay -o "lowerdir=$NSPAWN_ROOT,upperdir=$NSPAWN_UPPER,workdir=$NSPAWN_WORK" "$NSPAWN_MERGED" ||
                { echo "Bail out! cannot mount the overlay"; exit 1; }
}

nspawn_boot() {
        local log=$1 m own status
        shift
        for f in /dev/net/tun /dev/fuse; do
                [ -e "$f" ] || { echo "Bail out! $f is missing"; exit 1; }
        done
        # Its own cgroup: with --keep-unit the container's cgroup tree lives
        # below ours, and two test runs at once (several sessions share this
        # machine) would share one tree: one container's PID 1 then removes
        # the cgroup of a same-named unit of the other (seen: ExecStopPost of
        # flake-vm@vmr failing with "Failed to attach to cgroup ...: No such
        # file or directory").
        for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
                if [ "$(stat -fc %T "$m" 2>/dev/null)" = cgroup2fs ]; then
                        own=$(sed -n 's/^0:://p' /proc/self/cgroup)
                        nspawn_cgdir="$m${own%/}/flake-nspawn-$$"
                        mkdir "$nspawn_cgdir" 2>/dev/null || nspawn_cgdir=
                        break
                fi
        done
        [ -n "$nspawn_cgdir" ] || diag "no private cgroup for the container: concurrent runs may disturb each other"
        # What podman needs in nspawn (test-environment.md). QEMU runs under
        # TCG and needs no device.
        (
                [ -n "$nspawn_cgdir" ] && echo "$BASHPID" >"$nspawn_cgdir/cgroup.procs"
                SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec timeout 420 systemd-nspawn -q --register=no --keep-unit \
                        -D "$NSPAWN_MERGED" --private-network --bind=/dev/net/tun --bind=/dev/fuse \
                        --capability=all --system-call-filter='@keyring @mount bpf' \
                        "$@" --console=passive -b >"$log" 2>&1
        ) &
        nspawn_pid=$!
        wait "$nspawn_pid"
        status=$?
        nspawn_pid=
        return $status
}

nspawn_results() {
        local results="$NSPAWN_UPPER/results/tap" line
        if [ ! -f "$results" ]; then
                _t_result 1 "the test unit wrote its results"
                return
        fi
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
}

# On failure: the container's console and journal.
nspawn_diag() {
        local log=$1
        diag "--- console ---" "$(head -n 40 "$log")" "..." "$(tail -n 20 "$log")"
        if [ -f "$NSPAWN_UPPER/results/journal" ]; then
                diag "--- journal ---" "$(cat "$NSPAWN_UPPER/results/journal")"
        fi
}

nspawn_cleanup() {
        [ -n "$nspawn_pid" ] && kill "$nspawn_pid" 2>/dev/null && wait "$nspawn_pid" 2>/dev/null
        [ -n "$nspawn_cgdir" ] && find "$nspawn_cgdir" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -n "$NSPAWN_MERGED" ] && mountpoint -q "$NSPAWN_MERGED" && umount "$NSPAWN_MERGED"
        return 0
}
