import Foundation

/// The log's Merkle tree as C2SP tlog-tiles lays it out: tiles of height 8, each holding up to 256 hashes of one
/// tree level (tile level `L` holds the hashes at tree level `8·L`); a full tile never changes again.
///
/// This value keeps only the rightmost, incomplete tile of every level (under 256 hashes a level, so a few KiB
/// whatever the size of the log): enough to append, to compute the root, and to take any node on the tree's right
/// edge. Every other node is read from the full tiles, which the store keeps with the entries. A hub therefore
/// starts in time and memory that do not grow with its log: it reads the partial tiles (``restorePlan(size:)``),
/// not every leaf.
public struct MerkleTiles: Sendable, Equatable {
    /// Tree levels per tile.
    public static let height = 8
    /// Hashes in a full tile.
    public static let width = 256

    /// A full tile: `hashes` are 256 hashes of tree level `8·level`, of nodes `index·256 ..< (index+1)·256`.
    public struct Tile: Sendable, Hashable {
        public var level: Int
        public var index: UInt64
        public var hashes: Data

        public init(level: Int, index: UInt64, hashes: Data) {
            self.level = level
            self.index = index
            self.hashes = hashes
        }
    }

    /// Where a tile is: its level and index.
    public struct TileID: Sendable, Hashable, CustomStringConvertible {
        public var level: Int
        public var index: UInt64

        public init(level: Int, index: UInt64) {
            self.level = level
            self.index = index
        }

        public var description: String { "tile \(level)/\(index)" }
    }

    /// The number of leaves.
    public private(set) var size: UInt64 = 0
    /// partial[L]: the incomplete tile of level L (fewer than 256 hashes), with the subtrees its hashes complete.
    private var partial: [PartialTile] = [PartialTile()]

    /// An incomplete tile as a small tree: `nodes[h]` holds the hashes (32 bytes each, concatenated) of its complete
    /// subtrees of height h, so that a node of the right edge is looked up, not recomputed, on every append.
    struct PartialTile: Sendable, Equatable {
        var nodes: [[UInt8]] = Array(repeating: [], count: MerkleTiles.height + 1)

        /// The tile's own hashes.
        var hashes: [UInt8] { nodes[0] }
        var count: Int { nodes[0].count / MerkleHash.size }

        /// Adds a hash; returns the tile's root when it made the tile full (the tile is then emptied).
        mutating func push(_ hash: some DataProtocol) -> Data? {
            nodes[0].append(contentsOf: hash)
            var height = 0
            while nodes[height].count / MerkleHash.size % 2 == 0, height < MerkleTiles.height {
                let end = nodes[height].count
                let pair = nodes[height][(end - 2 * MerkleHash.size)..<end]
                nodes[height + 1].append(contentsOf: MerkleHash.node(pair.prefix(MerkleHash.size), pair.suffix(MerkleHash.size)))
                height += 1
            }
            guard count == MerkleTiles.width else { return nil }
            let root = Data(nodes[MerkleTiles.height])
            for h in nodes.indices { nodes[h].removeAll(keepingCapacity: true) }
            return root
        }

        /// The complete subtree of height `height` whose first hash is at `offset` (a multiple of 2^height).
        func node(height: Int, offset: Int) -> Data {
            let start = (offset >> height) * MerkleHash.size
            return Data(nodes[height][start..<start + MerkleHash.size])
        }
    }

    public init() {}

    /// What a tree of `size` leaves needs to be restored: the leaf hashes from `leavesFrom` on (the partial tile of
    /// level 0), and for every higher level the full tiles of the level below whose roots make its partial tile.
    public static func restorePlan(size: UInt64) -> (leavesFrom: UInt64, tileRanges: [(level: Int, range: Range<UInt64>)]) {
        var ranges: [(level: Int, range: Range<UInt64>)] = []
        var level = 1
        while size >> UInt64(height * level) > 0 {
            // Level-(L-1) full tiles: size >> 8L of them; the partial tile of level L holds the roots of the last ones.
            let below = size >> UInt64(height * level)
            let start = below & ~UInt64(width - 1)
            if start < below { ranges.append((level - 1, start..<below)) }
            level += 1
        }
        return (size & ~UInt64(width - 1), ranges)
    }

    /// Restores a tree of `size` leaves from what ``restorePlan(size:)`` named: the last leaf hashes, and the full
    /// tiles of each level (in index order). Throws when they do not have the counts the size asks for.
    public init(size: UInt64, lastLeaves: [Data], tiles: [Int: [Data]]) throws(CryptoError) {
        let plan = Self.restorePlan(size: size)
        guard UInt64(lastLeaves.count) == size - plan.leavesFrom, lastLeaves.allSatisfy({ $0.count == MerkleHash.size }) else {
            throw CryptoError(.malformedLog, "the log's last \(size - plan.leavesFrom) leaf hashes are needed, \(lastLeaves.count) were given")
        }
        self.size = size
        for leaf in lastLeaves { _ = partial[0].push(leaf) }
        for (level, range) in plan.tileRanges {
            let given = tiles[level] ?? []
            guard UInt64(given.count) == UInt64(range.count), given.allSatisfy({ $0.count == Self.width * MerkleHash.size }) else {
                throw CryptoError(.malformedLog, "tiles \(level)/\(range) are needed, \(given.count) full tiles were given")
            }
            while partial.count <= level + 1 { partial.append(PartialTile()) }
            for tile in given { _ = partial[level + 1].push(Self.root(of: tile)) }
        }
    }

    /// Appends a leaf by its leaf hash; returns the tiles it completed (at most one a level), to be stored.
    public mutating func append(leafHash: Data) -> [Tile] {
        precondition(leafHash.count == MerkleHash.size, "a leaf hash is 32 bytes")
        size += 1
        var completed: [Tile] = []
        var hash = leafHash
        var level = 0
        while true {
            if partial.count == level { partial.append(PartialTile()) }
            // The tile's bytes are taken only when this hash completes it.
            let tile = partial[level].count == Self.width - 1 ? Data(partial[level].hashes) + hash : nil
            guard let root = partial[level].push(hash), let tile else { break }
            completed.append(Tile(level: level, index: (size >> UInt64(Self.height * (level + 1))) - 1, hashes: tile))
            hash = root
            level += 1
        }
        return completed
    }

    /// The root hash of the whole tree.
    public func rootHash() -> Data {
        // The partial tiles hold every node of the right edge: no full tile is read.
        rootHash(size: size) { id in preconditionFailure("the root needs no full tile (\(id))") }
    }

    /// The root of the tree made of the first `size` leaves, reading full tiles from `tile`.
    public func rootHash<E: Error>(size: UInt64, tile: (TileID) throws(E) -> Data) throws(E) -> Data {
        precondition(size <= self.size, "the tree is not that large yet")
        if size == 0 { return MerkleHash.emptyRoot }
        return try MerkleProofBuilder.subtreeHash(0, size) { (level, index) throws(E) in try node(level: level, index: index, tile: tile) }
    }

    /// The audit path of leaf `index` in the tree of `size` leaves, reading full tiles from `tile`.
    public func inclusionProof<E: Error>(index: UInt64, size: UInt64, tile: (TileID) throws(E) -> Data) throws(E) -> [Data]? {
        guard size <= self.size else { return nil }
        return try MerkleProofBuilder.inclusionProof(index: index, size: size) { (level, index) throws(E) in try node(level: level, index: index, tile: tile) }
    }

    /// The consistency proof between the trees of `first` and `second` leaves, reading full tiles from `tile`.
    public func consistencyProof<E: Error>(first: UInt64, second: UInt64, tile: (TileID) throws(E) -> Data) throws(E) -> [Data]? {
        guard second <= self.size else { return nil }
        return try MerkleProofBuilder.consistencyProof(first: first, second: second) { (level, index) throws(E) in
            try node(level: level, index: index, tile: tile)
        }
    }

    /// The hash of the complete subtree of `2^level` leaves at `index` (leaves `index·2^level ..< (index+1)·2^level`,
    /// all present): from the partial tile of its tile level, or from the full tile `tile` reads.
    public func node<E: Error>(level: Int, index: UInt64, tile: (TileID) throws(E) -> Data) throws(E) -> Data {
        let (id, offset, count) = Self.locate(level: level, index: index)
        precondition((index + 1) << UInt64(level) <= size, "node \(level)/\(index) is not complete in a tree of \(size)")
        if id.index < fullTiles(level: id.level) {
            return Self.reduce(try tile(id), offset: offset, count: count)
        }
        return partial[id.level].node(height: count.trailingZeroBitCount, offset: offset)
    }

    /// The full tiles a node needs (none when it lies on the right edge).
    public func tilesNeeded(level: Int, index: UInt64) -> TileID? {
        let id = Self.locate(level: level, index: index).tile
        return id.index < fullTiles(level: id.level) ? id : nil
    }

    /// The number of full tiles of tile level `level`.
    public func fullTiles(level: Int) -> UInt64 { size >> UInt64(Self.height * (level + 1)) }

    /// The hashes of the partial tile of `level` (`width` entries, 32 bytes each, from the tile's first).
    public func partialTile(level: Int) -> Data { level < partial.count ? Data(partial[level].hashes) : Data() }

    /// Which tile holds node (level, index), where in it the node's first hash is, and how many hashes make it.
    static func locate(level: Int, index: UInt64) -> (tile: TileID, offset: Int, count: Int) {
        let tileLevel = level / height, within = level % height
        let position = index << UInt64(within)  // at tree level 8·tileLevel
        return (TileID(level: tileLevel, index: position >> UInt64(height)), Int(position & UInt64(width - 1)), 1 << within)
    }

    /// The hash of `count` (a power of two) consecutive hashes of a tile from `offset`: the subtree they make.
    static func reduce(_ hashes: Data, offset: Int, count: Int) -> Data {
        let size = MerkleHash.size
        precondition(hashes.count >= (offset + count) * size, "the tile does not hold that node")
        var level = (0..<count).map { i in hashes.subdata(in: (hashes.startIndex + (offset + i) * size)..<(hashes.startIndex + (offset + i + 1) * size)) }
        while level.count > 1 { level = stride(from: 0, to: level.count, by: 2).map { MerkleHash.node(level[$0], level[$0 + 1]) } }
        return level[0]
    }

    /// The root of a full tile: the one hash its 256 hashes make (a hash of the tile level above).
    public static func root(of tile: Data) -> Data { reduce(tile, offset: 0, count: width) }

    // MARK: Proofs

    /// The full tiles an inclusion proof in the tree of `size` leaves reads.
    public func tilesNeeded(inclusionOf index: UInt64, size: UInt64) -> Set<TileID> {
        guard size <= self.size else { return [] }
        return tilesRead { node in _ = MerkleProofBuilder.inclusionProof(index: index, size: size, node: node) }
    }

    /// The full tiles a consistency proof between the trees of `first` and `second` leaves reads.
    public func tilesNeeded(consistencyFrom first: UInt64, to second: UInt64) -> Set<TileID> {
        guard second <= self.size else { return [] }
        return tilesRead { node in _ = MerkleProofBuilder.consistencyProof(first: first, second: second, node: node) }
    }

    /// The full tiles `proof` asks nodes of (it is run with placeholder hashes: which nodes a proof reads does not
    /// depend on their values).
    private func tilesRead(by proof: ((Int, UInt64) -> Data) -> Void) -> Set<TileID> {
        var needed: Set<TileID> = []
        proof { level, index in
            if let id = tilesNeeded(level: level, index: index) { needed.insert(id) }
            return MerkleHash.emptyRoot
        }
        return needed
    }

    // MARK: C2SP tlog-tiles paths

    /// A tile's path under a log's prefix: `tile/<L>/<N>` with N in groups of three digits, all but the last with
    /// an `x` (`x001/x234/067`), and `.p/<W>` for a partial tile of W hashes.
    public static func path(level: Int, index: UInt64, partialWidth: Int? = nil) -> String {
        var groups: [String] = []
        var n = index
        repeat {
            groups.insert(String(format: "%03d", Int(n % 1000)), at: 0)
            n /= 1000
        } while n > 0
        let number = groups.enumerated().map { $0.offset < groups.count - 1 ? "x" + $0.element : $0.element }.joined(separator: "/")
        return "tile/\(level)/\(number)" + (partialWidth.map { ".p/\($0)" } ?? "")
    }

    /// Reads the components after `tile/`: (level, index, partial width). Nil for anything not in that form.
    public static func parsePath(_ components: [Substring]) -> (level: Int, index: UInt64, partialWidth: Int?)? {
        guard components.count >= 2, components.count <= 12, let level = Int(components[0]), (0...7).contains(level), components[0].count == 1 else {
            return nil
        }
        var rest = Array(components.dropFirst())
        var width: Int?
        if rest.count >= 2, let last = rest.last, let w = Int(last), last.count <= 3, String(w) == last, (1..<Self.width).contains(w),
            rest[rest.count - 2].hasSuffix(".p")
        {
            width = w
            rest.removeLast()
            rest[rest.count - 1] = rest[rest.count - 1].dropLast(2)
        }
        var index: UInt64 = 0
        for (position, group) in rest.enumerated() {
            let digits = position < rest.count - 1 ? (group.hasPrefix("x") ? group.dropFirst() : "") : group
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else { return nil }
            let (scaled, overflow) = index.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return nil }
            index = scaled + value
        }
        return (level, index, width)
    }
}

/// RFC 9162 §2.1 over any source of complete-subtree hashes: `node(level, index)` is the hash of leaves
/// `index·2^level ..< (index+1)·2^level`. The in-memory ``MerkleTree`` and the tiled ``MerkleTiles`` both answer
/// with it, so there is one implementation of the proofs.
public enum MerkleProofBuilder {
    /// MTH(D[start:end]), its left parts always complete subtrees.
    public static func subtreeHash<E: Error>(_ start: UInt64, _ end: UInt64, node: (Int, UInt64) throws(E) -> Data) throws(E) -> Data {
        let count = end - start
        if count & (count - 1) == 0, start % count == 0 {
            let level = count.trailingZeroBitCount
            return try node(level, start >> UInt64(level))
        }
        let k = MerkleHash.split(count)
        return MerkleHash.node(try subtreeHash(start, start + k, node: node), try subtreeHash(start + k, end, node: node))
    }

    /// The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1); nil when out of range.
    public static func inclusionProof<E: Error>(index: UInt64, size: UInt64, node: (Int, UInt64) throws(E) -> Data) throws(E) -> [Data]? {
        guard index < size else { return nil }
        var proof: [Data] = []
        func path(_ m: UInt64, _ start: UInt64, _ end: UInt64) throws(E) {
            let n = end - start
            guard n > 1 else { return }
            let k = MerkleHash.split(n)
            if m < k {
                try path(m, start, start + k)
                proof.append(try subtreeHash(start + k, end, node: node))
            } else {
                try path(m - k, start + k, end)
                proof.append(try subtreeHash(start, start + k, node: node))
            }
        }
        try path(index, 0, size)
        return proof
    }

    /// The consistency proof between the trees of `first` and `second` leaves (RFC 9162 §2.1.4.1).
    public static func consistencyProof<E: Error>(first: UInt64, second: UInt64, node: (Int, UInt64) throws(E) -> Data) throws(E) -> [Data]? {
        guard first <= second else { return nil }
        guard first > 0, first < second else { return [] }
        var proof: [Data] = []
        func subproof(_ m: UInt64, _ start: UInt64, _ end: UInt64, _ complete: Bool) throws(E) {
            let n = end - start
            if m == n {
                if !complete { proof.append(try subtreeHash(start, end, node: node)) }
                return
            }
            let k = MerkleHash.split(n)
            if m <= k {
                try subproof(m, start, start + k, complete)
                proof.append(try subtreeHash(start + k, end, node: node))
            } else {
                try subproof(m - k, start + k, end, false)
                proof.append(try subtreeHash(start, start + k, node: node))
            }
        }
        try subproof(first, 0, second, true)
        return proof
    }
}
