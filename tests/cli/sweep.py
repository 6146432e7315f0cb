#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad input never destroys, hangs or half-writes.

  sweep.py replay         the inputs of the bad-input sweep (issue 17), each
                          with the status and the option its message must name
  sweep.py fuzz           random command lines from flake-ctl's grammar with
                          hostile values, for SWEEP_SECONDS (default 20),
                          seeded by SWEEP_SEED (default: the time; printed)

Every case runs flake-ctl (or a pilot) in a private FLAKE_ROOT that sits alone
in a scratch directory, with a time limit, and must:
  - end in time, by exit (no signal), with a status flake-ctl documents;
  - leave no sanitizer report;
  - on failure: print exactly one line on stderr and leave the root exactly
    as it was;
  - never create or change anything outside the root (the scratch dir holds
    nothing else, so an escape through '..' or a link shows there);
  - with --format json: print valid JSON.
Prints TAP."""
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

BUILD = os.environ['FLAKE_BUILD_ROOT']
CTL = os.path.join(BUILD, 'ctl', 'flake-ctl')
REAL_BINDIR = os.environ.get('FLAKE_BINDIR', os.path.join(BUILD, 'tests', 'bin'))
CASE_TIMEOUT = float(os.environ.get('SWEEP_CASE_TIMEOUT', '15'))
SANITIZER_MARKS = (b'AddressSanitizer', b'UndefinedBehaviorSanitizer', b'runtime error:',
                   b'LeakSanitizer')

n = 0
failed = 0


def tap(ok, desc, diag=None):
    global n, failed
    n += 1
    desc = desc.replace('\n', '\\n')
    print(f'{"ok" if ok else "not ok"} {n} - {desc}')
    if not ok:
        failed += 1
        for line in (diag or '').splitlines():
            print(f'# {line}')
    sys.stdout.flush()


def show(args):
    return ' '.join(repr(a.decode('utf-8', 'backslashreplace')) if isinstance(a, bytes) else repr(a)
                    for a in args)


class Root:
    """A private FLAKE_ROOT with a few registrations, alone in its scratch
    dir, restored to its initial state between cases."""

    def __init__(self):
        self.scratch = tempfile.mkdtemp(prefix='flake-sweep.')
        os.chmod(self.scratch, 0o755)
        self.root = os.path.join(self.scratch, 'root')
        self.pristine = os.path.join(tempfile.mkdtemp(prefix='flake-sweep-pristine.'), 'root')
        self.flakes = os.path.join(self.root, 'usr/share/flakes')
        self._populate()
        shutil.copytree(self.root, self.pristine, symlinks=True)
        self.initial = self.snapshot()

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items()
             if k not in ('FLAKES_DIR', 'FLAKE_CONFIG', 'FLAKE_USER_CONFIG', 'FLAKE_TEMPLATE_DIR',
                          'FLAKE_FIRECRACKER_DIR', 'FLAKE_RUNTIME_DIR')}
        e.update(FLAKE_ROOT=self.root, FLAKE_BINDIR=os.path.join(self.root, 'pilots'),
                 FLAKE_PODMAN=os.path.join(self.root, 'pilots', 'podman-stub'),
                 HOME=os.path.join(self.root, 'home'), LC_ALL='C.UTF-8')
        e.update(extra)
        return e

    def _populate(self):
        pilots = os.path.join(self.root, 'pilots')
        os.makedirs(pilots)
        for p in ('podman-pilot', 'firecracker-pilot'):
            with open(os.path.join(pilots, p), 'w') as f:
                f.write('#!/bin/sh\nexit 0\n')
        # flake-ctl's podman: fails the way podman does, with one line.
        with open(os.path.join(pilots, 'podman-stub'), 'w') as f:
            f.write('#!/bin/sh\necho "Error: stand-in podman" >&2\nexit 125\n')
        for p in os.listdir(pilots):
            os.chmod(os.path.join(pilots, p), 0o755)
        os.makedirs(os.path.join(self.root, 'home'))
        os.makedirs(os.path.join(self.root, 'etc/keep'))
        with open(os.path.join(self.root, 'etc/keep/file'), 'w') as f:
            f.write('data\n')
        img = os.path.join(self.root, 'var/lib/firecracker/images/img')
        os.makedirs(img)
        for part in ('rootfs', 'kernel'):
            with open(os.path.join(img, part), 'w') as f:
                f.write(part + '\n')
        with open(os.path.join(self.root, 'include.tar'), 'wb') as f:
            f.write(b'\0' * 1024)
        for args in (['podman', 'register', '--container', 'c', '--app', '/usr/bin/existing'],
                     ['firecracker', 'register', '--vm', 'img', '--app', '/usr/bin/vmf']):
            subprocess.run([CTL] + args, env=self.env(), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def snapshot(self, top=None):
        top = top or self.root
        out = []
        for d, dirs, files in os.walk(top):
            for name in sorted(dirs + files):
                p = os.path.join(d, name)
                st = os.lstat(p)
                entry = [os.path.relpath(p, top), stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode)]
                if stat.S_ISLNK(st.st_mode):
                    entry.append(os.readlink(p))
                elif stat.S_ISREG(st.st_mode):
                    with open(p, 'rb') as f:
                        entry.append(hashlib.md5(f.read()).hexdigest())
                out.append(tuple(entry))
        return sorted(out)

    def outside(self):
        return sorted(os.listdir(self.scratch))

    def reset(self):
        # Files may have been made unreadable or the root moved aside.
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(self.pristine, self.root, symlinks=True)

    def cleanup(self):
        shutil.rmtree(self.scratch, ignore_errors=True)
        shutil.rmtree(os.path.dirname(self.pristine), ignore_errors=True)


def run_case(root, argv, desc, status=None, names=None, env=None, one_line=True,
             json_out=False, cwd=None, quiet=False, pilot=False):
    """Runs one case and checks the invariants; returns True if all held.
    status: the expected exit status (None: any documented one). names: a
    string the one-line error must contain. quiet: report only failures."""
    before = root.snapshot()
    try:
        p = subprocess.run(argv, env=env or root.env(), cwd=cwd or root.scratch,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=CASE_TIMEOUT)
    except subprocess.TimeoutExpired:
        tap(False, f'{desc}: ends within {CASE_TIMEOUT:.0f} s', f'command: {show(argv)}')
        root.reset()
        return False
    problems = []
    err = p.stderr
    if p.returncode < 0:
        problems.append(f'killed by signal {-p.returncode}')
    elif status is not None and p.returncode != status:
        problems.append(f'exit status {p.returncode}, expected {status}')
    elif status is None and not pilot and p.returncode not in (0, 1, 2):
        problems.append(f'exit status {p.returncode}, not one flake-ctl documents')
    if any(m in err or m in p.stdout for m in SANITIZER_MARKS):
        problems.append('sanitizer report')
    # A pilot's failure may come after podman ran (podman's own line is the
    # app's stderr too), and a pilot keeps state in the root: only the rest.
    if p.returncode != 0 and not pilot:
        lines = err.decode('utf-8', 'backslashreplace').rstrip('\n').split('\n') if err else []
        if one_line and len(lines) != 1:
            problems.append(f'{len(lines)} lines on stderr, expected one')
        if names is not None and names.encode() not in err:
            problems.append(f'error does not name {names!r}')
        if root.snapshot() != before:
            problems.append('the root changed')
    if root.outside() != ['root']:
        problems.append(f'something outside the root: {root.outside()}')
    if json_out and p.returncode == 0:
        try:
            json.loads(p.stdout.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as e:
            problems.append(f'invalid JSON: {e}')
    ok = not problems
    if not ok or not quiet:
        tap(ok, desc, '\n'.join([f'command: {show(argv)}', *problems,
                                 'stderr: ' + err.decode('utf-8', 'backslashreplace')[:2000]]))
    if root.snapshot() != root.initial or root.outside() != ['root']:
        for extra in root.outside():
            if extra != 'root':
                p2 = os.path.join(root.scratch, extra)
                shutil.rmtree(p2) if os.path.isdir(p2) and not os.path.islink(p2) else os.unlink(p2)
        root.reset()
    return ok


def ctl(*args):
    return [CTL] + [a if isinstance(a, bytes) else a for a in args]


def replay(root):
    R = '/usr/bin/x'
    usage = [
        # 1. removing or replacing anything but a link to a pilot
        (ctl('podman', 'remove', '--force', '--app', '/etc'), 1, None),
        (ctl('firecracker', 'remove', '--force', '--app', '/etc'), 1, None),
        (ctl('podman', 'remove', '--force', '--app', '/usr/share/flakes'), 1, None),
        (ctl('podman', 'remove', '--force', '--app', '/../x'), 2, '--app'),
        (ctl('firecracker', 'remove', '--force', '--app', '/../x'), 2, '--app'),
        (ctl('podman', 'register', '--force', '--container', 'c', '--app', '/usr/share/flakes'), 1, None),
        (ctl('podman', 'register', '--force', '--container', 'c', '--app', '/etc'), 1, None),
        # 5. paths normalised before any write
        (ctl('podman', 'register', '--container', 'c', '--app', '/../x'), 2, '--app'),
        (ctl('podman', 'register', '--container', 'c', '--app', '/usr/bin/x/'), 2, '--app'),
        # 2. values that are not UTF-8 or hold control characters
        (ctl('podman', 'register', '--container', b'img\xff', '--app', R), 2, '--container'),
        (ctl('podman', 'register', '--container', 'c', '--app', b'/usr/bin/\xff'), 2, '--app'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--target', b'/bin/\xff'), 2, '--target'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--base', b'b\xff'), 2, '--base'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--base', 'b', '--layer', b'l\xff'), 2, '--layer'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--opt', b'--net\xff'), 2, '--opt'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--include-tar', b'/x\xff.tar'), 2, '--include-tar'),
        (ctl('firecracker', 'register', '--vm', b'img\xff', '--app', R), 2, '--vm'),
        (ctl('firecracker', 'register', '--vm', 'img', '--app', R, '--run-as', b'u\xff'), 2, '--run-as'),
        (ctl('firecracker', 'register', '--vm', 'img', '--app', R, '--target', b'/bin/\x1b[31m'), 2, '--target'),
        (ctl('podman', 'register', '--container', 'a\nb', '--app', R), 2, '--container'),
        (ctl('podman', 'register', '--container', 'c', '--app', '/usr/bin/a\nb'), 2, '--app'),
        # 6. silent acceptance
        (ctl('firecracker', 'remove', '--vm', 'nosuch'), 1, 'nosuch'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--include-tar', '/nonexistent.tar'), None, '--include-tar'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--include-path', '/nonexistent'), None, '--include-path'),
        (ctl('podman', 'register', '--container', '', '--app', R), 2, '--container'),
        (ctl('podman', 'register', '--container', '-', '--app', R), 2, '--container'),
        (ctl('podman', 'register', '--container', '--privileged', '--app', R), 2, '--container'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--base', ''), 2, '--base'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--base', '--privileged'), 2, '--base'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--base', 'b', '--layer', ''), 2, '--layer'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--opt', ''), 2, '--opt'),
        (ctl('podman', 'register', '--container', 'c', '--app', R, '--opt', '--a\n--b'), 2, '--opt'),
        (ctl('firecracker', 'register', '--vm', 'img', '--app', R, '--run-as', ''), 2, '--run-as'),
        (ctl('firecracker', 'register', '--vm', 'img', '--app', R, '--run-as', '-x'), 2, '--run-as'),
        (ctl('podman', 'register', '--container', 'c', '--app', '/usr/bin/a@b'), 2, '--app'),
        (ctl('firecracker', 'network', 'add', '--app', '/usr/bin/vmf', '--mode', 'bridge', '--bridge', 'br0',
             '--mac', '00:00:00:00:00:00'), 2, "mac '"),
        (ctl('firecracker', 'network', 'add', '--app', '/usr/bin/vmf', '--mode', 'bridge', '--bridge', 'br0',
             '--mac', 'ff:ff:ff:ff:ff:ff'), 2, "mac '"),
        (ctl('firecracker', 'volume', 'add', '--app', '/usr/bin/vmf', '/srv:/mnt/x'), 2, '/mnt'),
        (ctl('firecracker', 'volume', 'add', '--app', '/usr/bin/vmf', '/srv:/a,b'), 2, "','"),
        (ctl('firecracker', 'volume', 'add', '--app', '/usr/bin/vmf', '--instance', '../x', '/srv:/data'), 2, '--instance'),
        (ctl('firecracker', 'volume', 'add', '--app', '/usr/bin/vmf', '/srv:/data'), 1, 'network add'),
        # 7. values passed on to podman
        (ctl('podman', 'pull', '--uri', '--force'), 2, '--uri'),
        (ctl('podman', 'pull', '--uri='), 2, '--uri'),
        (ctl('podman', 'pull', '--uri', b'img\xff'), 2, '--uri'),
        (ctl('podman', 'load', '--oci='), 2, '--oci'),
        (ctl('podman', 'load', '--oci', '--quiet'), None, '--oci'),
        # 9. messages
        (ctl('podman', 'frob\x1b[2Jnicate'), 2, None),
        (ctl('list', '--bo\ngus'), 2, None),
        (ctl('podman', 'register', '--container', 'c', '--app', 'rel\nx'), 2, '--app'),
    ]
    for argv, status, names in usage:
        run_case(root, argv, 'refused: ' + show(argv[1:]), status=status, names=names)

    # A FIFO, /dev/zero or a huge file as a registration or a drop-in: no
    # hang, the other flakes still listed. (Each is made, tried, removed.)
    fifo_cases = [
        ('NAME.yaml is a FIFO', lambda: os.mkfifo(os.path.join(root.flakes, 'fifo.yaml'))),
        ('NAME.yaml is /dev/zero', lambda: os.symlink('/dev/zero', os.path.join(root.flakes, 'zero.yaml'))),
        ('NAME.yaml is /dev/urandom', lambda: os.symlink('/dev/urandom', os.path.join(root.flakes, 'rnd.yaml'))),
        ('a drop-in is a FIFO', lambda: os.mkfifo(os.path.join(root.flakes, 'existing.d', 'x.yaml'))),
        ('a drop-in is /dev/zero', lambda: os.symlink('/dev/zero', os.path.join(root.flakes, 'existing.d', 'z.yaml'))),
    ]
    for desc, make in fifo_cases:
        for argv, status in ((ctl('list', '--format', 'json'), 0), (ctl('verify'), 1)):
            root.reset()
            make()
            run_case(root, argv, f'{desc}: {show(argv[1:])}', status=status, one_line=False,
                     json_out=argv[1] == 'list')
        root.reset()
    for target in ('/dev/zero', '/dev/urandom'):
        run_case(root, ctl('list'), f'FLAKE_CONFIG={target}', status=1,
                 env=root.env(FLAKE_CONFIG=target), names=target)

    # 8. registration YAML read silently
    with open(os.path.join(root.flakes, 'vmf.yaml')) as f:
        vm_yaml = f.read()
    yaml_cases = [
        ('duplicate key', 'container:\n  name: a\n  name: b\n', 'duplicate'),
        ('NUL escape', 'container:\n  name: "a\\0b"\n', 'hand.yaml:2'),
        ('vcpu_count 0', re.sub(r'vcpu_count: \d+', 'vcpu_count: 0', vm_yaml), 'vcpu_count'),
        ('mem_size_mib 0', re.sub(r'mem_size_mib: \d+', 'mem_size_mib: 0', vm_yaml), 'mem_size_mib'),
    ]
    for desc, text, names in yaml_cases:
        root.reset()
        with open(os.path.join(root.flakes, 'hand.yaml'), 'w') as f:
            f.write(text)
        p = subprocess.run(ctl('verify', 'hand'), env=root.env(), capture_output=True, timeout=CASE_TIMEOUT)
        out = (p.stdout + p.stderr).decode('utf-8', 'backslashreplace')
        tap(p.returncode == 1 and names in out and 'hand.yaml:' in out,
            f'verify refuses a registration with a {desc}, naming file:line',
            f'exit {p.returncode}\n{out}')
    root.reset()

    # 9. list --format json stays valid JSON with a file name that is not UTF-8
    with open(os.path.join(os.fsencode(root.flakes), b'bad\xff.yaml'), 'w') as f:
        f.write('container:\n  name: c\n')
    run_case(root, ctl('list', '--format', 'json'), 'list --format json with a non-UTF-8 file name',
             status=0, json_out=True, one_line=False)
    root.reset()

    # The pilots: a broken registration is one line, no hang; an option
    # written where the image belongs never reaches podman.
    for pilot, text in (('podman-pilot', 'container:\n  name: [x\n'),
                        ('podman-pilot', 'container:\n  name: --privileged\n'),
                        ('firecracker-pilot', 'vm:\n  name: [x\n')):
        bindir = os.path.join(root.scratch, 'root', 'realbin')
        os.makedirs(bindir, exist_ok=True)
        app = os.path.join(bindir, 'broken')
        os.symlink(os.path.join(REAL_BINDIR, pilot), app)
        with open(os.path.join(root.flakes, 'broken.yaml'), 'w') as f:
            f.write(text)
        root_snapshot = root.snapshot()
        p = subprocess.run([app], env=root.env(FLAKE_BINDIR=REAL_BINDIR), capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=CASE_TIMEOUT)
        err = p.stderr.decode('utf-8', 'backslashreplace').rstrip('\n').split('\n')
        tap(p.returncode not in (0,) and p.returncode > 0 and len(err) == 1 and 'broken.yaml' in err[0]
            and root.snapshot() == root_snapshot,
            f'{pilot} with a broken registration ({text!r}): one line naming the file, nothing changed',
            f'exit {p.returncode}\n' + '\n'.join(err))
        root.reset()


# The fuzzer's grammar: verbs with their options, and values, friendly and
# hostile, drawn at random.
VERBS = {
    ('list',): ['--user', '--format'],
    ('verify',): ['--units'],
    ('podman', 'register'): ['--container', '--app', '--target', '--base', '--layer', '--include-tar',
                             '--include-path', '--resume', '--attach', '--opt', '--force',
                             '--check-host-dependencies'],
    ('podman', 'remove'): ['--app', '--container', '--force'],
    ('podman', 'show'): ['--format'],
    ('podman', 'pull'): ['--uri'],
    ('podman', 'load'): ['--oci'],
    ('podman', 'stop'): ['--app', '--all'],
    ('firecracker', 'register'): ['--vm', '--app', '--target', '--run-as', '--resume', '--force-vsock',
                                  '--overlay-size', '--no-net', '--include-tar', '--include-path', '--force'],
    ('firecracker', 'remove'): ['--app', '--vm', '--force'],
    ('firecracker', 'show'): ['--format'],
    ('firecracker', 'network', 'add'): ['--app', '--mode', '--uplink', '--host-address', '--guest-address',
                                        '--bridge', '--nameserver', '--mac'],
    ('firecracker', 'network', 'remove'): ['--app'],
    ('firecracker', 'network', 'show'): ['--format'],
    ('firecracker', 'volume', 'add'): ['--app', '--instance'],
    ('firecracker', 'volume', 'remove'): ['--app', '--instance'],
}
FRIENDLY = ['c', 'img', '/usr/bin/x', '/usr/bin/existing', '/usr/bin/vmf', 'json', 'csv', 'table',
            '1GiB', 'nat', 'eth0', '10.0.0.1/30', '10.0.0.2/30', '02:00:00:00:00:01', '1.1.1.1',
            '/include.tar', '/etc/keep', '/srv/data:/data', '/srv:/mnt/x', 'big']
HOSTILE = ['', '-', '--', '--privileged', '--all', '/etc', '/', '/../x', '/usr/bin/x/', '/usr//bin/x',
           '/usr/share/flakes', '/usr/share/flakes/existing.yaml', '/dev/zero', '/proc/self/fd/0',
           'a\nb', 'a\rb', '\x1b[31mred', 'a@b', '/usr/bin/a@b', '/usr/bin/a\\', '%x', '@x',
           '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '0', '-1', '99999999999999999999', '1e9',
           '0.0.0.0/0', '300.1.1.1/30', 'x' * 300, '/' + 'y' * 5000, '../etc', 'C:\\x',
           b'img\xff', b'/usr/bin/\xc3', b'\xed\xa0\x80', b'a\x01b',
           'caf\u00e9', '\u202ertl', '${HOME}', '$(id)', '`id`', '"', "'", 'docker://x',
           'localhost:5000/a/b:tag', 'UPPER/Case', 'a' * 129 + ':t']


# Registrations and arguments for the pilots: what a hand-written file or a
# caller can hand them. podman is the stand-in (one error line, status 125),
# VM images do not exist: every launch fails early, and must do so cleanly.
PILOT_DOCS = [
    'container:\n  name: {v}\n  target_app_path: /bin/sh\n',
    'container:\n  name: c\n  target_app_path: {v}\n',
    'container:\n  name: c\n  runtime:\n    runas: {v}\n',
    'container:\n  name: c\n  runtime:\n    resume: true\n    podman:\n      - {v}\n',
    'container:\n  name: c\n  runtime:\n    attach: true\n    podman: ["%{v}", "--name=%HOME"]\n',
    'container:\n  name: c\n  base_container: {v}\n  layers: [{v}]\n',
    'include:\n  tar: [{v}]\ncontainer:\n  name: c\n  runtime:\n    runas: root\n',
    'vm:\n  name: img\n  target_app_path: {v}\n  runtime:\n    firecracker:\n'
    '      rootfs_image_path: /nonexistent/rootfs\n      kernel_image_path: /nonexistent/kernel\n',
    'vm:\n  name: img\n  runtime:\n    resume: true\n    firecracker:\n      boot_args: [{v}]\n'
    '      overlay_size: {v}\n      rootfs_image_path: /nonexistent/rootfs\n      kernel_image_path: /nonexistent/kernel\n',
]
PILOT_ARGS = ['@x', '@', '@../x', '@a/b', '@' + 'i' * 300, '%progress', '%interactive', '%remove',
              '%ignore_sync_error', '%bogus', '%', '--', '-c', 'exit 3', '%serial', '@x@y']


def yaml_value(rng):
    v = rng.choice(HOSTILE + FRIENDLY)
    if isinstance(v, bytes):
        v = v.decode('utf-8', 'surrogateescape')
    return json.dumps(v)    # a double-quoted YAML scalar


def last_format(argv):
    """The --format value that counts: the last one given."""
    fmt = None
    for i, a in enumerate(argv):
        if a == '--format' and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif isinstance(a, str) and a.startswith('--format='):
            fmt = a[len('--format='):]
    return fmt


def pilot_case(root, rng, n):
    engine = rng.randrange(len(PILOT_DOCS))
    doc = PILOT_DOCS[engine].replace('{v}', yaml_value(rng))
    pilot = 'firecracker-pilot' if doc.startswith('vm:') else 'podman-pilot'
    with open(os.path.join(root.flakes, 'fz.yaml'), 'w', errors='surrogateescape') as f:
        f.write(doc)
    os.makedirs(os.path.join(root.root, 'realbin'), exist_ok=True)
    app = os.path.join(root.root, 'realbin', 'fz')
    if not os.path.lexists(app):
        os.symlink(os.path.join(REAL_BINDIR, pilot), app)
    argv = [app] + [rng.choice(PILOT_ARGS + FRIENDLY) for _ in range(rng.randint(0, 4))]
    env = root.env(FLAKE_BINDIR=REAL_BINDIR, FLAKE_LIBEXECDIR=REAL_BINDIR, FLAKE_QEMU_ACCEL='tcg')
    return run_case(root, argv, f'pilot fuzz case {n}: {doc!r}', env=env, quiet=True, pilot=True)


def fuzz(root, seconds, seed):
    rng = random.Random(seed)
    print(f'# seed {seed}, {seconds} s')
    deadline = time.monotonic() + seconds
    cases = bad = 0
    while time.monotonic() < deadline:
        if rng.random() < 0.2:
            cases += 1
            if not pilot_case(root, rng, cases):
                bad += 1
                if bad >= 20:
                    break
            root.reset()
            continue
        verb = rng.choice(list(VERBS))
        opts = VERBS[verb]
        argv = [CTL]
        if rng.random() < 0.1:
            argv.append('--user')
        argv += list(verb)
        for _ in range(rng.randint(0, 5)):
            r = rng.random()
            if r < 0.8:
                o = rng.choice(opts)
                pool = HOSTILE if rng.random() < 0.5 else FRIENDLY
                v = rng.choice(pool)
                if rng.random() < 0.2 and isinstance(v, str):
                    argv.append(f'{o}={v}')
                else:
                    argv += [o, v]
            elif r < 0.9:
                argv.append(rng.choice(HOSTILE + FRIENDLY))
            else:
                argv.append(rng.choice(['--help', '--version', '--bogus', '-x', '--format']))
        json_out = last_format(argv) == 'json' and not {'--help', '--version'} & set(argv)
        # verify reports every problem it finds, one per line, by design.
        one_line = verb != ('verify',)
        cases += 1
        if not run_case(root, argv, f'fuzz case {cases}', json_out=json_out, one_line=one_line, quiet=True):
            bad += 1
            if bad >= 20:
                break
    tap(bad == 0, f'fuzz: {cases} random command lines (flake-ctl and the pilots), {bad} broke an invariant')


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else 'replay'
    root = Root()
    try:
        if mode == 'replay':
            replay(root)
        else:
            seconds = float(os.environ.get('SWEEP_SECONDS', '20'))
            seed = int(os.environ.get('SWEEP_SEED', str(int(time.time()))))
            fuzz(root, seconds, seed)
    finally:
        root.cleanup()
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
