import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedStore
import ParkFedTesting
import Testing

/// Real-name data: parks seal holders' names and document numbers to the hub; the hub keeps them encrypted with keys
/// outside the database and finds them by a keyed blind index; no database file, and no logged assertion, holds them
/// in clear.
@Suite struct RealNameTests {
    @Test func idNumbersAndNamesAreNeverInAnyDatabaseFileOrLoggedAssertionInClear() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let (p1, p2) = (agents[0], agents[1])
            let secrets = ["11010519491231002X", "430102199003071234", "E12345678", "张小三", "李四四"]
            let first = try await p1.sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
            let second = try await p1.sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "ota",
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")))
            #expect(try await p2.scan(GateScanRequest(code: first.code, gate: "G1")).decision == .allow)
            try await p1.deliverOutbox()
            _ = try await p1.transferPass(
                second.passID,
                PassTransferOrder(
                    newHolder: HolderInput(name: "李四四", idType: "passport", idNumber: "E12345678"),
                    resalePriceMinor: 20_000))

            // The hub finds each holder's passes by document, and only it can read them back.
            let held = try await federation.hub.passes(heldBy: .residentID, number: "110105 19491231002x")
            #expect(held.map(\.passID) == [first.passID])
            let holder = try #require(held.first?.holder)
            #expect(holder.idMasked == "1101**********002X" && holder.nameMasked == "张*三")
            #expect(try federation.hub.secrets.fields.open(holder.idSealed, purpose: "holder.id_number") == "11010519491231002X")
            #expect(try federation.hub.secrets.fields.open(holder.nameSealed, purpose: "holder.name") == "张小三")
            #expect(holder.idSealed.hasPrefix("v1.k"))
            let buyer = try await federation.hub.passes(heldBy: .passport, number: "E12345678")
            #expect(buyer.map { "\($0.passID) \($0.generation)" } == ["\(second.passID) 1"])
            await #expect(try federation.hub.passes(heldBy: .residentID, number: "430102199003071234").map(\.generation) == [0])

            // No file of the hub's or the nodes' databases (with their WAL) holds any of it in clear…
            var files: [String] = []
            for base in [federation.hub.store.path, p1.store.path, p2.store.path] {
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: base + suffix) { files.append(base + suffix) }
            }
            for file in files {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in clear in \(file)") }
            }
            // …nor the hub's database as its own tool dumps it (sqlite3, or pg_dump on a PostgreSQL store)…
            let dump = try await federation.databaseDump()
            #expect(dump.succeeded && dump.stdout.contains("pass_holders"), "\(dump.stderr)")
            for secret in secrets { #expect(!dump.stdout.contains(secret), "\(secret) in clear in the database dump") }
            // …nor any assertion in the log once its base64url payload is decoded.
            var checked = 0
            try await federation.hub.store.forEachLogEntry { entry in
                let payload = try JWS(compact: entry.jws).payload
                for secret in secrets { #expect(payload.range(of: Data(secret.utf8)) == nil, "\(secret) in log entry \(entry.index)") }
                checked += 1
            }
            #expect(checked >= 4)
            // The keys are files beside the database, owner-only.
            let attributes = try FileManager.default.attributesOfItem(atPath: federation.hub.directory.fieldKeys)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func aRegulatorFindsADocumentsPurchasesAndEntriesAndEveryQueryIsRecorded() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002", "P003"])
            let sale = try await agents[0].sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")))
            _ = try await agents[0].sellPass(
                PassSaleRequest(
                    product: "JIANGNAN-3P", channel: "window",
                    holder: HolderInput(name: "王五", idType: "resident_id", idNumber: "430102199003071234")))
            #expect(try await agents[1].scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
            #expect(try await agents[2].scan(GateScanRequest(code: sale.code, gate: "G1")).decision == .allow)
            try await agents[0].deliverOutbox()
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let clearing = try await federation.issueCertificate(for: .clearing("C01"), name: "clearing")
            let park = (agents[0].directory.tlsCertificate, agents[0].directory.tlsKey)
            let today = federation.hub.passes.calendar.day(of: Date())
            let path = "/v1/regulator/holders?id_type=resident_id&id_number=11010519491231002X&from=\(today.adding(days: -7))&to=\(today)"
            let answer = try await federation.curl(path, certificate: regulator)
            #expect(answer.httpStatus == 200, "\(answer.body)")
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let report = try decoder.decode(RegulatorHolderReport.self, from: Data(answer.body.utf8))
            let file = federation.directory.file("regulator-report.json")
            try answer.body.write(toFile: file, atomically: true, encoding: .utf8)
            let valid = try await ExternalTool.run(
                "python3",
                [
                    Verifiers.path("validate_schemas.py"),
                    Verifiers.repositoryRoot + "/schemas/regulator-holder-report.schema.json=" + file,
                ])
            #expect(valid.succeeded, "\(valid.stdout)\(valid.stderr)")
            #expect(report.idNumberMasked == "1101**********002X" && !answer.body.contains("11010519491231002X"))
            #expect(report.purchases.map { "\($0.park) \($0.passID)" } == ["P001 \(sale.passID)"])
            #expect(report.entries.map(\.park) == ["P002", "P003"] && report.entries.allSatisfy(\.counted))
            // Parks and clearing staff cannot ask; a bad check digit is refused; none of these is an answered query.
            #expect(try await federation.curl(path, certificate: park).httpStatus == 403)
            #expect(try await federation.curl(path, certificate: clearing).httpStatus == 403)
            let bad = try await federation.curl(path.replacingOccurrences(of: "002X", with: "0021"), certificate: regulator)
            #expect(bad.httpStatus == 400 && bad.body.contains("invalid_document"))
            // The same from the command line with the regulator's certificate.
            let cli = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(),
                [
                    "regulator", "query", "--hub", federation.hubURL, "--cert", regulator.certificate, "--key", regulator.key, "--ca", federation.caFile,
                    "--id-number", "11010519491231002X", "--from", today.adding(days: -7).description, "--to", today.description,
                ])
            #expect(cli.succeeded, "\(cli.stdout)\(cli.stderr)")
            #expect(cli.stdout.contains("1101**********002X") && cli.stdout.contains(sale.passID))
            // The audit: who, what (masked), how many records.
            let audit = try await federation.hub.store.regulatorQueries().reversed().map { $0 }
            #expect(audit.count == 2)
            #expect(audit[0].principal == "regulator:R01" && audit[0].records == 3 && audit[0].query.contains("1101**********002X"))
            #expect(!audit[0].query.contains("11010519491231002X"))

            // Each query is a hub-signed statement in the Merkle log: jwcrypto verifies it with the hub's key, it matches
            // its schema, and the whole log (park assertions and hub statements) still verifies.
            for record in audit {
                let index = try #require(record.logIndex)
                let entry = try await #require(try federation.hub.store.logEntry(index: index))
                #expect(entry.id == record.entryID && entry.park == "hub" && !entry.jws.contains("11010519491231002X"))
                let jwsFile = federation.directory.file("statement-\(index).jws")
                try entry.jws.write(toFile: jwsFile, atomically: true, encoding: .utf8)
                let verified = try await ExternalTool.run("python3", [Verifiers.path("verify_jws.py"), jwsFile, federation.hub.signingKey.publicKey.base64URL])
                #expect(verified.succeeded, "\(verified.stdout)")
                let payloadFile = federation.directory.file("statement-\(index).json")
                try verified.stdout.write(toFile: payloadFile, atomically: true, encoding: .utf8)
                let schema = Verifiers.repositoryRoot + "/schemas/regulator-query-statement.schema.json"
                let conforms = try await ExternalTool.run("python3", [Verifiers.path("validate_schemas.py"), schema + "=" + payloadFile])
                #expect(conforms.succeeded, "\(conforms.stdout)\(conforms.stderr)")
                #expect(verified.stdout.contains("\"principal\":\"regulator:R01\"") && verified.stdout.contains("\"records\":\(record.records)"))
                // Regulators read it; parks and clearing staff do not.
                #expect(try await federation.curl("/v1/log/entries/\(index)", certificate: regulator).httpStatus == 200)
                #expect(try await federation.curl("/v1/log/entries/\(index)", certificate: clearing).httpStatus == 403)
                #expect(try await federation.curl("/v1/log/entries/\(index)", certificate: park).httpStatus == 403)
            }
            await #expect(try LogVerifier(hub: federation.hub).verify().ok)
            // The hub operator lists them from the command line.
            let listing = try await ExternalTool.run(
                try BackgroundProcess.parkfedExecutable(),
                [
                    "hub", "regulator-queries", "--data", federation.hub.directory.path,
                ])
            #expect(listing.succeeded && listing.stdout.contains("regulator:R01") && listing.stdout.contains("2 queries"), "\(listing.stdout)\(listing.stderr)")
            #expect(listing.stdout.contains("1101**********002X") && listing.stdout.contains(String(audit[0].logIndex ?? 0)))
        }
    }
}
