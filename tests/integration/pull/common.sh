# SPDX-License-Identifier: MIT
# Shared setup of the flake-pull tests: a private FLAKE_ROOT, an HTTP and
# an HTTPS server (test CA made here) on 127.0.0.1, and fixture builders.
# Everything lives in $W and is removed on exit, whatever happens.

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"

require python3 openssl mke2fs debugfs e2fsck xz tar sha256sum busybox strace dumpe2fs

PULL="$FLAKE_LIBEXECDIR/flake-pull"
[ -x "$PULL" ] || { echo "Bail out! $PULL was not built"; exit 1; }

W=$(mktemp -d /var/tmp/flake-pull-test.XXXXXX)
SERVER_PIDS=""
MOUNTS=""
cleanup() {
        for p in $SERVER_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done
        rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export FLAKE_ROOT="$W/root"
export FLAKE_SCI=/bin/busybox
export FLAKE_PULL_RETRY_DELAY_MS=50
export FLAKE_CA_BUNDLE="$W/ca.pem"
unset FLAKE_ALLOW_INSECURE_TRANSPORT FLAKE_FIRECRACKER_DIR FLAKE_CONFIG FLAKES_DIR
REG="$FLAKE_ROOT/var/lib/firecracker/images"
SRV="$W/srv"
mkdir -p "$SRV" "$FLAKE_ROOT"

start_server() {    # $1: variable to set to the base URL, $2: scheme
        local pf="$W/port.$2"
        if [ "$2" = https ]; then
                python3 "$FLAKE_SOURCE_ROOT/tests/integration/pull/server.py" --dir "$SRV" --port-file "$pf" \
                        --cert "$W/ca.pem" --key "$W/key.pem" 2>"$W/server.$2.log" &
        else
                python3 "$FLAKE_SOURCE_ROOT/tests/integration/pull/server.py" --dir "$SRV" --port-file "$pf" \
                        2>"$W/server.$2.log" &
        fi
        SERVER_PIDS="$SERVER_PIDS $!"
        for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
        [ -s "$pf" ] || { echo "Bail out! test $2 server did not start: $(cat "$W/server.$2.log")"; exit 1; }
        eval "$1=$2://127.0.0.1:$(cat "$pf")"
}

start_servers() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
                -keyout "$W/key.pem" -out "$W/ca.pem" -subj /CN=127.0.0.1 \
                -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 \
                || { echo "Bail out! cannot make the test CA"; exit 1; }
        start_server HTTP http
        start_server HTTPS https
}

# An ext image with a small tree; $1 output, $2 fs type, $3 size
make_rootfs() {
        local d="$W/tree.$$"
        rm -rf "$d"; mkdir -p "$d/etc" "$d/usr/bin"
        echo flake-test > "$d/etc/hostname"
        head -c 300000 /dev/urandom > "$d/usr/bin/payload"
        mke2fs -q -F -t "$2" -d "$d" "$1" "$3" >/dev/null 2>&1
        rm -rf "$d"
}

# A KIS archive $1 (in $SRV) from the files in directory $2 (tar -J)
pack_kis() {
        tar -C "$2" -cJf "$SRV/$1" .
}

# The usual KIS directory: image, kernel, initrd, append, sha256 record.
make_kis_dir() {
        local d="$1" bs=4096
        local img="$d/test.x86_64-1.0.ext2"
        mkdir -p "$d"
        make_rootfs "$img" ext2 8M
        head -c 200000 /dev/urandom > "$d/test.x86_64-1.0.kernel"
        head -c 50000 /dev/urandom > "$d/test.x86_64-1.0.initrd"
        echo "console=ttyS0" > "$d/test.x86_64-1.0.append"
        echo "$(sha256sum "$img" | cut -d' ' -f1) $(( $(stat -c %s "$img") / bs )) $bs" > "$d/test.x86_64-1.0.sha256"
}

# Everything under the registry, hidden entries too: compared before/after.
registry_state() {
        [ -d "$REG" ] || { echo "(no registry)"; return; }
        (cd "$REG" && find . -mindepth 1 -printf '%p %s\n' | sort)
}

# Runs flake-pull, keeps its stderr in $ERR and exit status in $RC.
pull() {
        ERR=$("$PULL" "$@" 2>&1 >/dev/null); RC=$?
}

# A failing pull: non-zero exit, one error line naming $1, registry unchanged.
expect_failure() {
        local desc="$1" needle="$2"; shift 2
        local before after
        before=$(registry_state)
        pull "$@"
        after=$(registry_state)
        assert_eq "$desc: exit status 1" 1 "$RC"
        assert_contains "$desc: error message" "$ERR" "$needle"
        assert_eq "$desc: registry unchanged" "$before" "$after"
}
