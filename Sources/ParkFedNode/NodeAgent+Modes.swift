import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Emergency gate modes: fast-check for peak hours (signature and validity only; every entry recorded and sent to
/// the hub, which reports the ones it would have refused as conflicts) and evacuation (every gate open, nothing
/// checked or counted). Switched by an operator device or the park operator's command, each change logged with who
/// and why; the current mode is in the status and the metrics and survives restarts.
extension NodeAgent {
    public var mode: GateMode { gateMode.withLockedValue({ $0 }) }

    /// The mode as the store has it, re-read at most once a second, so that a change made by the operator's command
    /// (another process) reaches the running gates within a second.
    func currentMode(now: ContinuousClock.Instant = .now) async -> GateMode {
        if let checked = gateModeCheckedAt.withLockedValue({ $0 }), now - checked < .seconds(1) { return gateMode.withLockedValue({ $0 }) }
        gateModeCheckedAt.withLockedValue { $0 = now }
        if let last = try? await store.modeChanges(limit: 1).first, let mode = GateMode(rawValue: last.mode) { gateMode.withLockedValue { $0 = mode } }
        return gateMode.withLockedValue({ $0 })
    }

    /// Switches the park's gate mode and logs the change (who, why, when).
    public func setMode(_ mode: GateMode, by: String, reason: String, now: Date = Date()) async throws {
        do { try Check.text(reason, "reason", max: 200) } catch { throw Self.problem(.invalid, "invalid_body", "A reason is required", error.message) }
        try await store.recordModeChange(mode: mode.rawValue, by: by, reason: reason, now: now)
        let previous = gateMode.withLockedValue({ $0 })
        gateMode.withLockedValue { $0 = mode }
        logger.notice("gate mode changed", metadata: ["from": "\(previous.rawValue)", "to": "\(mode.rawValue)", "by": "\(by)", "reason": "\(reason)"])
    }

    /// The decision in an emergency mode, or nil in normal mode.
    func emergencyDecision(_ request: GateScanRequest, now: Date) async throws -> GateDecision? {
        switch await currentMode() {
        case .normal:
            return nil
        case .evacuation:
            return GateDecision(decision: .allow, message: "", mode: .evacuation).localized(.en)
        case .fastCheck:
            return try await fastCheck(request, now: now)
        }
    }

    /// Signature, trust list, product and the pass's dates only; the entry is recorded and goes to the hub as an
    /// offline entry, where one the hub would have refused is kept as a conflict.
    func fastCheck(_ request: GateScanRequest, now: Date) async throws -> GateDecision {
        let (code, product): (PassCode, ComboProduct)
        switch verifyCode(request.code) {
        case .failure(let refusal): return deny(refusal, code: nil, mode: .fastCheck)
        case .success(let verified): (code, product) = verified
        }
        let day = calendar.day(of: now), hour = calendar.hour(of: now)
        let pass = ComboPass(
            id: code.passID, product: product, issuer: code.issuer, validFrom: code.validFrom, validUntil: code.validUntil,
            generation: code.generation, slot: code.payload.slot)
        if let refusal = pass.fastCheck(at: park, on: day) { return deny(refusal, code: code, mode: .fastCheck) }
        let entryID = UUIDv7.make(now: now)
        let redeemed = PassRedeemed(passID: code.passID, issuerPark: code.issuer, gate: request.gate, enteredAt: now, offline: true, code: code.text)
        let (_, jws) = try Assertions.sign(.passRedeemed(redeemed), park: park, key: signingKey, now: now, id: entryID)
        _ = try await store.reserveEntry(passID: code.passID, day: day, hour: hour, type: AssertionType.passRedeemed.rawValue, offline: true) {
            _ -> Result<GateEntryRecord, PassRefusal> in
            .success(
                GateEntryRecord(
                    entryID: entryID, passID: code.passID, gate: request.gate, day: day, hour: hour, enteredAt: now, jws: jws.compact,
                    heads: code.heads))
        }
        outboxWakeUp.signal()
        return allow(code: code, product: product, entriesLeft: nil, usableUntil: nil, mode: .fastCheck, entryID: entryID)
    }
}
