#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion offers the commands and options flake-ctl has.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
[ -f /usr/share/bash-completion/bash_completion ] || { echo "Bail out! bash-completion is not installed"; exit 1; }
. /usr/share/bash-completion/bash_completion
. "$FLAKE_SOURCE_ROOT/ctl/flake-ctl.bash-completion"

complete_line() {
        COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<<"$COMP_LINE"
        [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _flake_ctl flake-ctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        echo "${COMPREPLY[*]}"
}

assert_contains "top level" "$(complete_line 'flake-ctl ')" "podman firecracker"
assert_contains "podman commands" "$(complete_line 'flake-ctl podman ')" "register remove show pull load stop"
assert_contains "podman register options" "$(complete_line 'flake-ctl podman register --')" "--check-host-dependencies"
assert_not_contains "given options are not offered again" "$(complete_line 'flake-ctl podman register --app /x --')" "--app"
assert_contains "repeatable options stay" "$(complete_line 'flake-ctl podman register --layer a --')" "--layer"
assert_eq "--format values" "table json csv" "$(complete_line 'flake-ctl list --format ')"
assert_contains "firecracker register options" "$(complete_line 'flake-ctl firecracker --user register --')" "--force-vsock"

# Every option the completion offers exists in flake-ctl's help and vice versa.
CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
for verb in "podman register" "podman remove" "podman show" "podman pull" "podman load" "podman stop" \
            "firecracker register" "firecracker remove" "firecracker show" "firecracker pull" "list" "verify" "init"; do
        help=$($CTL $verb --help)
        for o in $(complete_line "flake-ctl $verb --" ); do
                [ "$o" = --help ] && continue
                assert_contains "'$verb' help documents $o" "$help" "$o"
        done
        for o in $(echo "$help" | grep -o -- '^  --[a-z0-9-]*' | sort -u); do
                assert_contains "completion of '$verb' offers $o" " $(complete_line "flake-ctl $verb --") " " $o "
        done
done
finish
