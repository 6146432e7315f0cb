# SPDX-License-Identifier: MIT
# Sourced (POSIX sh) by the scripts that run inside a booted test container
# (inner.sh, tests/package/inner-deb.sh): TAP lines ("ok - ...",
# "not ok - ...", "# ...") to /results/tap, which the host side reads back
# with nspawn_results (boot.sh).

OUT=/results/tap
: >"$OUT"

ok() { echo "ok - $1" >>"$OUT"; }
not_ok() {
        echo "not ok - $1" >>"$OUT"
        shift
        for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /' >>"$OUT"; done
}
check() {
        d=$1; shift
        if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "command: $*" "$out"; fi
}
contains() {
        case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1" "expected to contain: $3" "actual: $2" ;; esac
}
not_contains() {
        case "$2" in *"$3"*) not_ok "$1" "expected not to contain: $3" "actual: $2" ;; *) ok "$1" ;; esac
}
eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}
prop() { systemctl show -p "$2" --value "$1"; }

# Waits up to $1 tenths of a second for a command to succeed.
wait_for() {
        n=$1; shift
        while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
        return 1
}

# Each check, timed: the tests must stay quick in CI.
run() {
        run_t0=$(date +%s%N)
        "$1"
        echo "# $1: $(( ($(date +%s%N) - run_t0) / 1000000 )) ms" >>"$OUT"
}

# busybox_image STORE REF: a container image of busybox (sh, echo, cat,
# sleep), made without a network and imported into the image store of the
# storage.conf STORE as REF.
busybox_image() {
        bi=/tmp/busybox-image
        mkdir -p $bi/bin $bi/etc $bi/proc $bi/sys $bi/dev $bi/tmp
        cp /bin/busybox $bi/bin/
        for a in sh echo cat sleep; do ln -sf busybox $bi/bin/$a; done
        echo 'root:x:0:0:root:/root:/bin/sh' >$bi/etc/passwd
        echo 'root:x:0:' >$bi/etc/group
        tar -C $bi -cf $bi.tar .
        check "podman import of the test image" env CONTAINERS_STORAGE_CONF="$1" \
                podman import --quiet --change 'ENV PATH=/bin' $bi.tar "$2"
}

# The end of the results: the host side checks the line.
finish_results() {
        journalctl -b --no-pager -o short-monotonic >/results/journal 2>&1
        echo done >>"$OUT"
}
