import Foundation

/// An append-only Merkle tree kept in memory as the hashes of all its complete subtrees, level by level, in flat
/// byte arrays (32 bytes a hash; about 64 bytes per leaf in all).
///
/// Appending is O(log n) amortised; any root, inclusion proof or consistency proof for a size up to the current one
/// is built from stored subtree hashes in O(log² n) at worst, as RFC 9162 §2.1 defines them.
public struct MerkleTree: Sendable {
    /// levels[0] holds leaf hashes; levels[k][i] is the hash of leaves [i·2^k, (i+1)·2^k).
    private var levels: [[UInt8]] = [[]]

    public init() {}

    public var size: UInt64 { UInt64(levels[0].count / MerkleHash.size) }

    /// Appends a leaf by its leaf hash (`MerkleHash.leaf(entry)`), completing every subtree it closes.
    public mutating func append(leafHash: Data) {
        precondition(leafHash.count == MerkleHash.size, "a leaf hash is 32 bytes")
        levels[0].append(contentsOf: leafHash)
        var level = 0
        var count = levels[0].count / MerkleHash.size
        while count % 2 == 0 {
            let right = hash(level: level, index: count - 1)
            let left = hash(level: level, index: count - 2)
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(contentsOf: MerkleHash.node(left, right))
            level += 1
            count = levels[level].count / MerkleHash.size
        }
    }

    public mutating func append(entry: some DataProtocol) {
        append(leafHash: MerkleHash.leaf(entry))
    }

    private func hash(level: Int, index: Int) -> Data {
        let start = index * MerkleHash.size
        return Data(levels[level][start..<start + MerkleHash.size])
    }

    public func leafHash(at index: UInt64) -> Data {
        precondition(index < size, "leaf index out of range")
        return hash(level: 0, index: Int(index))
    }

    /// The root hash of the tree made of the first `size` leaves.
    public func rootHash(size: UInt64? = nil) -> Data {
        let n = size ?? self.size
        precondition(n <= self.size, "the tree is not that large yet")
        return n == 0 ? MerkleHash.emptyRoot : subtreeHash(0, n)
    }

    /// MTH(D[start:end]), with the left parts always complete subtrees that are stored.
    func subtreeHash(_ start: UInt64, _ end: UInt64) -> Data {
        MerkleProofBuilder.subtreeHash(start, end) { hash(level: $0, index: Int($1)) }
    }

    /// The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
    public func inclusionProof(index: UInt64, size: UInt64) -> [Data]? {
        guard size <= self.size else { return nil }
        return MerkleProofBuilder.inclusionProof(index: index, size: size) { hash(level: $0, index: Int($1)) }
    }

    /// The consistency proof between the trees of `first` and `second` leaves (RFC 9162 §2.1.4.1).
    public func consistencyProof(first: UInt64, second: UInt64) -> [Data]? {
        guard second <= self.size else { return nil }
        return MerkleProofBuilder.consistencyProof(first: first, second: second) { hash(level: $0, index: Int($1)) }
    }
}
