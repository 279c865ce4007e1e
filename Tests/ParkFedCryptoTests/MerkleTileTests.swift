import Foundation
import ParkFedCrypto
import Testing

/// The tiled tree (C2SP tlog-tiles, height 8) against the whole in-memory tree: the same roots and proofs at every
/// size around tile boundaries, restored from only its partial tiles' sources, and the tiles' paths.
@Suite struct MerkleTileTests {
    /// Leaves 0..<count of a seeded, replayable stream.
    static func leaves(_ count: Int, seed: UInt64 = 9162) -> [Data] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return MerkleHash.leaf(withUnsafeBytes(of: state) { Data($0) })
        }
    }

    /// Both trees over the same leaves, the tiles the tiled one completed (as a store would keep them).
    static func build(_ leaves: [Data]) -> (MerkleTree, MerkleTiles, [MerkleTiles.TileID: Data]) {
        var tree = MerkleTree(), tiles = MerkleTiles()
        var stored: [MerkleTiles.TileID: Data] = [:]
        for leaf in leaves {
            tree.append(leafHash: leaf)
            for tile in tiles.append(leafHash: leaf) {
                #expect(stored[MerkleTiles.TileID(level: tile.level, index: tile.index)] == nil, "a tile completed twice")
                stored[MerkleTiles.TileID(level: tile.level, index: tile.index)] = tile.hashes
            }
        }
        return (tree, tiles, stored)
    }

    /// Restores a tiled tree as the hub does at start-up: only what ``MerkleTiles/restorePlan(size:)`` names.
    static func restore(size: UInt64, leaves: [Data], stored: [MerkleTiles.TileID: Data]) throws -> MerkleTiles {
        let plan = MerkleTiles.restorePlan(size: size)
        var tiles: [Int: [Data]] = [:]
        for (level, range) in plan.tileRanges { tiles[level] = range.map { stored[MerkleTiles.TileID(level: level, index: $0)]! } }
        return try MerkleTiles(size: size, lastLeaves: Array(leaves[Int(plan.leavesFrom)..<Int(size)]), tiles: tiles)
    }

    @Test func rootsAndRestoredTreesAgreeAtEverySizeAroundTileBoundaries() throws {
        let leaves = Self.leaves(66_000)
        var tree = MerkleTree(), tiles = MerkleTiles()
        var stored: [MerkleTiles.TileID: Data] = [:]
        let sizes: Set<Int> = [1, 2, 3, 255, 256, 257, 511, 512, 513, 4_097, 65_535, 65_536, 65_537, 66_000]
        for (i, leaf) in leaves.enumerated() {
            tree.append(leafHash: leaf)
            for tile in tiles.append(leafHash: leaf) { stored[MerkleTiles.TileID(level: tile.level, index: tile.index)] = tile.hashes }
            guard sizes.contains(i + 1) else { continue }
            #expect(tiles.size == UInt64(i + 1))
            #expect(tiles.rootHash() == tree.rootHash(), "root at size \(i + 1)")
            let restored = try Self.restore(size: UInt64(i + 1), leaves: leaves, stored: stored)
            #expect(restored == tiles, "restored at size \(i + 1)")
        }
        // 66,000 leaves: 257 full tiles of level 0, one of level 1; each a tile of the whole tree.
        #expect(stored.keys.filter { $0.level == 0 }.count == 257 && stored.keys.filter { $0.level == 1 }.count == 1)
        #expect(stored[MerkleTiles.TileID(level: 0, index: 3)] == leaves[768..<1024].reduce(Data(), +))
        #expect(MerkleTiles.root(of: stored[MerkleTiles.TileID(level: 1, index: 0)]!) == tree.rootHash(size: 65_536))
        // Fewer leaves or tiles than the size asks for are refused.
        let plan = MerkleTiles.restorePlan(size: 66_000)
        #expect(throws: CryptoError.self) { try MerkleTiles(size: 66_000, lastLeaves: Array(leaves[Int(plan.leavesFrom)..<65_999]), tiles: [:]) }
    }

    @Test func proofsFromTilesAreTheWholeTreesProofs() throws {
        let leaves = Self.leaves(70_000, seed: 17)
        let (tree, tiles, stored) = Self.build(leaves)
        var read: Set<MerkleTiles.TileID> = []
        func tile(_ id: MerkleTiles.TileID) throws -> Data {
            read.insert(id)
            guard let hashes = stored[id] else { throw CryptoError(.malformedLog, "no \(id)") }
            return hashes
        }
        var random = SystemRandomNumberGenerator()
        let cases: [(UInt64, UInt64)] =
            [(0, 1), (0, 256), (255, 256), (256, 257), (65_535, 65_536), (65_536, 70_000), (69_999, 70_000)]
            + (0..<200).map { _ in
                let size = UInt64.random(in: 1...70_000, using: &random)
                return (UInt64.random(in: 0..<size, using: &random), size)
            }
        for (index, size) in cases {
            read = []
            let proof = try tiles.inclusionProof(index: index, size: size, tile: tile)
            #expect(proof == tree.inclusionProof(index: index, size: size), "inclusion \(index) in \(size)")
            #expect(read.isSubset(of: tiles.tilesNeeded(inclusionOf: index, size: size)), "read a tile it did not plan for")
            let first = UInt64.random(in: 0...size, using: &random)
            read = []
            let consistency = try tiles.consistencyProof(first: first, second: size, tile: tile)
            #expect(consistency == tree.consistencyProof(first: first, second: size), "consistency \(first) → \(size)")
            #expect(read.isSubset(of: tiles.tilesNeeded(consistencyFrom: first, to: size)))
            #expect(try tiles.rootHash(size: size, tile: tile) == tree.rootHash(size: size))
        }
        #expect(try tiles.inclusionProof(index: 0, size: 70_001, tile: tile) == nil)
    }

    @Test func tilePathsAreC2SPs() {
        #expect(MerkleTiles.path(level: 0, index: 1_234_067) == "tile/0/x001/x234/067")
        #expect(MerkleTiles.path(level: 1, index: 0) == "tile/1/000")
        #expect(MerkleTiles.path(level: 0, index: 1_000, partialWidth: 45) == "tile/0/x001/000.p/45")
        for (level, index, width) in [(0, UInt64(1_234_067), Int?.none), (2, 999, nil), (0, 1_000, 45), (3, 5, 255)] {
            let components = MerkleTiles.path(level: level, index: index, partialWidth: width).split(separator: "/").dropFirst()
            let parsed = MerkleTiles.parsePath(Array(components))
            #expect(parsed?.level == level && parsed?.index == index && parsed?.partialWidth == width)
        }
        for bad in ["0/1234", "0/x1/234", "0/001/234", "9/000", "0/000.p/0", "0/000.p/256", "0/000.p/045", "00/000", "0/x001", "0/0a1", "0"] {
            #expect(MerkleTiles.parsePath(bad.split(separator: "/", omittingEmptySubsequences: false)) == nil, "\(bad)")
        }
    }
}
