#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layering of lib/ (lib/meson.build), checked on the sources and the
build (TAP):

- a file in lib/<layer>/ includes only headers of its own layer and of the
  layers below it (LOWER);
- sci includes nothing of lib/ but the agent protocol and compiler.h (it
  links only the protocol);
- no meson.build compiles a source of another directory by path;
- the pilots, which start on every call, link no library they do not use
  (the link lines in build.ninja; --as-needed would hide them in the
  binaries);
- a launch finds its flake only through flake_lookup() (the system's
  flakes, then the user's: lib/flake/flake-lookup.h).
"""
import os
import re
import sys

from tap import Tap

SRC = os.environ.get('FLAKE_SOURCE_ROOT') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('FLAKE_BUILD_ROOT')

# The layers each layer may include, besides itself.
LOWER = {
    'basic': [],
    'flake': ['basic'],
    'systemd': ['flake', 'basic'],
    'net': ['flake', 'basic'],
    'agent': ['basic'],
    'vm': ['flake', 'agent', 'basic'],
    'archive': ['basic'],
}
# Generated headers every layer may include.
GENERATED = {'build-config.h'}
# sci's view of lib/.
SCI_ALLOWED = {'agent-protocol.h', 'compiler.h', 'nfs-volume.h'}
# What the pilots must not link: the VMM configuration's JSON, netlink and
# libcrypto (TAP names) are for flake-vm, flake-tap and flake-ctl.
PILOT_FORBIDDEN = ['json-c', 'libnl', 'libcrypto']
PILOTS = ['helpers/podman-pilot/podman-pilot', 'helpers/firecracker-pilot/firecracker-pilot']

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A source named by a path out of its meson.build's directory.
BY_PATH = re.compile(r"'(\.\./[^']*\.c)'|(project_source_root\(\)\s*/\s*'[^']*\.c')")

tap = Tap()
check = tap.check


def headers_of(layer):
    d = os.path.join(SRC, 'lib', layer)
    return {f for f in os.listdir(d) if f.endswith('.h')}


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def includes(path):
    return INCLUDE.findall(read(path))


def main():
    layers = sorted(d for d in os.listdir(os.path.join(SRC, 'lib'))
                    if os.path.isdir(os.path.join(SRC, 'lib', d)))
    check(set(layers) == set(LOWER), 'lib/ has the layers of lib/meson.build',
          'found %s' % ', '.join(layers))
    owner = {}
    for layer in layers:
        for h in headers_of(layer):
            owner.setdefault(h, []).append(layer)
    for h, ls in sorted(owner.items()):
        if len(ls) > 1:
            check(False, 'header %s in one layer' % h, 'in %s' % ', '.join(ls))

    for layer in layers:
        allowed = {layer, *LOWER.get(layer, [])}
        d = os.path.join(SRC, 'lib', layer)
        for f in sorted(os.listdir(d)):
            if not f.endswith(('.c', '.h')):
                continue
            bad = []
            for inc in includes(os.path.join(d, f)):
                if inc in GENERATED:
                    continue
                where = owner.get(inc, [])
                if not where or where[0] not in allowed:
                    bad.append('%s (%s)' % (inc, where[0] if where else 'no layer'))
            check(not bad, 'lib/%s/%s includes only its layer and lower ones' % (layer, f),
                  'includes ' + ', '.join(bad))

    sci = os.path.join(SRC, 'helpers/sci')
    sci_own = {f for f in os.listdir(sci) if f.endswith('.h')}
    for f in sorted(os.listdir(sci)):
        if f.endswith(('.c', '.h')):
            bad = [i for i in includes(os.path.join(sci, f))
                   if i not in sci_own and i not in SCI_ALLOWED]
            check(not bad, 'helpers/sci/%s includes of lib/ only the agent protocol' % f,
                  'includes ' + ', '.join(bad))

    for root, dirs, files in os.walk(SRC):
        dirs[:] = [d for d in dirs if not d.startswith(('build', '.'))]
        if 'meson.build' in files:
            p = os.path.join(root, 'meson.build')
            bad = [a or b for a, b in BY_PATH.findall(read(p))]
            check(not bad, '%s compiles no source of another directory' % os.path.relpath(p, SRC),
                  'compiles ' + ', '.join(bad))

    # Who launches: both pilots, the VM runner (through vm_instance_load()).
    launchers = ['helpers/podman-pilot', 'helpers/firecracker-pilot', 'helpers/vm', 'lib/vm']
    for d in launchers:
        for f in sorted(os.listdir(os.path.join(SRC, d))):
            if f.endswith('.c'):
                bad = re.findall(r'\bflake_load(?:_listed)?\s*\(', read(os.path.join(SRC, d, f)))
                check(not bad, '%s/%s finds flakes through flake_lookup() only' % (d, f),
                      'calls flake_load() directly')
    uses = [d for d in ['helpers/podman-pilot', 'lib/vm']
            if any('flake_lookup(' in read(os.path.join(SRC, d, f))
                   for f in os.listdir(os.path.join(SRC, d)) if f.endswith('.c'))]
    check(len(uses) == 2, 'podman-pilot and vm_instance_load() (firecracker-pilot, flake-vm) call flake_lookup()',
          'only in ' + ', '.join(uses))

    if not BUILD:
        check(False, 'link lines of the pilots', 'FLAKE_BUILD_ROOT is not set')
    else:
        ninja = read(os.path.join(BUILD, 'build.ninja'))
        for p in PILOTS:
            m = re.search(r'^build %s: c_LINKER .*\n LINK_ARGS = (.*)$' % re.escape(p), ninja, re.M)
            if not m:
                check(False, '%s links no %s' % (p, ', '.join(PILOT_FORBIDDEN)), 'no link line in build.ninja')
                continue
            bad = [lib for lib in PILOT_FORBIDDEN if lib in m.group(1)]
            check(not bad, '%s links no %s' % (p, ', '.join(PILOT_FORBIDDEN)), 'links ' + ', '.join(bad))

    return tap.report()


if __name__ == '__main__':
    sys.exit(main())
