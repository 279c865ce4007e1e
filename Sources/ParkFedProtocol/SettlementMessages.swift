import Foundation

/// A settlement batch as the hub signs it: the business day, the log checkpoint it covers, the gross per ordered
/// pair, the bilateral and multilateral nets, and the range of obligations it takes (every obligation of the open
/// days up to `day`; the export lists each with the assertion ids it came from).
public struct SettlementBatch: Codable, Sendable, Hashable {
    public struct Checkpoint: Codable, Sendable, Hashable {
        public var treeSize: UInt64
        public var rootHash: String
        public init(treeSize: UInt64, rootHash: String) {
            self.treeSize = treeSize
            self.rootHash = rootHash
        }
        enum CodingKeys: String, CodingKey {
            case treeSize = "tree_size"
            case rootHash = "root_hash"
        }
    }
    public struct Position: Codable, Sendable, Hashable {
        public var park: String
        /// Receivers positive, payers negative; `hub` receives the fees.
        public var netMinor: Int64
        public init(park: String, netMinor: Int64) {
            self.park = park
            self.netMinor = netMinor
        }
        enum CodingKeys: String, CodingKey {
            case park
            case netMinor = "net_minor"
        }
    }
    public struct Pair: Codable, Sendable, Hashable {
        public var from: String
        public var to: String
        public var grossMinor: Int64
        public var count: Int
        public var feeMinor: Int64
        public init(from: String, to: String, grossMinor: Int64, count: Int, feeMinor: Int64) {
            self.from = from
            self.to = to
            self.grossMinor = grossMinor
            self.count = count
            self.feeMinor = feeMinor
        }
        enum CodingKeys: String, CodingKey {
            case from, to, count
            case grossMinor = "gross_minor"
            case feeMinor = "fee_minor"
        }
    }
    public struct Bilateral: Codable, Sendable, Hashable {
        public var from: String
        public var to: String
        public var netMinor: Int64
        public init(from: String, to: String, netMinor: Int64) {
            self.from = from
            self.to = to
            self.netMinor = netMinor
        }
        enum CodingKeys: String, CodingKey {
            case from, to
            case netMinor = "net_minor"
        }
    }

    public var id: String
    public var federation: String
    public var day: String
    /// Obligations of the days after this one (the last closed day) up to `day` are in the batch.
    public var after: String?
    public var currency: String
    public var timeZone: String
    public var checkpoint: Checkpoint
    public var feeBasisPoints: Int
    public var obligationCount: Int
    public var grossMinor: Int64
    public var netMinor: Int64
    public var feeMinor: Int64
    /// 1 − net ÷ gross, in basis points (an integer, so the signed bytes never depend on float formatting).
    public var reductionBasisPoints: Int
    public var positions: [Position]
    /// How many ordered pairs of parks owed each other, and the SHA-256 (hex) of their canonical listing
    /// (``pairsDigest(_:)``): the export lists the pairs, and anyone can check them against this signed digest.
    public var pairCount: Int
    public var pairsDigest: String

    public init(
        id: String, federation: String, day: String, after: String?, currency: String, timeZone: String, checkpoint: Checkpoint,
        feeBasisPoints: Int, obligationCount: Int, grossMinor: Int64, netMinor: Int64, feeMinor: Int64, reductionBasisPoints: Int,
        positions: [Position], pairCount: Int, pairsDigest: String
    ) {
        self.id = id
        self.federation = federation
        self.day = day
        self.after = after
        self.currency = currency
        self.timeZone = timeZone
        self.checkpoint = checkpoint
        self.feeBasisPoints = feeBasisPoints
        self.obligationCount = obligationCount
        self.grossMinor = grossMinor
        self.netMinor = netMinor
        self.feeMinor = feeMinor
        self.reductionBasisPoints = reductionBasisPoints
        self.positions = positions
        self.pairCount = pairCount
        self.pairsDigest = pairsDigest
    }

    /// The canonical listing of pairs the batch signs a digest of: `from,to,gross_minor,count,fee_minor\n` per pair,
    /// in (from, to) order.
    public static func pairsListing(_ pairs: [Pair]) -> String {
        var text = ""
        text.reserveCapacity(pairs.count * 40)
        for pair in pairs {
            text += pair.from; text += ","; text += pair.to; text += ","; text += String(pair.grossMinor); text += ","
            text += String(pair.count); text += ","; text += String(pair.feeMinor); text += "\n"
        }
        return text
    }

    enum CodingKeys: String, CodingKey {
        case id, federation, day, after, currency, checkpoint, positions
        case pairCount = "pair_count"
        case pairsDigest = "pairs_digest"
        case timeZone = "time_zone"
        case feeBasisPoints = "fee_bps"
        case obligationCount = "obligation_count"
        case grossMinor = "gross_minor"
        case netMinor = "net_minor"
        case feeMinor = "fee_minor"
        case reductionBasisPoints = "reduction_bps"
    }

    /// The JWS `typ` of signed batches.
    public static let jwsType = "parkfed-settlement+jwt"
}

/// One obligation line of a batch export: `from` owes `to`.
public struct SettlementObligation: Codable, Sendable, Hashable {
    public var seq: Int64
    public var from: String
    public var to: String
    public var amountMinor: Int64
    public var feeMinor: Int64
    public var reason: String
    public var reference: String
    public var assertionIDs: [String]
    public var period: String

    public init(
        seq: Int64, from: String, to: String, amountMinor: Int64, feeMinor: Int64, reason: String, reference: String, assertionIDs: [String], period: String
    ) {
        self.seq = seq
        self.from = from
        self.to = to
        self.amountMinor = amountMinor
        self.feeMinor = feeMinor
        self.reason = reason
        self.reference = reference
        self.assertionIDs = assertionIDs
        self.period = period
    }

    enum CodingKeys: String, CodingKey {
        case seq, from, to, reason, reference, period
        case amountMinor = "amount_minor"
        case feeMinor = "fee_minor"
        case assertionIDs = "assertion_ids"
    }
}

/// An adjustment line of a batch: an accepted dispute reversing an obligation of an earlier batch. It is shown in
/// the original obligation's direction with the opposite sign (`amount_minor` negative): the payer of the original
/// gets back what it paid, the receiver gives back what it got, and the hub (`to: hub`) its fee.
public struct SettlementAdjustment: Codable, Sendable, Hashable {
    public var seq: Int64
    public var dispute: String
    public var originalSeq: Int64
    public var originalBatch: String
    public var from: String
    public var to: String
    public var amountMinor: Int64
    public var assertionIDs: [String]
    public var period: String

    public init(
        seq: Int64, dispute: String, originalSeq: Int64, originalBatch: String, from: String, to: String, amountMinor: Int64, assertionIDs: [String],
        period: String
    ) {
        self.seq = seq
        self.dispute = dispute
        self.originalSeq = originalSeq
        self.originalBatch = originalBatch
        self.from = from
        self.to = to
        self.amountMinor = amountMinor
        self.assertionIDs = assertionIDs
        self.period = period
    }

    enum CodingKeys: String, CodingKey {
        case seq, dispute, from, to, period
        case originalSeq = "original_seq"
        case originalBatch = "original_batch"
        case amountMinor = "amount_minor"
        case assertionIDs = "assertion_ids"
    }
}

/// The settlement export (`settlement-YYYY-MM-DD.json`, `GET /v1/settlement/batches/{id}`): the signed batch, its
/// state, the hub's JWS over the batch, payments, and every obligation (for a park: only the lines about it).
public struct SettlementExport: Codable, Sendable, Hashable {
    public struct Payment: Codable, Sendable, Hashable {
        public var park: String
        public var reference: String
        public init(park: String, reference: String) {
            self.park = park
            self.reference = reference
        }
    }
    public var batch: SettlementBatch
    public var state: String
    public var approvedBy: String?
    public var signature: String
    public var payments: [Payment]
    /// Gross per ordered pair (their digest is signed in the batch) and the bilateral nets.
    public var pairs: [SettlementBatch.Pair]
    public var bilateral: [SettlementBatch.Bilateral]
    public var obligations: [SettlementObligation]
    /// Accepted disputes of earlier batches reversed in this one, apart from the day's own obligations.
    public var adjustments: [SettlementAdjustment]

    public init(
        batch: SettlementBatch, state: String, approvedBy: String?, signature: String, payments: [Payment],
        pairs: [SettlementBatch.Pair], bilateral: [SettlementBatch.Bilateral], obligations: [SettlementObligation],
        adjustments: [SettlementAdjustment] = []
    ) {
        self.adjustments = adjustments
        self.pairs = pairs
        self.bilateral = bilateral
        self.batch = batch
        self.state = state
        self.approvedBy = approvedBy
        self.signature = signature
        self.payments = payments
        self.obligations = obligations
    }

    enum CodingKeys: String, CodingKey {
        case batch, state, signature, payments, obligations
        case approvedBy = "approved_by"
    }

    // The flat view: day, currency, gross_minor, net_minor, positions at the top level too.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FlatKeys.self)
        try container.encode(batch.id, forKey: .id)
        try container.encode(batch.day, forKey: .day)
        try container.encode(batch.currency, forKey: .currency)
        try container.encode(batch.grossMinor, forKey: .grossMinor)
        try container.encode(batch.netMinor, forKey: .netMinor)
        try container.encode(batch.positions, forKey: .positions)
        try container.encode(batch, forKey: .batch)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(approvedBy, forKey: .approvedBy)
        try container.encode(signature, forKey: .signature)
        try container.encode(payments, forKey: .payments)
        try container.encode(pairs, forKey: .pairs)
        try container.encode(bilateral, forKey: .bilateral)
        try container.encode(obligations, forKey: .obligations)
        try container.encode(adjustments, forKey: .adjustments)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FlatKeys.self)
        batch = try container.decode(SettlementBatch.self, forKey: .batch)
        state = try container.decode(String.self, forKey: .state)
        approvedBy = try container.decodeIfPresent(String.self, forKey: .approvedBy)
        signature = try container.decode(String.self, forKey: .signature)
        payments = try container.decode([Payment].self, forKey: .payments)
        pairs = try container.decode([SettlementBatch.Pair].self, forKey: .pairs)
        bilateral = try container.decode([SettlementBatch.Bilateral].self, forKey: .bilateral)
        obligations = try container.decode([SettlementObligation].self, forKey: .obligations)
        adjustments = try container.decodeIfPresent([SettlementAdjustment].self, forKey: .adjustments) ?? []
        _ = try container.decode(String.self, forKey: .day)
    }

    enum FlatKeys: String, CodingKey {
        case id, day, currency, positions, batch, state, signature, payments, obligations, pairs, bilateral, adjustments
        case grossMinor = "gross_minor"
        case netMinor = "net_minor"
        case approvedBy = "approved_by"
    }
}

/// `POST /v1/settlement/batches` (clearing): close a business day.
public struct SettlementRunRequest: Codable, Sendable {
    public var day: String
    public init(day: String) { self.day = day }
}

/// `POST /v1/settlement/batches/{id}/payments` (clearing): payment references per park.
public struct SettlementPaymentsRequest: Codable, Sendable {
    public var payments: [SettlementExport.Payment]
    /// Why the positions are marked paid by hand (recorded with who did it).
    public var reason: String?
    public init(payments: [SettlementExport.Payment], reason: String? = nil) {
        self.payments = payments
        self.reason = reason
    }
}

/// What a settlement batch says in a short list.
public struct SettlementSummary: Codable, Sendable, Hashable {
    public var id: String
    public var day: String
    public var state: String
    public var obligationCount: Int
    public var grossMinor: Int64
    public var netMinor: Int64
    public var currency: String

    public init(id: String, day: String, state: String, obligationCount: Int, grossMinor: Int64, netMinor: Int64, currency: String) {
        self.id = id
        self.day = day
        self.state = state
        self.obligationCount = obligationCount
        self.grossMinor = grossMinor
        self.netMinor = netMinor
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case id, day, state, currency
        case obligationCount = "obligation_count"
        case grossMinor = "gross_minor"
        case netMinor = "net_minor"
    }
}

public struct SettlementList: Codable, Sendable, Hashable {
    public var batches: [SettlementSummary]
    public init(batches: [SettlementSummary]) { self.batches = batches }
}
