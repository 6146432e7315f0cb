#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input: one clear line naming what is wrong, the documented exit status
# (2 for usage errors), and the root left exactly as it was.
. "$(dirname "$0")/common.sh"

"$CTL" podman register --container c --app /usr/bin/existing >/dev/null 2>&1
make_vm_image img
before=$(snapshot)

# expect STATUS "message part" "description" command...
expect() {
        local status="$1" msg="$2" desc="$3"; shift 3
        local out rc
        out=$("$@" 2>&1); rc=$?
        assert_eq "$desc: exit status" "$status" "$rc"
        assert_contains "$desc: message" "$out" "$msg"
        assert_eq "$desc: one line" "1" "$(printf '%s\n' "$out" | wc -l)"
        assert_eq "$desc: nothing changed" "$before" "$(snapshot)"
}

expect 2 "unknown command 'frobnicate'" "unknown command" "$CTL" frobnicate
expect 2 "unknown command 'podman frob'" "unknown podman command" "$CTL" podman frob
expect 2 "unrecognized option" "unknown option" "$CTL" list --bogus
expect 2 "--format: expected table, json or csv, not 'xml'" "bad format" "$CTL" list --format xml
expect 2 "--container is required" "missing --container" "$CTL" podman register --app /usr/bin/x
expect 2 "--app is required" "missing --app" "$CTL" podman register --container c
expect 2 "--app: must be an absolute path: usr/bin/x" "relative --app" "$CTL" podman register --container c --app usr/bin/x
expect 2 "--app: '/usr/bin/..' is not a normalized absolute path" "--app with .." "$CTL" podman register --container c --app /usr/bin/..
expect 2 "'.x' is not a valid application name" "--app with a leading dot" "$CTL" podman register --container c --app /usr/bin/.x
expect 2 "--target: must be an absolute path" "relative --target" "$CTL" podman register --container c --app /usr/bin/x --target bin/x
expect 2 "--layer: layer(s) specified without a --base" "--layer without --base" "$CTL" podman register --container c --app /usr/bin/x --layer l
expect 2 "--resume and --attach cannot be combined" "--resume with --attach" "$CTL" podman register --container c --app /usr/bin/x --resume --attach
expect 2 "--include-tar: must be an absolute path" "relative include" "$CTL" podman register --container c --app /usr/bin/x --include-tar x.tar
expect 1 "App path $ROOT/usr/bin/existing already exists" "existing app path" "$CTL" podman register --container c --app /usr/bin/existing
expect 2 "--vm is required" "missing --vm" "$CTL" firecracker register --app /usr/bin/x
expect 2 "--overlay-size: '20x' is not a valid size" "bad overlay size" "$CTL" firecracker register --vm img --app /usr/bin/x --overlay-size 20x
expect 2 "need --overlay-size" "--include-* without --overlay-size" "$CTL" firecracker register --vm img --app /usr/bin/x --include-path /etc/hosts
expect 1 "No rootfs image found: $ROOT/var/lib/firecracker/images/nope/rootfs" "missing VM image" "$CTL" firecracker register --vm nope --app /usr/bin/x
expect 2 "exactly one of --app or --container" "remove without a target" "$CTL" podman remove
expect 1 "No registration found for /usr/bin/ghost" "remove of nothing" "$CTL" podman remove --app /usr/bin/ghost
expect 1 "/usr/bin/existing is a podman flake, not a firecracker flake" "remove with the wrong engine" "$CTL" firecracker remove --app /usr/bin/existing

# Removing or replacing an app touches only what flake-ctl made: the link to
# a pilot and the registration files. Directories, files and other programs'
# links at the app path are refused, even with --force, and paths that are
# not normalized never reach the file system.
mkdir -p "$ROOT/etc/keep" "$ROOT/usr/bin"; echo data > "$ROOT/etc/keep/file"
echo prog > "$ROOT/usr/bin/plainfile"; ln -s /bin/true "$ROOT/usr/bin/otherlink"
before=$(snapshot)
for engine in podman firecracker; do
        expect 1 "$ROOT/etc is not a symlink to a flake pilot; refusing to remove it" "$engine remove --force of a directory" \
                "$CTL" $engine remove --force --app /etc
        expect 1 "$FLAKES is not a symlink to a flake pilot; refusing to remove it" "$engine remove --force of the flakes dir" \
                "$CTL" $engine remove --force --app /usr/share/flakes
        expect 1 "$ROOT/usr/bin/plainfile is not a symlink to a flake pilot; refusing to remove it" "$engine remove --force of a file" \
                "$CTL" $engine remove --force --app /usr/bin/plainfile
        expect 1 "Symlink $ROOT/usr/bin/otherlink points to /bin/true, not to a flake pilot; refusing to remove it" \
                "$engine remove --force of another program's link" "$CTL" $engine remove --force --app /usr/bin/otherlink
        expect 2 "--app: '/../x' is not a normalized absolute path" "$engine remove of /../x" "$CTL" $engine remove --force --app /../x
done
expect 1 "$FLAKES is not a symlink to a flake pilot; refusing to remove it" "register --force over the flakes dir" \
        "$CTL" podman register --force --container c --app /usr/share/flakes
expect 1 "$ROOT/etc is not a symlink to a flake pilot; refusing to remove it" "register --force over /etc" \
        "$CTL" podman register --force --container c --app /etc
for app in /../x /usr/bin/x/ /usr//bin/x /usr/./bin/x /usr/bin/../x; do
        expect 2 "--app: '$app' is not a normalized absolute path" "register --app $app" \
                "$CTL" podman register --container c --app "$app"
        expect 2 "--app: '$app' is not a normalized absolute path" "firecracker register --app $app" \
                "$CTL" firecracker register --vm img --app "$app"
done
# A pilot that is not installed would make a dangling link.
expect 1 "The podman pilot $ROOT/nopilots/podman-pilot is not installed" "register without the pilot" \
        env FLAKE_BINDIR="$ROOT/nopilots" "$CTL" podman register --container c --app /usr/bin/x
expect 1 "The firecracker pilot $ROOT/nopilots/firecracker-pilot is not installed" "firecracker register without the pilot" \
        env FLAKE_BINDIR="$ROOT/nopilots" "$CTL" firecracker register --vm img --app /usr/bin/x
# A link that cannot be made leaves no directory behind.
mkdir -p "$ROOT/ro"; chmod 555 "$ROOT/ro"
before=$(snapshot)
if [ "$(id -u)" != 0 ]; then
        expect 1 "Failed to create the parent directory of $ROOT/ro/sub/app" "parents that cannot be made" \
                "$CTL" podman register --container c --app /ro/sub/app
fi
chmod 755 "$ROOT/ro"
# Parents made for the link are removed again when a later one fails (here:
# the path grows past PATH_MAX halfway down).
long=$(printf 'd%.0s' $(seq 1 250))
deep=/new$(printf "/$long%.0s" $(seq 1 17))/app
expect 1 "Failed to create the parent directory of $ROOT/new/d" "parents made for a failed link are removed" \
        "$CTL" podman register --container c --app "$deep"
rm -rf "$ROOT/etc/keep" "$ROOT/usr/bin/plainfile" "$ROOT/usr/bin/otherlink" "$ROOT/ro"

# A file in the way of the link: the YAML written first is rolled back.
mkdir -p "$ROOT/usr/lib"; echo x > "$ROOT/usr/lib/blocker"
before=$(snapshot)
expect 1 "Failed to create the parent directory of $ROOT/usr/lib/blocker/app" "rollback after a failed link" \
        "$CTL" podman register --container c --app /usr/lib/blocker/app

# A broken system configuration names its file and line.
mkdir -p "$ROOT/etc"; printf 'generic:\n  flakes_dir: [\n' > "$ROOT/etc/flakes.yml"
before=$(snapshot)
expect 1 "$ROOT/etc/flakes.yml:" "malformed flakes.yml" "$CTL" list
printf 'generic:\n  flakes_dir: relative/dir\n' > "$ROOT/etc/flakes.yml"
before=$(snapshot)
expect 1 "$ROOT/etc/flakes.yml:2: 'generic.flakes_dir' must be an absolute path" "relative flakes_dir" "$CTL" list
rm "$ROOT/etc/flakes.yml"

# Broken registrations: list still lists, with a warning; verify names every
# problem with file and line and fails.
cat > "$FLAKES/bad.yaml" <<EOT
container:
  name: [a, b]
  runtime:
    resume: perhaps
EOT
cat > "$FLAKES/syntax.yaml" <<EOT
container:
  name: x
   oops: [
EOT
cat > "$FLAKES/unknown.yaml" <<EOT
container:
  name: fine
  colour: blue
EOT
out=$("$CTL" list --format csv 2>"$ROOT/err"); rc=$?
assert_eq "list with broken files: exit 0" "0" "$rc"
assert_contains "list: broken file still listed" "$out" "bad,,,,$FLAKES/bad.yaml"
assert_contains "list: warning names file and line" "$(cat "$ROOT/err")" "$FLAKES/bad.yaml:2: 'container.name' must be a string, not a list"
out=$("$CTL" verify 2>&1); rc=$?
assert_eq "verify with broken files: exit 1" "1" "$rc"
assert_contains "verify: wrong type" "$out" "error: $FLAKES/bad.yaml:2: 'container.name' must be a string, not a list"
assert_contains "verify: second error of the same file" "$out" "error: $FLAKES/bad.yaml:4: 'container.runtime.resume' must be true or false"
assert_contains "verify: syntax error with line" "$out" "error: $FLAKES/syntax.yaml:3:"
assert_contains "verify: unknown key is a warning" "$out" "warning: $FLAKES/unknown.yaml:3: unknown key 'container.colour', ignoring"
assert_contains "verify: summary" "$out" "4 flake(s) checked in $FLAKES, 2 with errors"
out=$("$CTL" verify unknown 2>&1); rc=$?
assert_eq "verify NAME: only that flake" "1" "$(printf '%s\n' "$out" | grep -c 'checked')"
# What would make the generator skip a flake fails verify too.
cp "$FLAKES/unknown.yaml" "$FLAKES/limits.yaml"
printf 'systemd:\n  MemoryMax: lots\n' >> "$FLAKES/limits.yaml"
out=$("$CTL" verify limits 2>&1); rc=$?
assert_eq "verify: a bad systemd: section fails" "1" "$rc"
assert_contains "verify: ... with file and line" "$out" "error: $FLAKES/limits.yaml:5: systemd.MemoryMax:"
rm "$FLAKES/limits.yaml"
out=$("$CTL" verify --units unknown 2>&1)
assert_contains "verify --units lists the generated drop-in" "$out" "  flake-pull@unknown.service.d/50-flake.conf"

out=$("$CTL" verify nosuch 2>&1); rc=$?
assert_eq "verify of a missing flake fails" "1" "$rc"
assert_contains "verify of a missing flake says so" "$out" "$FLAKES/nosuch.yaml: no such registration"

finish
