#!/usr/bin/env python3
"""Misbehaving TLS clients against the hub, as an independent peer.

Usage: tls_abuse.py MODE HOST PORT [N]
  malformed-h2  handshake with ALPN h2, send the preface then a garbage frame; print how the server ended it
  idle          handshake, send nothing; print the seconds until the server closed (gives up after 30)
  many          open N TLS connections at once and keep them; print how many completed the handshake
  plain         send plain HTTP/1.1 to the TLS port; print what came back (nothing readable expected)
  silent        open a TCP connection and never start TLS; print the seconds until the server closed it
"""
import socket, ssl, sys, time

def connect(host, port, alpn):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(alpn)
    raw = socket.create_connection((host, port), timeout=10)
    return context.wrap_socket(raw, server_hostname=host)

def main(mode, host, port, n=1):
    if mode == "malformed-h2":
        s = connect(host, port, ["h2"])
        assert s.selected_alpn_protocol() == "h2", s.selected_alpn_protocol()
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        # A SETTINGS frame of 5 bytes (must be a multiple of 6: FRAME_SIZE_ERROR), then a DATA frame on stream 0
        # (PROTOCOL_ERROR): the server must end the connection with GOAWAY.
        s.sendall(b"\x00\x00\x05\x04\x00\x00\x00\x00\x00" + b"\x00\x01\x00\x00\x00")
        s.sendall(b"\x00\x00\x04\x00\x00\x00\x00\x00\x00junk")
        s.settimeout(10)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ssl.SSLError, ConnectionResetError, socket.timeout) as error:
            print(f"ended by {type(error).__name__}")
        # Walk the frames the server sent and look for GOAWAY (type 7).
        goaway, i = False, 0
        while i + 9 <= len(data):
            length = int.from_bytes(data[i:i + 3], "big")
            goaway = goaway or data[i + 3] == 0x07
            i += 9 + length
        print(f"closed after {len(data)} bytes; goaway={goaway}")
    elif mode == "idle":
        s = connect(host, port, ["http/1.1"])
        start = time.time()
        s.settimeout(30)
        try:
            while s.recv(1024):
                pass
        except (ssl.SSLError, ConnectionResetError) :
            pass
        except socket.timeout:
            print("still open after 30 s")
            return 1
        print(f"closed after {time.time() - start:.1f} s")
    elif mode == "many":
        sockets = []
        for _ in range(n):
            try:
                sockets.append(connect(host, port, ["h2", "http/1.1"]))
            except OSError as error:
                print(f"refused: {error}")
                break
        print(f"{len(sockets)} connections open")
    elif mode == "silent":
        # TCP only: never start the TLS handshake.
        s = socket.create_connection((host, port), timeout=30)
        start = time.time()
        try:
            data = s.recv(1024)
            print(f"closed after {time.time() - start:.1f} s ({len(data)} bytes)")
        except socket.timeout:
            print("still open after 30 s")
            return 1
        except ConnectionResetError:
            print(f"closed after {time.time() - start:.1f} s (reset)")
    elif mode == "plain":
        start = time.time()
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        print(f"plain answer: {len(data)} bytes; http={data.startswith(b'HTTP/')}; closed after {time.time() - start:.1f} s")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1))
