import Foundation

/// Verification of RFC 9162 inclusion and consistency proofs (§2.1.3.2 and §2.1.4.2).
///
/// Anyone holding the hub's public key can check a signed checkpoint and then, with these functions alone, that an
/// entry is in the log and that the log only ever grew.
public enum MerkleProofs {
    /// Whether `proof` shows the leaf with hash `leafHash` at `index` in the tree of `size` leaves with `root`.
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: Data, proof: [Data], root: Data) -> Bool {
        guard index < size, leafHash.count == MerkleHash.size, proof.allSatisfy({ $0.count == MerkleHash.size }) else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                if fn & 1 == 0 { climbRightEdge(&fn, &sn) }
            } else {
                r = MerkleHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `second` leaves with `secondRoot` extends the tree of `first` leaves
    /// with `firstRoot`.
    public static func verifyConsistency(first: UInt64, second: UInt64, proof: [Data], firstRoot: Data, secondRoot: Data) -> Bool {
        guard first <= second, proof.allSatisfy({ $0.count == MerkleHash.size }) else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        if first == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        // When `first` is a power of two its root is a node of the second tree and is not in the proof.
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                if fn & 1 == 0 { climbRightEdge(&fn, &sn) }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == firstRoot && sr == secondRoot
    }

    /// RFC 9162's "right-shift fn and sn until LSB(fn) is set or fn is 0", run when a node is the last of its level.
    private static func climbRightEdge(_ fn: inout UInt64, _ sn: inout UInt64) {
        repeat {
            fn >>= 1
            sn >>= 1
        } while fn & 1 == 0 && fn != 0
    }
}
