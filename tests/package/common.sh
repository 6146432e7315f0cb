# SPDX-License-Identifier: MIT
# Sourced by the package tests (deb.sh, rpm.sh), after tests/lib.sh.

# package_tree DEST: a copy of the source tree to build from, so that a
# package build never writes into the checkout. Without .git and without
# meson build directories (any directory holding a build.ninja), which a
# package build must not see.
package_tree() {
        mkdir -p "$1"
        tar -C "$FLAKE_SOURCE_ROOT" --exclude=./.git --exclude-tag-all=build.ninja -cf - . |
                tar -C "$1" -xf - || { echo "Bail out! cannot copy the source tree"; exit 1; }
}

# The project's version, as meson.build declares it (the packages must say
# the same).
package_version() {
        sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$FLAKE_SOURCE_ROOT/meson.build" | head -n 1
}
