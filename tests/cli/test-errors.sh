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
expect 2 "'..' is not a valid application name" "--app with .." "$CTL" podman register --container c --app /usr/bin/..
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
cat > "$FLAKES/dup.yaml" <<EOT
container:
  name: first
  target_app_path: /usr/bin/x
  name: second
EOT
printf 'container:\n  name: "img\\0evil"\n' > "$FLAKES/nul.yaml"
cat > "$FLAKES/tagged.yaml" <<EOT
container:
  name: !!binary aW1n
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
assert_contains "verify: a duplicate key is an error with its line" "$out" "error: $FLAKES/dup.yaml:4:3: duplicate key 'name'"
assert_contains "verify: a NUL escape is an error with its line" "$out" "error: $FLAKES/nul.yaml:2:9: NUL character in a string"
assert_contains "verify: an unsupported tag is a warning" "$out" "warning: $FLAKES/tagged.yaml:2: unsupported tag '!!binary', ignoring"
assert_contains "verify: ... and the flake still loads" "$out" "tagged: ok (podman)"
assert_contains "verify: summary" "$out" "7 flake(s) checked in $FLAKES, 4 with errors"
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

# Registrations that are not regular files (issue 17.3): a FIFO or a link to
# /dev/zero must neither block nor be read forever (timeout makes a hang a
# failure); each is one error naming the file, and the other flakes still load.
rm -f "$FLAKES/bad.yaml" "$FLAKES/syntax.yaml" "$FLAKES/dup.yaml" "$FLAKES/nul.yaml" "$FLAKES/tagged.yaml"
mkfifo "$FLAKES/fifo.yaml"
ln -s /dev/zero "$FLAKES/zero.yaml"
ln -s /dev/urandom "$FLAKES/random.yaml"
cp "$FLAKES/unknown.yaml" "$FLAKES/dropfifo.yaml"
mkdir "$FLAKES/dropfifo.d"; mkfifo "$FLAKES/dropfifo.d/10-fifo.yaml"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$FLAKES/huge.yaml"
out=$(timeout 20 "$CTL" list --format csv 2>"$ROOT/err"); rc=$?
err=$(cat "$ROOT/err")
assert_eq "list with a FIFO and /dev/zero: exit 0" "0" "$rc"
assert_contains "list: the FIFO is named" "$err" "$FLAKES/fifo.yaml: not a regular file"
assert_contains "list: the link to /dev/zero is named" "$err" "$FLAKES/zero.yaml: not a regular file"
assert_contains "list: the link to /dev/urandom is named" "$err" "$FLAKES/random.yaml: not a regular file"
assert_contains "list: the FIFO drop-in is named" "$err" "$FLAKES/dropfifo.d/10-fifo.yaml: not a regular file"
assert_contains "list: the file above the cap is named" "$err" "$FLAKES/huge.yaml: larger than 1048576 bytes"
assert_contains "list: the good flakes are still listed" "$out" "unknown,podman,"
out=$(timeout 20 "$CTL" verify 2>&1); rc=$?
assert_eq "verify with a FIFO and /dev/zero: exit 1" "1" "$rc"
assert_contains "verify: the FIFO" "$out" "error: $FLAKES/fifo.yaml: not a regular file"
assert_contains "verify: /dev/zero" "$out" "error: $FLAKES/zero.yaml: not a regular file"
assert_contains "verify: the FIFO drop-in" "$out" "error: $FLAKES/dropfifo.d/10-fifo.yaml: not a regular file"
assert_contains "verify: the file above the cap" "$out" "error: $FLAKES/huge.yaml: larger than 1048576 bytes"
assert_contains "verify: the good flake" "$out" "unknown: ok (podman)"
# Both pilots refuse such a registration at once, with the file named.
for pilot in podman-pilot firecracker-pilot; do
        ln -sf "$FLAKE_BUILD_ROOT/helpers/$pilot/$pilot" "$ROOT/fifo"
        out=$(timeout 20 "$ROOT/fifo" 2>&1); rc=$?
        assert_eq "$pilot with a FIFO registration fails, without blocking" "yes" \
                "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo yes || echo "no ($rc)")"
        assert_contains "$pilot names the FIFO" "$out" "$FLAKES/fifo.yaml: not a regular file"
done
rm -f "$ROOT/fifo"
# The configuration file likewise.
mkfifo "$ROOT/etc/flakes.yml"
before=$(snapshot)
expect 1 "$ROOT/etc/flakes.yml: not a regular file" "flakes.yml is a FIFO" timeout 20 "$CTL" list
rm "$ROOT/etc/flakes.yml"; ln -s /dev/zero "$ROOT/etc/flakes.yml"
before=$(snapshot)
expect 1 "$ROOT/etc/flakes.yml: not a regular file" "flakes.yml is /dev/zero" timeout 20 "$CTL" list
rm -rf "$ROOT/etc/flakes.yml" "$FLAKES/fifo.yaml" "$FLAKES/zero.yaml" "$FLAKES/random.yaml" "$FLAKES/dropfifo.yaml" \
        "$FLAKES/dropfifo.d" "$FLAKES/huge.yaml"

out=$("$CTL" verify nosuch 2>&1); rc=$?
assert_eq "verify of a missing flake fails" "1" "$rc"
assert_contains "verify of a missing flake says so" "$out" "$FLAKES/nosuch.yaml: no such registration"

finish
