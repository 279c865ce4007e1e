import Foundation
import Hummingbird
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol

/// Clearing staff's pages after the batch: a bank statement pasted and reconciled, the exceptions to resolve with a
/// reason, and the parks' disputes to accept or reject. Each action calls the same rule as its API route.
extension ConsolePages {
    /// The calendar page's notice after a statement was imported (counts only; the statement id as an identifier).
    func flash(_ request: Request, _ words: [String: String]) -> (String, String)? {
        let query = request.uri.queryParameters
        guard query["done"].map(String.init) == "imported" else { return nil }
        let count = { (name: String) in String(Int(query[Substring(name)].map(String.init) ?? "") ?? 0) }
        let statement = (query["statement"].map(String.init) ?? "").filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.prefix(64)
        let exceptions = Int(count("e")) ?? 0
        return (
            PageResponse.format(
                words, "statementImported", ["statement": String(statement), "matched": count("m"), "exceptions": count("e"), "duplicates": count("d")]),
            exceptions == 0 ? "good" : "warn"
        )
    }

    func registerClearing(_ clearing: HubRouteGroup) {
        clearing.post("/console/settlement/statements") { request, _, peer -> Response in
            let form = try await form(request, peer, limit: BodyLimit.statement)
            guard let text = form["statement"], !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw Refusal(.invalid, code: "invalid_statement", title: "The statement is empty")
            }
            let report = try await hub.importStatement(Data(text.utf8), format: form["format"] ?? "camt053", by: peer.principal)
            let counts = Dictionary(grouping: report.lines, by: \.outcome).mapValues(\.count)
            let exceptions = report.lines.count - (counts["matched"] ?? 0) - (counts["duplicate"] ?? 0)
            let statement = report.statement.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Self.redirect(
                "/console/settlement?done=imported&statement=\(statement)&m=\(counts["matched"] ?? 0)&e=\(exceptions)&d=\(counts["duplicate"] ?? 0)")
        }
        clearing.get("/console/settlement/exceptions") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let rows = try await hub.clearingExceptions().map { item -> [String: Any] in
                var row: [String: Any] = [
                    "id": item.id, "state": item.state, "stateLabel": stateLabel(item.state, words),
                    "outcomeLabel": words["outcome_" + item.outcome] ?? item.outcome, "entryRef": item.entryRef,
                    "amount": money(item.direction == "debit" ? -item.amountMinor : item.amountMinor), "batch": item.batch ?? "—",
                    "park": item.park ?? "—", "detail": item.detail,
                ]
                if item.state == "open" { row["open"] = [true] } else { row["resolution"] = item.resolution ?? ""; row["resolvedBy"] = item.resolvedBy ?? "" }
                return row
            }
            let done = request.uri.queryParameters["done"].map(String.init)
            let flash: (String, String)? = done.map { (PageResponse.format(words, "exceptionResolved", ["id": $0]), "good") }
            return page("exceptions", title: "exceptions", request: request, peer: peer, flash: flash, ["exceptions": rows])
        }
        clearing.post("/console/settlement/exceptions/:id/resolve") { request, context, peer -> Response in
            let form = try await form(request, peer)
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw Refusal(.invalid, code: "invalid_query", title: "An exception id is a number")
            }
            let resolved = try await hub.resolveException(id, reason: form["reason"] ?? "", by: peer.principal)
            return Self.redirect("/console/settlement/exceptions?done=\(resolved.id)")
        }
        clearing.get("/console/settlement/disputes") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let rows = try await hub.disputes(for: peer.principal).map { item -> [String: Any] in
                var row: [String: Any] = [
                    "id": item.id, "state": item.state, "stateLabel": stateLabel(item.state, words), "batch": item.batch, "seq": item.seq,
                    "from": item.from, "to": item.to, "amount": money(item.amountMinor), "park": item.park, "reason": item.reason,
                ]
                if item.state == "open" {
                    row["open"] = [true]
                } else {
                    row["decisionReason"] = item.decisionReason ?? ""
                    row["decidedBy"] = item.decidedBy ?? ""
                    row["adjustmentPeriod"] = item.adjustmentPeriod.map { [$0] } ?? []
                }
                return row
            }
            let query = request.uri.queryParameters
            var flash: (String, String)?
            if let id = query["done"].map(String.init), let state = query["state"].map(String.init) {
                flash = (PageResponse.format(words, "disputeDecided", ["id": id, "state": stateLabel(state, words)]), "good")
            }
            return page("disputes", title: "disputes", request: request, peer: peer, flash: flash, ["disputes": rows])
        }
        clearing.post("/console/settlement/disputes/:id/decision") { request, context, peer -> Response in
            let form = try await form(request, peer)
            let id = try context.parameters.identifier("id")
            let decided = try await hub.decideDispute(
                id, DisputeDecisionRequest(decision: form["decision"] ?? "", reason: form["reason"] ?? ""), by: peer.principal)
            return Self.redirect("/console/settlement/disputes?done=\(decided.id)&state=\(decided.state)")
        }
    }
}
