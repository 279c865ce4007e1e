import Foundation
import ParkFedHub
import ParkFedTesting

/// The WeChat Pay API v3 simulator (`Tests/verifiers/wechatpay_simulator.py`) started for a test federation: keys
/// made with `openssl` (the merchant's, the platform's, an APIv3 key), its own HTTPS certificate for 127.0.0.1, and
/// the hub's provider pointed at it.
struct WeChatPaySimulator {
    let port: Int
    let directory: String
    static let mchid = "1900000109", appid = "wxd678efh567hg6787", platformSerial = "PUB_KEY_ID_0114232134912410000000000000"

    static func start(_ federation: TestFederation) async throws -> WeChatPaySimulator {
        let directory = federation.directory.file("wechatpay")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        for key in ["merchant", "platform"] {
            try await Self.openssl(["genrsa", "-out", file("\(key).pem"), "2048"])
            try await Self.openssl(["rsa", "-in", file("\(key).pem"), "-pubout", "-out", file("\(key).pub")])
        }
        try await Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("server.key"), "-out", file("server.crt"),
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        let apiV3Key = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(32))
        try Data(apiV3Key.utf8).write(to: URL(fileURLWithPath: file("apiv3.key")))
        let port = try BackgroundProcess.freePort()
        let config: [String: Any] = [
            "port": port, "cert": file("server.crt"), "key": file("server.key"), "merchant_public_key": file("merchant.pub"),
            "platform_private_key": file("platform.pem"), "platform_serial": platformSerial, "api_v3_key": apiV3Key, "mchid": mchid, "appid": appid,
            "notify_ca": federation.caFile,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file("simulator.json")))
        let process = try BackgroundProcess(
            "/usr/bin/env", ["python3", Verifiers.path("wechatpay_simulator.py"), file("simulator.json")], logPath: file("simulator.log"))
        federation.adopt(process)
        let simulator = WeChatPaySimulator(port: port, directory: directory)
        try await waitUntil("the WeChat Pay simulator listens") { (try? await simulator.state()) != nil }
        federation.hub.payments.use(
            try WeChatPayV3(
                settings: WeChatPaySettings(
                    apiBase: "https://127.0.0.1:\(port)", mchid: mchid, appid: appid, merchantSerial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
                    merchantKeyFile: "merchant.pem", apiV3KeyFile: "apiv3.key", platformPublicKeyFile: "platform.pub", platformSerial: platformSerial,
                    notifyURL: federation.hubURL + "/shop/payments/wechatpay/notify", caFile: "server.crt"),
                directory: directory))
        return simulator
    }

    static func openssl(_ arguments: [String]) async throws {
        let result = try await ExternalTool.run("openssl", arguments)
        guard result.succeeded else { throw PaymentError("openssl", result.stderr) }
    }

    /// A control call (`/control/...`) of the simulator, over its HTTPS, trusting its certificate.
    func control(_ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var arguments = ["-sS", "--max-time", "30", "--cacert", (directory as NSString).appendingPathComponent("server.crt")]
        if let body {
            arguments += [
                "-H", "content-type: application/json", "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
            ]
        }
        let result = try await ExternalTool.run("curl", arguments + ["https://127.0.0.1:\(port)\(path)"])
        guard result.succeeded, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw PaymentError("simulator", result.stderr + result.stdout)
        }
        return object
    }

    func state() async throws -> [String: Any] { try await control("/control/state") }

    /// The simulator's refunds of an order (by its `out_trade_no`).
    func refunds(of orderID: String) async throws -> [[String: Any]] {
        let trade = orderID.dropFirst(2).replacingOccurrences(of: "-", with: "")
        return ((try await state())["refunds"] as? [String: [String: Any]] ?? [:]).values.filter { $0["out_trade_no"] as? String == trade }
    }

    static func trade(_ orderID: String) -> String { orderID.dropFirst(2).replacingOccurrences(of: "-", with: "") }
}
