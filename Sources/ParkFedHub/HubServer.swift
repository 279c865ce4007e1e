import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ParkFedHTTP
import ParkFedCrypto
import ParkFedDomain
import ParkFedPKI
import ParkFedProtocol

/// Builds the hub's HTTPS server: TLS 1.3 (1.2 allowed), ALPN `h2` and `http/1.1`, client certificates verified
/// against the federation root. Only `POST /v1/enrollments` answers without a client certificate.
public enum HubServer {
    static let pemChainMediaType = "application/pem-certificate-chain"

    /// The TLS configuration of the hub's listener.
    public static func tlsConfiguration(directory: HubDirectory) throws -> TLSConfiguration {
        func load<T>(_ what: String, _ path: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch {
                throw HubError(
                    .invalidConfiguration, "cannot load the \(what) \(path) (\(error)): is it a PEM file, readable, and the one `parkfed hub init` made?")
            }
        }
        let chain = try load("hub TLS certificate", directory.tlsCertificate) { try NIOSSLCertificate.fromPEMFile(directory.tlsCertificate) }
        let key = try load("hub TLS key", directory.tlsKey) { try NIOSSLPrivateKey(file: directory.tlsKey, format: .pem) }
        let roots = try load("federation root certificate", directory.caCertificate) { try NIOSSLCertificate.fromPEMFile(directory.caCertificate) }
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key), trustRoots: .certificates(roots))
        // Enrollment has no client certificate yet: verify a certificate when one is presented, and let the
        // authentication middleware require one on every other route.
        tls.certificateVerification = .optionalVerification
        tls.minimumTLSVersion = .tlsv12
        // Parks may hold Ed25519 client keys (openssl req -newkey ed25519); BoringSSL does not offer Ed25519 in
        // its default verify list, so name the accepted client signature algorithms explicitly.
        tls.verifySignatureAlgorithms = [
            .ecdsaSecp256R1Sha256, .ecdsaSecp384R1Sha384, .ecdsaSecp521R1Sha512, .ed25519,
            .rsaPssRsaeSha256, .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384, .rsaPkcs1Sha512,
        ]
        return tls
    }

    /// The router with every hub endpoint.
    public static func router(hub: Hub) -> Router<HubRequestContext> { routes(hub: hub).router }

    /// The router and the authority each of its routes was registered with (``RouteAuthority``).
    public static func routes(hub: Hub) -> (router: Router<HubRequestContext>, rules: [RouteRule]) {
        let router = Router(context: HubRequestContext.self)
        let book = RouteBook()
        let metrics = hub.metrics
        router.add(middleware: AccessLogMiddleware { metrics.request(method: $0, route: $1, status: $2, duration: $3) })
        router.add(middleware: ProblemMiddleware())
        // The console's pages (templates loaded once) also draw its error pages.
        let console = ConsolePages(hub: hub)
        router.add(middleware: ConsoleErrorPages(pages: console))

        // Enrollment: the one-time token is the credential; limited per source address before the body is read.
        book.add(.post, "/v1/enrollments", .enrollmentToken)
        router.group().add(middleware: EnrollmentLimitMiddleware(limiter: hub.enrollmentLimiter, metrics: hub.metrics))
            .post("/v1/enrollments") { request, _ -> Response in
                let body = try await request.decodeStrict(EnrollmentRequest.self, limit: BodyLimit.document)
                let response = try await hub.enroll(body)
                // curl users can ask for the chain itself (RFC 8555's media type) instead of JSON.
                if request.headers[.accept]?.contains(pemChainMediaType) == true {
                    return Response(
                        status: .created, headers: [.contentType: pemChainMediaType],
                        body: .init(byteBuffer: ByteBuffer(string: response.certificateChain)))
                }
                return try JSONResponse.make(response, status: .created)
            }

        registerOcto(on: router, hub: hub, book: book)

        let everyone = HubRouteGroup(router, .anyPrincipal, hub: hub, book: book)
        let parks = HubRouteGroup(router, .parks, hub: hub, book: book)
        let parksAndClearing = HubRouteGroup(router, .parksAndClearing, hub: hub, book: book)
        let clearing = HubRouteGroup(router, .clearing, hub: hub, book: book)
        let regulators = HubRouteGroup(router, .regulators, hub: hub, book: book)
        // Counts across every park: for the operator and clearing staff (or the ops listener), not for parks.
        clearing.get("/metrics") { _, _, _ -> Response in metricsResponse(hub) }
        everyone.get("/v1/whoami") { _, context, peer -> Response in
            try JSONResponse.make(WhoAmIResponse(principal: peer.principal.description))
        }
        everyone.get("/healthz") { _, _, peer -> Response in
            try JSONResponse.make(HealthResponse(status: "ok"))
        }
        everyone.get("/readyz") { _, _, peer -> Response in try await readiness(hub) }
        everyone.get("/v1/trust-list") { request, _, peer -> Response in
            let list = try await hub.currentTrustList()
            let etag = "\"tl-\(list.sequence)\""
            if let match = request.headers[.ifNoneMatch],
                match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" })
            {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/jose", .eTag: etag, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: list.jws)))
        }
        parks.post("/v1/assertions") { request, context, peer -> Response in
            let body = try await request.decodeStrict(IngestRequest.self, limit: BodyLimit.batch)
            let response = try await hub.ingest(body, from: peer)
            hub.metrics.logSize(response.treeSize)
            return try JSONResponse.make(response)
        }
        everyone.get("/v1/log/checkpoint") { _, _, peer -> Response in
            await Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: try hub.log.latestCheckpointNote())))
        }
        everyone.get("/v1/log/proofs/inclusion") { request, _, peer -> Response in
            let query = request.uri.queryParameters
            let requestedSize = try LogQuery.number(query, "tree_size")
            let index: UInt64
            if let hash = query["leaf_hash"].map(String.init) {
                guard let leafHash = (hash.count == 64 ? Hex.decode(hash) : nil) ?? Data(base64Encoded: hash), leafHash.count == 32 else {
                    throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid leaf_hash", detail: "leaf_hash is 32 bytes in base64 or hex")
                }
                guard let found = try await hub.store.logIndex(leafHash: leafHash) else {
                    throw ProblemDetails(status: 404, code: "not_in_log", title: "No such leaf", detail: "no entry with that leaf hash")
                }
                index = found
            } else {
                guard let number = try LogQuery.number(query, "index") else {
                    throw ProblemDetails(status: 400, code: "invalid_query", title: "index or leaf_hash required")
                }
                index = number
            }
            // Another hub process may have appended the entry: the proof is then for the tree that holds it.
            let size = requestedSize ?? max(hub.log.size, index + 1)
            guard let proof = try await hub.log.inclusionProof(index: index, treeSize: size) else {
                throw ProblemDetails(
                    status: 400, code: "out_of_range", title: "No such proof",
                    detail: "need index < tree_size <= \(hub.log.size)")
            }
            return try JSONResponse.make(proof)
        }
        everyone.get("/v1/log/proofs/consistency") { request, _, peer -> Response in
            let query = request.uri.queryParameters
            guard let first = try LogQuery.number(query, "first") else {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "first is required")
            }
            let second = try LogQuery.number(query, "second") ?? hub.log.size
            guard let proof = try await hub.log.consistencyProof(first: first, second: second) else {
                throw ProblemDetails(
                    status: 400, code: "out_of_range", title: "No such proof",
                    detail: "need first <= second <= \(hub.log.size)")
            }
            return try JSONResponse.make(proof)
        }
        // The tree's tiles as C2SP tlog-tiles serves them (`/v1/log/tile/<L>/<N>[.p/<W>]`), so an auditor can check
        // the log with the tools CT and sumdb clients use. Only hashes: entries stay readable by their own park.
        everyone.get("/v1/log/tile/**") { _, context, peer -> Response in
            let components = context.parameters.getCatchAll()
            guard let (level, index, width) = MerkleTiles.parsePath(components) else {
                throw ProblemDetails(
                    status: 400, code: "invalid_tile_path", title: "Not a tile path",
                    detail: "tiles are at tile/<level>/<index in groups of three digits, x-prefixed but the last>[.p/<width>]")
            }
            guard let hashes = try await hub.log.tile(level: level, index: index, partialWidth: width) else {
                throw ProblemDetails(
                    status: 404, code: "no_such_tile", title: "No such tile yet",
                    detail: "the log has no \(MerkleTiles.path(level: level, index: index, partialWidth: width))")
            }
            // Full tiles, and partial tiles of a given width, never change.
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "public, max-age=31536000, immutable"],
                body: .init(byteBuffer: ByteBuffer(bytes: hashes)))
        }
        everyone.get("/v1/log/entries/:index") { _, context, peer -> Response in
            guard let index = context.parameters.get("index", as: UInt64.self) else {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "index must be a number")
            }
            guard let entry = try await hub.store.logEntry(index: index) else {
                throw ProblemDetails(status: 404, code: "not_in_log", title: "No such entry")
            }
            // A park reads its own entries; clearing staff read parks' entries; regulators and the hub read all
            // (the hub's regulator-query statements are not the clearing's business).
            switch peer.principal {
            case .park(let park) where park.rawValue != entry.park:
                throw ProblemDetails(status: 403, code: "forbidden_for_principal", title: "Another park's entry")
            case .clearing
            where entry.park == RegulatorQueryStatement.logParty && (try? JWS(compact: entry.jws))?.header.typ != SettlementStatement.jwsType:
                throw ProblemDetails(status: 403, code: "forbidden_for_principal", title: "A regulator query record")
            default: break
            }
            if let statement = entry.redactedBy {
                throw ProblemDetails(
                    status: 410, code: "redacted", title: "Redacted by retention",
                    detail: "entry \(index) carried real-name data past its retention period; retention statement \(statement) names its leaf hash")
            }
            return Response(status: .ok, headers: [.contentType: "application/jose"], body: .init(byteBuffer: ByteBuffer(string: entry.jws)))
        }
        parks.post("/v1/passes/:pass/visitor-links") { request, context, peer -> Response in
            let body = try await request.decodeStrict(VisitorLinkRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(
                try await hub.createVisitorLink(passID: try context.parameters.identifier("pass"), code: body.code, peer: peer), status: .created)
        }
        // One-card stored value.
        parks.post("/v1/cards") { request, context, peer -> Response in
            let body = try await request.decodeStrict(RegisterCardRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.registerCard(body, peer: peer), status: .created)
        }
        parks.get("/v1/cards/:card") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.cardBalance(try context.parameters.identifier("card"), peer: peer))
        }
        parks.get("/v1/cards/:card/statement") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.cardStatement(try context.parameters.identifier("card"), peer: peer))
        }
        parks.post("/v1/cards/:card/loads") { request, context, peer -> Response in
            let body = try await request.decodeStrict(LoadRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.loadCard(try context.parameters.identifier("card"), body, peer: peer))
        }
        parks.post("/v1/cards/:card/holds") { request, context, peer -> Response in
            let body = try await request.decodeStrict(HoldRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.holdCard(try context.parameters.identifier("card"), body, peer: peer))
        }
        parks.post("/v1/cards/:card/holds/:request/capture") { _, context, peer -> Response in
            try JSONResponse.make(
                try await hub.settleHold(
                    try context.parameters.identifier("card"), requestID: try context.parameters.identifier("request"), .capture, peer: peer))
        }
        parks.post("/v1/cards/:card/holds/:request/void") { _, context, peer -> Response in
            try JSONResponse.make(
                try await hub.settleHold(try context.parameters.identifier("card"), requestID: try context.parameters.identifier("request"), .void, peer: peer))
        }
        parks.post("/v1/cards/:card/holds/:request/refunds") { request, context, peer -> Response in
            let body = try await request.decodeStrict(CardRefundRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(
                try await hub.refundCard(try context.parameters.identifier("card"), requestID: try context.parameters.identifier("request"), body, peer: peer))
        }
        parks.post("/v1/cards/:card/block") { request, context, peer -> Response in
            let body = try await request.decodeStrict(BlockCardRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.blockCard(try context.parameters.identifier("card"), body, peer: peer))
        }
        // Combo passes.
        parks.get("/v1/revenue") { _, context, peer -> Response in try JSONResponse.make(try await hub.revenue(peer: peer)) }
        everyone.get("/v1/products") { _, _, peer -> Response in try JSONResponse.make(hub.passes.catalog) }
        parks.post("/v1/passes") { request, context, peer -> Response in
            let body = try await request.decodeStrict(PassChangeRequest.self, limit: BodyLimit.request)
            let response = try await hub.issuePass(body, peer: peer)
            hub.metrics.logSize(hub.log.size)
            return try JSONResponse.make(response, status: .created)
        }
        parks.post("/v1/passes/entries") { request, context, peer -> Response in
            let body = try await request.decodeStrict(RedeemRequest.self, limit: BodyLimit.request)
            let response = try await hub.redeem(body, peer: peer)
            hub.metrics.logSize(hub.log.size)
            return try JSONResponse.make(response)
        }
        parks.get("/v1/passes/revocations") { request, context, peer -> Response in
            let after = try LogQuery.number(request.uri.queryParameters, "after") ?? 0
            return try JSONResponse.make(try await hub.passRevocations(after: Int64(clamping: after), peer: peer))
        }
        parksAndClearing.get("/v1/passes/conflicts") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.passConflicts(peer: peer))
        }
        parksAndClearing.get("/v1/passes/:pass") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.passView(try context.parameters.identifier("pass"), peer: peer))
        }
        parks.post("/v1/passes/:pass/refund") { request, context, peer -> Response in
            let body = try await request.decodeStrict(PassChangeRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.refundPass(try context.parameters.identifier("pass"), body, peer: peer))
        }
        parks.post("/v1/passes/:pass/transfer") { request, context, peer -> Response in
            let body = try await request.decodeStrict(PassChangeRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.transferPass(try context.parameters.identifier("pass"), body, peer: peer))
        }
        // Members: enrolled once, linked by parks, seen masked by the parks that enrolled or linked them.
        parks.post("/v1/members") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberEnrollRequest.self, limit: BodyLimit.request)
            let view = try await hub.enrollMember(body, peer: peer)
            return try JSONResponse.make(view, status: view.existing ? .ok : .created)
        }
        parks.post("/v1/members/recognitions") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberRecognitionRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.recognizeMember(body, peer: peer))
        }
        parks.get("/v1/members/:member") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.memberView(context.parameters.get("member") ?? "", peer: peer))
        }
        parks.post("/v1/members/:member/code") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberCodeReissueRequest.self, limit: BodyLimit.request)
            return try JSONResponse.make(try await hub.reissueMemberCode(context.parameters.get("member") ?? "", body, peer: peer))
        }
        // A member's own data, in person: an export in clear for them, or its erasure (both recorded).
        parks.post("/v1/members/:member/export") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberDataRequest.self, limit: BodyLimit.small)
            let export = try await hub.exportMember(context.parameters.get("member") ?? "", body, peer: peer)
            var response = try JSONResponse.make(export)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        parks.post("/v1/members/:member/erasure") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberDataRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.eraseMember(context.parameters.get("member") ?? "", body, peer: peer))
        }
        parks.post("/v1/members/:member/links") { request, context, peer -> Response in
            let body = try await request.decodeStrict(MemberLinkRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.linkMember(context.parameters.get("member") ?? "", body, peer: peer))
        }
        // Regulators: real-name records, read-only and audited.
        regulators.get("/v1/regulator/holders") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            func text(_ name: String) throws -> String {
                guard let value = query[Substring(name)].map(String.init), !value.isEmpty else {
                    throw ProblemDetails(status: 400, code: "invalid_query", title: "\(name) is required")
                }
                return value
            }
            let (kind, number, from, to, peer) = (try text("id_type"), try text("id_number"), try text("from"), try text("to"), peer)
            return try JSONResponse.make(try await hub.regulatorHolderReport(kind: kind, number: number, from: from, to: to, peer: peer))
        }
        regulators.get("/v1/regulator/traffic") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            return try JSONResponse.make(
                try await hub.regulatorTraffic(from: String(query["from"] ?? ""), to: String(query["to"] ?? ""), peer: peer))
        }
        regulators.get("/v1/regulator/occupancy") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            let day = query["day"].map(String.init) ?? hub.passes.calendar.day(of: Date()).description
            return try JSONResponse.make(try await hub.regulatorOccupancy(day: day, peer: peer))
        }
        regulators.get("/v1/regulator/sales") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            return try JSONResponse.make(
                try await hub.regulatorSales(from: String(query["from"] ?? ""), to: String(query["to"] ?? ""), peer: peer))
        }
        regulators.get("/v1/regulator/reports") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            let report = try await hub.regulatorReport(
                from: String(query["from"] ?? ""), to: String(query["to"] ?? ""), name: query["name"].map(String.init), peer: peer)
            switch query["format"].map(String.init) ?? "json" {
            case "json": return try JSONResponse.make(report)
            case "csv":
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(string: report.csv)))
            default: throw ProblemDetails(status: 400, code: "invalid_query", title: "format is json or csv")
            }
        }
        // People inside now, live: server-sent events whose ids are log indices; a client resumes with Last-Event-ID.
        regulators.get("/v1/regulator/occupancy/feed") { request, context, peer -> Response in
            let query = request.uri.queryParameters
            let day: CivilDay
            do { day = try CivilDay(query["day"].map(String.init) ?? hub.passes.calendar.day(of: Date()).description) } catch {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "day is YYYY-MM-DD")
            }
            let resume = request.headers[HTTPField.Name("Last-Event-ID")!] ?? query["last_event_id"].map(String.init)
            var after: UInt64?
            if let resume {
                guard let index = UInt64(resume) else { throw ProblemDetails(status: 400, code: "invalid_query", title: "Last-Event-ID is a log index") }
                after = index
            }
            let seconds = Int(query["max_seconds"] ?? "") ?? 300
            guard (1...300).contains(seconds) else { throw ProblemDetails(status: 400, code: "invalid_query", title: "max_seconds is 1-300") }
            let (snapshot, resumeAt) = try await hub.occupancySnapshot(day: day, after: after, peer: peer)
            let body = ResponseBody { writer in
                var after = resumeAt
                func send(_ event: Hub.OccupancyEvent, name: String) async throws {
                    let data = String(decoding: try StrictJSON.encoder.encode(event), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: (event.index.map { "id: \($0)\n" } ?? "") + "event: \(name)\ndata: \(data)\n\n"))
                }
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                var totals: [String: Occupancy] = [:]
                for event in snapshot {
                    totals[event.park] = Occupancy(entries: event.entries, exits: event.exits)
                    try await send(event, name: "snapshot")
                }
                let end = ContinuousClock.now + .seconds(seconds)
                var quiet = 0
                while ContinuousClock.now < end, !Task.isCancelled {
                    let events = try await hub.occupancyEvents(day: day, after: after, totals: &totals)
                    for event in events { try await send(event, name: "occupancy") }
                    if let last = events.last?.index { after = last }
                    quiet = events.isEmpty ? quiet + 1 : 0
                    // A comment every ~15 s keeps proxies from closing an idle stream.
                    if quiet > 0, quiet % 30 == 0 { try await writer.write(ByteBuffer(string: ": idle\n\n")) }
                    try? await Task.sleep(for: .milliseconds(500))
                }
                try await writer.finish(nil)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
        }
        regulators.put("/v1/regulator/endpoint") { request, context, peer -> Response in
            let body = try await request.decodeStrict(RegulatorEndpointRequest.self, limit: BodyLimit.small)
            try await hub.setRegulatorEndpoint(body.url, peer: peer)
            return Response(status: .noContent)
        }
        // Capacity levels (warnings, days whose sales stopped): every park's, for parks' agents, staff and regulators.
        everyone.get("/v1/capacity") { _, _, peer -> Response in try JSONResponse.make(try await hub.capacityStatus()) }
        // Settlement: clearing staff run, approve and mark paid; parks read their own lines.
        clearing.post("/v1/settlement/batches") { request, context, peer -> Response in
            let body = try await request.decodeStrict(SettlementRunRequest.self, limit: BodyLimit.small)
            let day: CivilDay
            do { day = try CivilDay(body.day) } catch { throw ProblemDetails(status: 400, code: "invalid_body", title: "Invalid day", detail: "\(error)") }
            let record = try await hub.runSettlement(day: day, by: peer.principal)
            return try JSONResponse.make(try await hub.settlementExport(record), status: .created)
        }
        parksAndClearing.get("/v1/settlement/batches") { _, _, peer -> Response in
            let list = try await hub.store.batches().map { record -> SettlementSummary in
                let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
                return SettlementSummary(
                    id: record.id, day: batch.day, state: record.state, obligationCount: batch.obligationCount,
                    grossMinor: batch.grossMinor, netMinor: batch.netMinor, currency: batch.currency)
            }
            return try JSONResponse.make(SettlementList(batches: list))
        }
        parksAndClearing.get("/v1/settlement/batches/:batch") { request, context, peer -> Response in
            let record = try await hub.settlementBatch(context.parameters.get("batch") ?? "")
            let party: String?
            if case .park(let park) = peer.principal { party = park.rawValue } else { party = nil }
            let export = try await hub.settlementExport(record, party: party)
            switch request.uri.queryParameters["format"].map(String.init) {
            case "positions.csv":
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: SettlementCSV.positions(export))))
            case "obligations.csv":
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: SettlementCSV.obligations(export))))
            case nil, "json":
                return try JSONResponse.make(export)
            case let other?:
                throw ProblemDetails(
                    status: 400, code: "invalid_query", title: "Unknown format", detail: "\(other): use json, positions.csv or obligations.csv")
            }
        }
        clearing.post("/v1/settlement/batches/:batch/approve") { _, context, peer -> Response in
            let record = try await hub.approveSettlement(context.parameters.get("batch") ?? "", by: peer.principal)
            return try JSONResponse.make(try await hub.settlementExport(record))
        }
        clearing.post("/v1/settlement/batches/:batch/payments") { request, context, peer -> Response in
            let body = try await request.decodeStrict(SettlementPaymentsRequest.self, limit: BodyLimit.document)
            let record = try await hub.recordSettlementPayments(
                context.parameters.get("batch") ?? "", body.payments, by: peer.principal, reason: body.reason ?? "payment reference recorded by hand")
            return try JSONResponse.make(try await hub.settlementExport(record))
        }
        registerClearing(clearing: clearing, parks: parks, parksAndClearing: parksAndClearing, hub: hub)
        everyone.post("/v1/certificates/renewals") { request, context, peer -> Response in
            let body = try await request.decodeStrict(RenewalRequest.self, limit: BodyLimit.document)
            return try JSONResponse.make(try await hub.renew(peer: peer, request: body), status: .created)
        }
        // The federation operator's API (the console's operator pages call the same rules).
        let operators = HubRouteGroup(router, .operators, hub: hub, book: book)
        operators.post("/v1/operator/enrollment-tokens") { request, _, peer -> Response in
            let body = try await request.decodeStrict(OperatorTokenRequest.self, limit: BodyLimit.small)
            let now = Date()
            let token = try await hub.createEnrollmentToken(park: try ParkID(body.park), name: body.name, now: now, readmit: body.readmit ?? false)
            hub.logger.notice("enrollment token made", metadata: ["park": "\(body.park)", "by": "\(peer.principal)"])
            return try JSONResponse.make(
                OperatorTokenResponse(
                    token: token, park: body.park, expiresAt: now.addingTimeInterval(TimeInterval(hub.configuration.enrollmentTokenHours * 3600))),
                status: .created)
        }
        operators.post("/v1/operator/parks/:park/revocation") { _, context, peer -> Response in
            let park = try ParkID(try context.parameters.identifier("park"))
            let count = try await hub.revoke(park: park)
            hub.logger.notice("park revoked", metadata: ["park": "\(park)", "by": "\(peer.principal)", "certificates": "\(count)"])
            return try JSONResponse.make(OperatorRevocationResponse(park: park.rawValue, certificates: count))
        }
        operators.get("/v1/operator/alarms") { _, _, _ -> Response in
            try JSONResponse.make(try await hub.operatorAlarms())
        }
        console.register(on: router, book: book)
        return (router, book.rules)
    }

    /// Ready when the database answers.
    static func readiness(_ hub: Hub) async throws -> Response {
        do {
            try await hub.store.ping()
            return try JSONResponse.make(HealthResponse(status: "ready", checks: ["database": "ok"]))
        } catch {
            return try JSONResponse.make(HealthResponse(status: "not_ready", checks: ["database": "\(error)"]), status: .serviceUnavailable)
        }
    }

    static func metricsResponse(_ hub: Hub) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: hub.metrics.exposition())))
    }

    /// The operator's plain-HTTP listener for probes and Prometheus: `/healthz`, `/readyz`, `/metrics`.
    /// Bind it to loopback (or a management network) only: it has no client-certificate check.
    public static func opsApplication(
        hub: Hub, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/healthz") { _, _ -> Response in try JSONResponse.make(HealthResponse(status: "ok")) }
        router.get("/readyz") { _, _ -> Response in try await readiness(hub) }
        router.get("/metrics") { _, _ -> Response in metricsResponse(hub) }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "parkfed-hub-ops"),
            onServerRunning: onServerRunning, logger: logger)
    }

    /// The hub application, listening on `host:port` (port 0 picks a free port; `onServerRunning` learns it).
    public static func application(
        hub: Hub,
        host: String,
        port: Int,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        Application(
            router: router(hub: hub),
            server: try limitedServer(hub: hub),
            configuration: .init(address: .hostname(host, port: port), serverName: "parkfed-hub"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}

extension HubServer {
    /// The stack's own limit, for benchmarks: the hub's listener exactly (TLS with client certificates verified
    /// against the federation root, ALPN `h2`, the connection cap and timeouts) and Hummingbird's router, with one
    /// route, `POST /raw`, that reads the body and answers a small JSON document, and no rule and no middleware.
    /// What a real route costs beyond it is ours.
    public static func rawApplication(
        hub: Hub, host: String, port: Int, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router()
        router.post("/raw") { request, _ -> Response in
            _ = try await request.body.collect(upTo: BodyLimit.document)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"decision":"allow"}"#)))
        }
        return Application(
            router: router, server: try limitedServer(hub: hub), configuration: .init(address: .hostname(host, port: port), serverName: "parkfed-raw"),
            onServerRunning: onServerRunning, logger: logger)
    }
}

/// HTTP/2 (ALPN) and HTTP/1.1 over TLS, with the hub's idle timeout and connection cap.
func limitedServer(hub: Hub) throws -> HTTPServerBuilder {
    let tls = try HubServer.tlsConfiguration(directory: hub.directory)
    let idle = hub.configuration.idleTimeoutSeconds
    let limit = ConnectionLimit(maximum: hub.configuration.maxConnections, metrics: hub.metrics)
    return HTTPServerBuilder { responder in
        ConnectionLimitedChannel(
            base: try HTTP2UpgradeChannel(
                tlsConfiguration: tls,
                configuration: .init(
                    idleTimeout: .seconds(idle), gracefulCloseTimeout: .seconds(10),
                    streamConfiguration: .init(idleTimeout: .seconds(Int64(idle)))),
                responder: responder),
            limit: limit, firstByteTimeout: .seconds(Int64(min(idle, 10))))
    }
}

/// Query-string parsing for the log endpoints.
enum LogQuery {
    static func number(_ query: Parameters, _ name: String) throws -> UInt64? {
        guard let text = query[Substring(name)] else { return nil }
        guard let value = UInt64(text) else {
            throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid \(name)", detail: "\(name) must be a non-negative integer")
        }
        return value
    }
}

/// Requires a verified client certificate the hub issued and has not revoked; puts the principal in the context.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let hub: Hub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let der = await context.peerCertificateDER() else {
            throw ProblemDetails(
                status: 401, code: "client_certificate_required", title: "Client certificate required",
                detail: "this endpoint needs mutual TLS with a certificate issued by the federation")
        }
        var context = context
        let peer = try await hub.authenticate(certificateDER: der)
        context.peer = peer
        context.logger[metadataKey: "principal"] = "\(peer.principal)"
        return try await next(request, context)
    }
}
