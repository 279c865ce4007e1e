#!/usr/bin/env python3
"""A reseller's webhook endpoint, as a real outside peer: `webhook_receiver.py PORT LOG SECRET [FAILURES]`.
Listens on 127.0.0.1:PORT; answers the first FAILURES posts 503 (to make the hub retry), then 200. Each post is
appended to LOG as one JSON line: the Octo-Signature header checked independently (HMAC-SHA256 of "<t>.<body>"
under SECRET), the webhook id header and the body."""
import hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, log, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
failures = [int(sys.argv[4]) if len(sys.argv) > 4 else 0]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        signature = self.headers.get("octo-signature", "")
        parts = dict(p.split("=", 1) for p in signature.split(",") if "=" in p)
        expected = hmac.new(secret, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, parts.get("v1", ""))
        status = 503 if failures[0] > 0 else 200
        failures[0] -= 1
        with open(log, "a") as f:
            f.write(json.dumps({"signature_ok": ok, "status": status, "id": self.headers.get("octo-webhook-id"),
                                "body": json.loads(body or b"null")}) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
