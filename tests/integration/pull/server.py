#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small HTTP(S) server for the flake-pull tests, on 127.0.0.1.

Serves the files of --dir under several paths that misbehave on purpose:
  /files/NAME          the file, with Last-Modified, ETag and Range support
  /truncate/NAME       announces the full length, sends half, closes; a
                       range request gets the same (a server that cannot resume)
  /flaky/NAME          like /truncate/ on the first request, then like /files/
                       (resuming with a Range request works)
  /busy/NAME           503 on the first request, then like /files/
  /redirect/NAME?to=U  302 to U
  /nolength/NAME       the file without Content-Length (ends at close)
  /slow/NAME           the file at about 1 MiB/s (to interrupt a pull)
Anything else is 404. The port is written to --port-file once listening.
"""
import argparse
import email.utils
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

seen = set()
seen_lock = threading.Lock()


def first_time(key):
    with seen_lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):
        pass

    def fail(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/", 2)
        if len(parts) != 3 or not parts[2] or "/" in parts[2] or parts[2].startswith("."):
            return self.fail(404)
        mode, name = parts[1], parts[2]
        path = os.path.join(self.root, name)
        if mode == "redirect":
            target = urllib.parse.parse_qs(url.query).get("to", [""])[0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not os.path.isfile(path):
            return self.fail(404)
        if mode == "busy" and first_time(self.path):
            return self.fail(503)
        truncate = mode == "truncate" or (mode == "flaky" and first_time(self.path))
        if mode not in ("files", "truncate", "flaky", "busy", "nolength", "slow"):
            return self.fail(404)

        st = os.stat(path)
        size = st.st_size
        start = 0
        rng = self.headers.get("Range")
        if rng and mode != "truncate" and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                return self.fail(416)
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        if mode != "nolength":
            self.send_header("Content-Length", str(size - start))
        else:
            self.send_header("Connection", "close")
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("ETag", '"%x-%x"' % (st.st_ino, int(st.st_mtime)))
        self.end_headers()

        limit = size // 2 if truncate else size
        with open(path, "rb") as f:
            f.seek(start)
            left = limit - start
            try:
                while left > 0:
                    chunk = f.read(min(left, 256 * 1024))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    if mode == "slow":
                        self.wfile.flush()
                        time.sleep(0.25)
                    left -= len(chunk)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        if truncate or mode == "nolength":
            self.close_connection = True
            self.connection.shutdown(2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    Handler.root = a.dir
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
