# Sourced by the podman integration tests: a hermetic podman (test
# containers.conf, storage.conf and registries.conf in a temp dir), a test
# image built locally with "podman import", and a private flake root.
# Everything is removed by podman_teardown (installed as an EXIT trap).

require podman runc busybox

T=$(mktemp -d /tmp/flake-podman-test.XXXXXX)
export FLAKE_ROOT="$T/root"
export FLAKE_CONFIG="$FLAKE_ROOT/etc/flakes.yml"
mkdir -p "$FLAKE_ROOT/etc" "$FLAKE_ROOT/usr/share/flakes" "$FLAKE_ROOT/usr/bin"
IDS="$FLAKE_ROOT/ids"

cat > "$T/storage.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$T/storage"
runroot = "$T/run"
EOC
cat > "$T/registries.conf" <<EOC
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:5000"
insecure = true
EOC
# Paths in flakes.yml are seen from inside FLAKE_ROOT.
cp "$T/storage.conf" "$FLAKE_ROOT/etc/storage.conf"
cat > "$FLAKE_ROOT/etc/flakes.yml" <<EOC
generic:
  flakes_dir: /usr/share/flakes
  podman_ids_dir: /ids
  firecracker_ids_dir: /ids
  podman_storage_conf: /etc/storage.conf
EOC
export CONTAINERS_CONF="$FLAKE_SOURCE_ROOT/tests/fixtures/containers.conf"
export CONTAINERS_REGISTRIES_CONF="$T/registries.conf"
# Our own podman calls (image builds, checks) use the flake store too.
export CONTAINERS_STORAGE_CONF="$T/storage.conf"
PILOT="$FLAKE_BUILD_ROOT/helpers/podman-pilot/podman-pilot"
CTL="$FLAKE_BUILD_ROOT/ctl/flake-ctl"
REGISTRY_PID=

podman_teardown() {
        podman rm --all --force --time 0 >/dev/null 2>&1
        [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
        podman rmi --all --force >/dev/null 2>&1
        rm -rf "$T"
}
trap podman_teardown EXIT

# build_image NAME [extra files dir [--change ...]]: busybox root, imported
# as NAME.
build_image() {
        local r="$T/img-$$-$RANDOM"
        mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
        cp "$(command -v busybox)" "$r/bin/busybox"
        for a in sh echo cat sleep ls env true false kill printf wc tr id test head stty pwd sort; do
                ln -s busybox "$r/bin/$a"
        done
        echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
        echo 'root:x:0:' > "$r/etc/group"
        [ $# -gt 1 ] && cp -a "$2/." "$r/"
        tar -C "$r" -cf "$r.tar" .
        podman import --quiet --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "${@:3}" \
                "$r.tar" "$1" >/dev/null
        rm -rf "$r" "$r.tar"
}

# register NAME IMAGE TARGET [yaml lines for container.runtime...]: writes
# the registration the way flake-ctl podman register does and links the app.
register() {
        local name="$1" image="$2" target="$3"; shift 3
        {
                echo "include:"
                echo "  tar: ~"
                echo "  path: ~"
                echo "container:"
                echo "  name: $image"
                echo "  target_app_path: $target"
                echo "  host_app_path: /usr/bin/$name"
                # (unless the lines given set it: a key may appear once)
                case "$*" in *check_host_dependencies:*) ;; *) echo "  check_host_dependencies: false" ;; esac
                for l in "$@"; do echo "$l"; done
        } > "$FLAKE_ROOT/usr/share/flakes/$name.yaml"
        mkdir -p "$FLAKE_ROOT/usr/share/flakes/$name.d"
        ln -sf "$PILOT" "$FLAKE_ROOT/usr/bin/$name"
}

app() { printf '%s' "$FLAKE_ROOT/usr/bin/$1"; }
