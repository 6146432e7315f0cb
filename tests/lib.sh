# SPDX-License-Identifier: MIT
# Shared helpers for the shell tests. Each test script prints TAP (meson runs
# them with protocol 'tap'), so every check is counted on its own.
#
#   . "$FLAKE_SOURCE_ROOT/tests/lib.sh"
#   check "description" command args...      # passes if the command exits 0
#   check_fails "description" command...     # passes if it exits non-zero
#   assert_eq "description" expected actual
#   assert_contains "description" haystack needle
#   finish                                     # prints the plan, exits

set -u
: "${FLAKE_BUILD_ROOT:?run through meson test}"
: "${FLAKE_SOURCE_ROOT:?run through meson test}"

T_N=0
T_FAILED=0

_t_result() {
        T_N=$((T_N + 1))
        if [ "$1" = 0 ]; then
                echo "ok $T_N - $2"
        else
                echo "not ok $T_N - $2"
                T_FAILED=$((T_FAILED + 1))
        fi
}

diag() { printf '# %s\n' "$@" | sed '2,$s/^/# /'; }

check() {
        local d="$1"; shift
        local out
        if out=$("$@" 2>&1); then _t_result 0 "$d"; else _t_result 1 "$d"; diag "command: $*" "$out"; fi
}

check_fails() {
        local d="$1"; shift
        local out
        if out=$("$@" 2>&1); then _t_result 1 "$d"; diag "expected failure: $*" "$out"; else _t_result 0 "$d"; fi
}

assert_eq() {
        if [ "$2" = "$3" ]; then _t_result 0 "$1"; else _t_result 1 "$1"; diag "expected: $2" "actual:   $3"; fi
}

assert_contains() {
        case "$2" in
        *"$3"*) _t_result 0 "$1" ;;
        *) _t_result 1 "$1"; diag "expected to contain: $3" "actual: $2" ;;
        esac
}

assert_not_contains() {
        case "$2" in
        *"$3"*) _t_result 1 "$1"; diag "expected not to contain: $3" "actual: $2" ;;
        *) _t_result 0 "$1" ;;
        esac
}

# A missing component is a failure, never a silent skip.
require() {
        for c in "$@"; do
                if ! command -v "$c" >/dev/null 2>&1; then
                        echo "Bail out! required program '$c' is not installed (run tests/install-deps.sh)"
                        exit 1
                fi
        done
}

finish() {
        echo "1..$T_N"
        [ "$T_FAILED" = 0 ]
}
