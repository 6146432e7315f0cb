#!/bin/bash
# SPDX-License-Identifier: MIT
# --user mode, run as an unprivileged user (nobody) with its own HOME.
. "$(dirname "$0")/common.sh"
require setpriv

U_HOME="$ROOT/home/nobody"
mkdir -p "$U_HOME" && chown nobody: "$U_HOME"
as_nobody() {
        env -u FLAKE_ROOT HOME="$U_HOME" FLAKE_CONFIG="$ROOT/none.yml" \
                setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
check "the build is readable by nobody" as_nobody test -x "$CTL"

out=$("$CTL" init --user 2>&1); rc=$?
assert_eq "root: init --user refused" "1" "$rc"
assert_contains "root: init explains why" "$out" "only the user setup can be created"

out=$(as_nobody "$CTL" init 2>&1); rc=$?
assert_eq "init without --user refused" "1" "$rc"

out=$(as_nobody "$CTL" list --user 2>&1); rc=$?
assert_eq "list --user before init fails" "1" "$rc"
assert_contains "... with a hint" "$out" "run 'flake-ctl init --user'"

# A home directory that is not UTF-8 cannot be written into flakes.yml (its
# own loader would refuse the file): refused before anything is written.
BAD_HOME="$ROOT/home/"$'n\xffbody'
mkdir -p "$BAD_HOME" && chown nobody: "$BAD_HOME"
out=$(env -u FLAKE_ROOT HOME="$BAD_HOME" setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" init --user 2>&1); rc=$?
assert_eq "init --user with a HOME that is not UTF-8 fails" "1" "$rc"
assert_contains "... saying why" "$out" "init: the home directory $ROOT/home/n\\xffbody is not valid UTF-8"
assert_eq "... in one line" "1" "$(printf '%s\n' "$out" | wc -l)"
check "... and writes nothing" test -z "$(ls -A "$BAD_HOME")"
# A user setup written by hand under such a home: the VM image paths a
# registration would name are refused before they reach YAML.
printf 'generic:\n  flakes_dir: %s\n  podman_ids_dir: /tmp/flakes\n  firecracker_ids_dir: /tmp/flakes\n  podman_storage_conf: %s\n' \
        "$ROOT/bad-flakes" "$ROOT/bad-storage.conf" > "$ROOT/bad-user.yml"
mkdir -p "$BAD_HOME/.config/flakes/firecracker/images/img"
touch "$BAD_HOME/.config/flakes/firecracker/images/img/"{rootfs,kernel}
chown -R nobody: "$BAD_HOME"
out=$(env -u FLAKE_ROOT HOME="$BAD_HOME" FLAKE_USER_CONFIG="$ROOT/bad-user.yml" FLAKE_CONFIG="$ROOT/none.yml" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 30 "$CTL" firecracker --user register --vm img --app /tmp/x 2>&1); rc=$?
assert_eq "VM image under a home that is not UTF-8: refused" "1" "$rc"
assert_contains "... saying why" "$out" "The VM image directory $ROOT/home/n\\xffbody/.config/flakes/firecracker/images/img is not valid UTF-8"
assert_eq "... in one line" "1" "$(printf '%s\n' "$out" | wc -l)"
check "... and registers nothing" test ! -e "$ROOT/bad-flakes"
rm -rf "$BAD_HOME/.config"

check "init --user" as_nobody "$CTL" init --user
check "~/.config/flakes" test -d "$U_HOME/.config/flakes/podman" -a -d "$U_HOME/.config/flakes/firecracker"
assert_eq "~/.config/flakes.yml" "generic:
  flakes_dir: $U_HOME/.config/flakes
  podman_ids_dir: /tmp/flakes
  firecracker_ids_dir: /tmp/flakes
  podman_storage_conf: $U_HOME/.config/flakes/podman/storage.conf" "$(cat "$U_HOME/.config/flakes.yml")"
assert_eq "user storage.conf" "[storage]
driver = \"overlay\"
graphroot = \"$U_HOME/.config/flakes/podman/storage\"
runroot = \"$U_HOME/.config/flakes/podman/storage/runroot\"
rootless_storage_path = \"$U_HOME/.config/flakes/podman/storage\"" "$(cat "$U_HOME/.config/flakes/podman/storage.conf")"
check "files belong to the user" test "$(stat -c %U "$U_HOME/.config/flakes.yml")" = nobody

echo "# edited" >> "$U_HOME/.config/flakes.yml"
out=$(as_nobody "$CTL" init --user 2>&1)
assert_contains "init again keeps existing files" "$out" "Keeping existing $U_HOME/.config/flakes.yml"
assert_contains "... unchanged" "$(cat "$U_HOME/.config/flakes.yml")" "# edited"
check "init --user --force" as_nobody "$CTL" init --user --force
assert_not_contains "--force rewrote the file" "$(cat "$U_HOME/.config/flakes.yml")" "# edited"

check "podman --user register" as_nobody "$CTL" podman --user register --container c --app "$U_HOME/bin/tool"
check "registration in the user dir" test -f "$U_HOME/.config/flakes/tool.yaml"
assert_contains "runas is the user" "$(cat "$U_HOME/.config/flakes/tool.yaml")" "runas: nobody"
out=$(as_nobody "$CTL" list --user --format csv)
assert_eq "list --user" "tool,podman,$U_HOME/bin/tool,$U_HOME/bin/tool,$U_HOME/.config/flakes/tool.yaml" "$out"
out=$("$CTL" list --user --format csv)
assert_eq "root's --user is ignored (system dir, empty)" "" "$out"
check "podman --user remove" as_nobody "$CTL" podman --user remove --app "$U_HOME/bin/tool"
check "user registration gone" test ! -e "$U_HOME/.config/flakes/tool.yaml" -a ! -e "$U_HOME/bin/tool"

finish
