#!/usr/bin/env python3
"""A small HTTP server for opsdeck's end-to-end tests, on 127.0.0.1.

    http_receiver.py PORT_FILE [LOG_FILE]

Binds a free port and writes it to PORT_FILE. GET /control?status=N makes
every other request answer N from then on; /control?status=stall makes them
hang for a minute (to trip timeouts). Every other request is answered with
the current status and a short JSON body, counted, and (with LOG_FILE)
appended to it as one JSON line: method, path, headers, body. GET /count
returns how many such requests arrived.
With WEBHOOK_SECRET in its environment it checks each request's
Opsdeck-Signature (t=SECONDS,v1=HEX of HMAC-SHA256 over "t.body") and logs
"signature_ok".
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

state = {"status": "200", "count": 0}
lock = threading.Lock()
log_path = sys.argv[2] if len(sys.argv) > 2 else None


def verify(header, body, secret):
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts or abs(time.time() - int(parts["t"])) > 300:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/control":
            status = parse_qs(url.query).get("status", ["200"])[0]
            with lock:
                state["status"] = status
            return self.answer(200, json.dumps({"status": status}))
        if url.path == "/count":
            with lock:
                count = state["count"]
            return self.answer(200, json.dumps({"count": count}))
        with lock:
            state["count"] += 1
            status = state["status"]
            if log_path:
                with open(log_path, "a") as log:
                    entry = {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body.decode("utf-8", "replace"),
                    }
                    secret = os.environ.get("WEBHOOK_SECRET")
                    if secret:
                        entry["signature_ok"] = verify(self.headers.get("Opsdeck-Signature", ""), body, secret)
                    log.write(json.dumps(entry) + "\n")
        if status == "stall":
            time.sleep(60)
            return
        self.answer(int(status), json.dumps({"ok": status.startswith("2"), "status": int(status)}))

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
