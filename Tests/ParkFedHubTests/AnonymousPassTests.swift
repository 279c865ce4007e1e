import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// Real name switched off for a product (`real_name: false`, as several cities dropped compulsory real-name booking
/// in 2024): its pass is sold and admitted with no holder, the hub holds none, regulators' lookups and reports say
/// so; and no park can drop the holder of a real-name product, nor attach one where none is taken.
@Suite struct AnonymousPassTests {
    static let holder = HolderInput(name: "张小三", idType: "resident_id", idNumber: "11010519491231002X")

    @Test func anAnonymousProductIsSoldAndAdmittedWithNoHolderAndRegulatorsAreToldSo() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001", "P002"])
            let p1 = agents[0]
            let hub = federation.hub
            // The window is told what the product's rule is, both ways.
            do {
                _ = try await p1.sellPass(PassSaleRequest(product: "LAKE-NIGHT-WALK", channel: "window", holder: Self.holder))
                Issue.record("a holder was taken for a product sold without real name")
            } catch let refusal as Refusal { #expect(refusal.code == "holder_not_taken") }
            do {
                _ = try await p1.sellPass(PassSaleRequest(product: "JIANGNAN-3P", channel: "window", holder: nil))
                Issue.record("a real-name product was sold without its holder")
            } catch let refusal as Refusal { #expect(refusal.code == "holder_required") }

            let sale = try await p1.sellPass(PassSaleRequest(product: "LAKE-NIGHT-WALK", channel: "window", holder: nil))
            #expect(sale.holderNameMasked == "" && sale.idNumberMasked == "" && sale.priceMinor == 3_000)
            let code = try PassCode(parsing: sale.code)
            #expect(code.payload.name == "")
            let entry = try await p1.scan(GateScanRequest(code: sale.code, gate: "G1"))
            #expect(entry.decision == .allow && (entry.holderNameMasked ?? "") == "", "\(entry)")
            try await p1.deliverOutbox()
            // The hub holds no holder for it; its pass.issued names none.
            #expect(try await hub.store.pass(sale.passID)?.issued == true)
            #expect(try await hub.passes(heldBy: .residentID, number: "11010519491231002X").isEmpty)
            var payloads: [String] = []
            try await hub.store.forEachLogEntry { entry in
                guard let jws = try? JWS(compact: entry.jws), jws.header.typ == AssertionType.passIssued.jwsType else { return }
                payloads.append(String(decoding: jws.payload, as: UTF8.self))
            }
            let logged = try #require(payloads.first { $0.contains(sale.passID) })
            #expect(!logged.contains("\"holder\""), "\(logged)")

            // A regulator's lookup says that such passes carry no holder; the day's report counts the entry as not real-name.
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "regulator")
            let today = hub.passes.calendar.day(of: Date())
            let lookup = try await federation.curl(
                "/v1/regulator/holders?id_type=resident_id&id_number=11010519491231002X&from=\(today)&to=\(today)", certificate: regulator)
            let report = try StrictJSON.decode(RegulatorHolderReport.self, from: Data(lookup.body.utf8))
            #expect(report.purchases.isEmpty && report.anonymousProducts == ["LAKE-NIGHT-WALK"] && report.note?.contains("without real name") == true)
            let visitors = try StrictJSON.decode(
                RegulatorVisitorReport.self,
                from: Data(try await federation.curl("/v1/regulator/reports?from=\(today)&to=\(today)", certificate: regulator).body.utf8))
            let row = try #require(visitors.rows.first { $0.park == "P001" })
            #expect(row.visitors == 1 && row.realNameEntries == 0 && row.realNameShareBasisPoints == 0)
        }
    }

    @Test func aParkCannotDropTheHolderOfARealNameProductOnAnyPath() async throws {
        try await TestFederation.run { federation in
            let agents = try await federation.enrollParks(["P001"])
            let p1 = agents[0]
            let today = federation.hub.passes.calendar.day(of: Date())
            func issued(_ product: String, holder: HolderRef?) throws -> String {
                try Assertions.sign(
                    .passIssued(
                        PassIssued(
                            passID: UUIDv7.make(now: Date()), product: product, channel: .window, priceMinor: product == "JIANGNAN-3P" ? 29_900 : 3_000,
                            holder: holder, validFrom: today.description, validUntil: today.adding(days: 89).description)), park: p1.park,
                    key: p1.signingKey
                ).1.compact
            }
            let someone = HolderRef(nameMasked: "张*三", idType: .residentID, idDigest: String(repeating: "A", count: 43))
            // The outbox path (a sale that already happened) and the deciding path both refuse, and nothing is logged.
            let size = federation.hub.log.size
            let results = try await p1.hub.json(
                .POST, "/v1/assertions",
                body: IngestRequest(assertions: [try issued("JIANGNAN-3P", holder: nil), try issued("LAKE-NIGHT-WALK", holder: someone)]),
                as: IngestResponse.self
            ).results
            #expect(results.map(\.status) == [.rejected, .rejected] && results.map(\.reason) == ["holder_required", "holder_not_taken"], "\(results)")
            do {
                _ = try await p1.hub.json(
                    .POST, "/v1/passes", body: PassChangeRequest(assertion: try issued("JIANGNAN-3P", holder: nil)), as: PassView.self)
                Issue.record("the hub took a real-name sale without its holder")
            } catch {
                #expect((error as? NodeError)?.problemCode == "holder_required", "\(error)")
            }
            #expect(federation.hub.log.size == size)
        }
    }
}
