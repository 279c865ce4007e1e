import Foundation

/// `POST /v1/assertions`: up to 1,000 assertions (JWS compact serialisations) in one batch.
public struct IngestRequest: Codable, Sendable {
    public var assertions: [String]
    public init(assertions: [String]) { self.assertions = assertions }
    public static let maximumBatch = 1000
}

/// The answer for one assertion of a batch, in the batch's order.
public struct IngestResult: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable { case accepted, duplicate, rejected }
    public var status: Status
    /// The assertion id, when the payload could be read.
    public var id: String?
    /// The log index (accepted and duplicate).
    public var index: UInt64?
    /// Why it was refused: `malformed_jws`, `unsupported_algorithm`, `unknown_kid`, `revoked_kid`, `bad_signature`,
    /// `issuer_mismatch`, `schema_violation`, `clock_skew`, `id_conflict`.
    public var reason: String?
    public var detail: String?

    public init(status: Status, id: String? = nil, index: UInt64? = nil, reason: String? = nil, detail: String? = nil) {
        self.status = status
        self.id = id
        self.index = index
        self.reason = reason
        self.detail = detail
    }
}

public struct IngestResponse: Codable, Sendable {
    public var results: [IngestResult]
    /// The log size after this batch (the signed checkpoint at `GET /v1/log/checkpoint` covers it).
    public var treeSize: UInt64

    public init(results: [IngestResult], treeSize: UInt64) {
        self.results = results
        self.treeSize = treeSize
    }

    enum CodingKeys: String, CodingKey {
        case results
        case treeSize = "tree_size"
    }
}

/// `GET /v1/log/proofs/inclusion?index=N&tree_size=M`.
public struct InclusionProofResponse: Codable, Sendable {
    public var leafIndex: UInt64
    public var treeSize: UInt64
    /// base64 (standard, as in checkpoints).
    public var leafHash: String
    public var proof: [String]

    public init(leafIndex: UInt64, treeSize: UInt64, leafHash: String, proof: [String]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.leafHash = leafHash
        self.proof = proof
    }

    enum CodingKeys: String, CodingKey {
        case proof
        case leafIndex = "leaf_index"
        case treeSize = "tree_size"
        case leafHash = "leaf_hash"
    }
}

/// `GET /v1/log/proofs/consistency?first=M&second=N`.
public struct ConsistencyProofResponse: Codable, Sendable {
    public var first: UInt64
    public var second: UInt64
    public var proof: [String]

    public init(first: UInt64, second: UInt64, proof: [String]) {
        self.first = first
        self.second = second
        self.proof = proof
    }
}
