# SPDX-License-Identifier: MIT
# Sourced by inner.sh: runas-root flakes for a member of group flake,
# without sudo, through flake-launch.socket (issue 12.3, 11.2). Needs the
# test image check_podman_flake imports.

check_priv() {
        store=/etc/flakes/storage.conf
        if out=$(systemctl start flake-launch.socket 2>&1); then ok "systemctl start flake-launch.socket"; else
                not_ok "systemctl start flake-launch.socket" "$out"
                return
        fi
        eq "its socket is root:flake, 0660" "root flake 660" "$(stat -c '%U %G %a' /run/flakes/launch.sock 2>&1)"
        useradd --create-home --groups flake fmember
        useradd --create-home fother
        uid=$(id -u fmember)
        member() { setpriv --reuid=fmember --regid=fmember --init-groups "$@"; }
        other() { setpriv --reuid=fother --regid=fother --init-groups "$@"; }

        # Registered by root: runas root.
        check "flake-ctl podman register (by root: runas root)" "$PREFIX/bin/flake-ctl" podman register \
                --container localhost/flake-test:latest --app /usr/bin/proot --target /bin/sh
        contains "... runas root" "$(cat /usr/share/flakes/proot.yaml)" "runas: root"

        member /usr/bin/proot -c 'echo out; echo err >&2; exit 7' >/tmp/proot.out 2>/tmp/proot.err; rc=$?
        eq "member of group flake: the app's exit status" 7 "$rc"
        eq "... its stdout" out "$(cat /tmp/proot.out)"
        eq "... its stderr, separate" err "$(cat /tmp/proot.err)"
        eq "... stdin streams in" "a b" "$(printf 'a\nb\n' | member /usr/bin/proot -c 'echo $(cat)' 2>&1)"

        # A running launch: in its scope, as root's launches are.
        (exec setpriv --reuid=fmember --regid=fmember --init-groups /usr/bin/proot -c 'exec sleep 61') &
        client=$!
        wait_for 150 pgrep -f '^sleep 61$'
        app=$(pgrep -f '^sleep 61$' | head -n 1)
        contains "the app runs in a launch scope in flake.slice (--cgroups=split)" \
                "$(cat /proc/"${app:-0}"/cgroup 2>&1)" "/flake.slice/flake-proot-"
        contains "... in its payload cgroup" "$(cat /proc/"${app:-0}"/cgroup 2>&1)" "/libpod-payload-"
        sleep 0.3
        t0=$(date +%s)
        kill -TERM "$client"; wait "$client"; rc=$?
        eq "kill -TERM of the client ends the app: 128+15" 143 "$rc"
        check "... at once" test $(( $(date +%s) - t0 )) -lt 10
        wait_for 50 sh -c "[ -z \"\$(CONTAINERS_STORAGE_CONF=$store podman ps -aq)\" ]"
        eq "... and no container is left" "" "$(CONTAINERS_STORAGE_CONF=$store podman ps -aq 2>&1)"

        # Provisioning as root: include.tar.
        mkdir -p /tmp/pinc/etc; echo included >/tmp/pinc/etc/included
        tar -C /tmp/pinc -cf /opt/flake-test/pinc.tar etc
        printf 'include:\n  tar:\n    - /opt/flake-test/pinc.tar\ncontainer:\n  name: localhost/flake-test:latest\n  target_app_path: /bin/sh\n  host_app_path: /usr/bin/pinc\n  runtime:\n    runas: root\n' \
                >/usr/share/flakes/pinc.yaml
        ln -sf "$PREFIX/bin/podman-pilot" /usr/bin/pinc
        eq "member: a flake with include.tar" included "$(member /usr/bin/pinc -c 'cat /etc/included' 2>&1)"

        # The caller's environment chooses nothing.
        mkdir -p /tmp/evil/root/usr/share/flakes /tmp/evil/bin
        chmod -R 755 /tmp/evil; chmod 1777 /tmp/evil
        printf 'container:\n  name: localhost/evil\n  target_app_path: /bin/evil\n  runtime:\n    runas: root\n    podman:\n      - --privileged\n' \
                >/tmp/evil/root/usr/share/flakes/proot.yaml
        for b in sudo podman; do
                printf '#!/bin/sh\necho "%s $*" >>/tmp/evil/log\nexit 99\n' $b >/tmp/evil/bin/$b
                chmod 755 /tmp/evil/bin/$b
        done
        out=$(member env FLAKE_ROOT=/tmp/evil/root FLAKE_RUNTIME_DIR=/run/flakes FLAKE_PODMAN=/tmp/evil/bin/podman \
                PATH=/tmp/evil/bin:/usr/bin:/bin CONTAINERS_CONF=/tmp/evil/none /usr/bin/proot -c 'echo fine' 2>&1)
        eq "FLAKE_ROOT, FLAKE_PODMAN, PATH, CONTAINERS_CONF of the caller change nothing" fine "$out"
        check "... nothing the caller named ran" test ! -e /tmp/evil/log

        # Who may not.
        out=$(other /usr/bin/proot -c 'echo ran' 2>&1); rc=$?
        eq "a user not in group flake is refused" 125 "$rc"
        eq "... with one line" 1 "$(printf '%s\n' "$out" | wc -l)"
        contains "... saying why" "$out" "only members of group flake may launch it"

        journalctl --sync 2>/dev/null
        contains "the journal has the launch for the member's uid" \
                "$(journalctl --no-pager -o cat FLAKE_NAME=proot 2>&1)" "Launching proot for uid $uid"
        sec=$(systemd-analyze security flake-launch@x.service 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        echo "# systemd-analyze security flake-launch@x.service: $sec" >>"$OUT"
        check "exposure of flake-launch@ at most 9.4 (flake-launch@.service(8))" \
                awk -v s="${sec:-99}" 'BEGIN { exit !(s <= 9.4) }'
        "$PREFIX/bin/flake-ctl" podman remove --app /usr/bin/proot >/dev/null 2>&1
        rm -f /usr/share/flakes/pinc.yaml /usr/bin/pinc
}
