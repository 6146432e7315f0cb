#!/bin/sh
# Installs everything the build, the demo and the test suite need, from
# Debian's packages only. Safe to run again. Areas append their packages here.
set -eu

packages="
meson ninja-build pkg-config gcc clang make git ca-certificates
libsystemd-dev libyaml-dev libssl-dev libcurl4-openssl-dev libarchive-dev
libnl-3-dev libnl-route-3-dev libcmocka-dev libclang-rt-14-dev libjson-c-dev
scdoc python3 systemd valgrind bash-completion
podman runc crun uidmap conmon netavark catatonit fuse-overlayfs
docker-registry skopeo busybox-static
e2fsprogs libext2fs-dev libseccomp-dev strace cpio xz-utils bc openssl
nftables libnftables-dev iproute2 iptables
nfs-ganesha nfs-ganesha-vfs
qemu-system-x86 linux-image-amd64 initramfs-tools kmod zstd
debootstrap systemd-container
zsh fish tmux
debhelper dpkg-dev lintian rpm
python3-jsonschema python3-yaml libjson-c-dev
"

missing=""
for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing (run as root or with sudo)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
