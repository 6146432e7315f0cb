#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the booted container as flake-test.service (see nspawn.sh) and
# writes TAP lines ("ok - ...", "not ok - ...", "# ...") to /results/tap,
# then "done". Each area is one check_* function; the ones whose programs
# have not landed yet are listed in nspawn.sh.
set -u

. /opt/flake-test/inner-lib.sh
. /opt/flake-test/env
. /opt/flake-test/check-vmharden.sh
. /opt/flake-test/check-usermode.sh

GEN=/run/systemd/generator

# The generator ran at boot and its drop-ins extend the templates.
check_generated_units() {
        u=flake-vm@mybash.service
        eq "$u is loaded" loaded "$(prop $u LoadState)"
        contains "$u has the generated drop-in" "$(prop $u DropInPaths)" "$GEN/$u.d/50-flake.conf"
        eq "$u SourcePath= is the flake" /usr/share/flakes/mybash.yaml "$(prop $u SourcePath)"
        eq "$u Description=" "Virtual machine of flake mybash" "$(prop $u Description)"
        contains "$u requires its TAP" "$(prop $u Requires)" "flake-tap@mybash.service"
        contains "$u requires its pull" "$(prop $u Requires)" "flake-pull@mybash.service"
        contains "$u is ordered after its TAP" "$(prop $u After)" "flake-tap@mybash.service"
        contains "$u is ordered after its pull" "$(prop $u After)" "flake-pull@mybash.service"
        eq "$u MemoryMax= from the flake" 1073741824 "$(prop $u MemoryMax)"
        eq "$u CPUQuota= from the flake" 500ms "$(prop $u CPUQuotaPerSecUSec)"
        contains "systemctl cat $u shows the drop-in" "$(systemctl cat $u 2>&1)" "# $GEN/$u.d/50-flake.conf"
        st=$(systemctl status --no-pager $u 2>&1)
        contains "systemctl status $u shows the flake" "$st" "Virtual machine of flake mybash"
        contains "systemctl status $u shows the drop-in" "$st" "50-flake.conf"
        # flake-tap@ and flake-pull@ instances are the templates as shipped:
        # they read the flake when they run, the generator writes nothing.
        for t in flake-tap@mybash.service flake-pull@joe.service; do
                # (Debian's systemd names /lib/systemd/system, a link to /usr/lib.)
                eq "$t loads from its template" "loaded $(readlink -f "$PREFIX/lib/systemd/system/${t%%@*}@.service")" \
                        "$(prop $t LoadState) $(readlink -f "$(prop $t FragmentPath)")"
                not_contains "... with no generated drop-in" "$(prop $t DropInPaths)" "$GEN"
        done
        eq "flake-tap@mybash Description= from the template" "Network of VM flake mybash" \
                "$(prop flake-tap@mybash.service Description)"

        # Names are escaped as systemd itself escapes them.
        e=$(systemd-escape --template=flake-vm@.service my-app)
        eq "our escaping matches systemd-escape" 'flake-vm@my\x2dapp.service' "$e"
        eq "$e is loaded" loaded "$(prop "$e" LoadState)"
        eq "$e Description=" "Virtual machine of flake my-app" "$(prop "$e" Description)"
        # (systemctl show quotes names with a backslash: "flake-tap@my\\x2dapp.service")
        contains "$e requires its TAP" "$(prop "$e" Requires)" 'flake-tap@my\\x2dapp.service'

        # .wants/ symlinks: started and pulled at boot.
        w=$(prop multi-user.target Wants)
        contains "start_at_boot: multi-user.target wants flake-vm@boot" "$w" "flake-vm@boot.service"
        contains "pull_at_boot: multi-user.target wants flake-pull@joe" "$w" "flake-pull@joe.service"
        not_contains "flakes without start_at_boot are not started at boot" "$w" "flake-vm@mybash.service"
        t=$(prop flake-vm@boot.service InactiveExitTimestampMonotonic)
        check "flake-vm@boot was started at boot" test "${t:-0}" -gt 0

        # A malformed flake is skipped with one log line; the others are there.
        check "no units for the malformed flake" sh -c "! ls -d $GEN/*broken* 2>/dev/null"
        # (its log line goes to the kernel log, or in a container without
        # /dev/kmsg to the console: nspawn.sh checks that one)
}

check_tmpfiles_sysusers() {
        eq "/tmp/flakes is 1777" 1777 "$(stat -c %a /tmp/flakes 2>&1)"
        eq "/run/flakes is 755" 755 "$(stat -c %a /run/flakes 2>&1)"
        check "/var/lib/firecracker/images exists" test -d /var/lib/firecracker/images
        check "/var/lib/firecracker/storage exists" test -d /var/lib/firecracker/storage
        check "the flake group exists" getent group flake
}

check_installed_generators() {
        check "system generator installed" test -x "$PREFIX/lib/systemd/system-generators/flake-generator"
        check "user generator installed" test -x "$PREFIX/lib/systemd/user-generators/flake-user-generator"
}

# flake-ctl register/remove reload systemd themselves: the units of a new
# flake are there at once, and gone at once after its removal.
check_register_reload() {
        u=flake-vm@late.service
        mkdir -p /var/lib/firecracker/images/late
        echo rootfs >/var/lib/firecracker/images/late/rootfs
        echo kernel >/var/lib/firecracker/images/late/kernel
        check "flake-ctl firecracker register" "$PREFIX/bin/flake-ctl" firecracker register --vm late --app /usr/bin/late
        contains "a newly registered flake has its units at once" "$(prop $u DropInPaths)" "$GEN/$u.d/50-flake.conf"
        eq "... with its SourcePath=" /usr/share/flakes/late.yaml "$(prop $u SourcePath)"
        check "flake-ctl firecracker remove" "$PREFIX/bin/flake-ctl" firecracker remove --app /usr/bin/late
        eq "a removed flake loses its units" "" "$(prop $u DropInPaths)"
        check "flake_systemd_reload() works on its own" /opt/flake-test/test-systemd-reload
}

# flake-tap@ (helpers/tap): the generated wiring starts the real unit, which
# creates the TAP with its address, and removes it on stop.
check_tap() {
        u=flake-tap@net.service
        if [ ! -x "$PREFIX/libexec/flake-pilot/flake-tap" ]; then
                not_ok "flake-tap is installed"
                return
        fi
        contains "flake-vm@net requires $u" "$(prop flake-vm@net.service Requires)" "$u"
        if out=$(systemctl start $u 2>&1); then ok "systemctl start $u"; else
                not_ok "systemctl start $u" "$out" "$(journalctl -u $u --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        eq "$u is active" active "$(prop $u ActiveState)"
        contains "the TAP exists with the host address" "$(ip -o addr show dev tap-net 2>&1)" "172.16.0.1/30"
        check "systemctl stop $u" systemctl stop $u
        check "the TAP is gone after stop" sh -c '! ip link show dev tap-net 2>/dev/null'
        journalctl --sync 2>/dev/null
        j=$(journalctl --no-pager -o cat FLAKE_NAME=net FLAKE_INSTANCE=net 2>&1)
        contains "journalctl FLAKE_NAME=net: flake-tap's setup" "$j" "Set up tap-net for net."
        contains "... and its teardown" "$j" "Removed tap-net of net."
}

# A resumed container flake outlives its launches: it lives in its own
# scope, flake-<instance>-container.scope, which systemctl shows and stops.
check_podman_resume() {
        check "flake-ctl podman register --resume" "$PREFIX/bin/flake-ctl" podman register \
                --container localhost/flake-test:latest --app /usr/bin/pres --target /bin/sh --resume
        eq "resumed flake: first call" first "$(/usr/bin/pres -c 'echo first' 2>&1)"
        cscope=flake-pres-container.scope
        eq "the resumed container runs in $cscope" active "$(prop "$cscope" ActiveState)"
        eq "... delegated" yes "$(prop "$cscope" Delegate)"
        contains "... in flake.slice" "$(prop "$cscope" Slice)" flake.slice
        # Where the processes are, from the cgroup tree itself...
        cg=/sys/fs/cgroup/$(systemctl show -p ControlGroup --value "$cscope")
        procs=$(cat $(find "$cg" -name cgroup.procs 2>/dev/null) 2>/dev/null | while read -r pid; do
                tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null; echo; done)
        # (the container's main process: flake-agent, podman-pilot(8) AGENT)
        contains "the container's process is in $cscope's cgroup" "$procs" "flake-agent --listen"
        contains "... and conmon" "$procs" conmon
        # ... and as systemctl status shows it (which may fail to read a
        # process list while podman is still moving processes: try again).
        wait_for 30 sh -c "systemctl status --no-pager '$cscope' 2>&1 | grep -q 'flake-agent --listen'"
        contains "systemctl status $cscope shows the container's process" \
                "$(systemctl status --no-pager "$cscope" 2>&1)" "flake-agent --listen"
        eq "resumed flake: second call, exit status" 3 "$(/usr/bin/pres -c 'exit 3' >/dev/null 2>&1; echo $?)"
        check "systemctl stop $cscope" systemctl stop "$cscope"
        wait_for 50 sh -c "[ -z \"\$(CONTAINERS_STORAGE_CONF=$store podman ps -q)\" ]"
        eq "... stops the container (none running)" "" "$(CONTAINERS_STORAGE_CONF=$store podman ps -q 2>&1)"
        eq "... and the scope is gone" inactive "$(prop "$cscope" ActiveState)"
        eq "the next call starts it again" again "$(/usr/bin/pres -c 'echo again' 2>/tmp/pres.err)"
        contains "... and says so" "$(cat /tmp/pres.err)" "The container of pres is no longer running, starting it again"
        eq "... in its scope" active "$(prop "$cscope" ActiveState)"
        "$PREFIX/bin/flake-ctl" podman stop pres >/dev/null 2>&1
        CONTAINERS_STORAGE_CONF=$store podman rm --force --all --time 0 >/dev/null 2>&1
        "$PREFIX/bin/flake-ctl" podman remove --app /usr/bin/pres >/dev/null 2>&1
}

# A container flake (podman-pilot) in the booted systemd: output and exit
# status, the transient scope of the launch, the pilot's journal fields.
check_podman_flake() {
        store=/etc/flakes/storage.conf
        if ! command -v podman >/dev/null; then
                not_ok "podman is installed in the test root"
                return
        fi
        # The test image: busybox, imported into the flake image store.
        busybox_image $store localhost/flake-test:latest
        check "flake-ctl podman register" "$PREFIX/bin/flake-ctl" podman register \
                --container localhost/flake-test:latest --app /usr/bin/pf --target /bin/sh

        out=$(/usr/bin/pf -c 'echo out; echo err >&2; exit 7' 2>/tmp/pf.err); rc=$?
        eq "container flake: exit status of the app" 7 "$rc"
        eq "container flake: stdout" out "$out"
        contains "container flake: stderr" "$(cat /tmp/pf.err)" err
        eq "container flake: stdin streams in" "a b" "$(printf 'a\nb\n' | /usr/bin/pf -c 'echo $(cat)')"

        # A running launch: its scope is a unit, the app is in it.
        /usr/bin/pf -c 'exec sleep 60' &
        pilot=$!
        scope=flake-pf-$pilot.scope
        wait_for 150 pgrep -f '^sleep 60$'
        app=$(pgrep -f '^sleep 60$' | head -n 1)
        eq "the launch runs in its transient scope $scope" active "$(prop "$scope" ActiveState)"
        contains "... which systemctl lists" "$(systemctl list-units --no-pager --type=scope 2>&1)" "$scope"
        contains "... in flake.slice" "$(prop "$scope" Slice)" flake.slice
        eq "... with its cgroup delegated (podman)" yes "$(prop "$scope" Delegate)"
        # podman's default cgroup handling would put it in
        # machine.slice/libpod-*.scope; --cgroups=split keeps it in the launch.
        contains "the app's cgroup is in the scope's subtree (--cgroups=split)" \
                "$(cat /proc/"${app:-0}"/cgroup 2>&1)" "/flake.slice/$scope/libpod-payload-"
        conmon=$(pgrep -x conmon | head -n 1)
        contains "... and conmon is in the scope's runtime cgroup" \
                "$(cat /proc/"${conmon:-0}"/cgroup 2>&1)" "/flake.slice/$scope/runtime"
        contains "systemctl status shows the app in the scope" \
                "$(systemctl status --no-pager "$scope" 2>&1)" "sleep 60"
        t0=$(date +%s)
        check "systemctl stop of the scope ends the launch" systemctl stop "$scope"
        wait $pilot
        s=$(( $(date +%s) - t0 ))
        check "... at once (${s} s; the app is not PID 1 in its container)" test "$s" -lt 10
        check "... and the pilot has exited" sh -c "! kill -0 $pilot 2>/dev/null"
        # (podman's --rm cleanup may finish just after the pilot's exit)
        wait_for 50 sh -c "[ -z \"\$(CONTAINERS_STORAGE_CONF=$store podman ps -aq)\" ]"
        eq "no container left after the stopped launch" "" \
                "$(CONTAINERS_STORAGE_CONF=$store podman ps -a --format '{{.ID}} {{.Status}}' 2>&1)"

        check_podman_resume
        # flake-pull@ of a container flake: podman in the unit's sandbox.
        if out=$(systemctl start flake-pull@pf.service 2>&1); then ok "systemctl start flake-pull@pf (podman flake)"; else
                not_ok "systemctl start flake-pull@pf (podman flake)" "$out" \
                        "$(journalctl -u flake-pull@pf --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        # (By the flake's journal field: journald attributes an entry to a
        # unit by the sender's cgroup, which a process that exits right after
        # logging may no longer have, so -u can miss the last lines.)
        journalctl --sync 2>/dev/null
        contains "... finds the image in the flake store" \
                "$(journalctl FLAKE_NAME=pf --no-pager -o cat 2>&1)" "Container image localhost/flake-test:latest is present"

        # ... and a real pull, from a registry inside (nspawn.sh).
        reg=127.0.0.1:5000/flake-test:pulled
        systemd-run --quiet --unit=flake-test-registry docker-registry serve /opt/flake-test/registry.yml
        wait_for 100 busybox wget -q -O /dev/null http://127.0.0.1:5000/v2/
        check "podman push to the local registry" env CONTAINERS_STORAGE_CONF=$store \
                podman push --quiet --tls-verify=false localhost/flake-test:latest $reg
        printf 'container:\n  name: %s\n  target_app_path: /bin/sh\n  host_app_path: /usr/bin/pc\n' $reg \
                >/usr/share/flakes/pc.yaml
        ln -sf "$PREFIX/bin/podman-pilot" /usr/bin/pc
        systemctl daemon-reload
        if out=$(systemctl start flake-pull@pc.service 2>&1); then ok "systemctl start flake-pull@pc pulls from the registry"; else
                not_ok "systemctl start flake-pull@pc pulls from the registry" "$out" \
                        "$(journalctl -u flake-pull@pc --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        journalctl --sync 2>/dev/null
        contains "... says so" "$(journalctl FLAKE_NAME=pc --no-pager -o cat 2>&1)" "Container image $reg pulled"
        eq "... and the flake runs from the pulled image" pulled "$(/usr/bin/pc -c 'echo pulled' 2>&1)"
        # A pull while a container of the store runs (its mounts are in the
        # namespace the unit's sandbox is made from).
        /usr/bin/pf -c 'exec sleep 30' &
        running=$!
        wait_for 150 pgrep -f '^sleep 30$'
        env CONTAINERS_STORAGE_CONF=$store podman rmi --force $reg >/dev/null 2>&1
        if out=$(systemctl restart flake-pull@pc.service 2>&1); then ok "flake-pull@pc while a container runs"; else
                not_ok "flake-pull@pc while a container runs" "$out" \
                        "$(journalctl -u flake-pull@pc --no-pager -o cat 2>&1 | tail -n 5)"
        fi
        kill $running; wait $running

        journalctl --sync 2>/dev/null
        j=$(journalctl --no-pager -o cat FLAKE_NAME=pf FLAKE_ENGINE=podman 2>&1)
        contains "journalctl FLAKE_NAME=pf FLAKE_ENGINE=podman: the launch" "$j" "Launching pf (image localhost/flake-test:latest, one-shot"
        contains "... and the exit status" "$j" "pf exited with status 7"
        contains "... with FLAKE_INSTANCE=" "$(journalctl --no-pager -o verbose FLAKE_NAME=pf 2>&1)" "FLAKE_INSTANCE=pf"
}

# flake-pull@ fetches a KIS image from a local HTTP server, and a second
# start neither fetches nor needs the server.
check_pull() {
        img=/var/lib/firecracker/images/tcg
        busybox httpd -f -p 127.0.0.1:8080 -h /opt/flake-test/srv &
        httpd=$!
        wait_for 50 busybox wget -q -s http://127.0.0.1:8080/tcg.tar.xz
        if out=$(systemctl start flake-pull@vmr.service 2>&1); then ok "systemctl start flake-pull@vmr"; else
                not_ok "systemctl start flake-pull@vmr" "$out" \
                        "$(journalctl -u flake-pull@vmr --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        kill $httpd; wait $httpd 2>/dev/null
        journalctl --sync 2>/dev/null
        contains "journalctl FLAKE_NAME=vmr FLAKE_ENGINE=firecracker: the pull" \
                "$(journalctl --no-pager -o cat FLAKE_NAME=vmr FLAKE_ENGINE=firecracker 2>&1)" \
                "Image 'tcg' installed in /var/lib/firecracker/images/tcg"
        eq "the image is in the registry" "checksum checksum.installed initrd kernel rootfs" "$(ls $img 2>&1 | xargs)"
        # flake-pull put sci in (in its sandboxed editor, under the unit's
        # filter): the KIS record of the rootfs as served is kept, the
        # installed rootfs has its own.
        eq "... the KIS record as served" "$(cat /opt/flake-test/srv/rootfs.sha256)" "$(cut -d' ' -f1 $img/checksum 2>&1)"
        eq "... checksum.installed is the rootfs" "$(cat $img/checksum.installed 2>&1)" "$(sha256sum <$img/rootfs | cut -d' ' -f1)"
        ino=$(stat -c %i $img/rootfs 2>&1)
        t0=$(date +%s%N)
        if out=$(systemctl start flake-pull@vmo.service 2>&1); then ok "a second pull (flake vmo, same image, no server)"; else
                not_ok "a second pull (flake vmo, same image, no server)" "$out" \
                        "$(journalctl -u flake-pull@vmo --no-pager -o cat 2>&1 | tail -n 20)"
        fi
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        check "... is fast (${ms} ms)" test "$ms" -lt 3000
        contains "... and says the image is there" "$(journalctl -u flake-pull@vmo --no-pager -o cat 2>&1)" \
                "present and verified"
        eq "... and leaves it alone" "$ino" "$(stat -c %i $img/rootfs 2>&1)"
}

# VM flakes through flake-vm@ (firecracker-pilot's sd-bus path), QEMU under
# TCG: a resume VM visible as a unit with its console in the journal, then
# stopped; a one-shot VM torn down after the call.
check_vm() {
        u=flake-vm@vmr.service
        if [ ! -e /var/lib/firecracker/images/tcg/rootfs ]; then
                not_ok "the VM image is there (check_pull)"
                return
        fi
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmr
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmo

        out=$(/usr/bin/vmr -c 'echo out; echo err >&2; cat /etc/flake-test-image; exit 4' 2>/tmp/vmr.err); rc=$?
        eq "resume VM: exit status of the app" 4 "$rc"
        eq "resume VM: stdout" "$(printf 'out\nflake-test-image')" "$out"
        eq "resume VM: stderr" err "$(cat /tmp/vmr.err)"
        eq "$u is active after the call" active "$(prop $u ActiveState)"
        eq "... of type notify, started by the pilot" running "$(prop $u SubState)"
        st=$(systemctl status --no-pager --lines=0 $u 2>&1)
        contains "systemctl status $u shows the VM" "$st" "Virtual machine of flake vmr"
        # (From the cgroup itself: systemctl status shortens command lines
        # to the width it guesses.)
        cg=/sys/fs/cgroup$(prop $u ControlGroup)
        contains "... with QEMU in its cgroup" \
                "$(find "$cg" -name cgroup.procs -exec cat {} + 2>&1 | while read -r p; do tr '\0' ' ' </proc/"$p"/cmdline; echo; done)" \
                "qemu-system-x86_64 -M microvm"
        eq "a second call reuses the VM" "2 $(prop $u MainPID)" \
                "$(/usr/bin/vmr -c 'echo 2') $(prop $u MainPID)"
        journalctl --sync 2>/dev/null
        j=$(journalctl -u $u --no-pager -o cat 2>&1)
        contains "journalctl -u $u has the kernel's console" "$j" "Linux version"
        contains "... and the runner's events" "$j" "vmr: the guest agent is ready"
        contains "journalctl FLAKE_INSTANCE=vmr: the runner's events" \
                "$(journalctl --no-pager -o cat FLAKE_INSTANCE=vmr FLAKE_ENGINE=firecracker 2>&1)" \
                "vmr: the guest agent is ready"
        # Stopping the unit ends the VM, and a session in it.
        /usr/bin/vmr -c 'sleep 60' 2>/tmp/vmr.lost &
        session=$!
        sleep 2   # (the session's sleep runs in the guest: nothing to wait for here)
        # The launch has its transient scope, as podman-pilot's do.
        eq "the launch runs in its transient scope flake-vmr-$session.scope" active \
                "$(prop "flake-vmr-$session.scope" ActiveState)"
        contains "... with the pilot in it" "$(cat /proc/$session/cgroup 2>&1)" "/flake.slice/flake-vmr-$session.scope"
        check "systemctl stop $u" systemctl stop $u
        wait $session; rc=$?
        eq "... a session in it ends with 122 (the VM went away)" 122 "$rc"
        contains "... and says so" "$(cat /tmp/vmr.lost)" "vmr: the VM went away"
        eq "$u is inactive after stop" inactive "$(prop $u ActiveState)"
        check "no runtime dir (sockets, pid files) left" sh -c '! test -e /run/flakes/vm/vmr'
        check "no QEMU left" sh -c '! pgrep -x qemu-system-x86'

        u=flake-vm@vmo.service
        out=$(echo data | /usr/bin/vmo -c 'cat; echo scratch >/root/x; ls /root; exit 5' 2>&1); rc=$?
        eq "one-shot VM: exit status of the app" 5 "$rc"
        eq "one-shot VM: output" "$(printf 'data\nx')" "$out"
        eq "$u is inactive after the call (one-shot teardown)" inactive "$(prop $u ActiveState)"
        eq "... with a clean result" success "$(prop $u Result)"
        check "no runtime dir (sockets, overlay) left" sh -c '! test -e /run/flakes/vm/vmo'
        check "no QEMU left" sh -c '! pgrep -x qemu-system-x86'
        j=$(journalctl -u $u --no-pager -o cat 2>&1)
        contains "journalctl -u $u: the VM powered off" "$j" "vmo: the VM powered off"
}

# Failures on the sd-bus path come back at once, with the reason.
check_vm_failures() {
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmbad
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmnopull

        t0=$(date +%s)
        out=$(/usr/bin/vmbad -c true 2>&1); rc=$?
        eq "a VM that cannot start: the runner's status (images) comes back" 125 "$rc"
        contains "... and the pilot names the reason" "$out" "no-such-kernel"
        eq "... flake-vm@vmbad failed" failed "$(prop flake-vm@vmbad.service ActiveState)"

        out=$(FLAKE_VM_AGENT_TIMEOUT=30 /usr/bin/vmnopull -c true 2>&1); rc=$?
        s=$(( $(date +%s) - t0 ))
        eq "a VM whose pull failed: the pilot fails (VMM not started)" 125 "$rc"
        contains "... and names the unit that failed" "$out" "flake-pull@vmnopull.service"
        eq "... flake-vm@vmnopull never ran" inactive "$(prop flake-vm@vmnopull.service ActiveState)"
        check "... both failures came back at once (${s} s)" test "$s" -lt 15
}

# A VM with a network: the generated Requires= starts flake-tap@, and QEMU
# gets the TAP through the unit's DevicePolicy=closed/DeviceAllow=.
check_vm_network() {
        ln -sf "$PREFIX/bin/firecracker-pilot" /usr/bin/vmnet
        # virtio device IDs in the guest: 1 is a network card, 2 the disk.
        out=$(/usr/bin/vmnet -c 'cat /sys/bus/virtio/devices/*/device' 2>&1); rc=$?
        eq "a VM with a network runs" 0 "$rc"
        contains "... with a network card (QEMU opened the TAP in the sandbox)" "$out" 0x0001
        eq "flake-tap@vmnet was started with it" active "$(prop flake-tap@vmnet.service ActiveState)"
        contains "... and its TAP has the host address" "$(ip -o addr show dev tap-vmnet 2>&1)" "172.16.1.1/30"
        check "systemctl stop flake-tap@vmnet" systemctl stop flake-tap@vmnet.service
}

run check_installed_generators
run check_generated_units
run check_tap
run check_tmpfiles_sysusers
run check_register_reload
run check_podman_flake
. /opt/flake-test/check-priv.sh; run check_priv
run check_pull
run check_vm
run check_vm_network
run check_vm_failures
run check_usermode
run check_vmharden

finish_results
