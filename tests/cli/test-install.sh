#!/bin/bash
# SPDX-License-Identifier: MIT
# make install puts everything where a distribution would, and the installed
# configuration works with flake-ctl.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
require meson
DEST=$(mktemp -d /tmp/flake-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT

check "meson install --destdir" meson install -C "$FLAKE_BUILD_ROOT" --destdir "$DEST" --no-rebuild --quiet
for f in usr/bin/flake-ctl etc/flakes.yml etc/flakes/storage.conf etc/flakes/container-flake.yaml \
         etc/flakes/firecracker-flake.yaml usr/share/bash-completion/completions/flake-ctl \
         usr/share/zsh/vendor-completions/_flake-ctl usr/share/fish/vendor_completions.d/flake-ctl.fish \
         usr/share/man/man8/flake-ctl.8 usr/share/man/man5/flakes.yaml.5 usr/share/man/man7/flake-pilot.7 \
         usr/share/man/man8/flake-ctl-podman-register.8 usr/share/man/man8/flake-ctl-firecracker-register.8 \
         usr/share/man/man8/flake-ctl-init.8 usr/share/man/man8/flake-ctl-list.8; do
        check "installed: /$f" test -s "$DEST/$f"
done
# The launch service of runas-root flakes for members of group flake.
unitdir=$(find "$DEST" -path '*/systemd/system/flake-launch.socket' -printf '%h\n' | head -n 1)
check "installed: flake-launch.socket" test -s "$unitdir/flake-launch.socket"
check "installed: flake-launch@.service" test -s "$unitdir/flake-launch@.service"
check "installed: flake-launch@.service(8)" test -s "$DEST/usr/share/man/man8/flake-launch@.service.8"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) --serve$/\1/p' "$unitdir/flake-launch@.service")
check "flake-launch@.service runs the installed pilot with --serve" test -x "$DEST$exec_start"
assert_contains "flake-launch.socket: the pilot's socket, root:flake 0660, one service per connection" \
        "$(grep -E '^(ListenStream|SocketGroup|SocketMode|Accept)=' "$unitdir/flake-launch.socket" | tr '\n' ' ')" \
        "ListenStream=/run/flakes/launch.sock SocketGroup=flake SocketMode=0660 Accept=yes"
assert_eq "installed container template = built-in one" "$("$FLAKE_BUILD_ROOT/ctl/flake-ctl" template container)" \
        "$(cat "$DEST/etc/flakes/container-flake.yaml")"

# The installed files as the configuration of a private root.
export FLAKE_ROOT="$DEST" FLAKE_BINDIR="$DEST/usr/bin"
out=$("$DEST/usr/bin/flake-ctl" list 2>&1)
assert_contains "installed flakes.yml loads" "$out" "Flake applications registered in $DEST/usr/share/flakes"
check "register with the installed template" "$DEST/usr/bin/flake-ctl" podman register --container c --app /usr/bin/t
assert_contains "installed template used" "$(cat "$DEST/usr/share/flakes/t.yaml")" '- "-ti"'

# The installed completions are found where zsh and fish look by default.
if command -v zsh >/dev/null; then
        out=$(zsh -f -c 'print -rl -- $fpath' 2>&1)
        assert_contains "zsh searches /usr/share/zsh/vendor-completions" "$out" "/usr/share/zsh/vendor-completions"
        out=$(zsh -f "$FLAKE_SOURCE_ROOT/tests/cli/zsh-complete.zsh" "$DEST/usr/share/zsh/vendor-completions" 'flake-ctl pod' 2>&1)
        assert_eq "the installed zsh completion completes" "podman" "$out"
else
        _t_result 1 "zsh is installed (tests/install-deps.sh)"
fi
if command -v fish >/dev/null; then
        mkdir -p "$DEST/home"
        out=$(HOME=$DEST/home fish -c 'printf "%s\n" $fish_complete_path' 2>&1)
        assert_contains "fish searches /usr/share/fish/vendor_completions.d" "$out" "/usr/share/fish/vendor_completions.d"
        # Found by name (flake-ctl.fish for the command flake-ctl, which
        # fish loads once the command is in PATH).
        out=$(HOME=$DEST/home PATH=$DEST/usr/bin:$PATH fish -c "set fish_complete_path $DEST/usr/share/fish/vendor_completions.d; complete -C 'flake-ctl pod'" 2>&1)
        assert_eq "the installed fish completion completes" "podman" "$out"
else
        _t_result 1 "fish is installed (tests/install-deps.sh)"
fi
finish
