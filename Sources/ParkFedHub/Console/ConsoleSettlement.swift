import Foundation
import Hummingbird
import ParkFedCrypto
import ParkFedDomain
import ParkFedHTTP
import ParkFedProtocol
import ParkFedStore

/// Clearing staff's pages: the settlement calendar, a batch (positions chart, gross matrix, approve, payments,
/// downloads), a park's obligations, and the log entry behind an obligation with its inclusion proof checked.
extension ConsolePages {
    func stateLabel(_ state: String, _ words: [String: String]) -> String {
        words["state" + state.prefix(1).uppercased() + state.dropFirst()] ?? state
    }

    func registerSettlement(_ clearing: HubRouteGroup) {
        clearing.get("/console/settlement") { request, _, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let batches = try await hub.store.batches()
            let today = hub.passes.calendar.day(of: Date())
            // The days since the first batch (at most 62 back), and the open ones up to today (today cannot be closed).
            let first = max(batches.map(\.day).min() ?? today.adding(days: -6), today.adding(days: -61))
            let calendar = try await hub.settlementCalendarReport(from: min(first, today.adding(days: -6)), to: today)
            let figures = Dictionary(
                try batches.map { record in (record.id, try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))) },
                uniquingKeysWith: { first, _ in first })
            var rows: [[String: Any]] = []
            for day in calendar.days.reversed() {
                var row: [String: Any] = [
                    "day": day.day, "state": day.state, "stateLabel": stateLabel(day.state, words), "paymentDay": day.paymentDay,
                    "exceptions": day.openExceptions, "disputes": day.openDisputes,
                ]
                if let id = day.batch, let batch = figures[id] {
                    // A day folded into a later batch links to that batch; its figures are shown once, on its own day.
                    row["batch"] = id
                    if batch.day == day.day {
                        row["count"] = batch.obligationCount
                        row["gross"] = money(batch.grossMinor)
                        row["net"] = money(batch.netMinor)
                        row["reduction"] = String(format: "%.2f %%", Double(batch.reductionBasisPoints) / 100)
                    }
                } else if day.state == SettlementDayState.open.rawValue {
                    row["closable"] = day.day < today.description
                }
                rows.append(row)
            }
            let open = try await hub.store.openCounts()
            return page(
                "settlement", title: "settlementCalendar", request: request, peer: peer, flash: flash(request, words),
                [
                    "days": rows, "timeZone": hub.configuration.timeZone,
                    "openExceptions": try await hub.clearingExceptions(open: true).count,
                    "openDisputes": open.disputes.values.reduce(0, +),
                ])
        }
        clearing.post("/console/settlement/run") { request, _, peer -> Response in
            let form = try await form(request, peer)
            guard let text = form["day"], let day = try? CivilDay(text) else {
                throw Refusal(.invalid, code: "invalid_body", title: "Invalid day", detail: "day is YYYY-MM-DD")
            }
            let record = try await hub.runSettlement(day: day, by: peer.principal)
            return Self.redirect("/console/settlement/\(record.id)?done=closed")
        }
        clearing.get("/console/settlement/:batch") { request, context, peer -> Response in
            try await batchPage(request, context.parameters.get("batch") ?? "", peer: peer)
        }
        clearing.get("/console/settlement/:batch/parks/:park") { request, context, peer -> Response in
            let record = try await hub.settlementBatch(context.parameters.get("batch") ?? "")
            let park = try context.parameters.identifier("park")
            let export = try await hub.settlementExport(record)
            let lines = export.obligations.filter { $0.from == park || $0.to == park }.map { line -> [String: Any] in
                [
                    "seq": line.seq, "from": line.from, "to": line.to, "amount": money(line.amountMinor), "reason": line.reason,
                    "reference": line.reference, "assertions": line.assertionIDs,
                ]
            }
            return page("party", title: "obligations", request: request, peer: peer, ["id": record.id, "park": park, "obligations": lines])
        }
        clearing.get("/console/settlement/:batch/approve") { request, context, peer -> Response in
            let words = ConsoleText.words(Self.language(request).0)
            let record = try await hub.settlementBatch(context.parameters.get("batch") ?? "")
            let batch = try StrictJSON.decode(SettlementBatch.self, from: Data(record.body.utf8))
            return page(
                "confirm", title: "confirmApprove", request: request, peer: peer,
                [
                    "heading": words["confirmApprove"]!,
                    "text": PageResponse.format(words, "confirmApproveText", ["batch": record.id, "net": money(batch.netMinor)]),
                    "action": "/console/settlement/\(record.id)/approve", "button": words["approve"]!, "buttonClass": "",
                    "back": "/console/settlement/\(record.id)", "fields": [[String: String]](),
                ])
        }
        clearing.post("/console/settlement/:batch/approve") { request, context, peer -> Response in
            let form = try await form(request, peer)
            guard form["confirm"] == "yes" else { throw Refusal(.invalid, code: "not_confirmed", title: "Not confirmed") }
            let record = try await hub.approveSettlement(context.parameters.get("batch") ?? "", by: peer.principal)
            return Self.redirect("/console/settlement/\(record.id)?done=approved")
        }
        clearing.post("/console/settlement/:batch/payments") { request, context, peer -> Response in
            let form = try await form(request, peer)
            let id = context.parameters.get("batch") ?? ""
            let payments = form.fields.compactMap { name, value -> SettlementExport.Payment? in
                guard name.hasPrefix("ref-"), !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
                return SettlementExport.Payment(park: String(name.dropFirst(4)), reference: value.trimmingCharacters(in: .whitespaces))
            }.sorted { $0.park < $1.park }
            let record = try await hub.recordSettlementPayments(id, payments, by: peer.principal, reason: form["reason"] ?? "")
            return Self.redirect("/console/settlement/\(record.id)?done=paid")
        }
        clearing.get("/console/log/:id") { request, context, peer -> Response in
            let id = try context.parameters.identifier("id")
            guard let entry = try await hub.store.logEntry(id: id) else {
                throw Refusal(.notFound, code: "unknown_entry", title: "No such log entry", detail: "no entry \(id) in the log")
            }
            // The inclusion proof against the latest signed checkpoint, checked here as an outside verifier would.
            var proven = false, treeSize: UInt64 = 0
            if let checkpoint = try await hub.store.latestCheckpoint(), checkpoint.treeSize > entry.index,
                let proof = try await hub.log.inclusionProof(index: entry.index, treeSize: checkpoint.treeSize)
            {
                treeSize = checkpoint.treeSize
                proven = MerkleProofs.verifyInclusion(
                    index: entry.index, size: checkpoint.treeSize, leafHash: entry.leafHash,
                    proof: proof.proof.compactMap { Data(base64Encoded: $0) }, root: checkpoint.rootHash)
            }
            let type = (try? JWS(compact: entry.jws)).flatMap { try? Assertions.decodePayload($0).type.rawValue } ?? "hub statement"
            return page(
                "entry", title: "logEntry", request: request, peer: peer,
                [
                    "index": entry.index, "id": entry.id, "park": entry.park, "type": type, "leafHash": entry.leafHash.base64EncodedString(),
                    "proven": proven, "treeSize": treeSize, "jws": entry.jws,
                ])
        }
    }

    func batchPage(_ request: Request, _ id: String, peer: AuthenticatedPeer) async throws -> Response {
        let words = ConsoleText.words(Self.language(request).0)
        let record = try await hub.settlementBatch(id)
        let export = try await hub.settlementExport(record)
        let batch = export.batch
        let references = Dictionary(export.payments.map { ($0.park, $0.reference) }, uniquingKeysWith: { first, _ in first })
        let clearingState = try await hub.store.clearingState(record.id)
        let positions = batch.positions.map { position -> [String: Any] in
            let source = clearingState.paidBy[position.park].map { words[$0 == "statement" ? "paidByStatement" : "paidByHand"] ?? $0 } ?? ""
            return ["park": position.park, "net": money(position.netMinor), "reference": references[position.park] ?? "", "id": record.id, "source": source]
        }
        var files: [String: Any]?
        if record.state != "draft", let run = try? await hub.paymentRun(record.id) {
            var entry: [String: Any] = ["id": record.id, "paymentDay": run.paymentDay.description]
            if !run.payouts.isEmpty { entry["pain001"] = [true] }
            if !run.collections.isEmpty { entry["pain008"] = [true] }
            files = entry
        }
        let adjustments = export.adjustments.map { line -> [String: Any] in
            [
                "seq": line.seq, "dispute": line.dispute, "originalBatch": line.originalBatch, "originalSeq": line.originalSeq, "from": line.from,
                "to": line.to, "amount": money(line.amountMinor), "assertions": line.assertionIDs,
            ]
        }
        let parties = Array(Set(export.pairs.flatMap { [$0.from, $0.to] }).union(batch.positions.map(\.park))).sorted()
        let gross = Dictionary(export.pairs.map { ("\($0.from)>\($0.to)", $0.grossMinor) }, uniquingKeysWith: +)
        let matrix = parties.map { from -> [String: Any] in
            ["from": from, "cells": parties.map { to in gross["\(from)>\(to)"].map(money) ?? "" }]
        }
        let chart = PageCharts.signedBars(batch.positions.map { ($0.park, $0.netMinor, money($0.netMinor)) })
        let payers = batch.positions.filter { $0.netMinor != 0 && $0.park != Netting.hubParty && references[$0.park] == nil }.map { position -> [String: Any] in
            ["park": position.park, "net": money(position.netMinor), "reference": references[position.park] ?? ""]
        }
        let done = request.uri.queryParameters["done"].map(String.init)
        let flash: (String, String)? =
            switch done {
            case "approved": (PageResponse.format(words, "approved", ["batch": record.id]), "good")
            case "paid": (PageResponse.format(words, "paymentsRecorded", ["state": stateLabel(record.state, words)]), "good")
            case "closed": (PageResponse.format(words, "dayClosed", ["day": batch.day, "batch": record.id]), "good")
            default: nil
            }
        return page(
            "batch", title: "batch", request: request, peer: peer, flash: flash,
            [
                "id": record.id, "state": record.state, "stateLabel": stateLabel(record.state, words), "gross": money(batch.grossMinor),
                "net": money(batch.netMinor), "reduction": String(format: "%.2f %%", Double(batch.reductionBasisPoints) / 100),
                "count": batch.obligationCount, "treeSize": batch.checkpoint.treeSize, "approvedBy": record.approvedBy.map { [$0] } ?? [],
                "positions": positions, "parties": parties, "matrix": matrix, "chart": chart, "payers": payers,
                "canApprove": record.state == "draft", "canPay": record.state == "approved",
                "ranBy": try await hub.store.runners(record.id).joined(separator: ", "), "files": files.map { [$0] } ?? [],
                "adjustments": adjustments, "hasAdjustments": adjustments.isEmpty ? [] : [true],
            ])
    }
}
