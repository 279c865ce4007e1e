#!/usr/bin/env python3
"""A local WeChat Pay API v3 simulator (直连商户), an independent peer for the shop's tests, written from the API's
published rules with the `cryptography` package only:

  POST /v3/pay/transactions/h5                     H5 order -> {"h5_url"}
  GET  /v3/pay/transactions/out-trade-no/{no}      query (?mchid=)
  POST /v3/refund/domestic/refunds                 refund (idempotent by out_refund_no)
  GET  /pay/checkmweb?prepay_id=&redirect_url=     the payer's page (a button that pays)
  POST /pay/confirm                                pays, notifies the merchant, sends the payer back to redirect_url

Every API request must carry a valid `Authorization: WECHATPAY2-SHA256-RSA2048 ...` signature by the merchant's key
(RSA PKCS#1 v1.5, SHA-256, over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n); every answer and notification is signed
with the platform key (Wechatpay-Timestamp/-Nonce/-Signature/-Serial over TIMESTAMP\\nNONCE\\nBODY\\n); the
notification's resource is AES-256-GCM under the APIv3 key.

Test controls (loopback only): POST /control/pay {"out_trade_no", "notify": bool}, POST /control/notify
{"out_trade_no", "forge": "none"|"signature"|"key"|"amount", "times": n} -> {"statuses": [...]}, GET /control/state.

usage: wechatpay_simulator.py CONFIG.json   (port, cert, key, merchant_public_key, platform_private_key,
       platform_serial, api_v3_key, mchid, appid, notify_ca)
"""
import base64, json, os, ssl, sys, threading, time, urllib.parse, urllib.request, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

config = json.load(open(sys.argv[1]))
merchant_public = serialization.load_pem_public_key(open(config["merchant_public_key"], "rb").read())
platform_private = serialization.load_pem_private_key(open(config["platform_private_key"], "rb").read(), password=None)
lock = threading.Lock()
orders = {}      # out_trade_no -> order
refunds = {}     # out_refund_no -> refund
auth_failures = []


def sign(message: bytes) -> str:
    return base64.b64encode(platform_private.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(body: bytes, key=None):
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    signature = sign(message) if key is None else base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
            "Wechatpay-Serial": config["platform_serial"]}


def transaction(order):
    t = {"appid": config["appid"], "mchid": config["mchid"], "out_trade_no": order["out_trade_no"], "trade_type": "MWEB",
         "trade_state": order["state"], "trade_state_desc": order["state"], "attach": "",
         "amount": {"total": order["amount"]["total"], "currency": order["amount"].get("currency", "CNY")}}
    if order["state"] in ("SUCCESS", "REFUND"):
        t.update({"transaction_id": order["transaction_id"], "bank_type": "OTHERS", "success_time": order["success_time"],
                  "payer": {"openid": "o-simulated-payer"}})
        t["amount"].update({"payer_total": order["amount"]["total"], "payer_currency": "CNY"})
    return t


def notify(order, forge="none"):
    """Posts the payment notification to the order's notify_url; answers the merchant's HTTP status."""
    plain = transaction(order)
    if forge == "amount":
        plain["amount"]["total"] += 1
        plain["amount"]["payer_total"] += 1
    nonce = uuid.uuid4().hex[:12]
    key = config["api_v3_key"].encode() if forge != "key" else b"k" * 32
    ciphertext = AESGCM(key).encrypt(nonce.encode(), json.dumps(plain).encode(), b"transaction")
    body = json.dumps({
        "id": str(uuid.uuid4()), "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
                     "associated_data": "transaction", "nonce": nonce}}, ensure_ascii=False).encode()
    headers = signed_headers(body)
    if forge == "signature":
        # Signed by someone else's key: the merchant must refuse it.
        from cryptography.hazmat.primitives.asymmetric import rsa
        headers = signed_headers(body, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    request = urllib.request.Request(order["notify_url"], data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json", "User-Agent": "Mozilla/4.0"})
    context = ssl.create_default_context(cafile=config["notify_ca"])
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def pay(order):
    with lock:
        if order["state"] == "NOTPAY":
            order.update(state="SUCCESS", transaction_id="42000" + uuid.uuid4().hex[:23], success_time=time.strftime("%Y-%m-%dT%H:%M:%S+08:00"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("simulator: " + fmt % args + "\n")

    def answer(self, status, obj=None, raw=None, content_type="application/json", extra=None, signed=True):
        body = raw if raw is not None else (json.dumps(obj, ensure_ascii=False).encode() if obj is not None else b"")
        self.send_response(status)
        headers = signed_headers(body) if signed else {}
        for name, value in {**headers, **(extra or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def authorized(self, body):
        header = self.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
        fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
        message = f"{self.command}\n{self.path}\n{fields.get('timestamp', '')}\n{fields.get('nonce_str', '')}\n".encode() + body + b"\n"
        try:
            assert scheme == "WECHATPAY2-SHA256-RSA2048", "scheme"
            assert fields.get("mchid") == config["mchid"], "mchid"
            assert abs(int(fields["timestamp"]) - time.time()) < 300, "timestamp"
            merchant_public.verify(base64.b64decode(fields["signature"]), message, padding.PKCS1v15(), hashes.SHA256())
            return True
        except Exception as error:  # noqa: BLE001 - any failure is a signature failure
            auth_failures.append(f"{self.command} {self.path}: {error!r}")
            self.answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
            return False

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/v3/pay/transactions/out-trade-no/"):
            if not self.authorized(b""):
                return
            order = orders.get(url.path.rsplit("/", 1)[1])
            if order is None or query.get("mchid") != config["mchid"]:
                return self.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self.answer(200, transaction(order))
        if url.path == "/pay/checkmweb":
            order = next((o for o in orders.values() if o["prepay_id"] == query.get("prepay_id")), None)
            if order is None:
                return self.answer(404, raw=b"<p>unknown prepay_id</p>", content_type="text/html; charset=utf-8", signed=False)
            page = f"""<!doctype html><html lang="zh"><meta charset="utf-8"><title>微信支付（模拟）</title>
<h1>微信支付（模拟）</h1><p id="amount">¥{order['amount']['total'] / 100:.2f}</p><p>{order['description']}</p>
<form method="post" action="/pay/confirm"><input type="hidden" name="prepay_id" value="{order['prepay_id']}">
<input type="hidden" name="redirect_url" value="{query.get('redirect_url', '')}">
<button type="submit" id="wechat-confirm">确认支付</button></form></html>"""
            return self.answer(200, raw=page.encode(), content_type="text/html; charset=utf-8", signed=False)
        if url.path == "/control/state":
            with lock:
                return self.answer(200, {"orders": orders, "refunds": refunds, "auth_failures": auth_failures}, signed=False)
        self.answer(404, {"code": "NOT_FOUND", "message": self.path})

    def do_POST(self):
        body = self.body()
        url = urllib.parse.urlparse(self.path)
        if url.path == "/v3/pay/transactions/h5":
            if not self.authorized(body):
                return
            request = json.loads(body)
            if request.get("mchid") != config["mchid"] or request.get("appid") != config["appid"]:
                return self.answer(400, {"code": "PARAM_ERROR", "message": "mchid/appid"})
            if not request.get("scene_info", {}).get("payer_client_ip") or not request.get("notify_url", "").startswith("https://"):
                return self.answer(400, {"code": "PARAM_ERROR", "message": "scene_info.payer_client_ip and an https notify_url are required"})
            number = request["out_trade_no"]
            with lock:
                order = orders.get(number)
                if order is None:
                    order = dict(out_trade_no=number, amount=request["amount"], description=request["description"], notify_url=request["notify_url"],
                                 time_expire=request.get("time_expire"), state="NOTPAY", prepay_id="wx" + uuid.uuid4().hex, refunded=0)
                    orders[number] = order
                elif order["amount"] != request["amount"]:
                    return self.answer(400, {"code": "INVALID_REQUEST", "message": "out_trade_no reused with another amount"})
            host = self.headers.get("Host", f"127.0.0.1:{config['port']}")
            return self.answer(200, {"h5_url": f"https://{host}/pay/checkmweb?prepay_id={order['prepay_id']}&package=1405458241"})
        if url.path == "/v3/refund/domestic/refunds":
            if not self.authorized(body):
                return
            request = json.loads(body)
            with lock:
                if request["out_refund_no"] in refunds:
                    return self.answer(200, refunds[request["out_refund_no"]])
                order = orders.get(request.get("out_trade_no"))
                if order is None or order["state"] not in ("SUCCESS", "REFUND"):
                    return self.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在或未支付"})
                amount = request["amount"]
                if amount["total"] != order["amount"]["total"] or amount["refund"] <= 0 or order["refunded"] + amount["refund"] > amount["total"]:
                    return self.answer(400, {"code": "INVALID_REQUEST", "message": "退款金额不正确"})
                order["refunded"] += amount["refund"]
                order["state"] = "REFUND"
                refund = {"refund_id": "50000" + uuid.uuid4().hex[:25], "out_refund_no": request["out_refund_no"], "transaction_id": order["transaction_id"],
                          "out_trade_no": order["out_trade_no"], "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
                          "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "status": "SUCCESS", "reason": request.get("reason", ""),
                          "amount": {"total": amount["total"], "refund": amount["refund"], "payer_total": amount["total"],
                                     "payer_refund": amount["refund"], "currency": "CNY"}}
                refunds[request["out_refund_no"]] = refund
            return self.answer(200, refund)
        if url.path == "/pay/confirm":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            order = next((o for o in orders.values() if o["prepay_id"] == form.get("prepay_id")), None)
            if order is None:
                return self.answer(404, raw=b"<p>unknown prepay_id</p>", content_type="text/html; charset=utf-8", signed=False)
            pay(order)
            status = notify(order)
            sys.stderr.write(f"simulator: notified {order['out_trade_no']}: {status}\n")
            return self.answer(302, raw=b"", content_type="text/html", extra={"Location": form.get("redirect_url") or "/"}, signed=False)
        if url.path == "/control/pay":
            request = json.loads(body)
            order = orders[request["out_trade_no"]]
            pay(order)
            status = notify(order) if request.get("notify", True) else None
            return self.answer(200, {"status": status, "transaction_id": order["transaction_id"]}, signed=False)
        if url.path == "/control/notify":
            request = json.loads(body)
            order = orders[request["out_trade_no"]]
            statuses = [notify(order, request.get("forge", "none")) for _ in range(int(request.get("times", 1)))]
            return self.answer(200, {"statuses": statuses}, signed=False)
        self.answer(404, {"code": "NOT_FOUND", "message": self.path})


server = ThreadingHTTPServer(("127.0.0.1", config["port"]), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(config["cert"], config["key"])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening on {config['port']}", flush=True)
server.serve_forever()
