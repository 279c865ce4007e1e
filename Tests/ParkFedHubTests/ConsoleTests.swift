import Foundation
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The hub console, signed in with each principal's own certificate: pages over real mutual TLS with `curl`, and
/// each person's job in Debian's headless Chromium (``ConsoleBrowserTests``).
@Suite struct ConsoleTests {
    /// A federation with a day of traffic between two parks (a pass sold at P001, entered at P002) closed into a
    /// draft batch.
    static func closedDay(_ federation: TestFederation) async throws -> (agents: [NodeAgent], batch: String, day: CivilDay) {
        let agents = try await federation.enrollParks(["P001", "P002"])
        let sale = try await agents[0].sellPass(
            PassSaleRequest(
                product: "JIANGNAN-3P", channel: "window",
                holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
        #expect(try await agents[1].scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
        for agent in agents { try await agent.deliverOutbox() }
        let day = federation.hub.passes.calendar.day(of: Date())
        let record = try await federation.hub.runSettlement(day: day, now: Date().addingTimeInterval(2 * 86_400))
        return (agents, record.id, day)
    }

    @Test func eachPrincipalSeesItsOwnPagesInItsLanguageAndFormsNeedTheConsolesToken() async throws {
        try await TestFederation.run { federation in
            let (_, batch, _) = try await Self.closedDay(federation)
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let operatorStaff = try await federation.issueCertificate(for: .operator("O01"), name: "operator")
            let park = try await federation.issueCertificate(for: .park(try ParkID("P001")), name: "park-page")

            // Each principal lands on its own page.
            for (credentials, landing) in [(clearing, "/console/settlement"), (regulator, "/console/regulator"), (operatorStaff, "/console/operator")] {
                let home = try await federation.curl("/console", certificate: credentials)
                #expect(home.httpStatus == 303 && home.stderr.isEmpty, "\(home)")
                let page = try await federation.curl(landing, certificate: credentials)
                #expect(page.httpStatus == 200 && page.body.contains("<html"), "\(landing): \(page.httpStatus) \(page.body.prefix(300))")
            }
            // Another role's page, a park, no certificate: a readable 403 / 401 page, not JSON.
            for (credentials, path, status) in [
                (regulator, "/console/settlement", 403), (clearing, "/console/regulator", 403), (clearing, "/console/operator", 403),
                (park, "/console", 403), (operatorStaff, "/console/settlement/\(batch)", 403),
            ] {
                let page = try await federation.curl(path, certificate: credentials)
                #expect(page.httpStatus == status && page.body.contains("id=\"error-title\">\(status)"), "\(path): \(page.httpStatus) \(page.body.prefix(400))")
            }
            // Regulators' sales and traffic, as pages and as CSV (each an audited query).
            let today = federation.hub.passes.calendar.day(of: Date()).description
            // The crowd pages: occupancy now (recorded once per ten minutes of viewing), warnings, reports; in both languages.
            let audits = try await federation.hub.store.regulatorQueries().count
            for lang in ["en", "zh"] {
                let occupancy = try await federation.curl("/console/regulator/occupancy?lang=\(lang)", certificate: regulator)
                #expect(occupancy.httpStatus == 200 && occupancy.body.contains("http-equiv=\"refresh\"") && occupancy.body.contains("<svg"))
                #expect(occupancy.body.contains(lang == "zh" ? "在园人数" : "People inside now"))
            }
            #expect(try await federation.hub.store.regulatorQueries().count == audits + 1, "a refreshing page is recorded once per ten minutes")
            let warnings = try await federation.curl("/console/regulator/warnings?lang=zh", certificate: regulator)
            #expect(warnings.httpStatus == 200 && warnings.body.contains("承载量预警") && warnings.body.contains("id=\"pushes\""))
            let reportPage = try await federation.curl("/console/regulator/reports?from=\(today)&to=\(today)", certificate: regulator)
            #expect(reportPage.httpStatus == 200 && reportPage.body.contains("id=\"report-rows\"") && reportPage.body.contains("format=csv"))
            let badReport = try await federation.curl("/console/regulator/reports?from=nope&to=\(today)", certificate: regulator)
            #expect(badReport.httpStatus == 400 && badReport.body.contains("<html"), "a bad range is a readable page")
            let sales = try await federation.curl("/console/regulator/sales?from=\(today)&to=\(today)", certificate: regulator)
            #expect(sales.httpStatus == 200 && sales.body.contains("id=\"sales\"") && sales.body.contains("P001"), "\(sales.body.prefix(300))")
            let salesCSV = try await federation.curl("/console/regulator/sales.csv?from=\(today)&to=\(today)", certificate: regulator)
            #expect(salesCSV.body.hasPrefix("park,day,passes,amount_minor,currency\nP001,\(today),1,"), "\(salesCSV.body)")
            let trafficCSV = try await federation.curl("/console/regulator/traffic.csv?from=\(today)&to=\(today)", certificate: regulator)
            #expect(trafficCSV.body.split(separator: "\n").count == 25, "\(trafficCSV.body.prefix(200))")
            let anonymous = try await federation.curl("/console/settlement")
            #expect(anonymous.httpStatus == 401 && anonymous.body.contains("<html"))
            // In Chinese by Accept-Language, or by choice (kept in a cookie).
            let chinese = try await federation.curl("/console/settlement/\(batch)", certificate: clearing, extra: ["-H", "accept-language: zh-CN,zh;q=0.9"])
            #expect(chinese.body.contains("各景区净头寸") && chinese.body.contains("lang=\"zh\""), "\(chinese.body.prefix(300))")
            let chosen = try await federation.curl("/console/settlement?lang=zh", certificate: clearing, extra: ["-i"])
            #expect(chosen.body.lowercased().contains("set-cookie: lang=zh") && chosen.body.contains("清算日历"))
            // The batch page: positions, their chart, the gross matrix, downloads.
            let page = try await federation.curl("/console/settlement/\(batch)", certificate: clearing)
            #expect(page.body.contains("<svg") && page.body.contains("id=\"matrix\"") && page.body.contains("format=obligations.csv"))
            #expect(page.body.contains("--accent:"), "the consoles' style sheet is inlined")
            // A form without the console's token, or from another site, changes nothing.
            let before = try await federation.stateDump()
            let forged = try await federation.curl(
                "/console/settlement/\(batch)/approve", certificate: clearing, method: "POST",
                extra: ["-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "confirm=yes&csrf=forged"])
            #expect(forged.httpStatus == 403 && forged.body.contains("invalid_form_token"), "\(forged.body.prefix(300))")
            let confirm = try await federation.curl("/console/settlement/\(batch)/approve", certificate: clearing)
            #expect(confirm.body.contains("id=\"confirm-text\""))
            let token = try #require(confirm.body.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1).description
            let crossSite = try await federation.curl(
                "/console/settlement/\(batch)/approve", certificate: clearing, method: "POST",
                extra: ["-H", "content-type: application/x-www-form-urlencoded", "-H", "sec-fetch-site: cross-site", "--data-raw", "confirm=yes&csrf=\(token)"])
            #expect(crossSite.httpStatus == 403 && crossSite.body.contains("cross_site_form"))
            // Another principal's token is not this one's.
            let otherToken = try #require(
                try await federation.curl("/console/operator", certificate: operatorStaff).body.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1
            ).description
            #expect(otherToken != token)
            #expect(try await federation.stateDump() == before)
            // With the page's own token it is approved, by this principal, through the same rule as the API.
            let approved = try await federation.curl(
                "/console/settlement/\(batch)/approve", certificate: clearing, method: "POST",
                extra: ["-H", "content-type: application/x-www-form-urlencoded", "--data-raw", "confirm=yes&csrf=\(token)"])
            #expect(approved.httpStatus == 303, "\(approved)")
            let record = try await federation.hub.settlementBatch(batch)
            #expect(record.state == "approved" && record.approvedBy == "clearing:C01")
        }
    }

    @Test func theOperatorMakesTokensAndRevokesParksThroughTheAPI() async throws {
        try await TestFederation.run { federation in
            let operatorStaff = try await federation.issueCertificate(for: .operator("O01"), name: "operator")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            let made = try await federation.curl(
                "/v1/operator/enrollment-tokens", certificate: operatorStaff, method: "POST", body: #"{"park":"P007","name":"Park Seven"}"#)
            #expect(made.httpStatus == 201, "\(made.body)")
            let token = try #require(made.json["token"] as? String)
            let directory = NodeDirectory(federation.directory.file("P007"))
            _ = try await NodeEnrollment.enroll(
                directory: directory, hubURL: federation.hubURL, park: try ParkID("P007"), token: token, caFile: federation.caFile)
            // Clearing staff may not admit parks.
            let refused = try await federation.curl(
                "/v1/operator/enrollment-tokens", certificate: clearing, method: "POST", body: #"{"park":"P008","name":"Park Eight"}"#)
            #expect(refused.httpStatus == 403)
            let revoked = try await federation.curl("/v1/operator/parks/P007/revocation", certificate: operatorStaff, method: "POST")
            #expect(revoked.httpStatus == 200 && (revoked.json["certificates"] as? Int) == 1, "\(revoked.body)")
            let next = try await federation.curl("/v1/whoami", certificate: (directory.tlsCertificate, directory.tlsKey))
            #expect(next.httpStatus == 401 || next.httpStatus == 403, "\(next.body)")
        }
    }

    /// The operator sees the admitted resellers and makes a reseller's API key in the console (shown once), which the
    /// OCTO API then takes, and revokes it behind a confirmation, after which it is refused.
    @Test func theOperatorMakesAndRevokesAResellersAPIKeyInTheConsole() async throws {
        try await TestFederation.run { federation in
            let operatorStaff = try await federation.issueCertificate(for: .operator("O01"), name: "operator")
            let form = ["-H", "content-type: application/x-www-form-urlencoded"]
            let page = try await federation.curl("/console/operator", certificate: operatorStaff, extra: ["-H", "accept-language: zh-CN"])
            #expect(page.body.contains("data-reseller=\"TRIPGO\"") && page.body.contains("分销商") && page.body.contains("JIANGNAN-3P, MUSEUM-TIMED"))
            #expect(!page.body.contains("data-park=\"TRIPGO\""), "a reseller is not listed as a park")
            let csrf = try #require(page.body.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1).description
            let made = try await federation.curl(
                "/console/operator/reseller-keys", certificate: operatorStaff, method: "POST",
                extra: form + ["--data-raw", "reseller=TRIPGO&label=OCTO+production&csrf=\(csrf)"])
            let key = try #require(made.body.firstMatch(of: /id="api-key">(pfr_[A-Za-z0-9_-]+)</)?.1).description
            let octo = { try await federation.curl("/octo/supplier", extra: ["-H", "authorization: Bearer \(key)"]).httpStatus }
            #expect(try await octo() == 200)
            let keyID = String(key.dropFirst(4).prefix(12))
            let confirm = try await federation.curl("/console/operator/reseller-keys/\(keyID)/revoke", certificate: operatorStaff)
            #expect(confirm.body.contains("id=\"confirm-text\""))
            let revoked = try await federation.curl(
                "/console/operator/reseller-keys/\(keyID)/revoke", certificate: operatorStaff, method: "POST",
                extra: form + ["--data-raw", "confirm=yes&csrf=\(csrf)"])
            #expect(revoked.httpStatus == 303)
            #expect(try await octo() == 401)
            let after = try await federation.curl("/console/operator?revokedKey=\(keyID)&lang=en", certificate: operatorStaff)
            #expect(after.body.contains("data-key=\"\(keyID)\"") && after.body.contains("revoked"))
        }
    }

    @Test func theOperatorsAlarmsComeFromTheStateAndEndWithTheirCause() async throws {
        try await TestFederation.run { federation in
            _ = try await federation.enrollParks(["P001", "P002"])
            let operatorStaff = try await federation.issueCertificate(for: .operator("O01"), name: "operator")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            // Nobody has verified the log yet.
            let first = try await federation.curl("/v1/operator/alarms", certificate: operatorStaff)
            #expect(first.httpStatus == 200, "\(first.body)")
            let kinds = (first.json["alarms"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds == ["log_verification_stale"], "\(first.body)")
            #expect(try await federation.curl("/v1/operator/alarms", certificate: clearing).httpStatus == 403)
            // Verified: that alarm ends. Seen 80 days on, both parks' certificates are close to their end, and the
            // verification is stale again.
            try await federation.hub.recordLogVerification(try await LogVerifier(hub: federation.hub).verify())
            #expect(try await federation.hub.operatorAlarms().alarms.isEmpty)
            let later = try await federation.hub.operatorAlarms(now: Date().addingTimeInterval(80 * 86_400)).alarms
            #expect(Set(later.filter { $0.kind == "certificate_expiring" }.map(\.subject)) == ["P001", "P002"], "\(later)")
            #expect(later.contains { $0.kind == "log_verification_stale" })
            let expired = try await federation.hub.operatorAlarms(now: Date().addingTimeInterval(91 * 86_400)).alarms
            #expect(expired.prefix(2).allSatisfy { $0.kind == "certificate_expired" && $0.severity == .critical }, "\(expired)")
            // The console shows them, in the operator's language.
            let page = try await federation.curl(
                "/console/operator", certificate: operatorStaff, extra: ["-H", "accept-language: zh-CN"])
            #expect(page.httpStatus == 200 && page.body.contains("id=\"alarms\"") && page.body.contains("id=\"conflict-rows\""), "\(page.body.prefix(300))")
        }
    }
}

/// Every word of the consoles exists in both languages, and every page template renders.
@Suite struct ConsoleTextTests {
    @Test func everyKeyHasAnEnglishAndAChineseText() {
        #expect(ConsoleTextCheck.missingKeys.isEmpty, "\(ConsoleTextCheck.missingKeys.sorted())")
    }
}
