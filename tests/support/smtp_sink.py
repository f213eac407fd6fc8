"""A local SMTP sink for the tests (aiosmtpd): every message it accepts is written to
OUT_DIR as its own JSON file (envelope recipients, Message-ID, decoded subject, plain
text and HTML), fsynced before the 250 answer, then the test reads them. Prints
`ready PORT` once it listens. Usage: smtp_sink.py OUT_DIR [DELAY_MS [PORT]]"""
import email
import email.policy
import json
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller

out_dir = sys.argv[1]
delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
os.makedirs(out_dir, exist_ok=True)


class Sink:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = os.path.join(out_dir, f"{time.time_ns()}-{self.n}.json")
        tmp = name + ".tmp"
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        record = {
            "to": envelope.rcpt_tos,
            "message_id": str(msg["message-id"] or ""),
            "subject": str(msg["subject"] or ""),
            "text": plain.get_content() if plain else "",
            "html": html.get_content() if html else "",
        }
        with open(tmp, "w") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, name)
        if delay:
            time.sleep(delay)
        return "250 OK"


if len(sys.argv) > 3:
    port = int(sys.argv[3])
else:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(f"ready {port}", flush=True)
try:
    sys.stdin.read()  # runs until the test closes stdin or kills it
finally:
    controller.stop()
