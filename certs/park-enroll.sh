#!/usr/bin/env bash
# Enroll a park with nothing but openssl and curl (what `parkfed node enroll` does, by hand).
#
#   certs/park-enroll.sh HUB_URL CA_PEM PARK_ID TOKEN OUT_DIR [p256|ed25519]
#
# Writes into OUT_DIR (created, mode 0700):
#   park-key.pem      TLS client key (0600)         park.csr       the CSR sent
#   signing-key.pem   Ed25519 assertion key (0600)  park-cert.pem  the issued chain (park certificate + root)
set -euo pipefail
if [ $# -lt 5 ]; then
    sed -n '2,9p' "$0" >&2
    exit 2
fi
hub="$1" ca="$2" park="$3" token="$4" out="$5" keytype="${6:-p256}"
umask 077
mkdir -p "$out"

case "$keytype" in
    p256) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    ed25519) newkey=(-newkey ed25519) ;;
    *) echo "key type must be p256 or ed25519" >&2; exit 2 ;;
esac
openssl req -new -nodes "${newkey[@]}" -keyout "$out/park-key.pem" -subj "/OU=park/CN=$park" -out "$out/park.csr" 2>/dev/null

# The assertion-signing key: Ed25519; the hub wants the raw 32-byte public key in base64url.
openssl genpkey -algorithm ed25519 -out "$out/signing-key.pem"
signing_key=$(openssl pkey -in "$out/signing-key.pem" -pubout -outform DER | tail -c 32 | base64 | tr '+/' '-_' | tr -d '=\n')

csr=$(awk '{printf "%s\\n", $0}' "$out/park.csr")
printf '{"token":"%s","park":"%s","signing_key":"%s","csr":"%s"}' "$token" "$park" "$signing_key" "$csr" > "$out/enrollment.json"

curl -sS --fail-with-body --cacert "$ca" \
    -H 'content-type: application/json' -H 'accept: application/pem-certificate-chain' \
    --data-binary "@$out/enrollment.json" -o "$out/park-cert.pem" "$hub/v1/enrollments" || {
    echo "enrollment refused: $(cat "$out/park-cert.pem")" >&2
    exit 1
}
chmod 0644 "$out/park-cert.pem"
openssl verify -CAfile "$ca" "$out/park-cert.pem" >/dev/null
echo "enrolled $park: $(openssl x509 -in "$out/park-cert.pem" -noout -ext subjectAltName | tail -1 | tr -d ' ')"
echo "try: curl --http2 --cert $out/park-cert.pem --key $out/park-key.pem --cacert $ca $hub/v1/whoami"
