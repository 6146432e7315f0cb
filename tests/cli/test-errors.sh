#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input: one clear line naming what is wrong, the documented exit status
# (2 for usage errors), and the root left exactly as it was.
. "$(dirname "$0")/common.sh"

"$CTL" podman register --container c --app /usr/bin/existing >/dev/null 2>&1
make_vm_image img
before=$(snapshot)

# expect STATUS "message part" "description" command...
# Each case has a time limit: bad input once made the YAML emitter loop
# forever (with the flakes dir locked).
expect() {
        local status="$1" msg="$2" desc="$3"; shift 3
        local out rc
        out=$(timeout 30 "$@" 2>&1); rc=$?
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
expect 2 "--no-agent: only a --resume container has an agent" "--no-agent without --resume" "$CTL" podman register --container c --app /usr/bin/x --no-agent
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
before=$(snapshot)

# Values are valid UTF-8 without control characters before anything else
# looks at them: they go into YAML (whose emitter looped forever or crashed
# on them) and into messages, where they are shown escaped, on one line.
for opt in --container --app --target --base --layer --opt --include-tar --include-path; do
        expect 2 "$opt: not valid UTF-8: '/v\\xff'" "podman register $opt not UTF-8" \
                "$CTL" podman register --container c --app /usr/bin/x --base b "$opt" $'/v\xff'
        expect 2 "$opt: contains a control character: '/v\\nw'" "podman register $opt with a newline" \
                "$CTL" podman register --container c --app /usr/bin/x --base b "$opt" $'/v\nw'
        expect 2 "$opt: empty value" "podman register $opt empty" \
                "$CTL" podman register --container c --app /usr/bin/x --base b "$opt" ''
done
for opt in --vm --app --target --run-as --overlay-size --include-tar --include-path; do
        expect 2 "$opt: not valid UTF-8: '/v\\xff'" "firecracker register $opt not UTF-8" \
                "$CTL" firecracker register --vm img --app /usr/bin/x "$opt" $'/v\xff'
        expect 2 "$opt: contains a control character: '/v\\x1b[31m'" "firecracker register $opt with ESC" \
                "$CTL" firecracker register --vm img --app /usr/bin/x "$opt" $'/v\e[31m'
done
expect 2 "--container: not valid UTF-8: 'img\\xff'" "the crash of the sweep" "$CTL" podman register --container $'img\xff' --app /usr/bin/x
expect 2 "--app: contains a control character: '/usr/bin/a\\u0085b'" "C1 control" "$CTL" podman register --container c --app $'/usr/bin/a\xc2\x85b'
expect 2 "--app: contains a control character: '/usr/bin/a\\tb'" "tab" "$CTL" podman register --container c --app $'/usr/bin/a\tb'
expect 2 "--uri: not valid UTF-8: 'a\\xff'" "pull --uri not UTF-8" "$CTL" podman pull --uri $'a\xff'
expect 2 "--oci: contains a control character: 'a\\nb'" "load --oci with a newline" "$CTL" podman load --oci $'a\nb'
expect 2 "--format: contains a control character: 'x\\ny'" "--format with a newline" "$CTL" list --format $'x\ny'
for opt in --mode --uplink --pool --host-address --guest-address --bridge --nameserver --mac --app; do
        expect 2 "$opt: not valid UTF-8: 'v\\xff'" "network add $opt not UTF-8" \
                "$CTL" firecracker network add "$opt" $'v\xff'
done
expect 2 "--uplink: contains a control character: 'e\\nth0'" "network init --uplink with a newline" \
        "$CTL" firecracker network init --uplink $'e\nth0'
expect 2 "--app: not valid UTF-8" "remove --app not UTF-8" "$CTL" podman remove --app $'/usr/bin/\xff'
expect 2 "--container: not valid UTF-8" "remove --container not UTF-8" "$CTL" podman remove --container $'\xff'

# Messages of the option parser: one line, input escaped.
expect 2 "list: unrecognized option '--bo\\ngus'" "unknown option with a newline" "$CTL" list $'--bo\ngus'
expect 2 "flake-ctl: unrecognized option '--x\\xff'" "unknown main option, not UTF-8" "$CTL" $'--x\xff'
expect 2 "list: unknown option '-x'" "unknown short option" "$CTL" list -x
expect 2 "list: unknown option '-\\x01'" "unknown short option, a control character" "$CTL" list $'-\x01'
expect 2 "register: option '--app' needs a value" "option without its value" "$CTL" podman register --container c --app
expect 2 "list: option '--user' takes no value" "flag with a value" "$CTL" list --user=yes
expect 2 "register: option '--include' is ambiguous (--include-tar, --include-path)" "ambiguous option" \
        "$CTL" podman register --container c --app /usr/bin/x --include /etc/hosts
expect 2 "unknown command 'fro\\nb'" "unknown command with a newline" "$CTL" $'fro\nb'
expect 2 "unknown command 'podman \\x1b[2J'" "unknown verb with ESC" "$CTL" podman $'\e[2J'
expect 2 "register: unexpected argument 'a\\nb'" "unexpected argument with a newline" "$CTL" podman register --container c --app /usr/bin/x $'a\nb'

# What a value means: images are image references (an option is not),
# users are user names, included files exist.
expect 2 "--container: '--privileged' is not a valid image reference" "option as --container" \
        "$CTL" podman register --container --privileged --app /usr/bin/x
expect 2 "--container: '-' is not a valid image reference" "--container -" "$CTL" podman register --container - --app /usr/bin/x
expect 2 "--container: 'Tools' is not a valid image reference" "upper case image" "$CTL" podman register --container Tools --app /usr/bin/x
expect 2 "--container: 'a b' is not a valid image reference" "image with a space" "$CTL" podman register --container 'a b' --app /usr/bin/x
expect 2 "--base: '-x' is not a valid image reference" "option as --base" "$CTL" podman register --container c --app /usr/bin/x --base -x
expect 2 "--layer: 'l:' is not a valid image reference" "bad --layer" "$CTL" podman register --container c --app /usr/bin/x --base b --layer l:
expect 2 "--opt: empty value" "--opt of only the backslash" "$CTL" podman register --container c --app /usr/bin/x --opt '\'
expect 2 "--run-as: '-root' is not a valid user name" "option as --run-as" "$CTL" firecracker register --vm img --app /usr/bin/x --run-as -root
expect 2 "--run-as: 'a b' is not a valid user name" "--run-as with a space" "$CTL" firecracker register --vm img --app /usr/bin/x --run-as 'a b'
expect 2 "--include-tar: /nonexistent.tar: No such file or directory" "missing include tar" \
        "$CTL" podman register --container c --app /usr/bin/x --include-tar /nonexistent.tar
expect 2 "--include-tar: /etc is not a regular file" "directory as include tar" \
        "$CTL" podman register --container c --app /usr/bin/x --include-tar /etc
expect 2 "--include-path: /nonexistent: No such file or directory" "missing include path" \
        "$CTL" firecracker register --vm img --app /usr/bin/x --overlay-size 1G --include-path /nonexistent
expect 2 "'a@b' is not a valid application name" "'@' in --app" "$CTL" podman register --container c --app /usr/bin/a@b
expect 2 "--vm: 'i@1' is not a valid image name" "'@' in --vm" "$CTL" firecracker register --vm i@1 --app /usr/bin/x
expect 1 "No VM image 'nosuch'" "remove of a missing VM image" "$CTL" firecracker remove --vm nosuch
expect 2 "--container: '--all' is not a valid image reference" "option as remove --container" "$CTL" podman remove --container --all

# podman pull and load: no value reaches podman as an option.
expect 2 "--uri: '--force' is not a valid image reference" "option as --uri" "$CTL" podman pull --uri --force
expect 2 "--uri: empty value" "empty --uri" "$CTL" podman pull --uri=
expect 2 "--uri: 'docker://' is not a valid image reference" "transport without image" "$CTL" podman pull --uri docker://
expect 2 "--oci: empty value" "empty --oci" "$CTL" podman load --oci=
expect 2 "--oci: /etc is not a regular file" "directory as --oci" "$CTL" podman load --oci /etc
expect 1 "--oci: $ROOT/none/: no such archive" "--oci naming a directory prefix" "$CTL" podman load --oci "$ROOT/none/"

# MAC addresses of a guest NIC are unicast and not all zero.
"$CTL" firecracker register --vm img --app /usr/bin/vmapp >/dev/null 2>&1
before=$(snapshot)
for mac in 00:00:00:00:00:00 01:00:5e:00:00:01 ff:ff:ff:ff:ff:ff; do
        expect 2 "mac '$mac' is not a unicast MAC address" "network add --mac $mac" \
                "$CTL" firecracker network add vmapp --mode bridge --bridge br0 --mac "$mac"
done
"$CTL" firecracker remove --app /usr/bin/vmapp >/dev/null 2>&1
before=$(snapshot)

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
  name: !!binary aw1n
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
assert_contains "verify --units: nothing generated for a container flake" "$out" \
        "  (nothing generated: its units are the templates as shipped)"
cp "$FLAKES/unknown.yaml" "$FLAKES/boot.yaml"
printf 'systemd:\n  pull_at_boot: true\n' >> "$FLAKES/boot.yaml"
out=$("$CTL" verify --units boot 2>&1)
assert_contains "verify --units lists the generated .wants/ link" "$out" \
        "  multi-user.target.wants/flake-pull@boot.service -> "
rm "$FLAKES/boot.yaml"

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

# Hand-written files: what registration refuses, verify refuses too.
rm -f "$FLAKES"/bad.yaml "$FLAKES"/syntax.yaml "$FLAKES"/unknown.yaml
cat > "$FLAKES/a@b.yaml" <<EOT
container:
  name: fine
EOT
out=$("$CTL" verify 2>&1); rc=$?
assert_eq "verify: '@' in a flake name fails" "1" "$rc"
assert_contains "verify: ... says why" "$out" "a@b: not a valid flake name"
rm "$FLAKES/a@b.yaml"
cat > "$FLAKES/opts.yaml" <<EOT
container:
  name: --privileged
  base_container: Base
  layers:
  - fine
  - -x
  runtime:
    runas: a b
    podman:
    - ""
EOT
out=$("$CTL" verify opts 2>&1); rc=$?
assert_eq "verify: an option as image fails" "1" "$rc"
assert_contains "verify: ... container.name" "$out" "error: $FLAKES/opts.yaml:2: 'container.name': '--privileged' is not a valid image reference"
assert_contains "verify: ... container.base_container" "$out" "error: $FLAKES/opts.yaml:3: 'container.base_container': 'Base' is not a valid image reference"
assert_contains "verify: ... container.layers" "$out" "error: $FLAKES/opts.yaml:6: 'container.layers': '-x' is not a valid image reference"
assert_contains "verify: ... runas" "$out" "error: $FLAKES/opts.yaml:8: 'container.runtime.runas': 'a b' is not a valid user name"
assert_contains "verify: ... an empty podman option" "$out" "error: $FLAKES/opts.yaml:10: 'container.runtime.podman': '' is not a valid podman option"
rm "$FLAKES/opts.yaml"
make_vm_image vmimg
img="$ROOT/var/lib/firecracker/images/vmimg"
for key in vcpu_count mem_size_mib; do
        cat > "$FLAKES/zero.yaml" <<EOT
vm:
  name: vmimg
  runtime:
    firecracker:
      rootfs_image_path: $img/rootfs
      kernel_image_path: $img/kernel
      $key: 0
EOT
        out=$("$CTL" verify zero 2>&1); rc=$?
        assert_eq "verify: $key 0 fails" "1" "$rc"
        assert_contains "verify: $key 0 named with file and line" "$out" "error: $FLAKES/zero.yaml:7: 'vm.runtime.firecracker.$key' must be an integer of at least 1"
done
sed -i 's/mem_size_mib: 0/vcpu_count: 3/' "$FLAKES/zero.yaml"
out=$("$CTL" verify zero 2>&1); rc=$?
assert_eq "verify: odd vcpu_count fails" "1" "$rc"
assert_contains "verify: odd vcpu_count says why" "$out" "vcpu_count 3: must be 1 or an even number up to 32"
sed -i 's/vcpu_count: 3/mem_size_mib: 64/' "$FLAKES/zero.yaml"
printf '    network:\n      mode: bridge\n      bridge: br0\n      mac: "00:00:00:00:00:00"\n' >> "$FLAKES/zero.yaml"
out=$("$CTL" verify zero 2>&1); rc=$?
assert_eq "verify: all-zero MAC fails" "1" "$rc"
assert_contains "verify: all-zero MAC says why" "$out" "mac '00:00:00:00:00:00' is not a unicast MAC address"
sed -i 's/      mode: bridge/      mode: user/; /bridge: br0/d; /mac:/d' "$FLAKES/zero.yaml"
sed -i 's/^  runtime:/  runtime:\n    vmm: firecracker/' "$FLAKES/zero.yaml"
out=$("$CTL" verify zero 2>&1); rc=$?
assert_eq "verify: QEMU's user-mode network under Firecracker fails" "1" "$rc"
assert_contains "verify: ... says why" "$out" \
        "error: $FLAKES/zero.yaml: vm.runtime.network: mode user is QEMU's user-mode network, but firecracker would run this flake"
sed -i 's/    vmm: firecracker/    vmm: qemu/' "$FLAKES/zero.yaml"
out=$("$CTL" verify zero 2>&1); rc=$?
assert_eq "verify: ... under QEMU it is fine" "0" "$rc"
rm "$FLAKES/zero.yaml"

# Names that are not UTF-8 or carry control characters: listed, escaped,
# and JSON stays JSON.
echo 'container: {name: c}' > "$FLAKES/"$'bad\xff.yaml'
echo 'container: {name: c}' > "$FLAKES/"$'esc\e[31m.yaml'
out=$("$CTL" list 2>&1)
assert_not_contains "list (table): no raw escape" "$out" $'\e'
assert_contains "list (table): escaped" "$out" 'esc\x1b[31m'
assert_contains "list (table): invalid UTF-8 escaped" "$out" 'bad\xff'
check "list (json) is valid JSON" python3 -c 'import json,sys; json.load(sys.stdin)' < <("$CTL" list --format json 2>/dev/null)
out=$("$CTL" list --format json 2>/dev/null)
assert_contains "list (json): invalid UTF-8 escaped visibly" "$out" '"name": "bad\\xff"'
out=$("$CTL" list --format csv 2>/dev/null)
assert_not_contains "list (csv): no raw escape" "$out" $'\e'
out=$("$CTL" verify 2>&1)
assert_not_contains "verify: no raw escape" "$out" $'\e'
assert_contains "verify: names shown escaped" "$out" 'esc\x1b[31m'
rm -f "$FLAKES/"$'bad\xff.yaml' "$FLAKES/"$'esc\e[31m.yaml'

# Removing an image is all or nothing: a registration that fails remove's
# checks, or an image podman cannot remove, leaves every registration.
rm -f "$FLAKES"/*.yaml
"$CTL" podman register --container img1 --app /usr/bin/i1 >/dev/null 2>&1
"$CTL" podman register --container img1 --app /usr/bin/i2 >/dev/null 2>&1
make_vm_image vmimg
"$CTL" firecracker register --vm vmimg --app /usr/bin/v1 >/dev/null 2>&1
"$CTL" firecracker register --vm vmimg --app /usr/bin/v2 >/dev/null 2>&1
ln -sf /bin/true "$ROOT/usr/bin/v2"
printf '#!/bin/sh\necho "Error: image is in use" >&2\nexit 125\n' > "$ROOT/failing-podman"
chmod 755 "$ROOT/failing-podman"
before=$(snapshot)
expect 1 "podman image rm img1 failed (status 125): image is in use" "remove --container when podman fails" \
        env FLAKE_PODMAN="$ROOT/failing-podman" "$CTL" podman remove --container img1
expect 1 "Symlink $ROOT/usr/bin/v2 points to /bin/true, not to a flake pilot" "remove --vm with a foreign link" \
        "$CTL" firecracker remove --vm vmimg

finish
