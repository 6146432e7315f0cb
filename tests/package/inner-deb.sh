#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the booted container of deb.sh as flake-test.service: the
# Debian packages installed with apt, a container flake and a VM flake run
# from them, then apt-get remove and purge. TAP lines to /results/tap.
set -u

. /opt/flake-test/inner-lib.sh

PKGS="flake-pilot flake-pilot-podman flake-pilot-firecracker flake-pilot-firecracker-guestvm-tools"
# The packages that have conffiles, which stay until purged.
CONF_PKGS="flake-pilot flake-pilot-podman flake-pilot-firecracker"
export DEBIAN_FRONTEND=noninteractive

# Installed with the distribution's tools: the maintainer scripts apply
# sysusers and tmpfiles and reload systemd; nothing is enabled.
check_install() {
        check "a root without flake-pilot" sh -c '! test -e /usr/bin/flake-ctl'
        # (no network, no package lists: the dependencies are in the root)
        check "apt-get install of the four packages" \
                apt-get install -y --no-install-recommends /opt/flake-test/debs/*.deb
        for p in $PKGS; do
                eq "$p is installed" "install ok installed" "$(dpkg-query -W -f '${Status}' $p 2>&1)"
        done
        check "sysusers applied at install: group flake" getent group flake
        check "... and user flake-vm" getent passwd flake-vm
        eq "tmpfiles applied at install: /tmp/flakes 1777" 1777 "$(stat -c %a /tmp/flakes 2>&1)"
        check "... /var/lib/firecracker/images" test -d /var/lib/firecracker/images
        check "... /run/flakes/ids" test -d /run/flakes/ids
        eq "flake-launch.socket is not enabled by the install" disabled "$(systemctl is-enabled flake-launch.socket 2>&1)"
        eq "... nor started" inactive "$(prop flake-launch.socket ActiveState)"
        eq "the units are loaded from the packages" "loaded loaded loaded" \
                "$(prop flake-vm@x.service LoadState) $(prop flake-pull@x.service LoadState) $(prop flake-launch.socket LoadState)"
}

# A container flake from the packaged podman-pilot and templates.
check_container_flake() {
        busybox_image /etc/flakes/storage.conf localhost/pkg-test:latest
        check "flake-ctl podman register" flake-ctl podman register \
                --container localhost/pkg-test:latest --app /usr/bin/pf --target /bin/sh
        out=$(/usr/bin/pf -c 'echo out; echo err >&2; exit 3' 2>/tmp/pf.err); rc=$?
        eq "container flake: exit status, stdout and stderr of the app" "3 out err" "$rc $out $(cat /tmp/pf.err)"
        eq "its pull unit is the packaged template (no generated drop-in for a container flake)" \
                "/usr/lib/systemd/system/flake-pull@.service " \
                "$(readlink -f "$(prop flake-pull@pf.service FragmentPath)") $(prop flake-pull@pf.service DropInPaths)"
        # Resumed: calls go through the packaged flake-agent in the container.
        check "flake-ctl podman register --resume" flake-ctl podman register \
                --container localhost/pkg-test:latest --app /usr/bin/pfr --target /bin/sh --resume
        /usr/bin/pfr -c true
        out=$(/usr/bin/pfr -c 'echo r; echo e >&2; exit 4' 2>/tmp/pfr.err); rc=$?
        eq "resumed container flake: exit status, stdout and stderr" "4 r e" "$rc $out $(cat /tmp/pfr.err)"
        check "... through the packaged agent (its socket in the instance's state dir)" \
                sh -c 'test -S /run/flakes/ids/0/pfr.agent/socket/agent.sock'
}

# A VM flake (QEMU, TCG) from the packaged firecracker-pilot, flake-vm@ and
# the packaged sci inside the image.
check_vm_flake() {
        img=/var/lib/firecracker/images/pkgvm
        mkdir -p $img
        cp /opt/flake-test/vm/kernel /opt/flake-test/vm/initrd /opt/flake-test/vm/rootfs $img/
        check "flake-ctl firecracker register" flake-ctl firecracker register \
                --vm pkgvm --app /usr/bin/pvm --target /bin/sh --overlay-size 16MiB --no-net
        eq "the generator made its units (flake-ctl reloaded systemd)" /usr/share/flakes/pvm.yaml \
                "$(prop flake-vm@pvm.service SourcePath)"
        out=$(echo in | /usr/bin/pvm -c 'cat; cat /etc/flake-test-image; echo err >&2; exit 6' 2>/tmp/pvm.err); rc=$?
        eq "VM flake: exit status and stdout of the app" "6 in flake-test-image" "$rc $(echo $out)"
        eq "... and its stderr" err "$(cat /tmp/pvm.err)"
        eq "flake-vm@pvm ran and ended cleanly" "inactive success" \
                "$(prop flake-vm@pvm.service ActiveState) $(prop flake-vm@pvm.service Result)"
        journalctl --sync 2>/dev/null
        contains "... which says so in its journal" "$(journalctl -u flake-vm@pvm --no-pager -o cat 2>&1)" \
                "pvm: the VM powered off"
}

# What the admin made and keeps: registrations (YAML, drop-in dirs, app
# links) and images.
ADMIN="/usr/bin/pf /usr/bin/pfr /usr/bin/pvm /usr/share/flakes/pf.yaml /usr/share/flakes/pf.d /usr/share/flakes/pfr.yaml /usr/share/flakes/pfr.d /usr/share/flakes/pvm.yaml
/usr/share/flakes/pvm.d /var/lib/firecracker/images/pkgvm/rootfs"

check_remove() {
        # shellcheck disable=SC2086
        dpkg -L $PKGS >/tmp/owned 2>&1
        check "apt-get remove" apt-get remove -y $PKGS
        for p in $CONF_PKGS; do
                eq "$p is removed, its conffiles kept" "deinstall ok config-files" "$(dpkg-query -W -f '${Status}' $p 2>&1)"
        done
        check "flake-pilot-firecracker-guestvm-tools (no conffiles) is gone" \
                sh -c '! dpkg-query -W flake-pilot-firecracker-guestvm-tools'
        check "no program left" sh -c '! ls /usr/bin/flake-ctl /usr/bin/podman-pilot /usr/bin/firecracker-pilot /usr/sbin/sci 2>/dev/null'
        check "the configuration is kept" test -f /etc/flakes.yml
        # The postrm reloaded systemd: no generator, no templates, no units.
        eq "the flakes' units are gone at once" "not-found not-found" \
                "$(prop flake-vm@pvm.service LoadState) $(prop flake-pull@pf.service LoadState)"
        check "... and the generator's output with them" sh -c '! ls -d /run/systemd/generator/flake-* 2>/dev/null'
        for a in $ADMIN; do check "kept after remove: $a" test -e "$a" -o -L "$a"; done

        check "the one-shot VM flake left a snapshot (a cache, for purge to remove)" \
                test -d /var/lib/firecracker/snapshots/pvm
        check "apt-get purge" apt-get purge -y $CONF_PKGS
        for p in $CONF_PKGS; do
                check "$p is purged" sh -c "! dpkg-query -W $p"
        done
        # Every path the packages had is gone, but directories with other
        # packages' files in them (/usr/bin, /etc, and on a merged /usr
        # /usr/lib/systemd/system-generators, which is systemd's
        # /lib/systemd/system-generators; /lib itself is a link there).
        left=
        while IFS= read -r p; do
                case "$p" in /|/.) continue ;; esac
                [ -e "$p" ] || [ -L "$p" ] || continue
                [ -d "$p" ] && [ -n "$(ls -A "$p/")" ] && continue
                left="$left $p"
        done </tmp/owned
        eq "nothing the packages installed is left after purge" "" "$left"
        check "no conffile left" sh -c '! ls -d /etc/flakes /etc/flakes.yml 2>/dev/null'
        check "no unit state left (deb-systemd-helper)" \
                sh -c '! find /var/lib/systemd/deb-systemd-helper-enabled /etc/systemd/system -name "flake-*" ! -name "flake-test*" | grep .'
        # What tmpfiles.d made goes where it is empty; the image store and
        # the registry stay with the admin's data in them.
        check "the empty state directories are gone" \
                sh -c '! ls -d /tmp/flakes /var/lib/firecracker/storage 2>/dev/null'
        for a in $ADMIN; do check "kept after purge: $a" test -e "$a" -o -L "$a"; done
        eq "the flakes dir holds the registrations and the image store" "pf.d pf.yaml pfr.d pfr.yaml pvm.d pvm.yaml storage" \
                "$(ls /usr/share/flakes 2>&1 | xargs)"
        eq "the VM image registry holds the image" "images images/pkgvm" \
                "$(find /var/lib/firecracker -mindepth 1 -maxdepth 2 -printf '%P\n' 2>&1 | sort | xargs)"
        # (/run/flakes keeps the runtime state of the launches, the podman
        # runroot of the image store and the instances' lock files, until
        # the next boot, as podman keeps its own in /run.)
        check "... and so are the system user and group (Debian keeps them)" sh -c 'getent passwd flake-vm && getent group flake'
}

run check_install
run check_container_flake
run check_vm_flake
run check_remove
finish_results
