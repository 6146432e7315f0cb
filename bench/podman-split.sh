#!/bin/bash
# What --cgroups=split costs a launch. It only works under a real systemd
# (podman needs the delegated scope), so this boots the booted-systemd test's
# Debian root (tests/integration/nspawn/make-root.sh) in systemd-nspawn with
# podman's default cgroup handling (runc, pids_limit = 0: see that test) and,
# inside one delegated scope as podman-pilot has it, runs side by side,
# interleaved with the order rotated each round:
#   split:   podman run --rm --init --cgroups=split IMG true   (what the pilot runs)
#   default: podman run --rm --init IMG true                   (podman's default)
# and prints the medians and their ratio (target: nothing measurable, <= 1.05).
# Usage: bench/podman-split.sh [ROUNDS]
set -u
N=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
here="$src/tests/integration/nspawn"

root=$("$here/make-root.sh") || { echo "podman-split: cannot build the nspawn root" >&2; exit 1; }
tmp=$(mktemp -d /var/tmp/flake-bench-split.XXXXXX)
merged="$tmp/merged"
cleanup() {
        mountpoint -q "$merged" && umount "$merged"
        rm -rf "$tmp"
}
trap cleanup EXIT
upper="$tmp/upper"
mkdir -p "$upper/etc/containers" "$upper/opt/bench" "$upper/etc/systemd/system/multi-user.target.wants" \
         "$tmp/work" "$merged" "$tmp/storage"
cp "$here/containers.conf" "$upper/etc/containers/containers.conf"
[containers]
default_sysctls = []
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
pids_limit = 0
netns = "none"
[engine]
runtime = "runc"
events_logger = "file"
EOC
printf '[storage]\ndriver = "overlay"\ngraphroot = "/opt/bench/storage"\nrunroot = "/run/bench"\n' \
        >"$upper/etc/containers/storage.conf"

cat >"$upper/opt/bench/run.sh" <<'EOS'
#!/bin/sh
# Inside the container, in a delegated scope (see the unit).
N=$1
out=/opt/bench/result
r=/tmp/img
mkdir -p $r/bin $r/proc $r/sys $r/dev $r/etc
cp /bin/busybox $r/bin/
ln -s busybox $r/bin/true
echo 'root:x:0:0:root:/root:/bin/sh' >$r/etc/passwd
tar -C $r -cf $r.tar .
podman import --quiet $r.tar localhost/bench:latest >/dev/null || { echo "import failed" >$out; exit 1; }
split() { podman run --rm --init --pull=never --cgroups=split localhost/bench true; }
default() { podman run --rm --init --pull=never localhost/bench true; }
for v in split default; do $v >/dev/null 2>&1 || { echo "$v failed" >$out; exit 1; }; done
i=0
: >/tmp/split.ms; : >/tmp/default.ms
while [ $i -lt "$N" ]; do
        if [ $((i % 2)) = 0 ]; then order="split default"; else order="default split"; fi
        for v in $order; do
                t0=$(date +%s%N); $v >/dev/null 2>&1; t1=$(date +%s%N)
                echo $(( (t1 - t0) / 1000000 )) >>/tmp/$v.ms
        done
        i=$((i + 1))
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "split $(med /tmp/split.ms) default $(med /tmp/default.ms) scope $(cat /proc/self/cgroup | grep '^0::')" >$out
EOS
chmod +x "$upper/opt/bench/run.sh"
cat >"$upper/etc/systemd/system/flake-bench.service" <<EOU
[Unit]
After=multi-user.target
[Service]
Type=oneshot
# The pilot's situation: a delegated scope of its own.
ExecStart=/usr/bin/systemd-run --scope --quiet -p Delegate=yes --slice=flake.slice /opt/bench/run.sh $N
ExecStopPost=/usr/bin/systemctl poweroff --no-block
EOU
ln -s ../flake-bench.service "$upper/etc/systemd/system/multi-user.target.wants/flake-bench.service"

mount -t overlay overlay -o "lowerdir=$root,upperdir=$upper,workdir=$tmp/work" "$merged" ||
        { echo "podman-split: cannot mount the overlay" >&2; exit 1; }
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout 900 systemd-nspawn -q --register=no --keep-unit -D "$merged" \
        --private-network --bind=/dev/fuse --capability=all --system-call-filter='@keyring @mount bpf' \
        --bind="$tmp/storage:/opt/bench/storage" --console=passive -b >"$tmp/console.log" 2>&1
res=$(cat "$upper/opt/bench/result" 2>/dev/null)
case "$res" in
split*) ;;
*) echo "podman-split: no result (${res:-none}); console:" >&2; tail -n 20 "$tmp/console.log" >&2; exit 1 ;;
esac
set -- $res
echo "rounds: $N, interleaved, inside a delegated scope ($6):"
echo "  podman run --rm --init --cgroups=split: $2 ms (median)"
echo "  podman run --rm --init (default):       $4 ms (median)"
awk -v a="$2" -v b="$4" 'BEGIN { printf "  ratio split/default: %.3f (target <= 1.05: nothing measurable)\n", a / b }'
