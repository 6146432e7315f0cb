#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull's progress bar as a person sees it, in a real terminal (tmux):
# it draws while the download runs, ends as one full bar per file with the
# cursor on a fresh line, fits narrow terminals, and never reaches a pipe
# or a file. Against the local HTTPS server of the pull tests (/slow/: about
# 1 MiB/s, so the bar is seen moving).
. "$FLAKE_SOURCE_ROOT/tests/integration/pull/common.sh"
TDIR=$W
. "$FLAKE_SOURCE_ROOT/tests/integration/terminal/lib-term.sh"
trap 'term_cleanup; cleanup' EXIT

start_servers
make_rootfs "$SRV/rootfs.ext4" ext4 4M
head -c 100000 /dev/urandom > "$SRV/vmlinux"
args() { echo "--name $1 --rootfs $HTTPS/slow/rootfs.ext4 --kernel $HTTPS/files/vmlinux"; }

# bar_checks WHAT NAME COLS: the screen of a finished pull of NAME.
bar_checks() {
        local what=$1 name=$2 cols=$3
        assert_eq "$what: exit status 0" 0 "$TERM_RC"
        check "$what: a partial bar was drawn while it ran" grep -qE '^rootfs \[#*-+\] ' "$TERM_FRAMES"
        assert_eq "$what: one rootfs bar is left, full" \
                "1 1" "$(grep -cE '^rootfs \[' <<<"$TERM_SCREEN") $(grep -cE '^rootfs \[#+\] 4\.0 MiB' <<<"$TERM_SCREEN")"
        assert_eq "$what: one kernel bar is left, full" \
                "1 1" "$(grep -cE '^kernel \[' <<<"$TERM_SCREEN") $(grep -cE '^kernel \[#+\] 97\.7 KiB' <<<"$TERM_SCREEN")"
        assert_eq "$what: no partial bar is left on the screen" "" "$(grep -E '\[#*-+\]' <<<"$TERM_SCREEN")"
        # A bar as wide as the terminal would wrap, and each redraw would
        # leave a line behind.
        assert_eq "$what: bars are narrower than the terminal" "" \
                "$(grep -E '^(rootfs|kernel) \[' <<<"$TERM_SCREEN" | awk -v c="$cols" 'length($0) >= c')"
        assert_contains "$what: the result line is intact" "$TERM_SCREEN" "
flake-pull: Image '$name' installed in /"
        assert_clean_end "$what"
        check "$what: the image is installed" test -s "$REG/$name/rootfs"
}

term_run 120 24 60 "$PULL vm $(args wide)"
bar_checks "120 columns" wide 120

term_run 50 24 60 "$PULL vm $(args narrow)"
bar_checks "50 columns" narrow 50

term_run 30 24 60 "$PULL vm $(args tiny)"
assert_eq "30 columns: exit status 0" 0 "$TERM_RC"
assert_eq "30 columns: no line is left behind by the bar" "" "$(grep -E '\[#*-+\]|^[^$_f].*ETA' <<<"$TERM_SCREEN" | grep -vE '^(rootfs|kernel) \[#+\]')"
assert_eq "30 columns: lines fit" "" "$(grep -E '^(rootfs|kernel) ' <<<"$TERM_SCREEN" | awk 'length($0) >= 30')"
assert_clean_end "30 columns"

# flake-ctl firecracker pull runs flake-pull on the same terminal.
term_run 120 24 60 "$FLAKE_BUILD_ROOT/ctl/flake-ctl firecracker pull $(args ctl)"
bar_checks "flake-ctl firecracker pull" ctl 120

# The same pull with stderr to a pipe and to a file: plain progress lines,
# nothing drawn on the terminal.
term_run 120 24 60 "$PULL vm $(args piped) 2>&1 | cat > $W/piped.log"
assert_eq "pipe: exit status 0" 0 "$TERM_RC"
assert_plain "pipe" "$W/piped.log"
assert_contains "pipe: a plain summary line per file" "$(cat "$W/piped.log")" "rootfs: 4.0 MiB in "
assert_not_contains "pipe: no bar" "$(cat "$W/piped.log")" "[#"
assert_eq "pipe: the terminal shows nothing" "" "$TERM_OUTPUT"
term_run 120 24 60 "$PULL vm $(args filed) 2>$W/filed.log"
assert_eq "file: exit status 0" 0 "$TERM_RC"
assert_plain "file" "$W/filed.log"
assert_contains "file: the result line" "$(cat "$W/filed.log")" "flake-pull: Image 'filed' installed"
assert_not_contains "file: no bar" "$(cat "$W/filed.log")" "[#"
assert_eq "file: the terminal shows nothing" "" "$TERM_OUTPUT"
finish
