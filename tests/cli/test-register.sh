#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-ctl register/list/remove in a private root, comparing exact outputs.
. "$(dirname "$0")/common.sh"

check "--version" "$CTL" --version
# Every command takes --version (and -V), as the original's did.
for cmd in "init" "list" "verify" "podman" "podman register" "podman remove" "podman show" "podman pull" \
           "podman load" "podman stop" "firecracker" "firecracker register" "firecracker remove" \
           "firecracker show" "firecracker pull" "firecracker network" "firecracker volume"; do
        assert_eq "'$cmd --version'" "$("$CTL" --version)" "$("$CTL" $cmd --version 2>&1)"
done
assert_eq "'podman register -V' among other options" "$("$CTL" --version)" \
        "$("$CTL" podman register --container x -V 2>&1)"
out=$("$CTL" --help); assert_contains "--help lists commands" "$out" "podman [--user] COMMAND"
out=$("$CTL" help podman); assert_contains "help podman lists register" "$out" "register"

out=$("$CTL" list)
assert_eq "empty list (table)" "Flake applications registered in $FLAKES

No application(s) registered" "$out"
assert_eq "empty list (json)" "[]" "$("$CTL" list --format json)"
assert_eq "empty list (csv)" "" "$("$CTL" list --format csv)"

check "register a container flake" "$CTL" podman register --container localhost/tools --app /usr/bin/aws --target /usr/local/bin/aws
check "app link points to the pilot" test "$(readlink "$ROOT/usr/bin/aws")" = "$PILOT"
check "NAME.yaml written" test -f "$FLAKES/aws.yaml"
check "NAME.d created" test -d "$FLAKES/aws.d"
check "no temp files left" test -z "$(find "$FLAKES" -name '*.yaml.*')"
yaml=$(cat "$FLAKES/aws.yaml")
assert_contains "yaml: image" "$yaml" "name: localhost/tools"
assert_contains "yaml: target" "$yaml" "target_app_path: /usr/local/bin/aws"
assert_contains "yaml: runas is the caller" "$yaml" "runas: $(id -un)"
assert_contains "yaml: default podman options from the template" "$yaml" '- "-ti"'

check "register with every container option" "$CTL" podman register --container delta --app /usr/bin/joe \
        --base basesys --layer l1 --layer l2 --include-tar /etc/os-release --include-path /etc/hosts \
        --resume --opt '\--net host' --opt -ti
yaml=$(cat "$FLAKES/joe.yaml")
assert_contains "yaml: base" "$yaml" "base_container: basesys"
assert_contains "yaml: layers in order" "$yaml" "  layers:
  - l1
  - l2"
assert_contains "yaml: leading backslash stripped, -ti replaced" "$yaml" '    podman:
    - "--net host"
    - "-ti"'
assert_contains "yaml: resume" "$yaml" "resume: true"
assert_not_contains "yaml: the agent is the default, no key for it" "$yaml" "agent:"
check "register --resume --no-agent" "$CTL" podman register --container c --app /usr/bin/noagent --resume --no-agent
assert_contains "yaml: agent: false" "$(cat "$FLAKES/noagent.yaml")" "    agent: false"
check "... loads" "$CTL" verify noagent
check "remove it" "$CTL" podman remove --app /usr/bin/noagent
assert_contains "yaml: include tar" "$yaml" "  tar:
  - /etc/os-release"

# Several values after one option, as the original's (clap) took them: the
# same registration as the repeated options above.
check "register with several values per option" "$CTL" podman register --container delta --app /usr/bin/joe2 \
        --base basesys --layer l1 l2 --include-tar /etc/os-release --include-path /etc/hosts \
        --resume --opt '\--net host' '\-ti'
assert_eq "several values: the same yaml as repeated options" \
        "$(sed 's|/usr/bin/joe$|APP|' "$FLAKES/joe.yaml")" "$(sed 's|/usr/bin/joe2$|APP|' "$FLAKES/joe2.yaml")"
check "remove it" "$CTL" podman remove --app /usr/bin/joe2
check "register with two include tars after one option" "$CTL" podman register --container c --app /usr/bin/two \
        --include-tar /etc/os-release /etc/hostname --force
assert_contains "yaml: both tars, in order" "$(cat "$FLAKES/two.yaml")" "  tar:
  - /etc/os-release
  - /etc/hostname"
check "remove it" "$CTL" podman remove --app /usr/bin/two
out=$("$CTL" podman register --container c --app /usr/bin/bad --layer l1 $'l\x01' 2>&1); rc=$?
assert_eq "a bad second value is a usage error" 2 "$rc"
assert_contains "... naming the option" "$out" "--layer"
check "... nothing registered" test ! -e "$FLAKES/bad.yaml"

# Image references as podman takes them; podman options as --opt values.
check "register a registry:port/path:tag image" "$CTL" podman register --container 127.0.0.1:5000/ns/img:1.0-rc_1 \
        --app /usr/bin/refs --base registry.example.com/base@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
        --layer localhost/layer:2 --opt --net=host --opt '\--privileged'
yaml=$(cat "$FLAKES/refs.yaml")
assert_contains "yaml: image with registry, port and tag" "$yaml" "name: 127.0.0.1:5000/ns/img:1.0-rc_1"
assert_contains "yaml: base by digest" "$yaml" "base_container: registry.example.com/base@sha256:0123456789abcdef"
assert_contains "yaml: podman options kept" "$yaml" '    - "--net=host"
    - "--privileged"'
check "remove it" "$CTL" podman remove --app /usr/bin/refs
check "register a name with UTF-8 letters" "$CTL" podman register --container c --app /usr/bin/caf$'\xc3\xa9'
check "... listed as it is" test "$("$CTL" list --format csv | cut -d, -f1 | grep caf)" = caf$'\xc3\xa9'
check "remove it" "$CTL" podman remove --app /usr/bin/caf$'\xc3\xa9'

check "register with target '/' (image entrypoint)" "$CTL" podman register --container img --app /usr/local/bin/ep --target /
check "app in another dir gets its parents" test -L "$ROOT/usr/local/bin/ep"

make_vm_image leap
check "register a VM flake" "$CTL" firecracker register --vm leap --app /usr/bin/mybash --target /bin/bash \
        --resume --overlay-size 20g --include-path /etc/hosts
check "VM app link points to the firecracker pilot" test "$(readlink "$ROOT/usr/bin/mybash")" = "$FC_PILOT"
yaml=$(cat "$FLAKES/mybash.yaml")
assert_contains "vm yaml: rootfs from the image dir" "$yaml" "rootfs_image_path: $ROOT/var/lib/firecracker/images/leap/rootfs"
assert_contains "vm yaml: no initrd in the image, none registered" "$yaml" "initrd_path: ~"
assert_contains "vm yaml: sci_resume=1 appended" "$yaml" '"sci_resume=1"'
assert_contains "vm yaml: ip=dhcp kept" "$yaml" '"ip=dhcp"'
assert_contains "vm yaml: overlay size" "$yaml" "overlay_size: 20g"
echo initrd > "$ROOT/var/lib/firecracker/images/leap/initrd"
check "VM register with two include paths after one option" "$CTL" firecracker register --vm leap \
        --app /usr/bin/leap2 --overlay-size 20g --include-path /etc/hosts /etc/hostname
assert_contains "vm yaml: both paths, in order" "$(cat "$FLAKES/leap2.yaml")" "  path:
  - /etc/hosts
  - /etc/hostname"
check "remove it" "$CTL" firecracker remove --app /usr/bin/leap2
check "register --no-net --force-vsock" "$CTL" firecracker register --vm leap --app /usr/bin/leapsh --no-net --force-vsock --run-as root
yaml=$(cat "$FLAKES/leapsh.yaml")
assert_not_contains "vm yaml: --no-net drops ip=" "$yaml" "ip=dhcp"
assert_contains "vm yaml: sci_force_vsock=1" "$yaml" '"sci_force_vsock=1"'
assert_contains "vm yaml: --run-as" "$yaml" "runas: root"
assert_contains "vm yaml: initrd registered when present" "$yaml" "initrd_path: $ROOT/var/lib/firecracker/images/leap/initrd"

# A drop-in replaces a whole top-level section.
mkdir -p "$FLAKES/aws.d"
cat > "$FLAKES/aws.d/50-target.yaml" <<EOT
container:
  name: localhost/tools
  host_app_path: /usr/bin/aws
  target_app_path: /opt/aws/bin/aws
EOT

# The ruler under CONFIG depends on the temp dir's name: compare it apart.
out=$("$CTL" list | sed "s|$ROOT|ROOT|g")
assert_eq "list (table)" "Flake applications registered in ROOT/usr/share/flakes

NAME    ENGINE       TARGET APP PATH   HOST APP PATH      CONFIG
------  -----------  ----------------  -----------------  ---
aws     podman       /opt/aws/bin/aws  /usr/bin/aws       ROOT/usr/share/flakes/aws.yaml
ep      podman       /                 /usr/local/bin/ep  ROOT/usr/share/flakes/ep.yaml
joe     podman       /usr/bin/joe      /usr/bin/joe       ROOT/usr/share/flakes/joe.yaml
leapsh  firecracker  /usr/bin/leapsh   /usr/bin/leapsh    ROOT/usr/share/flakes/leapsh.yaml
mybash  firecracker  /bin/bash         /usr/bin/mybash    ROOT/usr/share/flakes/mybash.yaml" "$(echo "$out" | sed '4s/-*$/---/')"
ruler=$(echo "$out" | sed -n 4p | awk '{print $NF}')
assert_eq "list (table): ruler as wide as the longest config path" "${#ruler}" "$(echo -n "$FLAKES/mybash.yaml" | wc -c)"

out=$("$CTL" list --format csv)
assert_eq "list (csv)" "aws,podman,/opt/aws/bin/aws,/usr/bin/aws,$FLAKES/aws.yaml
ep,podman,/,/usr/local/bin/ep,$FLAKES/ep.yaml
joe,podman,/usr/bin/joe,/usr/bin/joe,$FLAKES/joe.yaml
leapsh,firecracker,/usr/bin/leapsh,/usr/bin/leapsh,$FLAKES/leapsh.yaml
mybash,firecracker,/bin/bash,/usr/bin/mybash,$FLAKES/mybash.yaml" "$out"

out=$("$CTL" list --format json)
first=$(printf '%s\n' "$out" | head -8)
assert_eq "list (json)" "[
  {
    \"name\": \"aws\",
    \"engine\": \"podman\",
    \"target\": \"/opt/aws/bin/aws\",
    \"host_app_path\": \"/usr/bin/aws\",
    \"config\": \"$FLAKES/aws.yaml\"
  }," "$first"
check "list (json) parses" python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==5 and d[4]["engine"]=="firecracker"' <<<"$out"

# CSV quoting of a value with a comma (written by hand: flake-ctl would not).
cp "$FLAKES/ep.yaml" "$FLAKES/q.yaml"
sed -i 's|target_app_path: /$|target_app_path: "/bin/a,b"|' "$FLAKES/q.yaml"
out=$("$CTL" list --format csv | grep '^q,')
assert_eq "csv quotes values with commas" "q,podman,\"/bin/a,b\",/usr/local/bin/ep,$FLAKES/q.yaml" "$out"
rm "$FLAKES/q.yaml"

out=$("$CTL" verify 2>&1); rc=$?
assert_eq "verify: all fine" "0" "$rc"
assert_contains "verify: summary" "$out" "5 flake(s) checked in $FLAKES, 0 with errors"

chmod -x "$FC_PILOT"
out=$("$CTL" verify 2>&1); rc=$?
assert_eq "verify: missing pilot is an error" "1" "$rc"
assert_contains "verify: names the missing pilot" "$out" "error: $FLAKES/mybash.yaml: the pilot $FC_PILOT is not installed"
chmod +x "$FC_PILOT"

# Files written by the original tool load unchanged.
for f in aws joe mybash minimal-vm; do
        cp "$FLAKE_SOURCE_ROOT/tests/fixtures/original/$f.yaml" "$ROOT/orig-$f.yaml"
done
mkdir -p "$ROOT/orig" && for f in aws joe mybash minimal-vm; do mv "$ROOT/orig-$f.yaml" "$ROOT/orig/$f.yaml"; done
out=$(FLAKES_DIR="$ROOT/orig" "$CTL" list --format csv 2>&1)
assert_eq "original files list unchanged" "aws,podman,/usr/bin/aws,/usr/bin/aws,$ROOT/orig/aws.yaml
joe,podman,/usr/bin/joe,/usr/bin/joe,$ROOT/orig/joe.yaml
minimal-vm,firecracker,,/usr/bin/ubuntu-sh,$ROOT/orig/minimal-vm.yaml
mybash,firecracker,/bin/bash,/usr/bin/mybash,$ROOT/orig/mybash.yaml" "$out"

# remove
check "remove --app" "$CTL" podman remove --app /usr/bin/aws
check "remove: link gone" test ! -e "$ROOT/usr/bin/aws"
check "remove: yaml gone" test ! -e "$FLAKES/aws.yaml"
check "remove: drop-ins gone" test ! -e "$FLAKES/aws.d"
check_fails "remove again fails" "$CTL" podman remove --app /usr/bin/aws
check_fails "podman remove of a VM flake fails" "$CTL" podman remove --app /usr/bin/mybash
check "VM flake still there" test -f "$FLAKES/mybash.yaml"

check "firecracker remove --vm removes all its flakes" "$CTL" firecracker remove --vm leap
check "remove --vm: flakes gone" test ! -e "$FLAKES/mybash.yaml" -a ! -e "$FLAKES/leapsh.yaml" -a ! -L "$ROOT/usr/bin/mybash"
check "remove --vm: image dir gone" test ! -e "$ROOT/var/lib/firecracker/images/leap"
check "remove --vm: other flakes kept" test -f "$FLAKES/joe.yaml"

# A hand-made link that is not ours is kept without --force.
ln -sf /bin/true "$ROOT/usr/bin/joe"
check_fails "remove refuses a link not pointing to the pilot" "$CTL" podman remove --app /usr/bin/joe
check "... and removed nothing" test -f "$FLAKES/joe.yaml"
check_fails "remove --force refuses it too: not a link to a pilot" "$CTL" podman remove --app /usr/bin/joe --force
check "... and removed nothing" test -f "$FLAKES/joe.yaml" -a -L "$ROOT/usr/bin/joe"
# A link to a pilot installed elsewhere (an older installation) is ours.
ln -sf /opt/old/bin/podman-pilot "$ROOT/usr/bin/joe"
check_fails "remove refuses a link to a pilot elsewhere without --force" "$CTL" podman remove --app /usr/bin/joe
check "remove --force removes it" "$CTL" podman remove --app /usr/bin/joe --force
check "--force: link gone" test ! -L "$ROOT/usr/bin/joe"
check "--force: registration gone" test ! -e "$FLAKES/joe.yaml"
check "remove --force of nothing is fine" "$CTL" podman remove --app /usr/bin/nothing --force

# register --force replaces.
check "register --force over an existing app" "$CTL" podman register --container other --app /usr/local/bin/ep --force
assert_contains "--force: new image" "$(cat "$FLAKES/ep.yaml")" "name: other"

if command -v podman >/dev/null; then
        cat > "$ROOT/etc/flakes.yml" <<EOT
generic:
  podman_storage_conf: /etc/flakes/storage.conf
EOT
        mkdir -p "$ROOT/etc/flakes"
        printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$ROOT/storage" "$ROOT/run" > "$ROOT/etc/flakes/storage.conf"
        "$CTL" podman register --container other --app /usr/bin/o2 >/dev/null 2>&1
        check "remove --container removes all its flakes" "$CTL" podman remove --container other
        check "remove --container: both gone" test ! -e "$FLAKES/ep.yaml" -a ! -e "$FLAKES/o2.yaml"
        check "remove --container used the flake image store" test -d "$ROOT/storage"
else
        echo "Bail out! podman is not installed (run tests/install-deps.sh)"; exit 1
fi

# Ten concurrent registrations and removals never corrupt the dir.
for i in $(seq 1 10); do "$CTL" podman register --container c --app /usr/bin/par$i >/dev/null 2>&1 & done; wait
assert_eq "10 concurrent registrations" "10" "$(ls "$FLAKES"/par*.yaml | wc -l)"
ok=0; for i in $(seq 1 10); do "$CTL" podman register --container c --app /usr/bin/same >/dev/null 2>&1 && echo x & done > "$ROOT/same.out"; wait
assert_eq "10 concurrent registrations of one app: exactly one wins" "1" "$(grep -c x "$ROOT/same.out")"
check "concurrent: all files load" "$CTL" verify
for i in $(seq 1 10); do "$CTL" podman remove --app /usr/bin/par$i >/dev/null 2>&1 & done; wait
assert_eq "10 concurrent removals" "0" "$(ls "$FLAKES" | grep -c '^par')"
check "no temp files left" test -z "$(find "$FLAKES" -name '*.yaml.*')"

finish
