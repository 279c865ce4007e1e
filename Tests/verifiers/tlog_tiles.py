#!/usr/bin/env python3
"""An outside auditor of the hub's log, as C2SP tlog-tiles clients are: it reads the signed checkpoint, checks its
signature with the hub's public key (the signed-note format), fetches over mutual TLS with curl the hash tiles it
needs, and recomputes the RFC 9162 root from the tiles alone; the level-1 tile must hold the roots of the level-0
tiles. Written from the specifications, sharing no code with the hub.

usage: tlog_tiles.py BASE_URL CERT KEY CA HUB_PUBLIC_KEY_PEM
prints a JSON summary; exits 1 with the reason when anything does not verify.
"""
import base64
import hashlib
import json
import subprocess
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key

TILE = 256


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    base, cert, key, ca, public_pem = sys.argv[1:6]

    def get(path):
        result = subprocess.run(
            ["curl", "-sS", "--fail", "--max-time", "60", "--cert", cert, "--key", key, "--cacert", ca, base + path],
            capture_output=True)
        if result.returncode != 0:
            fail(f"GET {path}: {result.stderr.decode()}")
        return result.stdout

    def tile_path(level, index, width=None):
        groups = []
        while True:
            groups.insert(0, "%03d" % (index % 1000))
            index //= 1000
            if index == 0:
                break
        number = "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
        return f"/v1/log/tile/{level}/{number}" + (f".p/{width}" if width else "")

    # The signed note: body lines, a blank line, then "— <origin> base64(key hash ‖ signature)".
    note = get("/v1/log/checkpoint").decode()
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    origin, size_text, root_text = body.split("\n")[:3]
    signature_line = signatures.strip().split(" ")
    if signature_line[0] != "\u2014" or signature_line[1] != origin:
        fail(f"not a signed note of {origin}: {signature_line}")
    blob = base64.b64decode(signature_line[2])
    public = load_pem_public_key(open(public_pem, "rb").read())
    public.verify(blob[4:], body.encode())  # raises on a bad signature
    size, root = int(size_text), base64.b64decode(root_text)

    def hashes(data, width):
        if len(data) != 32 * width:
            fail(f"a tile of width {width} has {len(data)} bytes")
        return [data[i:i + 32] for i in range(0, len(data), 32)]

    leaves = []
    for index in range((size + TILE - 1) // TILE):
        width = min(TILE, size - TILE * index)
        leaves += hashes(get(tile_path(0, index, None if width == TILE else width)), width)

    def mth(nodes):
        if len(nodes) == 1:
            return nodes[0]
        k = 1
        while k * 2 < len(nodes):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(nodes[:k]) + mth(nodes[k:])).digest()

    computed = mth(leaves) if leaves else hashlib.sha256(b"").digest()
    if computed != root:
        fail(f"the root from the tiles {computed.hex()} is not the signed root {root.hex()}")

    full = size // TILE
    level1 = []
    for index in range((full + TILE - 1) // TILE):
        width = min(TILE, full - TILE * index)
        level1 += hashes(get(tile_path(1, index, None if width == TILE else width)), width)
    for i, node in enumerate(level1):
        if node != mth(leaves[TILE * i:TILE * (i + 1)]):
            fail(f"level-1 tile hash {i} is not the root of level-0 tile {i}")

    print(json.dumps({"origin": origin, "size": size, "root": root.hex(), "leaf_tiles": (size + TILE - 1) // TILE,
                      "level1_hashes": len(level1), "verified": True}))


if __name__ == "__main__":
    main()
