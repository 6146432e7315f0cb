#!/bin/sh
# Runs a libFuzzer binary for a bounded time on a scratch copy of its corpus.
set -eu
fuzzer="$1"; corpus="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work"
