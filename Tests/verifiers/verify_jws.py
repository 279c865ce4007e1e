#!/usr/bin/env python3
"""Independent check of our JWS with jwcrypto: verify an EdDSA compact JWS with an Ed25519 public key.

Usage: verify_jws.py JWS_FILE PUBLIC_KEY_BASE64URL
Prints the verified payload; exits 1 if the signature does not verify.
"""
import sys

from jwcrypto import jwk, jws


def main(jws_path, x):
    with open(jws_path) as f:
        compact = f.read().strip()
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=x)
    token = jws.JWS()
    token.deserialize(compact)
    try:
        token.verify(key, alg="EdDSA")
    except jws.InvalidJWSSignature as error:
        print(f"signature does not verify: {error}")
        return 1
    print(token.payload.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
