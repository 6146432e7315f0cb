#!/bin/bash
# make demo: a container flake from nothing, without internet. Builds a tiny
# busybox image locally, registers it with flake-ctl in a private root (no
# change to /etc or /usr), runs it a few ways and cleans everything up.
set -u
BUILD=${FLAKE_BUILD_ROOT:-$(cd "$(dirname "$0")/.." && pwd)/build}
CTL="$BUILD/ctl/flake-ctl"
export FLAKE_BINDIR="$BUILD/tests/bin"
for p in podman busybox "$CTL" "$FLAKE_BINDIR/podman-pilot"; do
        command -v "$p" >/dev/null || { echo "demo: $p is missing (run make and tests/install-deps.sh)" >&2; exit 1; }
done

D=$(mktemp -d /tmp/flake-demo.XXXXXX)
cleanup() {
        podman rm --all --force --time 0 >/dev/null 2>&1
        podman rmi --all --force >/dev/null 2>&1
        rm -rf "$D"
}
trap cleanup EXIT
export FLAKE_ROOT="$D/root" FLAKE_CONFIG="$D/root/etc/flakes.yml"
mkdir -p "$FLAKE_ROOT/etc" "$FLAKE_ROOT/usr/bin"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$D" "$D" > "$FLAKE_ROOT/etc/storage.conf"
printf 'generic:\n  flakes_dir: /usr/share/flakes\n  podman_ids_dir: /ids\n  podman_storage_conf: /etc/storage.conf\n' > "$FLAKE_CONFIG"
export CONTAINERS_CONF="$(cd "$(dirname "$0")" && pwd)/fixtures/containers.conf" CONTAINERS_STORAGE_CONF="$FLAKE_ROOT/etc/storage.conf"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Build a tiny image (busybox) locally with podman import"
mkdir -p "$D/img/bin" "$D/img/etc" "$D/img/proc" "$D/img/sys" "$D/img/dev" "$D/img/tmp"
cp "$(command -v busybox)" "$D/img/bin/"
for a in sh echo cat wc tr uname sleep; do ln -s busybox "$D/img/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$D/img/etc/passwd"
tar -C "$D/img" -cf "$D/img.tar" .
podman import --quiet --change 'ENV PATH=/bin' "$D/img.tar" localhost/demo:latest >/dev/null
podman images --format '   {{.Repository}}:{{.Tag}}  {{.Size}}'

say "2. Register two flakes: 'shout' (tr, one-shot) and 'box' (sh, resume)"
"$CTL" podman register --container localhost/demo --app /usr/bin/shout --target /bin/tr
"$CTL" podman register --container localhost/demo --app /usr/bin/box --target /bin/sh --resume
"$CTL" list
export PATH="$FLAKE_ROOT/usr/bin:$PATH"

say "3. Arguments pass verbatim; stdin streams through a pipe"
echo "  \$ echo 'hello from the host' | shout a-z A-Z"
echo 'hello from the host' | shout a-z A-Z

say "4. The app's exit status is the command's exit status"
echo "  \$ box -c 'echo in the container: \$(uname -n); exit 3'"
box -c 'echo in the container: $(uname -n); exit 3'
echo "  exit status: $?"

say "5. stdout and stderr stay separate"
echo "  \$ box -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null"
box -c 'echo to-stdout; echo to-stderr >&2' 2>/dev/null

say "6. The resumed instance is kept; flake-ctl shows and stops it"
"$CTL" podman show
"$CTL" podman stop box
echo
echo "Done: everything lived in $D and is removed now."
