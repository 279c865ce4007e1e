#!/usr/bin/env python3
"""An SMTP server as a real outside peer: `smtp_server.py PORT LOG [REFUSE_RCPT]`. Listens on 127.0.0.1:PORT and
speaks enough RFC 5321 for a client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); each accepted message is parsed with
Python's own email package (RFC 5322, RFC 2047 subjects) and appended to LOG as one JSON line: envelope sender and
recipient, the decoded headers and the text body. With REFUSE_RCPT, recipients at that domain get 550."""
import json, socketserver, sys
from email import message_from_bytes, policy

port, log = int(sys.argv[1]), sys.argv[2]
refuse = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("220 127.0.0.1 test SMTP")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if refuse and address.endswith("@" + refuse):
                    self.reply("550 no such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]
                    data += chunk
                message = message_from_bytes(bytes(data), policy=policy.default)
                body = message.get_body(preferencelist=("plain",))
                with open(log, "a") as f:
                    f.write(json.dumps({"from": sender, "to": recipients, "subject": str(message["subject"]),
                                        "header_to": str(message["to"]), "date": str(message["date"]),
                                        "body": body.get_content() if body else ""}, ensure_ascii=False) + "\n")
                self.reply("250 queued")
            elif verb == "RSET" or verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", port), Handler).serve_forever()
