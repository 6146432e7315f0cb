#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpus of fuzz-archive-extract (corpus/archive/): tars as
# an attacker would write them (python's tarfile keeps what GNU tar would
# sanitise). Run it again after changing it; the files are committed.
import gzip, io, os, sys, tarfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus/archive")
os.makedirs(out, exist_ok=True)


def entry(kind, name, data=b"", link="", mode=None):
    i = tarfile.TarInfo(name)
    i.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
              "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
    i.linkname = link
    i.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
    i.size = len(data)
    i.mtime = 1700000000
    return i, (io.BytesIO(data) if data else None)


def tar(name, entries, fmt=tarfile.GNU_FORMAT, compress=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            t.addfile(*entry(*e[:2], **e[2]) if len(e) > 2 else entry(*e))
    data = buf.getvalue()
    if compress == "gz":
        data = gzip.compress(data, mtime=0)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    return data


good = tar("good.tar", [("dir", "./"), ("dir", "opt"), ("file", "opt/f", {"data": b"hello\n"}),
                        ("hardlink", "opt/h", {"link": "opt/f"}),
                        ("symlink", "opt/abs", {"link": "/etc/passwd"}),
                        ("symlink", "opt/rel", {"link": "../opt/f"}),
                        ("file", "deep/er/x", {"data": b"x", "mode": 0o4755}),
                        ("dir", "ro", {"mode": 0o555}), ("file", "ro/inside", {"data": b"i"})])
tar("good.tar.gz", [("file", "a", {"data": b"a" * 1000}), ("dir", "b")], compress="gz")
tar("pax-long-names.tar", [("file", "d/" + "n" * 200, {"data": b"long"}),
                           ("hardlink", "d/" + "m" * 150, {"link": "d/" + "n" * 200})], fmt=tarfile.PAX_FORMAT)
# Escapes: the target puts a file "victim" next to the extraction root.
tar("hardlink-escape-data.tar", [("hardlink", "pwn", {"link": "../victim", "data": b"pwned"})])
tar("hardlink-escape-then-write.tar", [("hardlink", "pwn", {"link": "../victim"}), ("file", "pwn", {"data": b"pwned"})])
tar("hardlink-not-extracted.tar", [("hardlink", "pwn", {"link": "etc/passwd"})])
tar("hardlink-to-dir.tar", [("dir", "d"), ("hardlink", "h", {"link": "d"})])
tar("hardlink-to-symlink.tar", [("symlink", "s", {"link": "../victim"}), ("hardlink", "h", {"link": "s"}),
                                ("file", "h", {"data": b"pwned"})])
tar("symlink-then-write.tar", [("symlink", "esc", {"link": ".."}), ("file", "esc/planted", {"data": b"x"})])
tar("symlink-then-write-abs.tar", [("symlink", "esc", {"link": "/tmp"}), ("file", "esc/planted", {"data": b"x"})])
tar("symlink-replaced-by-dir.tar", [("symlink", "s", {"link": ".."}), ("dir", "s"), ("file", "s/in", {"data": b"x"})])
tar("symlink-over-victim.tar", [("symlink", "v", {"link": "../victim"}), ("file", "v", {"data": b"pwned"})])
tar("dotdot.tar", [("file", "a/../../planted", {"data": b"x"})])
tar("dotdot-dir.tar", [("dir", ".."), ("file", "../planted", {"data": b"x"})])
tar("absolute.tar", [("file", "/planted-absolute", {"data": b"x"})])
tar("file-then-below.tar", [("file", "f", {"data": b"x"}), ("file", "f/g", {"data": b"y"})])
tar("dir-replaced-by-file.tar", [("dir", "d"), ("file", "d/x", {"data": b"x"}), ("file", "d", {"data": b"y"})])
tar("fifo.tar", [("fifo", "pipe")])
tar("device.tar", [("chr", "null")])
with open(os.path.join(out, "truncated.tar"), "wb") as f:
    f.write(good[:1300])
with open(os.path.join(out, "garbage.tar"), "wb") as f:
    f.write(bytes((i * 7 + 3) % 256 for i in range(2048)))
