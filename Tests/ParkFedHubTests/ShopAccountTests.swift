import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Visitors' accounts at the shop, through the pages as a phone browser sends them (curl as the browser): sign-up
/// with the code a real SMTP server on 127.0.0.1 received, consents recorded, a holder sealed, sign-in by password and
/// by an SMS code (the recording provider), the limits on codes and attempts, forged forms refused, deletion; and no
/// clear e-mail, phone or document number in the hub's database.
@Suite struct ShopAccountTests {
    /// The form token on a shop page.
    static func token(_ page: String) throws -> String {
        let marker = #"name="csrf" value=""#
        guard let start = page.range(of: marker)?.upperBound, let end = page[start...].firstIndex(of: "\"") else { throw TestSupportError("no form token") }
        return String(page[start..<end])
    }

    /// A real SMTP server on 127.0.0.1 (`smtp_server.py`) as the hub's e-mail: answers the file its mail goes to.
    static func mailbox(_ federation: TestFederation) async throws -> String {
        let port = try BackgroundProcess.freePort()
        let mailbox = federation.directory.file("mailbox.jsonl")
        let smtp = try BackgroundProcess(
            "/usr/bin/env", ["python3", Verifiers.path("smtp_server.py"), String(port), mailbox], logPath: federation.directory.file("smtp.log"))
        federation.adopt(smtp)
        federation.hub.messages.use(email: SMTPMailer(host: "127.0.0.1", port: port, from: "shop@parkfed.example"))
        try await waitUntil("the SMTP server listens") { (try? await SMTPMailer.probe(host: "127.0.0.1", port: port)) == true }
        return mailbox
    }

    static func form(_ fields: [String: String]) -> String {
        fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
    }

    @Test func aVisitorSignsUpWithTheCodeFromTheirMailboxKeepsAHolderSignsInAgainAndDeletesTheAccount() async throws {
        try await TestFederation.run { federation in
            let hub = federation.hub
            let mailbox = try await ShopAccountTests.mailbox(federation)
            let email = "Visitor.Zhang@Example.com"
            func post(_ path: String, _ fields: [String: String], cookie: String? = nil) async throws -> CurlResult {
                var extra = [
                    "-i", "-H", "content-type: application/x-www-form-urlencoded", "-H", "sec-fetch-site: same-origin", "--data-raw", Self.form(fields),
                ]
                if let cookie { extra += ["-H", "cookie: \(cookie)"] }
                return try await federation.curl(path, method: "POST", extra: extra)
            }

            // The sign-up page, in Chinese; a code goes to the mailbox.
            let signUp = try await federation.curl("/shop/account/sign-up?lang=zh")
            #expect(signUp.httpStatus == 200 && signUp.body.contains("注册账户") && signUp.body.contains("id=\"send-code\""), "\(signUp.body.prefix(300))")
            let anonymous = try Self.token(signUp.body)
            let sent = try await post("/shop/account/code?lang=zh", ["csrf": anonymous, "purpose": "signup", "contact": email])
            #expect(sent.httpStatus == 200 && sent.body.contains("id=\"verify-form\""), "\(sent.body.prefix(400))")
            try await waitUntil("the code reaches the mailbox") { FileManager.default.fileExists(atPath: mailbox) }
            let mail = try #require(try String(contentsOfFile: mailbox, encoding: .utf8).split(separator: "\n").last)
            let message = try #require(try JSONSerialization.jsonObject(with: Data(mail.utf8)) as? [String: Any])
            #expect((message["to"] as? [String]) == ["visitor.zhang@example.com"] && (message["subject"] as? String)?.contains("验证码") == true)
            let code = try #require(
                (message["body"] as? String)?.split(separator: " ").first { $0.count >= 6 && $0.prefix(6).allSatisfy(\.isNumber) }.map { String($0.prefix(6)) })
            // Asking again at once is refused (one code a minute).
            let again = try await post("/shop/account/code", ["csrf": anonymous, "purpose": "signup", "contact": email])
            #expect(again.httpStatus == 429 && again.body.contains("<html"), "\(again.httpStatus)")
            // Without both consents, nothing is created; a wrong code counts an attempt.
            let noConsent = try await post("/shop/account/sign-up", ["csrf": anonymous, "contact": email, "code": code, "terms": "yes"])
            #expect(noConsent.httpStatus == 400 && noConsent.body.contains("consent") || noConsent.body.contains("同意"), "\(noConsent.body.prefix(300))")
            let wrong = try await post(
                "/shop/account/sign-up",
                ["csrf": anonymous, "contact": email, "code": code == "000000" ? "111111" : "000000", "terms": "yes", "privacy": "yes"])
            #expect(wrong.httpStatus == 400 && wrong.body.contains("wrong_code") == false, "the page says it in words, not codes")
            // A form from another site, or without the token, changes nothing.
            let forged = try await federation.curl(
                "/shop/account/sign-up", method: "POST",
                extra: [
                    "-H", "content-type: application/x-www-form-urlencoded", "-H", "sec-fetch-site: cross-site", "--data-raw",
                    Self.form(["csrf": anonymous, "contact": email, "code": code, "terms": "yes", "privacy": "yes"]),
                ])
            #expect(forged.httpStatus == 403)
            // The right code, both consents and a password: the account, a session cookie, the account page.
            let created = try await post(
                "/shop/account/sign-up?lang=zh",
                ["csrf": anonymous, "contact": email, "code": code, "terms": "yes", "privacy": "yes", "password": "west lake 2026"])
            #expect(created.httpStatus == 303, "\(created.body.prefix(400))")
            let cookieLine = try #require(created.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_visitor=") })
            #expect(
                cookieLine.contains("HttpOnly") && cookieLine.contains("Secure") && cookieLine.contains("SameSite=Lax") && cookieLine.contains("Path=/shop"))
            let cookie = String(cookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
            let account = try await federation.curl("/shop/account?lang=zh", extra: ["-H", "cookie: \(cookie)"])
            #expect(
                account.httpStatus == 200 && account.body.contains("v***@example.com") && account.body.contains(Hub.termsVersion), "\(account.body.prefix(500))"
            )
            // A holder, entered once, shown masked.
            let signedIn = try Self.token(account.body)
            let added = try await post(
                "/shop/account/holders", ["csrf": signedIn, "name": "张小三", "id_type": "resident_id", "id_number": "11010519491231002X"], cookie: cookie)
            #expect(added.httpStatus == 303)
            let withHolder = try await federation.curl("/shop/account", extra: ["-H", "cookie: \(cookie)"])
            #expect(withHolder.body.contains("张*三") && withHolder.body.contains("1101**********002X") && !withHolder.body.contains("11010519491231002X"))
            let badHolder = try await post(
                "/shop/account/holders", ["csrf": signedIn, "name": "李四", "id_type": "resident_id", "id_number": "110105194912310021"], cookie: cookie)
            #expect(badHolder.httpStatus == 400)
            // The anonymous token is not a signed-in form's token.
            #expect(
                try await post("/shop/account/holders", ["csrf": anonymous, "name": "王五", "id_type": "passport", "id_number": "E12345678"], cookie: cookie)
                    .httpStatus == 403)

            // Sign out; sign in again with the password; a wrong password is refused.
            #expect(try await post("/shop/account/sign-out", ["csrf": signedIn], cookie: cookie).httpStatus == 303)
            #expect(try await federation.curl("/shop/account", extra: ["-i", "-H", "cookie: \(cookie)"]).httpStatus == 303, "the old session is closed")
            let bad = try await post("/shop/account/sign-in", ["csrf": anonymous, "contact": email, "password": "wrong password"])
            #expect(bad.httpStatus == 401)
            let back = try await post("/shop/account/sign-in", ["csrf": anonymous, "contact": email.uppercased(), "password": "west lake 2026"])
            #expect(back.httpStatus == 303)

            // A phone number: the code goes through the SMS provider (recorded), and signs the visitor up.
            let phone = "+86 138 1234 5678"
            #expect(try await post("/shop/account/code", ["csrf": anonymous, "purpose": "signup", "contact": phone]).httpStatus == 200)
            let sms = try String(contentsOfFile: hub.directory.path + "/sms-outbox.jsonl", encoding: .utf8)
            let smsCode = try #require(
                sms.split(separator: "\n").last.flatMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["body"] as? String
                }.flatMap { body in
                    body.unicodeScalars.split { !CharacterSet.decimalDigits.contains($0) }.map { String(String.UnicodeScalarView($0)) }.first { $0.count == 6 }
                })
            #expect(sms.contains("\"to\":\"+86*******5678\"") && !sms.contains("13812345678"), "\(sms.suffix(200))")
            let phoneAccount = try await post(
                "/shop/account/sign-up", ["csrf": anonymous, "contact": phone, "code": smsCode, "terms": "yes", "privacy": "yes"])
            #expect(phoneAccount.httpStatus == 303)

            // Nothing of it in clear in the hub's database.
            let dump = try await federation.databaseDump()
            for secret in ["visitor.zhang@example.com", "Visitor.Zhang", "13812345678", "11010519491231002X", "张小三", smsCode] {
                #expect(!dump.stdout.contains(secret), "\(secret) in clear in the hub's database")
            }
            // Nor in any file of the hub's data directory (the SMS provider's record, reports, keys, the database).
            let files = FileManager.default.enumerator(atPath: hub.directory.path)?.compactMap { $0 as? String } ?? []
            #expect(files.contains("sms-outbox.jsonl"))
            for name in files {
                guard let bytes = FileManager.default.contents(atPath: hub.directory.path + "/" + name) else { continue }
                for secret in ["visitor.zhang@example.com", "13812345678", "11010519491231002X"] {
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in clear in \(name)")
                }
            }

            // Deletion needs the box ticked; then the account and its holders are gone.
            let backCookieLine = try #require(back.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: pf_visitor=") })
            let backCookie = String(backCookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
            let page = try await federation.curl("/shop/account", extra: ["-H", "cookie: \(backCookie)"])
            let backToken = try Self.token(page.body)
            #expect(try await post("/shop/account/delete", ["csrf": backToken], cookie: backCookie).httpStatus == 400)
            let deleted = try await post("/shop/account/delete", ["csrf": backToken, "confirm": "yes"], cookie: backCookie)
            #expect(deleted.httpStatus == 303 && deleted.body.contains("deleted=1"), "\(deleted.body.prefix(400))")
            #expect(try await federation.curl("/shop/account", extra: ["-i", "-H", "cookie: \(backCookie)"]).httpStatus == 303)
            let gone = try await federation.databaseDump()
            let left = gone.stdout.split(separator: "\n").filter { $0.contains("visitor_accounts") || $0.contains("visitor_events") }
            #expect(!gone.stdout.contains("v***@example.com"), "the deleted account's masked contact is gone too: \(left.joined(separator: "\n"))")
        }
    }
}
