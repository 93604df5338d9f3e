#!/usr/bin/env python3
"""An SMTP server for opsdeck's end-to-end tests (aiosmtpd), on 127.0.0.1.

    smtp_receiver.py PORT_FILE OUT_DIR [USER:PASSWORD] [starttls|smtps CERT KEY]

Writes the port it listens on to PORT_FILE. Each message is saved as
OUT_DIR/N.eml (the raw message) with OUT_DIR/N.json (the envelope: mail
from, recipients, the authenticated user). With USER:PASSWORD, AUTH PLAIN and
LOGIN are offered and required. With starttls, STARTTLS is offered and
required before anything else; with smtps, the connection is TLS from the
start (CERT and KEY are PEM files).
"""
import json
import os
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port_file, out_dir = sys.argv[1], sys.argv[2]
credentials = sys.argv[3].split(":", 1) if len(sys.argv) > 3 and sys.argv[3] else None
tls_mode = sys.argv[4] if len(sys.argv) > 6 else None
os.makedirs(out_dir, exist_ok=True)
lock = threading.Lock()
counter = {"n": 0}


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            counter["n"] += 1
            number = counter["n"]
        base = os.path.join(out_dir, str(number))
        with open(base + ".eml", "wb") as handle:
            handle.write(envelope.original_content or envelope.content)
        user = None
        if session.auth_data is not None:
            user = getattr(session.auth_data, "login", None)
            if isinstance(user, bytes):
                user = user.decode()
        with open(base + ".json.tmp", "w") as handle:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "user": user}, handle)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword) or credentials is None:
        return AuthResult(success=False, handled=False)
    ok = auth_data.login.decode() == credentials[0] and auth_data.password.decode() == credentials[1]
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


kwargs = {}
if credentials:
    kwargs = dict(authenticator=authenticator, auth_require_tls=False, auth_required=True)
if tls_mode:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[5], sys.argv[6])
    if tls_mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    else:
        kwargs.update(ssl_context=context)
# aiosmtpd's controller cannot listen on port 0: take a free port first.
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
with open(port_file + ".tmp", "w") as handle:
    handle.write(str(port))
os.rename(port_file + ".tmp", port_file)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
