#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-generator's contract beyond the golden trees: systemd.generator(7)
# invocation, exit status, atomic re-runs, the user generator name, the dry
# run, and that systemd's own parser accepts every generated drop-in.

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require systemd-analyze

generator="$FLAKE_BUILD_ROOT/generator/flake-generator"
cases="$FLAKE_SOURCE_ROOT/tests/generator/cases"
stubs="$FLAKE_SOURCE_ROOT/tests/generator/stub-units"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FLAKE_CONFIG=/nonexistent/flakes.yml FLAKE_UNIT_DIR=/usr/lib/systemd/system
unset SYSTEMD_SCOPE FLAKE_ROOT

gen() { FLAKES_DIR="$1" "$generator" "${@:2}"; }

# --- invocation (argc 2 or 4) ---
check_fails "no output dir is a usage error" gen "$cases/vm/input"
check_fails "two output dirs are a usage error" gen "$cases/vm/input" "$tmp/a" "$tmp/b"
check "three output dirs" gen "$cases/vm/input" "$tmp/n" "$tmp/e" "$tmp/l"
assert_eq "everything goes into the normal dir" "" "$(ls -A "$tmp/e" "$tmp/l" 2>/dev/null)"
check "the normal dir has the drop-in" test -f "$tmp/n/flake-vm@mybash.service.d/50-flake.conf"
check "--help" "$generator" --help
check_fails "unknown option" "$generator" --bogus "$tmp/x"

# --- exit status: only an unusable output dir fails ---
: >"$tmp/file"
check_fails "output dir is a file: exit 1" gen "$cases/vm/input" "$tmp/file"
check_fails "output dir below a file: exit 1" gen "$cases/vm/input" "$tmp/file/sub"
check "malformed flakes still exit 0" gen "$cases/malformed/input" "$tmp/m"
check "missing flakes dir exits 0" gen "$tmp/nonexistent" "$tmp/nx"
printf 'generic: [\n' >"$tmp/flakes.yml"
check "a broken flakes.yml exits 0" env -u FLAKES_DIR FLAKE_CONFIG="$tmp/flakes.yml" "$generator" "$tmp/bc"
out=$(env -u FLAKES_DIR FLAKE_CONFIG="$tmp/flakes.yml" "$generator" "$tmp/bc" 2>&1)
assert_contains "... and says why" "$out" "$tmp/flakes.yml"

# --- files that are not regular files (issue 17.3) neither block nor stop the others ---
mkdir "$tmp/special"
cp "$cases/container/input/joe.yaml" "$tmp/special/joe.yaml"
cp "$cases/vm/input/mybash.yaml" "$tmp/special/yarn.yaml"
mkfifo "$tmp/special/a-fifo.yaml"
ln -s /dev/zero "$tmp/special/b-zero.yaml"
mkdir "$tmp/special/joe.d"; mkfifo "$tmp/special/joe.d/10-fifo.yaml"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$tmp/special/c-huge.yaml"
out=$(FLAKES_DIR="$tmp/special" timeout 20 "$generator" "$tmp/sp" 2>&1); status=$?
assert_eq "a FIFO and /dev/zero as flakes: exit 0, no hang" 0 "$status"
assert_contains "... the FIFO is named" "$out" "$tmp/special/a-fifo.yaml: not a regular file, ignoring flake 'a-fifo'."
assert_contains "... /dev/zero is named" "$out" "$tmp/special/b-zero.yaml: not a regular file, ignoring flake 'b-zero'."
assert_contains "... the FIFO drop-in is named" "$out" "$tmp/special/joe.d/10-fifo.yaml: not a regular file, ignoring flake 'joe'."
assert_contains "... the file above the cap is named" "$out" "$tmp/special/c-huge.yaml: larger than 1048576 bytes"
check "... the flakes after them are still generated" test -f "$tmp/sp/flake-vm@yarn.service.d/50-flake.conf"
mkfifo "$tmp/fifo.yml"
out=$(env -u FLAKES_DIR FLAKE_CONFIG="$tmp/fifo.yml" timeout 20 "$generator" "$tmp/bf" 2>&1); status=$?
assert_eq "a FIFO as flakes.yml: exit 0, no hang" 0 "$status"
assert_contains "... and says why" "$out" "$tmp/fifo.yml: not a regular file"
out=$(env -u FLAKES_DIR FLAKE_CONFIG=/dev/zero timeout 20 "$generator" "$tmp/bz" 2>&1); status=$?
assert_eq "/dev/zero as flakes.yml: exit 0, no hang" 0 "$status"
assert_contains "... and says why" "$out" "/dev/zero: not a regular file"

# --- flakes dir from flakes.yml ---
printf 'generic:\n  flakes_dir: %s\n' "$cases/vm/input" >"$tmp/good.yml"
check "flakes_dir from flakes.yml" env -u FLAKES_DIR FLAKE_CONFIG="$tmp/good.yml" "$generator" "$tmp/cfg"
check "... is used" test -f "$tmp/cfg/flake-vm@mybash.service.d/50-flake.conf"

# --- re-runs over the same dir are atomic and leave no temp files ---
gen "$cases/vm-systemd/input" "$tmp/r" 2>/dev/null
first=$(cd "$tmp/r" && find . | sort)
gen "$cases/vm-systemd/input" "$tmp/r" 2>/dev/null
assert_eq "a second run gives the same tree" "$first" "$(cd "$tmp/r" && find . | sort)"
for i in 1 2 3 4; do gen "$cases/vm-systemd/input" "$tmp/r" 2>/dev/null & done; wait
assert_eq "parallel runs give the same tree" "$first" "$(cd "$tmp/r" && find . | sort)"

# --- user generator: argv[0] contains "user", or SYSTEMD_SCOPE=user ---
ln -s "$generator" "$tmp/flake-user-generator"
FLAKES_DIR="$cases/user/input" FLAKE_UNIT_DIR=/usr/lib/systemd/user "$tmp/flake-user-generator" "$tmp/u1" 2>/dev/null
check "user generator by name" test -L "$tmp/u1/default.target.wants/flake-vm@mybash.service"
FLAKES_DIR="$cases/user/input" SYSTEMD_SCOPE=user "$generator" "$tmp/u2" 2>/dev/null
check "user generator by SYSTEMD_SCOPE" test -L "$tmp/u2/default.target.wants/flake-vm@mybash.service"
check_fails "user generator: no flake-tap@ dependency" grep -q flake-tap "$tmp/u2/flake-vm@mybash.service.d/50-flake.conf"
out=$(FLAKES_DIR="$cases/user-user-network/input" FLAKE_LOG_LEVEL=debug SYSTEMD_SCOPE=user "$generator" "$tmp/u4" 2>&1)
assert_not_contains "user generator: QEMU's user-mode network needs no flake-tap@, no warning" "$out" "flake-tap"
check "... and the VM unit is generated" test -f "$tmp/u4/flake-vm@slirp.service.d/50-flake.conf"
check "user generator without a user flakes.yml generates nothing" \
        env -u FLAKES_DIR HOME="$tmp/home" FLAKE_USER_CONFIG="$tmp/home/none.yml" "$tmp/flake-user-generator" "$tmp/u3"
assert_eq "... and writes nothing" "" "$(ls -A "$tmp/u3")"

# --- system generator logs to the kernel log only when systemd runs it ---
out=$(gen "$cases/malformed/input" "$tmp/k" 2>&1)
assert_contains "run by hand, problems go to stderr" "$out" "ignoring flake 'syntax'"

# --- dry run: what would be generated, every problem, exit 1 if any flake is skipped ---
out=$(gen "$cases/vm-systemd/input" --dry-run 2>&1); status=$?
assert_eq "dry run of good flakes exits 0" 0 "$status"
assert_contains "dry run shows the drop-in" "$out" "# flake-vm@mybash.service.d/50-flake.conf"
assert_contains "dry run shows its content" "$out" "Requires=flake-pull@mybash.service"
assert_contains "dry run shows the symlinks" "$out" \
        "# multi-user.target.wants/flake-vm@mybash.service -> /usr/lib/systemd/system/flake-vm@.service"
out=$(gen "$cases/malformed/input" --dry-run 2>&1); status=$?
assert_eq "dry run with a malformed flake exits 1" 1 "$status"
assert_contains "dry run names the file and line" "$out" "syntax: error: $cases/malformed/input/syntax.yaml:3:1:"
assert_contains "dry run still shows the good flakes" "$out" "# flake-vm@zz\\x2dgood\\x2dvm.service.d/50-flake.conf"
assert_contains "... a container flake's .wants/ link too" "$out" "# multi-user.target.wants/flake-pull@good.service -> "
check_fails "dry run takes no output dir" gen "$cases/vm/input" --dry-run "$tmp/d"

# --- systemd's parser accepts every generated drop-in (stand-in templates) ---
for c in vm vm-network vm-pull vm-systemd dropin-override odd-names malformed; do
        o="$tmp/verify-$c"
        FLAKE_UNIT_DIR="$stubs" gen "$cases/$c/input" "$o" 2>/dev/null
        units=()
        for d in "$o"/*.service.d; do units+=("$(basename "${d%.d}")"); done
        out=$(cd "$o" && SYSTEMD_UNIT_PATH="$o:$stubs:" systemd-analyze verify "${units[@]}" 2>&1); status=$?
        assert_eq "systemd-analyze verify $c: exit status" 0 "$status"
        assert_eq "systemd-analyze verify $c: no complaints" "" "$out"
done
# ... and the check above would notice a bad one: it reads the drop-ins.
o="$tmp/verify-vm-systemd"
echo "MemoryMax=lots" >>"$o/flake-vm@mybash.service.d/50-flake.conf"
out=$(cd "$o" && SYSTEMD_UNIT_PATH="$o:$stubs:" systemd-analyze verify flake-vm@mybash.service 2>&1)
assert_contains "systemd-analyze verify reads the generated drop-in" "$out" "Invalid memory limit 'lots'"

finish
