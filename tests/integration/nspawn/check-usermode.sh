# SPDX-License-Identifier: MIT
# Sourced by inner.sh (POSIX sh): a user's own flakes in the booted systemd,
# launched through the user's manager by a lingering test user (issue 10
# point 5, issue 11 point 3), and images pulled at launch through flake-pull@
# (issue 10 point 6, issue 11 point 4).
#
# The user's commands run in a transient service of the user's manager
# (systemd-run --user --pipe --wait), as from a login session: the pilot
# then makes its launch scope in that manager.

UM_USER=flakeuser
UM_HTTP=127.0.0.1:8081

# um CMD...: CMD as the test user, in the user's manager; stdio piped, its
# exit status returned.
um() {
        runuser -u $UM_USER -- env XDG_RUNTIME_DIR=/run/user/$UM_UID \
                DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$UM_UID/bus \
                systemd-run --user --quiet --wait --pipe --collect \
                -E DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$UM_UID/bus -- "$@"
}
# umctl ARGS...: systemctl --user of the test user.
umctl() {
        runuser -u $UM_USER -- env XDG_RUNTIME_DIR=/run/user/$UM_UID \
                DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$UM_UID/bus systemctl --user "$@"
}
umprop() { umctl show -p "$2" --value "$1"; }
# as_um CMD...: CMD as the test user, here (files, no manager needed).
as_um() { runuser -u $UM_USER -- "$@"; }

um_setup() {
        check "useradd $UM_USER" useradd -m -s /bin/sh $UM_USER || return 1
        UM_UID=$(id -u $UM_USER)
        UM_HOME=/home/$UM_USER
        # Rootless podman maps the container's users to these: useradd's
        # own ranges where it gave some (it does once uidmap is installed),
        # else one of ours (two ranges that overlap make newuidmap fail).
        grep -q "^$UM_USER:" /etc/subuid 2>/dev/null || echo "$UM_USER:300000:65536" >>/etc/subuid
        grep -q "^$UM_USER:" /etc/subgid 2>/dev/null || echo "$UM_USER:300000:65536" >>/etc/subgid
        # The test server speaks plain HTTP (as for the system's flake-pull@).
        mkdir -p /etc/systemd/user/flake-pull@.service.d
        printf '[Service]\nEnvironment=FLAKE_ALLOW_INSECURE_TRANSPORT=1\n' \
                >/etc/systemd/user/flake-pull@.service.d/50-test-http.conf
        check "loginctl enable-linger $UM_USER" loginctl enable-linger $UM_USER
        wait_for 300 sh -c "[ \"\$(systemctl is-active user@$UM_UID.service)\" = active ]"
        eq "the user's manager runs (lingering)" active "$(prop user@$UM_UID.service ActiveState)"
        check "... with the user's bus (dbus-user-session)" test -S /run/user/$UM_UID/bus
        check "the user flake-vm@ template is installed" test -e "$PREFIX/lib/systemd/user/flake-vm@.service"
        check "flake-ctl init --user" um "$PREFIX/bin/flake-ctl" init --user
        as_um mkdir -p $UM_HOME/bin
}

# A user's VM flake whose image is missing: the launch pulls it with the
# user's flake-pull@, boots it with the user's flake-vm@, all in the user's
# directories.
um_vm() {
        reg=$UM_HOME/.config/flakes/firecracker
        busybox httpd -f -p $UM_HTTP -h /opt/flake-test/srv &
        um_httpd=$!
        wait_for 50 busybox wget -q -s http://$UM_HTTP/tcg.tar.xz
        as_um sh -c "cat > $UM_HOME/.config/flakes/uvm.yaml" <<EOY
vm:
  name: tcg
  target_app_path: /bin/sh
  host_app_path: $UM_HOME/bin/uvm
  pull:
    kis_image: http://$UM_HTTP/tcg.tar.xz
  runtime:
    vmm: qemu
    resume: true
    network:
      mode: user
    firecracker:
      boot_args: ["init=/usr/sbin/sci", "console=ttyS0", "root=/dev/vda", "acpi=off", "panic=-1", "sci_resume=1"]
      overlay_size: 16MiB
      rootfs_image_path: $reg/images/tcg/rootfs
      kernel_image_path: $reg/images/tcg/kernel
      initrd_path: $reg/images/tcg/initrd
      mem_size_mib: 256
      vcpu_count: 1
EOY
        as_um ln -sf "$PREFIX/bin/firecracker-pilot" $UM_HOME/bin/uvm
        # What "flake-ctl register" does: the user generator makes the drop-ins.
        check "systemctl --user daemon-reload" umctl daemon-reload
        contains "the user generator wired flake-vm@uvm to flake-pull@uvm" \
                "$(umprop flake-vm@uvm.service Requires)" "flake-pull@uvm.service"
        not_contains "... and to no flake-tap@ (its network is QEMU's user-mode one)" \
                "$(umprop flake-vm@uvm.service Requires)" "flake-tap@"

        out=$(um $UM_HOME/bin/uvm -c 'echo "vm $(cat /etc/flake-test-image)"; exit 5' 2>/tmp/uvm.err); rc=$?
        eq "user VM flake: exit status of the app" 5 "$rc"
        contains "user VM flake: its output" "$out" "vm "
        [ "$rc" = 5 ] || not_ok "user VM flake: diagnostics" "$(cat /tmp/uvm.err)" \
                "$(umctl status --no-pager flake-vm@uvm.service flake-pull@uvm.service 2>&1 | tail -n 20)"
        eq "the missing image was pulled by the user's flake-pull@uvm" active "$(umprop flake-pull@uvm.service ActiveState)"
        eq "... into the user's registry, owned by the user" "$UM_UID" "$(stat -c %u $reg/images/tcg/rootfs 2>&1)"
        eq "the VM runs as the user's flake-vm@uvm" active "$(umprop flake-vm@uvm.service ActiveState)"
        eq "... not the system's" inactive "$(prop flake-vm@uvm.service ActiveState)"
        contains "... in the user's manager" "$(cat /proc/"$(umprop flake-vm@uvm.service MainPID)"/cgroup 2>&1)" \
                "/user@$UM_UID.service/"
        check "its runtime state is in the user's runtime dir" test -d /run/user/$UM_UID/flakes/vm/uvm
        check "its resume overlay is in the user's registry" test -s $reg/storage/uvm.ext2
        out=$(um $UM_HOME/bin/uvm -c "wget -q -O /dev/null http://10.0.2.2:${UM_HTTP##*:}/tcg.tar.xz && echo fetched" 2>&1)
        eq "the user's VM reaches the host's loopback through QEMU's user-mode network" fetched "$out"
        contains "journalctl --user: the VM's console and the runner's events" \
                "$(journalctl --no-pager -o cat _SYSTEMD_USER_UNIT=flake-vm@uvm.service 2>&1)" "uvm: the guest agent is ready"
        # A running VM has what it needs: no pull, and the VM is not touched
        # (a restart of flake-pull@ would restart the flake-vm@ requiring it).
        pid=$(umprop flake-vm@uvm.service MainPID)
        pulled=$(umprop flake-pull@uvm.service InactiveExitTimestampMonotonic)
        rm -rf $reg/images/tcg
        out=$(um $UM_HOME/bin/uvm -c 'echo still' 2>&1); rc=$?
        eq "with its image gone, the running VM still answers" "0 still" "$rc $out"
        eq "... the same VM (not restarted)" "$pid" "$(umprop flake-vm@uvm.service MainPID)"
        eq "... and no pull" "$pulled" "$(umprop flake-pull@uvm.service InactiveExitTimestampMonotonic)"
        check "systemctl --user stop flake-vm@uvm" umctl stop flake-vm@uvm.service
        check "... removes its runtime dir" sh -c "! test -e /run/user/$UM_UID/flakes/vm/uvm"
        kill $um_httpd; wait $um_httpd 2>/dev/null
}

# A user's container flake: rootless podman as the user, launched in a scope
# of the user's manager (test-environment.md: podman 4.3.1 on this hybrid
# host leaves that scope; podman-pilot(8), ROOTLESS).
um_podman() {
        r=/tmp/um-image
        mkdir -p $r/bin $r/etc $r/proc $r/sys $r/dev $r/tmp
        cp /bin/busybox $r/bin/
        for a in sh echo cat sleep id; do ln -sf busybox $r/bin/$a; done
        echo 'root:x:0:0:root:/root:/bin/sh' >$r/etc/passwd
        echo 'root:x:0:' >$r/etc/group
        tar -C $r -cf $r.tar . && chmod 644 $r.tar
        ustore=$UM_HOME/.config/flakes/podman/storage.conf
        # The home is on the container's overlay root, where the kernel
        # cannot stack an overlay store: the vfs driver for this test.
        as_um sed -i 's/^driver = "overlay"/driver = "vfs"/' $ustore
        check "rootless podman import into the user's flake store" \
                um env CONTAINERS_STORAGE_CONF=$ustore podman import --quiet --change 'ENV PATH=/bin' $r.tar localhost/um-test:latest
        check "flake-ctl podman --user register" um "$PREFIX/bin/flake-ctl" podman --user register \
                --container localhost/um-test:latest --app $UM_HOME/bin/upc --target /bin/sh
        check "... into the user's flakes dir" test -e $UM_HOME/.config/flakes/upc.yaml

        out=$(echo data | um $UM_HOME/bin/upc -c 'cat; echo "uid $(id -u)"; exit 4' 2>/tmp/upc.err); rc=$?
        eq "rootless flake: exit status of the app" 4 "$rc"
        eq "rootless flake: stdin and stdout (root in the user namespace)" "data uid 0" "$(echo $out)"
        [ "$rc" = 4 ] || not_ok "rootless flake: diagnostics" "$(cat /tmp/upc.err)"

        # A resumed rootless flake: its calls are sessions with the agent in
        # the container, on a socket in the user's own runtime dir.
        check "flake-ctl podman --user register --resume" um "$PREFIX/bin/flake-ctl" podman --user register \
                --container localhost/um-test:latest --app $UM_HOME/bin/upr --target /bin/sh --resume
        out=$(echo data | um $UM_HOME/bin/upr -c 'cat; echo "uid $(id -u)"; exit 4' 2>/tmp/upr.err); rc=$?
        eq "rootless resume: the first call creates the container" "4 data uid 0" "$rc $(echo $out)"
        [ "$rc" = 4 ] || not_ok "rootless resume: diagnostics" "$(cat /tmp/upr.err)"
        check "... whose agent listens in the user's runtime dir" \
                test -S /run/user/$UM_UID/flakes/upr.agent/socket/agent.sock
        eq "... which is the user's alone" "$UM_UID 700" "$(stat -c '%u %a' /run/user/$UM_UID/flakes/upr.agent 2>&1)"
        out=$(echo more | um $UM_HOME/bin/upr -c 'cat; echo err >&2; exit 5' 2>/tmp/upr.err); rc=$?
        eq "rootless resume: a call through the agent (stdin, stdout, exit status)" "5 more" "$rc $out"
        eq "... stderr separate" err "$(cat /tmp/upr.err)"
        um $UM_HOME/bin/upr %remove -c true >/dev/null 2>&1
        # The image's USER is not root: the agent runs as a subordinate uid
        # of the user, makes its socket in the shared (sticky) directory, and
        # still serves the user (root in the user namespace).
        check "rootless podman import of an image with USER 1000" \
                um env CONTAINERS_STORAGE_CONF=$ustore podman import --quiet --change 'ENV PATH=/bin' \
                --change 'USER 1000' $r.tar localhost/um-user:latest
        check "flake-ctl podman --user register --resume (USER 1000)" um "$PREFIX/bin/flake-ctl" podman --user \
                register --container localhost/um-user:latest --app $UM_HOME/bin/upu --target /bin/sh --resume
        out=$(um $UM_HOME/bin/upu -c 'id -u; exit 3' 2>/tmp/upu.err); rc=$?
        eq "rootless resume as the image's USER: first call" "3 1000" "$rc $(echo $out)"
        out=$(echo in | um $UM_HOME/bin/upu -c 'cat; id -u' 2>>/tmp/upu.err); rc=$?
        eq "... a call through its agent" "0 in 1000" "$rc $(echo $out)"
        [ "$rc" = 0 ] || not_ok "rootless resume (USER 1000): diagnostics" "$(cat /tmp/upu.err)"
        check "... whose socket is there" test -S /run/user/$UM_UID/flakes/upu.agent/socket/agent.sock
        um $UM_HOME/bin/upu %remove -c true >/dev/null 2>&1
        check "... %remove removes the agent directory (with the socket of a subordinate uid)" \
                test ! -e /run/user/$UM_UID/flakes/upu.agent
        eq "... %remove ends it" "" "$(um env CONTAINERS_STORAGE_CONF=$ustore podman ps -aq 2>&1)"

        # A running launch: its scope in the user's manager, and where the
        # app lands.
        um $UM_HOME/bin/upc -c 'exec sleep 3141' >/dev/null 2>&1 &
        um_pilot=$!
        wait_for 200 pgrep -f '^sleep 3141$'
        app=$(pgrep -f '^sleep 3141$' | head -n 1)
        scope=$(umctl list-units --no-legend --plain --type=scope 'flake-upc-*' 2>&1 | awk '{print $1}' | head -n 1)
        contains "the launch runs in its transient scope in the user's manager" "$scope" "flake-upc-"
        eq "... delegated" yes "$(umprop "$scope" Delegate)"
        cg=$(grep '^0::' /proc/"${app:-0}"/cgroup 2>&1)
        echo "# launch scope: $(umprop "$scope" ControlGroup)" >>"$OUT"
        echo "# rootless app: $cg" >>"$OUT"
        # podman 4.3.1 on this hybrid-cgroup host moves itself (and conmon)
        # to a podman-PID.scope of its own and the app to libpod-ID.scope,
        # both in the user manager's user.slice: outside the launch scope
        # (podman-pilot(8), ROOTLESS FLAKES). Newer podman would make this
        # fail: then the documentation changes with it.
        contains "the rootless app runs in podman's libpod scope in the user's manager" "$cg" \
                "/user@$UM_UID.service/user.slice/libpod-"
        contains "... and podman (conmon) in its own podman-PID.scope there" \
                "$(grep '^0::' /proc/"$(pgrep -u $UM_USER -x conmon | head -n 1)"/cgroup 2>&1)" \
                "/user@$UM_UID.service/user.slice/podman-"
        check "systemctl --user stop of the launch scope ends the launch" umctl stop "$scope"
        wait_for 100 sh -c "! kill -0 $um_pilot 2>/dev/null"
        check "... the pilot has exited" sh -c "! kill -0 $um_pilot 2>/dev/null"
        wait_for 100 sh -c "! pgrep -f '^sleep 3141\$'"
        check "... and the app with it (the pilot removes its container on the scope's SIGTERM)" \
                sh -c "! pgrep -f '^sleep 3141\$'"
        eq "... no container left" "" "$(um env CONTAINERS_STORAGE_CONF=$ustore podman ps -aq 2>&1)"
        um env CONTAINERS_STORAGE_CONF=$ustore podman rm --all --force --time 0 >/dev/null 2>&1
}

# Root's VM flake whose image is gone: the launch restarts flake-pull@ (the
# image comes back), shows its progress with %progress, then boots; a failed
# pull is one line naming the unit, status 125.
um_root_pull() {
        img=/var/lib/firecracker/images/tcg
        busybox httpd -f -p 127.0.0.1:8080 -h /opt/flake-test/srv &
        um_httpd=$!
        wait_for 50 busybox wget -q -s http://127.0.0.1:8080/tcg.tar.xz
        # (the image is shared with the VM checks that run after this one:
        # put back as it was at the end)
        rm -rf /tmp/tcg-image.keep; cp -a $img /tmp/tcg-image.keep
        rm -rf $img
        out=$(/usr/bin/vmo %progress -c 'echo booted' 2>/tmp/vmo.progress); rc=$?
        eq "VM flake with its image gone: pulled at launch, then booted" "0 booted" "$rc $out"
        contains "... %progress shows the pull (from flake-pull@vmo's journal)" "$(cat /tmp/vmo.progress)" \
                "Image 'tcg' installed in $img"
        check "... the image is back" test -s $img/rootfs
        kill $um_httpd; wait $um_httpd 2>/dev/null
        rm -rf $img
        started=$(prop flake-vm@vmo.service InactiveExitTimestampMonotonic)
        out=$(/usr/bin/vmo -c true 2>&1); rc=$?
        eq "failed pull at launch: status 125" 125 "$rc"
        eq "... one line" 1 "$(printf '%s\n' "$out" | wc -l)"
        contains "... naming the pull and its unit" "$out" "vmo: pulling its images failed: "
        contains "... and the journal to read" "$out" "journalctl -u flake-pull@vmo.service"
        eq "... flake-vm@vmo was not started" "$started" "$(prop flake-vm@vmo.service InactiveExitTimestampMonotonic)"
        rm -rf $img; cp -a /tmp/tcg-image.keep $img
}

# Root's container flake whose image left the flake store (check_podman_flake
# made pc and the registry): podman reports it missing, the launch restarts
# flake-pull@pc, then runs.
um_root_podman_pull() {
        reg=127.0.0.1:5000/flake-test:pulled
        env CONTAINERS_STORAGE_CONF=/etc/flakes/storage.conf podman rmi --force $reg >/dev/null 2>&1
        out=$(echo in | /usr/bin/pc %progress -c 'cat; echo pulled-at-launch' 2>/tmp/pc.progress); rc=$?
        eq "container flake with its image gone: pulled at launch, then run" "0 in pulled-at-launch" "$rc $(echo $out)"
        contains "... through flake-pull@pc, %progress showing it" "$(cat /tmp/pc.progress)" "Container image $reg pulled"
        check "... the image is in the flake store again" \
                env CONTAINERS_STORAGE_CONF=/etc/flakes/storage.conf podman image exists $reg
}

check_usermode() {
        um_setup || return
        um_vm
        um_podman
        um_root_pull
        um_root_podman_pull
}
