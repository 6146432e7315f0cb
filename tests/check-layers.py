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
  binaries).
"""
import os
import re
import sys

SRC = os.environ.get('FLAKE_SOURCE_ROOT') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('FLAKE_BUILD_ROOT')

# The layers each layer may include, besides itself.
LOWER = {
    'basic': [],
    'flake': ['basic'],
    'systemd': ['flake', 'basic'],
    'net': ['flake', 'basic'],
    'agent': ['basic'],
    'vm': ['flake', 'basic'],
    'archive': ['basic'],
}
# Generated headers every layer may include.
GENERATED = {'build-config.h'}
# sci's view of lib/.
SCI_ALLOWED = {'agent-protocol.h', 'compiler.h'}
# What the pilots must not link: the VMM configuration's JSON, netlink and
# libcrypto (TAP names) are for flake-vm, flake-tap and flake-ctl.
PILOT_FORBIDDEN = ['json-c', 'libnl', 'libcrypto']
PILOTS = ['helpers/podman-pilot/podman-pilot', 'helpers/firecracker-pilot/firecracker-pilot']

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
results = []


def check(ok, name, why=''):
    results.append((ok, name, why))


def headers_of(layer):
    d = os.path.join(SRC, 'lib', layer)
    return {f for f in os.listdir(d) if f.endswith('.h')}


def includes(path):
    with open(path, encoding='utf-8') as f:
        return INCLUDE.findall(f.read())


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

    by_path = re.compile(r"'(\.\./[^']*\.c)'")
    for root, dirs, files in os.walk(SRC):
        dirs[:] = [d for d in dirs if not d.startswith(('build', '.'))]
        if 'meson.build' in files:
            p = os.path.join(root, 'meson.build')
            with open(p, encoding='utf-8') as f:
                bad = by_path.findall(f.read())
            check(not bad, '%s compiles no source of another directory' % os.path.relpath(p, SRC),
                  'compiles ' + ', '.join(bad))

    if not BUILD:
        check(False, 'link lines of the pilots', 'FLAKE_BUILD_ROOT is not set')
    else:
        with open(os.path.join(BUILD, 'build.ninja'), encoding='utf-8') as f:
            ninja = f.read()
        for p in PILOTS:
            m = re.search(r'^build %s: c_LINKER .*\n LINK_ARGS = (.*)$' % re.escape(p), ninja, re.M)
            if not m:
                check(False, '%s links no %s' % (p, ', '.join(PILOT_FORBIDDEN)), 'no link line in build.ninja')
                continue
            bad = [lib for lib in PILOT_FORBIDDEN if lib in m.group(1)]
            check(not bad, '%s links no %s' % (p, ', '.join(PILOT_FORBIDDEN)), 'links ' + ', '.join(bad))

    print('1..%d' % len(results))
    for n, (ok, name, why) in enumerate(results, 1):
        print('%s %d - %s%s' % ('ok' if ok else 'not ok', n, name, '' if ok else ': ' + why))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
