import Crypto
import Foundation

/// RFC 9162 (Certificate Transparency v2) hashing: SHA-256, leaves prefixed `0x00`, interior nodes `0x01`.
public enum MerkleHash {
    public static let size = 32

    /// The root of the empty tree: SHA-256 of the empty string.
    public static let emptyRoot = Data(SHA256.hash(data: Data()))

    public static func leaf(_ data: some DataProtocol) -> Data {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return Data(hasher.finalize())
    }

    public static func node(_ left: some DataProtocol, _ right: some DataProtocol) -> Data {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Data(hasher.finalize())
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2): RFC 9162's split point `k`.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2, "split needs at least two leaves")
        return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }
}
