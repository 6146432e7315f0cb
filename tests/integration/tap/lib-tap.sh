# SPDX-License-Identifier: MIT
# Shared setup of the flake-tap tests: a private root with registrations and a
# host network namespace with an uplink. Everything is removed on exit.

FLAKE_TAP=$1
require ip nft python3 unshare setpriv
[ -x "$FLAKE_TAP" ] || { echo "Bail out! flake-tap not built: $FLAKE_TAP"; exit 1; }

TMP=$(mktemp -d)
NS=ft$$                         # the "host" where flake-tap runs
NAMESPACES="$NS"
PIDS=""
export FLAKE_ROOT=$TMP/root FLAKE_RUNTIME_DIR=$TMP/run
FLAKES=$FLAKE_ROOT/usr/share/flakes
mkdir -p "$FLAKES" "$FLAKE_RUNTIME_DIR"

cleanup() {
        for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        for n in $NAMESPACES; do ip netns del "$n" 2>/dev/null; done
        rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$NS" || { echo "Bail out! cannot create a network namespace"; exit 1; }
ip -n "$NS" link add up0 type veth peer name up0-peer
ip -n "$NS" link set up0 up
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.99.0.1/24 dev up0
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0

in_ns() { ip netns exec "$NS" "$@"; }
tap() { in_ns "$FLAKE_TAP" "$@"; }

# register NAME NETWORK-YAML: a VM flake whose vm.runtime.network is the
# given block (already indented by six spaces), or none if empty.
register() {
        {
                printf 'vm:\n  name: img\n  host_app_path: /usr/bin/%s\n  runtime:\n    runas: %s\n' "$1" "${RUNAS-nobody}"
                if [ -n "$2" ]; then printf '    network:\n%s\n' "$2"; fi
                printf '    firecracker:\n      boot_args: ["init=/usr/sbin/sci"]\n'
                printf '      rootfs_image_path: /var/lib/firecracker/images/img/rootfs\n'
                printf '      kernel_image_path: /var/lib/firecracker/images/img/kernel\n'
        } > "$FLAKES/$1.yaml"
}

nat() {   # nat UPLINK HOST GUEST
        printf '      mode: nat\n      uplink: %s\n      host_address: %s\n      guest_address: %s' "$1" "$2" "$3"
}

link_exists() { in_ns ip link show "$1" >/dev/null 2>&1; }
nft_table() { in_ns nft list table ip flake_pilot 2>/dev/null; }
ip_forward() { in_ns cat /proc/sys/net/ipv4/ip_forward; }
state_files() { ls "$FLAKE_RUNTIME_DIR/tap" 2>/dev/null | grep '\.state$' | tr '\n' ' '; }
