#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-ctl firecracker volume add|remove (NFS volumes as the nfs= boot
# argument, upstream's format), what show and verify make of them, and bad
# input: one line, the documented status, nothing changed.
. "$(dirname "$0")/common.sh"
export FLAKE_RUNTIME_DIR="$ROOT/run/flakes"
vol() { "$CTL" firecracker volume "$@"; }
yaml() { cat "$FLAKES/$1.yaml"; }
nfs_args() { grep -o 'nfs=[^"]*' "$FLAKES/$1.yaml"; }

make_vm_image img
check "register a VM flake" "$CTL" firecracker register --vm img --app /usr/bin/app
check "register a second one" "$CTL" firecracker register --vm img --app /usr/bin/nonet
"$CTL" podman register --container c --app /usr/bin/box >/dev/null 2>&1

# expect STATUS "message part" "description" command...
expect() {
        local status="$1" msg="$2" desc="$3" before out rc; shift 3
        before=$(snapshot)
        out=$(timeout 30 "$@" 2>&1); rc=$?
        assert_eq "$desc: exit status" "$status" "$rc"
        assert_contains "$desc: message" "$out" "$msg"
        assert_eq "$desc: one line" "1" "$(printf '%s\n' "$out" | wc -l)"
        assert_eq "$desc: nothing changed" "$before" "$(snapshot)"
}

expect 1 "app has no NAT network" "add before the flake has a network" "$CTL" firecracker volume add --app app /srv/data:/data
expect 1 "run 'flake-ctl firecracker network add app' first" "... says how to fix it" "$CTL" firecracker volume add --app app /srv/data:/data

# The network as 'network add' writes it (that needs a netns: tap-ctl.sh).
sed -i 's|^    force_vsock: false|&\n    network:\n      mode: nat\n      uplink: eth0\n      host_address: 198.18.7.1/30\n      guest_address: 198.18.7.2/30|' \
        "$FLAKES/app.yaml"
check "the flake with a network loads" "$CTL" verify app

out=$(vol add --app app /srv/data:/data 2>&1); rc=$?
assert_eq "add: status" "0" "$rc"
assert_eq "add: says what the VM mounts from where" "app: volume /data from 198.18.7.1:/srv/data (export it there)" "$out"
assert_eq "add: one nfs= with the host's address as server" "nfs=198.18.7.1:/srv/data:/data" "$(nfs_args app)"
assert_contains "add: the other boot arguments stay" "$(yaml app)" '- console=ttyS0'
check "add by --app PATH, two at once, a ':' in the host path" vol add --app /usr/bin/app /srv/b:/b /srv/a:c:/c
assert_eq "add: one nfs= argument, in order" \
        "nfs=198.18.7.1:/srv/data:/data,198.18.7.1:/srv/b:/b,198.18.7.1:/srv/a:c:/c" "$(nfs_args app)"
check "adding a volume again" vol add --app app /srv/b:/b
assert_eq "... keeps one of it" \
        "nfs=198.18.7.1:/srv/data:/data,198.18.7.1:/srv/b:/b,198.18.7.1:/srv/a:c:/c" "$(nfs_args app)"

# An instance's list takes the place of the flake's.
check "add for an instance" vol add --app app --instance big /srv/big:/data
y=$(yaml app)
assert_contains "instance section written (key without '@', as upstream)" "$y" "instance:
        big:
          boot_args:
          - nfs=198.18.7.1:/srv/big:/data"
check "--instance @NAME is the same instance" vol add --app app --instance @big /srv/big:/data
assert_eq "... no second entry" "1" "$(grep -c 'srv/big' "$FLAKES/app.yaml")"
check "verify accepts it all" "$CTL" verify app

mkdir -p "$FLAKE_RUNTIME_DIR/vm"
touch "$FLAKE_RUNTIME_DIR/vm/app.lock" "$FLAKE_RUNTIME_DIR/vm/app@big.lock" "$FLAKE_RUNTIME_DIR/vm/app@other.lock"
out=$("$CTL" firecracker show --format csv)
assert_contains "show: the flake's volumes" "$out" \
        "app,$(id -un),,stopped,img,$FLAKES/app.yaml,,/data=198.18.7.1:/srv/data /b=198.18.7.1:/srv/b /c=198.18.7.1:/srv/a:c"
assert_contains "show: the instance's replace them" "$out" "app@big,$(id -un),,stopped,img,$FLAKES/app.yaml,,/data=198.18.7.1:/srv/big"
assert_contains "show: another instance has the flake's" "$out" "app@other,$(id -un),,stopped,img,$FLAKES/app.yaml,,/data=198.18.7.1:/srv/data /b="
assert_contains "show (table): a VOLUMES column" "$("$CTL" firecracker show)" "VOLUMES"

# Bad input.
expect 2 "'/srv' is not HOST_PATH:GUEST_PATH" "no guest path" "$CTL" firecracker volume add --app app /srv
expect 2 "the host path is not an absolute path" "relative host path" "$CTL" firecracker volume add --app app srv:/data
expect 2 "the guest path is not an absolute path" "relative guest path" "$CTL" firecracker volume add --app app /srv:data
expect 2 "the guest path is under /mnt, where the image's own root is kept" "guest path /mnt" "$CTL" firecracker volume add --app app /srv:/mnt
expect 2 "the guest path is under /mnt" "guest path under /mnt" "$CTL" firecracker volume add --app app /srv:/mnt/x
expect 2 "the guest path is the root directory" "guest path /" "$CTL" firecracker volume add --app app /srv:/
expect 2 "the host path contains ','" "',' in a path" "$CTL" firecracker volume add --app app /a,b:/data
expect 2 "the guest path contains whitespace or a control character" "space in a path" "$CTL" firecracker volume add --app app "/srv:/da ta"
expect 2 "the host path contains a '..' component" "'..' in a path" "$CTL" firecracker volume add --app app /srv/../etc:/data
expect 2 "'/srv:/mnt': the guest path" "the bad one of several is named" "$CTL" firecracker volume add --app app /srv:/ok /srv:/mnt
expect 2 "--instance: 'a/b' is not a valid instance name" "bad instance" "$CTL" firecracker volume add --app app --instance a/b /srv:/data
expect 2 "volume add: --app is required" "no --app" "$CTL" firecracker volume add /srv:/data
expect 2 "give at least one HOST_PATH:GUEST_PATH" "no volume" "$CTL" firecracker volume add --app app
expect 2 "unknown command 'frob'" "unknown command" "$CTL" firecracker volume frob --app app /srv:/data
expect 2 "missing command" "no command" "$CTL" firecracker volume
expect 2 "'.x' is not a valid application name" "bad --app" "$CTL" firecracker volume add --app /usr/bin/.x /srv:/data
expect 1 "No flake named 'ghost'" "unknown flake" "$CTL" firecracker volume add --app ghost /srv:/data
expect 1 "'box' is a container flake; only VM flakes have volumes" "container flake" "$CTL" firecracker volume add --app box /srv:/data
expect 1 "nonet has no NAT network" "flake without a network" "$CTL" firecracker volume add --app nonet /srv:/data

# A hand-written nfs= is checked where it is used: verify and the VM runner.
cp "$FLAKES/app.yaml" "$ROOT/app.yaml.good"
sed -i 's|nfs=198.18.7.1:/srv/big:/data|nfs=nfs-server:/srv/big:/mnt|' "$FLAKES/app.yaml"
out=$("$CTL" verify app 2>&1); rc=$?
assert_eq "verify: a bad nfs= fails" "1" "$rc"
assert_contains "verify: says which entry and why" "$out" \
        "$FLAKES/app.yaml: boot argument nfs=: 'nfs-server:/srv/big:/mnt': server is not an IPv4 address"
cp "$ROOT/app.yaml.good" "$FLAKES/app.yaml"

# remove
out=$(vol remove --app app /srv/b:/b /srv/none:/x 2>&1); rc=$?
assert_eq "remove: status" "0" "$rc"
assert_eq "remove: says what it did" "Removed volume /srv/b:/b.
No volume /srv/none:/x configured." "$out"
assert_eq "remove: the others stay" "nfs=198.18.7.1:/srv/data:/data,198.18.7.1:/srv/a:c:/c" "$(nfs_args app | head -1)"
check "remove the instance's" vol remove --app app --instance big /srv/big:/data
assert_not_contains "... its list is gone" "$(yaml app)" "srv/big"
assert_contains "... and so is its section's content" "$(yaml app)" "big: ~"
out=$(vol remove --app app --instance nosuch /srv/data:/data 2>&1); rc=$?
assert_eq "remove from an instance without any: status 0, said" "0 No volume /srv/data:/data configured." "$rc $out"
check "remove the rest" vol remove --app app /srv/data:/data /srv/a:c:/c
assert_eq "no nfs= left" "" "$(nfs_args app)"
assert_contains "the other boot arguments stay" "$(yaml app)" '- root=/dev/vda'
check "the flake still verifies" "$CTL" verify app
finish
