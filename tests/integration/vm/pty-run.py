#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pty-run.py ROWS COLS NEWROWS NEWCOLS -- COMMAND...

Runs COMMAND on a pseudo-terminal of ROWS x COLS. When its output contains
"RESIZE-NOW", the terminal is resized to NEWROWS x NEWCOLS (the kernel then
sends SIGWINCH to the command, as a terminal emulator would). Prints all
output and exits with the command's status. Gives up after 60 s."""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

rows, cols, new_rows, new_cols = map(int, sys.argv[1:5])
cmd = sys.argv[6:] if sys.argv[5] == '--' else sys.argv[5:]

pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(cmd[0], cmd)

out = b''
resized = False
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    r, _, _ = select.select([master], [], [], 1)
    if not r:
        continue
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not resized and b'RESIZE-NOW' in out:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', new_rows, new_cols, 0, 0))
        resized = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace').replace('\r', ''))
sys.exit(os.waitstatus_to_exitcode(status))
