#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash, zsh and fish completions offer the commands and options
# flake-ctl has. Each shell's own completion machinery is asked: bash calls
# the function with COMP_WORDS; zsh runs compinit and the completion widget
# in a pseudo-terminal (zsh-complete.zsh); fish answers complete -C.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require zsh fish
[ -f /usr/share/bash-completion/bash_completion ] || { echo "Bail out! bash-completion is not installed"; exit 1; }
. /usr/share/bash-completion/bash_completion
. "$FLAKE_SOURCE_ROOT/ctl/flake-ctl.bash-completion"

ZDIR=$(mktemp -d /tmp/flake-zsh-completion.XXXXXX)
trap 'rm -rf "$ZDIR"' EXIT
# Under the name zsh finds it by (the installed name).
cp "$FLAKE_SOURCE_ROOT/ctl/flake-ctl.zsh-completion" "$ZDIR/_flake-ctl"
mkdir -p "$ZDIR/home"

# complete_SHELL LINE: the candidates for the word at the end of LINE, sorted,
# on one line.
complete_bash() {
        COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<<"$COMP_LINE"
        [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _flake_ctl flake-ctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
complete_zsh() {
        zsh -f "$FLAKE_SOURCE_ROOT/tests/cli/zsh-complete.zsh" "$ZDIR" "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}
complete_fish() {
        HOME=$ZDIR/home fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
                "$FLAKE_SOURCE_ROOT/ctl/flake-ctl.fish" "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
for sh in bash zsh fish; do
        c=complete_$sh
        assert_eq "$sh: top level" "--help --version firecracker help init list podman verify" "$($c 'flake-ctl ')"
        assert_eq "$sh: a command's prefix" "podman" "$($c 'flake-ctl pod')"
        assert_eq "$sh: podman commands" "--help --user help load pull register remove show stop" "$($c 'flake-ctl podman ')"
        assert_contains "$sh: podman register options" " $($c 'flake-ctl podman register --') " " --check-host-dependencies "
        assert_not_contains "$sh: given options are not offered again" " $($c 'flake-ctl podman register --app /x --') " " --app "
        assert_contains "$sh: repeatable options stay" " $($c 'flake-ctl podman register --layer a --') " " --layer "
        assert_eq "$sh: an option's prefix" "--layer" "$($c 'flake-ctl podman register --layer a --l')"
        assert_eq "$sh: --format values" "csv json table" "$($c 'flake-ctl list --format ')"
        assert_contains "$sh: firecracker register options" " $($c 'flake-ctl firecracker --user register --') " " --force-vsock "
        # Shells differ in how they show a directory (/src/ctl, /src/ctl/, ctl).
        names=$(for f in $($c "flake-ctl podman register --app $FLAKE_SOURCE_ROOT/ct"); do basename "$f"; done)
        assert_eq "$sh: --app completes file names" "ctl" "$names"

        # Every option the completion offers exists in flake-ctl's help and vice versa.
        for verb in "podman register" "podman remove" "podman show" "podman pull" "podman load" "podman stop" \
                    "firecracker register" "firecracker remove" "firecracker show" "firecracker pull" "list" "verify" "init"; do
                help=$($CTL $verb --help)
                offered=" $($c "flake-ctl $verb --") "
                for o in $offered; do
                        [ "$o" = --help ] && continue
                        assert_contains "$sh: '$verb' help documents $o" "$help" "$o"
                done
                for o in $(echo "$help" | grep -o -- '^  --[a-z0-9-]*' | sort -u); do
                        assert_contains "$sh: completion of '$verb' offers $o" "$offered" " $o "
                done
        done
done
finish
