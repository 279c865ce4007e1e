#!/usr/bin/env python3
"""A hostile member park against a running demo day, from outside the project's code.

Usage: attack_demo.py DEMO_DIR/demo.json [--report FILE.json]

The attacker is the second park of the demo: it has only its own files (its TLS certificate and key, its Ed25519
signing key, node.json) and talks to the hub with `curl` over real mutual TLS, as any member park could. Each attack
is paired with the legitimate request that must still work. JWS assertions are signed here with jwcrypto, not with
the project's code. Prints a table; exits 1 when any attack is not refused as it must be (or a legitimate request
fails), and writes the rows as JSON when --report is given.
"""
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from jwcrypto import jwk, jws


class Federation:
    def __init__(self, manifest):
        self.m = manifest
        self.hub = manifest["hub_url"]
        self.ca = manifest["ca"]
        self.parks = {p["id"]: p for p in manifest["parks"]}
        ids = [p["id"] for p in manifest["parks"]]
        self.victim, self.attacker, self.third = ids[0], ids[1], ids[2]

    def cert(self, park):
        d = self.parks[park]["dir"]
        return ["--cert", os.path.join(d, "node-cert.pem"), "--key", os.path.join(d, "node-key.pem")]

    def call(self, method, path, park=None, body=None, extra=None, cert=None):
        """curl the hub as `park`; returns (status, parsed JSON or text)."""
        args = ["curl", "-sS", "--max-time", "20", "--cacert", self.ca, "-X", method, "-w", "\n%{http_code}"]
        if cert is not None:
            args += cert
        elif park is not None:
            args += self.cert(park)
        data = None
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            args += ["-H", "content-type: application/json", "--data-binary", "@-"]
        args += (extra or []) + [self.hub + path]
        out = subprocess.run(args, input=(data or "").encode(), capture_output=True)
        text = out.stdout.decode(errors="replace")
        body_text, _, code = text.rpartition("\n")
        try:
            parsed = json.loads(body_text)
        except ValueError:
            parsed = body_text
        return int(code or 0), parsed

    def sign(self, park, kind, data):
        """A compact JWS of an assertion of `park`, with its own signing key (PKCS#8 PEM) and kid."""
        d = self.parks[park]
        with open(os.path.join(d["dir"], "signing-key.pem"), "rb") as f:
            key = jwk.JWK.from_pem(f.read())
        payload = {"id": uuid7(), "type": kind, "park": park,
                   "issued_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data}
        token = jws.JWS(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        token.add_signature(key, alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": d["signing_kid"], "typ": f"parkfed-{kind}+jwt"}))
        return token.serialize(compact=True)


def uuid7():
    ms = int(time.time() * 1000)
    rand = random.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def code(answer):
    status, body = answer
    return body.get("code") if isinstance(body, dict) else None


def pass_issued(pass_id, price, today):
    return {"pass_id": pass_id, "product": "JIANGNAN-3P", "channel": "window", "price_minor": price, "currency": "CNY",
            "holder": {"name_masked": "攻*者", "id_type": "resident_id", "id_digest": "A" * 43},
            "valid_from": today, "valid_until": (datetime.strptime(today, "%Y-%m-%d") + timedelta(days=30)).strftime("%Y-%m-%d")}


def run(manifest):
    f = Federation(manifest)
    v, a, t = f.victim, f.attacker, f.third
    rows = []

    def check(attack, answer, ok, expect):
        status, body = answer
        got = f"{status} {code(answer) or ''}".strip()
        rows.append({"attack": attack, "expected": expect, "answer": got, "ok": bool(ok)})

    # 1. Spend a card it never saw (loaded at the victim): no proof, a made-up one; the card's balance is unchanged.
    card = manifest["card"]
    hold = {"request_id": f"ATK-{uuid7()[:8]}", "amount_minor": 100,
            "card_proof": {"counter": 2**31, "cryptogram": "A" * 22}}
    r = f.call("POST", f"/v1/cards/{card}/holds", a, hold)
    check(f"{a} holds {card} (loaded at {v}) with a made-up cryptogram", r, r[0] == 403 and code(r) == "card_not_present", "403 card_not_present")
    no_proof = dict(hold)
    del no_proof["card_proof"]
    r = f.call("POST", f"/v1/cards/{card}/holds", a, no_proof)
    check(f"{a} holds {card} without any card proof", r, r[0] in (400, 403), "400/403, nothing held")
    # 2. Take a card over: block it, read its balance.
    r = f.call("POST", f"/v1/cards/{card}/block", a, {"reason": "lost"})
    check(f"{a} blocks {card}, registered at {v}", r, r[0] == 403, "403")
    r = f.call("GET", f"/v1/cards/{card}", a)
    check(f"{a} reads the balance of {card}", r, r[0] == 403, "403")
    r = f.call("GET", f"/v1/cards/{card}", v)
    check(f"legitimate: {v} reads its own card {card}", r, r[0] == 200 and isinstance(r[1], dict) and r[1].get("status") == "active", "200 active")

    # 3. Overwrite another park's pass through the record path and the deciding path, signed with its own key.
    today = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d")
    victim_pass = manifest["passes_of_first_park"][0]
    forged = f.sign(a, "pass.issued", pass_issued(victim_pass, 1, today))
    r = f.call("POST", "/v1/assertions", a, {"assertions": [forged]})
    result = (r[1].get("results") or [{}])[0] if isinstance(r[1], dict) else {}
    rows.append({"attack": f"{a} re-sells {victim_pass} (sold by {v}) for 0.01 via /v1/assertions", "expected": "rejected not_issuer",
                 "answer": f"{r[0]} {result.get('status')} {result.get('reason', '')}".strip(),
                 "ok": r[0] == 200 and result.get("status") == "rejected" and result.get("reason") == "not_issuer"})
    r = f.call("POST", "/v1/passes", a, {"assertion": f.sign(a, "pass.issued", pass_issued(victim_pass, 1, today))})
    check(f"{a} re-sells {victim_pass} via POST /v1/passes", r, r[0] in (403, 409) and code(r) == "not_issuer", "403/409 not_issuer")
    r = f.call("GET", f"/v1/passes/{victim_pass}", v)
    check(f"legitimate: {v} still sees its pass unchanged", r, r[0] == 200 and r[1].get("issuer") == v, "200, issuer " + v)
    own = f"PASS-{a}-ATTACK-{uuid7()[-8:]}"
    r = f.call("POST", "/v1/assertions", a, {"assertions": [f.sign(a, "pass.issued", pass_issued(own, 23900, today))]})
    result = (r[1].get("results") or [{}])[0] if isinstance(r[1], dict) else {}
    rows.append({"attack": f"legitimate: {a} records a sale of its own pass (same signing code path)", "expected": "accepted",
                 "answer": f"{r[0]} {result.get('status')} {result.get('reason', '')}".strip(), "ok": result.get("status") == "accepted"})

    # 4. Members: link someone else's member without their code, read a member it does not know, identify a card.
    member = manifest["member"]
    r = f.call("POST", f"/v1/members/{member}/links", a, {"local_member_number": "ATK-1", "code": "0" * 8})
    check(f"{a} links {member} without the member's code", r, r[0] in (403, 404, 409) and code(r) != "internal_error", "403/404/409, not linked")
    r = f.call("GET", f"/v1/members/{member}", t)
    check(f"{t} reads {member}, whom it never enrolled or linked", r, r[0] == 404, "404")
    r = f.call("POST", "/v1/members/recognitions", a, {"card_id": manifest["member_card"], "request_id": "ATK-ID-1",
                                                    "card_proof": {"counter": 2**31, "cryptogram": "A" * 22}})
    check(f"{a} identifies {manifest['member_card']} without the card", r, r[0] == 403 and code(r) == "card_not_present", "403 card_not_present")

    # 6. Settlement: the attacker's answer carries only its own payment reference.
    batch = manifest["settlement_batch"]
    r = f.call("GET", f"/v1/settlement/batches/{batch}", a)
    payments = r[1].get("payments", []) if isinstance(r[1], dict) else []
    rows.append({"attack": f"{a} reads others' payment references in batch {batch[:16]}…", "expected": "only its own",
                 "answer": f"{r[0]} parks {[p['park'] for p in payments]}",
                 "ok": r[0] == 200 and all(p["park"] == a for p in payments)})
    r = f.call("GET", f"/v1/settlement/batches/{batch}?format=positions.csv", a)
    text = r[1] if isinstance(r[1], str) else json.dumps(r[1])
    # day,park,net_minor,currency,payment_reference: another park's row never shows its reference.
    others = [line.split(",")[1] for line in text.strip().split("\n")[1:] if line.count(",") >= 4 and line.split(",")[1] != a and line.split(",")[4]]
    rows.append({"attack": f"{a} reads others' references in positions.csv", "expected": "none", "answer": f"{r[0]} others {others}",
                 "ok": r[0] == 200 and not others})
    # Clearing after the batch: a park may dispute only its own lines, and never act as clearing staff.
    foreign = manifest["foreign_line"]
    r = f.call("POST", "/v1/settlement/disputes", a, {"batch": batch, "seq": foreign, "reason": "not my line but let us try"})
    check(f"{a} disputes line {foreign} between two other parks", r, r[0] == 403 and code(r) == "not_your_line", "403 not_your_line")
    r = f.call("GET", f"/v1/settlement/batches/{batch}/files?format=pain.001", a)
    check(f"{a} fetches the federation's payment files", r, r[0] == 403, "403")
    r = f.call("POST", "/v1/settlement/statements?format=csv", a, {"x": 1})
    check(f"{a} imports a bank statement", r, r[0] == 403, "403")
    r = f.call("POST", f"/v1/settlement/disputes/{manifest['dispute']}/decision", a, {"decision": "accept", "reason": "accept it myself"})
    check(f"{a} decides a dispute", r, r[0] == 403, "403")
    r = f.call("GET", f"/v1/settlement/disputes/{manifest['dispute']}", a)
    check(f"{a} reads a dispute between other parks", r, r[0] == 404, "404")
    r = f.call("GET", "/v1/settlement/disputes", a)
    mine = r[1].get("disputes", []) if isinstance(r[1], dict) else None
    rows.append({"attack": f"legitimate: {a} lists the disputes of its lines", "expected": "200, only its own",
                 "answer": f"{r[0]} {len(mine or [])}", "ok": r[0] == 200 and mine is not None and all(a in (d["from"], d["to"]) for d in mine)})
    r = f.call("POST", f"/v1/settlement/batches/{batch}/approve", a)
    check(f"{a} approves the settlement batch", r, r[0] == 403 and code(r) == "forbidden_for_principal", "403 forbidden_for_principal")

    # Authority: routes of other kinds of principal, other parks' log entries.
    r = f.call("GET", "/v1/regulator/holders?id_type=resident_id&id_number=11010519491231002X&from=2026-01-01&to=2026-12-31", a)
    check(f"{a} queries real-name records as if a regulator", r, r[0] == 403 and code(r) == "forbidden_for_principal", "403 forbidden_for_principal")
    r = f.call("GET", "/metrics", a)
    check(f"{a} reads the federation's metrics", r, r[0] == 403, "403")
    r = f.call("GET", "/v1/log/entries/0", a)
    check(f"{a} reads log entry 0 (another park's)", r, r[0] == 403, "403")
    reg = manifest["regulator"]
    r = f.call("GET", f"/v1/regulator/traffic?from={today}&to={today}", cert=["--cert", os.path.join(reg, "R01-cert.pem"), "--key", os.path.join(reg, "R01-key.pem")])
    check("legitimate: the regulator's traffic report", r, r[0] == 200, "200")

    # The front door: guessing enrollment tokens from one address meets the per-address limit.
    guesses = 70
    bodies = json.dumps({"token": "guess", "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "signing_key": "A" * 43})
    args = ["curl", "-sS", "-Z", "--parallel-max", "20", "--cacert", f.ca, "-H", "content-type: application/json", "-d", bodies, "-w", "\n%{http_code}\n"]
    out = subprocess.run(args + [f.hub + "/v1/enrollments"] * guesses, capture_output=True).stdout.decode()
    codes = [int(line) for line in out.split("\n") if len(line) == 3 and line.isdigit()]
    rows.append({"attack": f"{guesses} enrollment guesses from 127.0.0.1", "expected": "429 after the burst",
                 "answer": f"{codes.count(429)} × 429, {len(codes) - codes.count(429)} × other", "ok": codes.count(429) >= 1 and 201 not in codes})

    # The park network: the attacker's view of another park's node agent on a shared LAN.
    node = f.parks[v]
    plain = node["node_url"].replace("https://", "http://") + "/v1/status"
    out = subprocess.run(["curl", "-sS", "--max-time", "5", plain], capture_output=True)
    rows.append({"attack": f"plain HTTP to {v}'s node agent", "expected": "no HTTP answer", "answer": f"exit {out.returncode}",
                 "ok": b'"park"' not in out.stdout})
    for path in ["/v1/status", "/metrics", "/v1/hub/whoami"]:
        out = subprocess.run(["curl", "-sS", "--cacert", node["lan_ca"], "-w", "\n%{http_code}", node["node_url"] + path], capture_output=True)
        status = out.stdout.decode().rpartition("\n")[2]
        rows.append({"attack": f"{path} of {v}'s node agent without a device credential", "expected": "401",
                     "answer": status, "ok": status == "401"})
    out = subprocess.run(["curl", "-sS", "--cacert", node["lan_ca"], "-w", "\n%{http_code}", node["node_url"] + "/healthz"], capture_output=True)
    status = out.stdout.decode().rpartition("\n")[2]
    rows.append({"attack": f"legitimate: {v}'s node agent /healthz over HTTPS, verified with lan-ca.pem", "expected": "200", "answer": status, "ok": status == "200"})
    return rows


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    with open(argv[1]) as f:
        manifest = json.load(f)
    rows = run(manifest)
    width = max(len(r["attack"]) for r in rows)
    print(f"{'attack':<{width}}  {'expected':<28}  {'answer':<30}  verdict")
    print("-" * (width + 72))
    for r in rows:
        print(f"{r['attack']:<{width}}  {r['expected']:<28}  {r['answer']:<30}  {'refused as it must be' if r['ok'] and not r['attack'].startswith('legitimate') else ('works' if r['ok'] else 'FAILED')}")
    failed = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} as they must be")
    if "--report" in argv:
        with open(argv[argv.index("--report") + 1], "w") as out:
            json.dump(rows, out, ensure_ascii=False, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
