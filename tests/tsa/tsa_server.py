#!/usr/bin/env python3
"""A local RFC 3161 time-stamp authority for Paraaf's tests: `openssl ts -reply` behind
Python's http.server, with a test PKI made by openssl in WORKDIR. No network.

    tsa_server.py WORKDIR [--key rsa|ec256|ec384] [--ess sha1|sha256] [--port N]

Writes WORKDIR/ca.pem (the root to trust), WORKDIR/other-ca.pem (an unrelated root),
then prints the port it listens on (127.0.0.1) and serves until killed:

    POST /          stamp the TimeStampReq in the body (application/timestamp-reply)
    POST /replay    answer with the previous answer again (a replayed answer)
    POST /refuse    a TimeStampResp with status rejection
    GET  /down      from now on answer 503 to every POST (the TSA is down)
    GET  /up        stamp again
    GET  /count     how many stamps were issued
"""
import http.server
import os
import subprocess
import sys
import threading


def run(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(work, key, ess):
    keyopt = {
        "rsa": ["-newkey", "rsa:2048"],
        "ec256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ec384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    }[key]
    for name in ("ca", "other-ca"):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3650",
            "-subj", f"/CN=Paraaf test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    with open(os.path.join(work, "tsa-ext.cnf"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=critical,timeStamping\n")
    run("openssl", "req", *keyopt, "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
        "-subj", "/CN=Paraaf test TSA", cwd=work)
    run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.pem", "-days", "3650", "-sha256",
        "-extfile", "tsa-ext.cnf", cwd=work)
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("01\n")
    with open(os.path.join(work, "tsa.cnf"), "w") as f:
        f.write(f"""[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {work}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
""")


def main():
    work = os.path.abspath(sys.argv[1])
    opts = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    make_pki(work, opts.get("--key", "rsa"), opts.get("--ess", "sha1"))
    state = {"down": False, "last": b"", "count": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body, ctype="application/timestamp-reply"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                if self.path == "/down":
                    state["down"] = True
                elif self.path == "/up":
                    state["down"] = False
                elif self.path != "/count":
                    return self.answer(404, b"", "text/plain")
                return self.answer(200, str(state["count"]).encode(), "text/plain")

        def do_POST(self):
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                if state["down"]:
                    return self.answer(503, b"down", "text/plain")
                if self.path == "/refuse":
                    return self.answer(200, bytes.fromhex("3005300302010" + "2"))
                if self.path == "/replay":
                    return self.answer(200, state["last"])
                qfile = os.path.join(work, "query.tsq")
                rfile = os.path.join(work, "reply.tsr")
                with open(qfile, "wb") as f:
                    f.write(query)
                try:
                    run("openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", qfile,
                        "-out", rfile, cwd=work)
                except subprocess.CalledProcessError:
                    return self.answer(400, b"bad query", "text/plain")
                with open(rfile, "rb") as f:
                    body = f.read()
                state["last"] = body
                state["count"] += 1
                return self.answer(200, body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(opts.get("--port", "0"))), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
