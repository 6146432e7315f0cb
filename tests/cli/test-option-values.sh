#!/bin/bash
# SPDX-License-Identifier: MIT
# Every option that takes a value, of every verb, against values no option
# may take: not UTF-8, control characters (newline, escape, C1 CSI, tab,
# CR), empty; as "--opt VALUE" and as "--opt=VALUE". Each must be a usage
# error (status 2) in one line naming the option, within a time limit
# (libyaml's emitter once looped forever on such a value), with no raw
# control character in the output and the root unchanged.
. "$(dirname "$0")/common.sh"

"$CTL" podman register --container c --app /usr/bin/existing >/dev/null 2>&1
make_vm_image img
before=$(snapshot)

values=($'\xff' $'img\xff' $'a\nb' $'\e[2J' $'a\xc2\x9b' $'a\tb' $'x\r' '')

# sweep "verb words..." -- options...
sweep() {
        local -a cmd=()
        while [ "$1" != -- ]; do cmd+=("$1"); shift; done
        shift
        local opt v out rc problems
        for opt in "$@"; do
                problems=""
                for v in "${values[@]}"; do
                        for form in separate joined; do
                                if [ $form = separate ]; then
                                        out=$(timeout 30 "$CTL" "${cmd[@]}" "$opt" "$v" 2>&1); rc=$?
                                else
                                        out=$(timeout 30 "$CTL" "${cmd[@]}" "$opt=$v" 2>&1); rc=$?
                                fi
                                [ "$rc" = 2 ] || problems+="[$form $(printf %q "$v")] status $rc; "
                                [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || problems+="[$form $(printf %q "$v")] not one line; "
                                case "$out" in *"$opt: "*) ;; *) problems+="[$form $(printf %q "$v")] option not named: $(printf %q "$out"); " ;; esac
                                if printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'; then
                                        problems+="[$form $(printf %q "$v")] raw control character; "
                                fi
                        done
                done
                [ "$before" = "$(snapshot)" ] || problems+="the root changed; "
                assert_eq "${cmd[*]} $opt: refuses every bad value" "" "$problems"
        done
}

sweep podman register --container c --app /usr/bin/sw --base b -- \
        --container --app --target --base --layer --include-tar --include-path --opt
sweep firecracker register --vm img --app /usr/bin/sw --overlay-size 1G -- \
        --vm --app --target --run-as --overlay-size --include-tar --include-path
sweep podman remove -- --app --container
sweep firecracker remove -- --app --vm
sweep podman pull -- --uri
sweep podman load -- --oci
sweep list -- --format
sweep podman show -- --format
sweep firecracker show -- --format
sweep firecracker network add existing -- \
        --app --mode --uplink --pool --host-address --guest-address --bridge --nameserver --mac --format
sweep firecracker network init -- --uplink --pool --nameserver
sweep firecracker network remove -- --app
sweep firecracker network show -- --format

finish
