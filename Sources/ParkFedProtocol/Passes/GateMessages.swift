import Foundation

/// `POST /v1/gate/scans` (node agent, gate devices): a scanned code at a named gate.
public struct GateScanRequest: Codable, Sendable {
    public var code: String
    public var gate: String

    public init(code: String, gate: String) {
        self.code = code
        self.gate = gate
    }
}

/// The gate's answer: allow or deny, a machine reason, a human message, the masked holder name, entries left.
public struct GateDecision: Codable, Sendable, Hashable {
    public enum Decision: String, Codable, Sendable { case allow, deny }
    /// How the entry was decided: with the hub's answer (`online`) or on the node's own state alone (`offline`: the
    /// hub was unreachable, or local facts already refused).
    /// How the gate decided: with the hub, on local state, in fast-check (signature and validity only, counted
    /// later), or in evacuation (open, nothing checked or counted).
    public enum Mode: String, Codable, Sendable { case online, offline, fastCheck = "fast_check", evacuation }
    public var decision: Decision
    public var reason: String?
    public var message: String
    public var passID: String?
    public var product: String?
    public var holderNameMasked: String?
    public var entriesLeft: Int?
    public var usableUntil: String?
    public var mode: Mode
    public var entryID: String?
    /// The ticket category when not `full`; for a concession, the document the gate must see (`check_proof`).
    public var category: String?
    public var checkProof: String?
    /// The heads this scan admits (groups).
    public var heads: Int?
    /// People inside now, and the instantaneous capacity, when the park has one (on `capacity_full_now` the visitor
    /// waits until exits free a place).
    public var occupancy: Int?
    public var capacityNow: Int?

    public init(
        decision: Decision, reason: String? = nil, message: String, passID: String? = nil, product: String? = nil,
        holderNameMasked: String? = nil, entriesLeft: Int? = nil, usableUntil: String? = nil, mode: Mode, entryID: String? = nil,
        category: String? = nil, checkProof: String? = nil, heads: Int? = nil
    ) {
        self.category = category
        self.checkProof = checkProof
        self.heads = heads
        self.decision = decision
        self.reason = reason
        self.message = message
        self.passID = passID
        self.product = product
        self.holderNameMasked = holderNameMasked
        self.entriesLeft = entriesLeft
        self.usableUntil = usableUntil
        self.mode = mode
        self.entryID = entryID
    }

    enum CodingKeys: String, CodingKey {
        case decision, reason, message, product, mode
        case passID = "pass_id"
        case holderNameMasked = "holder_name_masked"
        case entriesLeft = "entries_left"
        case usableUntil = "usable_until"
        case entryID = "entry_id"
        case category, heads, occupancy
        case checkProof = "check_proof"
        case capacityNow = "capacity_now"
    }
}

/// `POST /v1/gate/exits` at the node agent: people an exit gate counted leaving (1 for an exit scan, or a counting
/// gate's count for its interval).
public struct GateExitRequest: Codable, Sendable {
    public var gate: String
    public var count: Int
    public init(gate: String, count: Int = 1) {
        self.gate = gate
        self.count = count
    }
}

/// People inside a park now (entries less exits today) against its instantaneous capacity.
public struct OccupancyView: Codable, Sendable, Hashable {
    public var park: String
    public var day: String
    public var inside: Int
    public var entries: Int
    public var exits: Int
    public var capacityNow: Int?
    public init(park: String, day: String, inside: Int, entries: Int, exits: Int, capacityNow: Int?) {
        self.park = park
        self.day = day
        self.inside = inside
        self.entries = entries
        self.exits = exits
        self.capacityNow = capacityNow
    }
    enum CodingKeys: String, CodingKey {
        case park, day, inside, entries, exits
        case capacityNow = "capacity_now"
    }
}

/// A real-name holder as a window or kiosk enters it: full name and ID document (kept out of QR codes and logs).
public struct HolderInput: Codable, Sendable, Hashable {
    public var name: String
    public var idType: String
    public var idNumber: String

    public init(name: String, idType: String, idNumber: String) {
        self.name = name
        self.idType = idType
        self.idNumber = idNumber
    }

    enum CodingKeys: String, CodingKey {
        case name
        case idType = "id_type"
        case idNumber = "id_number"
    }
}

/// `POST /v1/sales` (node agent, window and kiosk devices): sell a combo pass.
public struct PassSaleRequest: Codable, Sendable {
    public var product: String
    public var channel: String
    /// The real-name holder; omitted exactly for a product sold without real name.
    public var holder: HolderInput?
    /// The visit date (default: today in the federation's time zone).
    public var date: String?
    /// The ticket category (default `full`), the heads of a group, and the entry window of a timed product.
    public var category: String?
    public var heads: Int?
    public var slot: String?

    public init(
        product: String, channel: String, holder: HolderInput?, date: String? = nil, category: String? = nil, heads: Int? = nil,
        slot: String? = nil
    ) {
        self.category = category
        self.heads = heads
        self.slot = slot
        self.product = product
        self.channel = channel
        self.holder = holder
        self.date = date
    }
}

/// The sold pass: its code (for the QR), where to fetch the QR image, and what the visitor is told.
public struct PassSaleResponse: Codable, Sendable, Hashable {
    public var passID: String
    public var code: String
    public var qrVersion: Int
    public var product: String
    public var holderNameMasked: String
    public var idNumberMasked: String
    public var validFrom: String
    public var validUntil: String
    public var priceMinor: Int64
    public var currency: String
    public var generation: Int
    public var category: String?
    public var heads: Int?
    public var slot: String?
    public var stockSerial: String?

    public init(
        passID: String, code: String, qrVersion: Int, product: String, holderNameMasked: String, idNumberMasked: String,
        validFrom: String, validUntil: String, priceMinor: Int64, currency: String, generation: Int,
        category: String? = nil, heads: Int? = nil, slot: String? = nil, stockSerial: String? = nil
    ) {
        self.category = category
        self.heads = heads
        self.slot = slot
        self.stockSerial = stockSerial
        self.passID = passID
        self.code = code
        self.qrVersion = qrVersion
        self.product = product
        self.holderNameMasked = holderNameMasked
        self.idNumberMasked = idNumberMasked
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.priceMinor = priceMinor
        self.currency = currency
        self.generation = generation
    }

    enum CodingKeys: String, CodingKey {
        case code, product, currency, generation, category, heads, slot
        case stockSerial = "stock_serial"
        case passID = "pass_id"
        case qrVersion = "qr_version"
        case holderNameMasked = "holder_name_masked"
        case idNumberMasked = "id_number_masked"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case priceMinor = "price_minor"
    }
}

/// `POST /v1/sales/{id}/refund` (node agent, window devices).
public struct PassRefundOrder: Codable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// The refund made: the amount returned to the visitor.
public struct PassRefundResult: Codable, Sendable, Hashable {
    public var passID: String
    public var refundedMinor: Int64
    public var currency: String

    public init(passID: String, refundedMinor: Int64, currency: String) {
        self.passID = passID
        self.refundedMinor = refundedMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case passID = "pass_id"
        case refundedMinor = "refunded_minor"
    }
}

/// `POST /v1/sales/{id}/transfer` (node agent, window devices): to a new named holder at a resale price.
public struct PassTransferOrder: Codable, Sendable {
    public var newHolder: HolderInput
    public var resalePriceMinor: Int64

    public init(newHolder: HolderInput, resalePriceMinor: Int64) {
        self.newHolder = newHolder
        self.resalePriceMinor = resalePriceMinor
    }

    enum CodingKeys: String, CodingKey {
        case newHolder = "new_holder"
        case resalePriceMinor = "resale_price_minor"
    }
}

/// A park's gate mode. `fastCheck`: peak hours; gates check the signature and validity only, record every entry and
/// reconcile later (the hub reports entries it would have refused as conflicts). `evacuation`: every gate opens,
/// nothing is checked and entries stop being counted.
public enum GateMode: String, Codable, Sendable, CaseIterable {
    case normal
    case fastCheck = "fast_check"
    case evacuation
}

/// `PUT /v1/mode` (node; operator devices): switch the park's gate mode, with a reason that is logged.
public struct GateModeRequest: Codable, Sendable {
    public var mode: GateMode
    public var reason: String
    public init(mode: GateMode, reason: String) {
        self.mode = mode
        self.reason = reason
    }
}

/// `POST /v1/sales/{pass}/reissue` (node; window devices): a lost ticket re-issued to its holder, who proves it with
/// the document the pass was sold to. The old code is revoked at once; the new one carries the remaining entries.
public struct PassReissueOrder: Codable, Sendable {
    public var holder: HolderInput
    public init(holder: HolderInput) { self.holder = holder }
}

extension GateDecision {
    /// The message in `language`, from the message catalogue: built from the decision itself (reason, holder,
    /// entries left, mode), so every gate answer exists in every language.
    public func localized(_ language: MessageCatalog.Language) -> GateDecision {
        var copy = self
        let name = holderNameMasked ?? ""
        switch (decision, mode) {
        case (.allow, .evacuation): copy.message = MessageCatalog.text("gate.evacuation", language)
        case (.allow, .fastCheck): copy.message = MessageCatalog.text("gate.allow.fast_check", language, ["name": name])
        case (.allow, _):
            let left = entriesLeft ?? 0
            copy.message = MessageCatalog.text(left == 1 ? "gate.allow.one" : "gate.allow", language, ["name": name, "left": "\(left)"])
        case (.deny, _):
            let key = "gate.deny.\(reason ?? "forged")"
            copy.message = MessageCatalog.has(key) ? MessageCatalog.text(key, language) : message
        }
        if decision == .allow, mode != .evacuation {
            if let heads, heads > 1 { copy.message += " " + MessageCatalog.text("gate.group", language, ["heads": "\(heads)"]) }
            if let checkProof { copy.message += " " + MessageCatalog.text("gate.check_proof", language, ["proof": checkProof]) }
        }
        return copy
    }
}
