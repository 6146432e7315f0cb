#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-ctl list and verify (config loading of every flake) with 10, 1,000
# and 10,000 registrations: wall time and peak RSS, total and per flake.
# Target: 1,000 flakes listed in under 50 ms.
# Usage: bench/list.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
CTL=$(realpath "$BUILD/ctl/flake-ctl")
M=$(dirname "$0")/measure.py
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
export FLAKE_ROOT=$ROOT FLAKE_BINDIR=$ROOT/pilots
mkdir -p "$FLAKE_BINDIR" && printf '#!/bin/sh\n' > "$FLAKE_BINDIR/podman-pilot" && chmod +x "$FLAKE_BINDIR/podman-pilot"

printf '%-8s %-8s %10s %12s %12s\n' flakes command total_ms per_flake_us peak_rss_kib
for n in 10 1000 10000; do
        dir="$ROOT/usr/share/flakes"
        rm -rf "$dir" "$ROOT/usr/bin"; mkdir -p "$dir" "$ROOT/usr/bin"
        # Realistic registrations: the original's container template, filled.
        for i in $(seq 1 "$n"); do
                sed "s|name: name|name: registry.example.org/app$i|; s|host_app_path: .*|host_app_path: /usr/bin/app$i|" \
                        "$(dirname "$0")/../tests/fixtures/original/container-flake.yaml" > "$dir/app$i.yaml"
                ln -s "$FLAKE_BINDIR/podman-pilot" "$ROOT/usr/bin/app$i"
        done
        for cmd in list verify; do
                read -r ms rss < <("$M" -n 5 -- "$CTL" $cmd)
                printf '%-8s %-8s %10.1f %12.1f %12s\n' "$n" "$cmd" "$ms" "$(echo "$ms * 1000 / $n" | bc -l)" "$rss"
        done
done
