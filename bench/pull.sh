#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-pull throughput: a 200 MB+ KIS archive (tar.xz) from a local HTTP
# server, three ways, side by side in one run:
#   flake-pull          streamed download -> xz -> tar -> files, + sha256 verify + fsync
#   curl -o && tar xJf  what the original flake-ctl does (download, then extract)
#   curl | tar xJ       the streaming limit (no verification, no fsync)
# Median wall time and peak RSS. Targets: flake-pull <= 1.1x the pipeline,
# clearly faster than download-then-extract.
# Usage: bench/pull.sh [BUILD_DIR] [RUNS]
set -eu
BUILD=$(realpath "${1:-build}")
RUNS=${2:-3}
HERE=$(realpath "$(dirname "$0")")
M=$HERE/measure.py
PULL=$BUILD/helpers/pull/flake-pull
[ -x "$PULL" ] || PULL=$BUILD/helpers/flake-pull
W=$(mktemp -d /var/tmp/flake-pull-bench.XXXXXX)
SPID=
trap '[ -n "$SPID" ] && kill $SPID; rm -rf "$W"' EXIT

# The archive: a 224 MiB ext image mixing random data (incompressible),
# text-like data (compressible) and zeros, as real images do; xz -1 -T2
# keeps generation quick.
mkdir -p "$W/kis" "$W/srv"
img=$W/kis/bench.x86_64-1.0.ext2
{
        head -c 64M /dev/urandom
        head -c 48M /dev/urandom | base64
        head -c 96M /dev/zero
} > "$img"
truncate -s 224M "$img"
head -c 12M /dev/urandom > "$W/kis/bench.x86_64-1.0.kernel"
echo "$(sha256sum "$img" | cut -d' ' -f1) $(( $(stat -c %s "$img") / 4096 )) 4096" > "$W/kis/bench.x86_64-1.0.sha256"
tar -C "$W/kis" -cf - . | xz -T2 -1 > "$W/srv/bench.tar.xz"
rm -rf "$W/kis"
python3 "$HERE/../tests/integration/pull/server.py" --dir "$W/srv" --port-file "$W/port" 2>/dev/null & SPID=$!
while [ ! -s "$W/port" ]; do sleep 0.05; done
URL=http://127.0.0.1:$(cat "$W/port")/files/bench.tar.xz
echo "archive: $(du -m "$W/srv/bench.tar.xz" | cut -f1) MiB compressed, 236 MiB unpacked; $RUNS runs each"

export FLAKE_ROOT=$W/root FLAKE_ALLOW_INSECURE_TRANSPORT=1
D=$W/out
run() { "$M" -n "$RUNS" -- sh -c "rm -rf '$D' '$W/root' '$W/f'; mkdir -p '$D'; $1"; }
read -r t_pull r_pull < <(run "'$PULL' vm --quiet --name bench --kis-image '$URL'")
read -r t_two r_two < <(run "curl -sf -o '$W/f' '$URL' && tar -C '$D' -xJf '$W/f'")
read -r t_pipe r_pipe < <(run "curl -sf '$URL' | tar -C '$D' -xJ")

printf '%-28s %10s %10s %14s\n' method median_ms ratio peak_rss_kib
for m in pull two pipe; do
        eval t=\$t_$m r=\$r_$m
        case $m in pull) n="flake-pull";; two) n="curl -o && tar xJf";; pipe) n="curl | tar xJ";; esac
        printf '%-28s %10.0f %10.2f %14s\n' "$n" "$t" "$(echo "$t / $t_pipe" | bc -l)" "$r"
done
