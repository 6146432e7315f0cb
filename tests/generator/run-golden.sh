#!/bin/bash
# SPDX-License-Identifier: MIT
# Golden tests of flake-generator, as systemd's test-fstab-generator.sh does
# them: for every cases/NAME/, run the built generator on cases/NAME/input/
# (FLAKES_DIR; a case without input/ stands for a missing flakes dir) with
# one temp output dir given three times, then compare the output tree with
# cases/NAME/expected/ exactly: the file list (type and symlink target) and
# every file's content. The input path is written as @FLAKES_DIR@ in the
# expected files. Optional per case:
#   args     extra generator arguments (one line)
#   env      KEY=value lines exported for the run
#   stderr   lines that must each appear in the generator's stderr
#
#   run-golden.sh [--valgrind] [--regenerate] [CASE...]
# --regenerate rewrites expected/ from the current output (review the diff!).

. "$FLAKE_SOURCE_ROOT/tests/lib.sh"

generator="$FLAKE_BUILD_ROOT/generator/flake-generator"
cases_dir="$FLAKE_SOURCE_ROOT/tests/generator/cases"
wrapper=()
regenerate=false
while [ $# -gt 0 ]; do
        case "$1" in
        --valgrind)
                require valgrind
                # Definite leaks and every memory error fail the case.
                wrapper=(valgrind -q --error-exitcode=99 --leak-check=full
                         --errors-for-leak-kinds=definite --show-leak-kinds=definite)
                ;;
        --regenerate) regenerate=true ;;
        *) break ;;
        esac
        shift
done
[ -x "$generator" ] || { echo "Bail out! $generator not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "path type [target]" for every entry below $1, sorted.
list_tree() {
        (cd "$1" && find . -mindepth 1 -printf '%P %y %l\n' | sed 's/ $//' | LC_ALL=C sort)
}

run_case() {
        local case="$1" name out input status
        name=$(basename "$case")
        out="$tmp/$name/out"
        input="$case/input"
        mkdir -p "$out"

        local -a args=() envs=(FLAKE_UNIT_DIR=/usr/lib/systemd/system)
        [ -f "$case/args" ] && read -r -a args <"$case/args"
        [ -f "$case/env" ] && while read -r l; do [ -n "$l" ] && envs+=("$l"); done <"$case/env"

        env -u SYSTEMD_SCOPE -u FLAKE_ROOT FLAKE_CONFIG=/nonexistent/flakes.yml \
                FLAKE_LOG_LEVEL=debug FLAKES_DIR="$input" "${envs[@]}" \
                "${wrapper[@]}" "$generator" "${args[@]}" "$out" "$out" "$out" \
                >"$tmp/$name/stdout" 2>"$tmp/$name/stderr"
        status=$?
        assert_eq "$name: exit status" 0 "$status"
        [ "$status" = 0 ] || diag "$(cat "$tmp/$name/stderr")"

        # The input path is host-specific; expected files use a placeholder.
        find "$out" -type f -exec sed -i "s|$input|@FLAKES_DIR@|g" {} +

        if $regenerate; then
                rm -rf "$case/expected"
                cp -a "$out" "$case/expected"
                return
        fi

        local expected="$case/expected"
        [ -d "$expected" ] || { expected="$tmp/$name/empty"; mkdir -p "$expected"; }
        assert_eq "$name: file list" "$(list_tree "$expected")" "$(list_tree "$out")"
        local d
        if d=$(diff -ru --no-dereference "$expected" "$out" 2>&1); then
                _t_result 0 "$name: file contents"
        else
                _t_result 1 "$name: file contents"
                diag "$d"
        fi

        if [ -f "$case/stderr" ]; then
                while IFS= read -r line; do
                        [ -n "$line" ] || continue
                        assert_contains "$name: stderr has '$line'" \
                                "$(sed "s|$input|@FLAKES_DIR@|g" "$tmp/$name/stderr")" "$line"
                done <"$case/stderr"
        fi
}

if [ $# -gt 0 ]; then
        for c in "$@"; do run_case "$cases_dir/$c"; done
else
        for c in "$cases_dir"/*/; do run_case "${c%/}"; done
fi
finish
