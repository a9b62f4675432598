"""SMTP sink for the integration tests (aiosmtpd).

Listens on 127.0.0.1 (a free port, or --port), prints the port on the first line of stdout,
and writes every received message to --dir as NNNN.eml (raw) and NNNN.json (envelope and
decoded subject and text body). Runs until its stdin closes. With --user/--password, clients
must authenticate (over plain text: this is a local test server).
"""

import argparse
import email
import itertools
import json
import os
import socket
import sys
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        part = msg.get_body(preferencelist=("plain",))
        login = session.auth_data if session.authenticated else None
        if isinstance(login, bytes):
            login = login.decode()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "body": part.get_content() if part is not None else "",
            "login": login,
        }
        base = os.path.join(self.outdir, f"{n:04d}")
        with open(base + ".eml", "wb") as f:
            f.write(envelope.content)
        # Write then rename: the test never reads half a file.
        with open(base + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(base + ".tmp", base + ".json")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, auth_data=auth_data.login if ok else None)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    port = args.port
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    options = {}
    if args.user:
        options = dict(authenticator=authenticator(args.user, args.password), auth_required=True, auth_require_tls=False)
    controller = Controller(Handler(args.dir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
