import Foundation
import Hummingbird
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol

/// The clearing routes after the batch: the calendar, payment files, bank statements, exceptions and disputes.
extension HubServer {
    static func registerClearing(clearing: HubRouteGroup, parks: HubRouteGroup, parksAndClearing: HubRouteGroup, hub: Hub) {
        parksAndClearing.get("/v1/settlement/calendar") { request, _, _ -> Response in
            let query = request.uri.queryParameters
            let today = hub.passes.calendar.day(of: Date())
            let from: CivilDay, to: CivilDay
            do {
                from = try query["from"].map { try CivilDay(String($0)) } ?? today.adding(days: -13)
                to = try query["to"].map { try CivilDay(String($0)) } ?? today
            } catch {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "Invalid date range", detail: "from and to are YYYY-MM-DD")
            }
            return try JSONResponse.make(try await hub.settlementCalendarReport(from: from, to: to))
        }
        clearing.get("/v1/settlement/batches/:batch/files") { request, context, peer -> Response in
            let files = try await hub.paymentFiles(context.parameters.get("batch") ?? "", by: peer.principal)
            func text(_ body: String?, _ type: String, _ what: String) throws -> Response {
                guard let body else { throw ProblemDetails(status: 404, code: "no_such_file", title: "No \(what) in this batch") }
                return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            switch request.uri.queryParameters["format"].map(String.init) {
            case nil, "json": return try JSONResponse.make(files)
            case "pain.001": return try text(files.pain001, "application/xml; charset=utf-8", "pay-outs")
            case "pain.008": return try text(files.pain008, "application/xml; charset=utf-8", "direct debits")
            case "notices.csv": return try text(files.noticesCSV, "text/csv; charset=utf-8", "notices")
            case let other?:
                throw ProblemDetails(
                    status: 400, code: "invalid_query", title: "Unknown format", detail: "\(other): use json, pain.001, pain.008 or notices.csv")
            }
        }
        clearing.post("/v1/settlement/statements") { request, _, peer -> Response in
            let format = request.uri.queryParameters["format"].map(String.init) ?? "camt053"
            guard format == "camt053" || format == "csv" else {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "Unknown format", detail: "format is camt053 or csv")
            }
            let data = try await request.collectBytes(limit: BodyLimit.statement)
            return try JSONResponse.make(try await hub.importStatement(data, format: format, by: peer.principal), status: .created)
        }
        clearing.get("/v1/settlement/exceptions") { request, _, _ -> Response in
            let open = request.uri.queryParameters["state"].map(String.init) == "open"
            return try JSONResponse.make(ClearingExceptionList(exceptions: try await hub.clearingExceptions(open: open)))
        }
        clearing.post("/v1/settlement/exceptions/:id/resolve") { request, context, peer -> Response in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw ProblemDetails(status: 400, code: "invalid_query", title: "An exception id is a number")
            }
            let body = try await request.decodeStrict(ExceptionResolution.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.resolveException(id, reason: body.reason, by: peer.principal))
        }
        parks.post("/v1/settlement/disputes") { request, _, peer -> Response in
            let body = try await request.decodeStrict(DisputeRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.fileDispute(body, by: peer.principal), status: .created)
        }
        parksAndClearing.get("/v1/settlement/disputes") { request, _, peer -> Response in
            let state = request.uri.queryParameters["state"].map(String.init)
            return try JSONResponse.make(DisputeList(disputes: try await hub.disputes(for: peer.principal, state: state)))
        }
        parksAndClearing.get("/v1/settlement/disputes/:id") { _, context, peer -> Response in
            try JSONResponse.make(try await hub.disputeView(try context.parameters.identifier("id"), for: peer.principal))
        }
        clearing.post("/v1/settlement/disputes/:id/decision") { request, context, peer -> Response in
            let body = try await request.decodeStrict(DisputeDecisionRequest.self, limit: BodyLimit.small)
            return try JSONResponse.make(try await hub.decideDispute(try context.parameters.identifier("id"), body, by: peer.principal))
        }
    }
}
