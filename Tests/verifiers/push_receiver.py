#!/usr/bin/env python3
"""A regulator's push endpoint, as a real outside peer: `push_receiver.py PORT LOG HUB_KEY_X [FAILURES]`.
Listens on 127.0.0.1:PORT; answers the first FAILURES posts 503 (to make the hub retry), then 200. Each post's
body is a compact JWS the hub signed: verified here with jwcrypto against the hub's Ed25519 public key (HUB_KEY_X,
base64url, as the trust list names it), and appended to LOG as one JSON line with its header, payload and verdict."""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from jwcrypto import jwk, jws

port, log, x = int(sys.argv[1]), sys.argv[2], sys.argv[3]
failures = [int(sys.argv[4]) if len(sys.argv) > 4 else 0]
key = jwk.JWK(kty="OKP", crv="Ed25519", x=x)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        verified, header, payload = False, None, None
        try:
            token = jws.JWS()
            token.deserialize(body)
            token.verify(key, alg="EdDSA")
            verified = True
            header = token.jose_header
            payload = json.loads(token.payload)
        except Exception as error:  # a forged or broken body is logged as not verified
            payload = {"error": str(error)}
        status = 503 if failures[0] > 0 else 200
        failures[0] -= 1
        with open(log, "a") as f:
            f.write(json.dumps({"verified": verified, "status": status, "content_type": self.headers.get("content-type"),
                                "statement_id": self.headers.get("parkfed-statement-id"), "header": header,
                                "payload": payload}) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
