#!/bin/sh
# link-programs.sh DIR PROGRAM...: DIR gets a symlink to each program, by its
# name, as an installation would have them side by side.
set -eu
dir=$1; shift
rm -rf "$dir"; mkdir -p "$dir"
for p in "$@"; do
        case "$p" in /*) ;; *) p="$PWD/$p" ;; esac
        ln -sf "$p" "$dir/$(basename "$p")"
done
