#!/usr/bin/env python3
"""The services of the test PKI (tests/seal/pki.sh) on 127.0.0.1, with Python's http.server
and `openssl ts` (no network):

    pki_server.py DIR [--port N]

Prints the port it listens on, then serves until killed:

    GET  /root.crl   DIR/root.crl, the root's CRL (DER), as the certificates name it
    POST /tsa        an RFC 3161 time stamp of DIR/tsa.cnf for the TimeStampReq in the body
    GET  /count      how many CRLs were served (that the sealer fetched them)

Start it before running pki.sh with BASE_URL http://127.0.0.1:PORT: the files are read
when asked for.
"""
import http.server
import os
import subprocess
import sys
import tempfile
import threading

work = os.path.abspath(sys.argv[1])
opts = dict(zip(sys.argv[2::2], sys.argv[3::2]))
state = {"crls": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/root.crl":
            try:
                with open(os.path.join(work, "root.crl"), "rb") as f:
                    body = f.read()
            except OSError:
                return self.answer(404, b"no CRL yet", "text/plain")
            with lock:
                state["crls"] += 1
            return self.answer(200, body, "application/pkix-crl")
        if self.path == "/count":
            return self.answer(200, str(state["crls"]).encode(), "text/plain")
        return self.answer(404, b"", "text/plain")

    def do_POST(self):
        query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/tsa":
            return self.answer(404, b"", "text/plain")
        with lock, tempfile.TemporaryDirectory() as tmp:
            q, r = os.path.join(tmp, "q.tsq"), os.path.join(tmp, "r.tsr")
            with open(q, "wb") as f:
                f.write(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", q, "-out", r],
                cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if done.returncode != 0:
                return self.answer(400, b"bad query", "text/plain")
            with open(r, "rb") as f:
                return self.answer(200, f.read(), "application/timestamp-reply")


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(opts.get("--port", "0"))), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
