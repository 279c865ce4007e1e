import Foundation
import ParkFedCrypto
import Testing

/// RFC 6962/9162 known answers from the transparency-dev/merkle reference test data (leaf inputs, roots for every
/// size 0–8, inclusion and consistency proofs), then properties over larger random trees.
enum MerkleVectors {
    static func hex(_ text: String) -> Data { Hex.decode(text)! }

    static let leaves: [Data] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex)

    static let roots: [Data] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(hex)

    static let inclusion: [(index: UInt64, size: UInt64, proof: [String])] = [
        (0, 1, []),
        (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
        (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1, 5,
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
        (
            0, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        (
            5, 8,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
    ]

    static let consistency: [(first: UInt64, second: UInt64, proof: [String])] = [
        (1, 1, []),
        (
            1, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        (
            2, 5,
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
        (
            6, 8,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
    ]

    static var tree: MerkleTree {
        var tree = MerkleTree()
        for leaf in leaves { tree.append(entry: leaf) }
        return tree
    }
}

@Suite struct MerkleTests {
    @Test func rootsMatchTheReferenceForEverySize() {
        var tree = MerkleTree()
        #expect(tree.rootHash() == MerkleVectors.roots[0])
        for (size, leaf) in MerkleVectors.leaves.enumerated() {
            tree.append(entry: leaf)
            #expect(tree.rootHash() == MerkleVectors.roots[size + 1], "size \(size + 1)")
        }
        for size in 0...8 { #expect(tree.rootHash(size: UInt64(size)) == MerkleVectors.roots[size]) }
    }

    @Test func inclusionProofsMatchAndVerify() {
        let tree = MerkleVectors.tree
        for vector in MerkleVectors.inclusion {
            let expected = vector.proof.map(MerkleVectors.hex)
            #expect(tree.inclusionProof(index: vector.index, size: vector.size) == expected, "\(vector.index):\(vector.size)")
            let leafHash = MerkleHash.leaf(MerkleVectors.leaves[Int(vector.index)])
            #expect(
                MerkleProofs.verifyInclusion(
                    index: vector.index, size: vector.size, leafHash: leafHash, proof: expected,
                    root: MerkleVectors.roots[Int(vector.size)]))
        }
    }

    @Test func consistencyProofsMatchAndVerify() {
        let tree = MerkleVectors.tree
        for vector in MerkleVectors.consistency {
            let expected = vector.proof.map(MerkleVectors.hex)
            #expect(tree.consistencyProof(first: vector.first, second: vector.second) == expected, "\(vector.first):\(vector.second)")
            #expect(
                MerkleProofs.verifyConsistency(
                    first: vector.first, second: vector.second, proof: expected,
                    firstRoot: MerkleVectors.roots[Int(vector.first)], secondRoot: MerkleVectors.roots[Int(vector.second)]))
        }
    }

    @Test func wrongProofsAreRefused() {
        let vector = MerkleVectors.inclusion[5]
        let proof = vector.proof.map(MerkleVectors.hex)
        let leafHash = MerkleHash.leaf(MerkleVectors.leaves[0])
        let root = MerkleVectors.roots[8]
        #expect(!MerkleProofs.verifyInclusion(index: 1, size: 8, leafHash: leafHash, proof: proof, root: root))
        #expect(!MerkleProofs.verifyInclusion(index: 0, size: 8, leafHash: leafHash, proof: Array(proof.dropLast()), root: root))
        #expect(!MerkleProofs.verifyInclusion(index: 0, size: 8, leafHash: leafHash, proof: proof + [root], root: root))
        var flipped = proof
        flipped[1][3] ^= 0x01
        #expect(!MerkleProofs.verifyInclusion(index: 0, size: 8, leafHash: leafHash, proof: flipped, root: root))
        #expect(!MerkleProofs.verifyInclusion(index: 8, size: 8, leafHash: leafHash, proof: proof, root: root))
        let consistency = MerkleVectors.consistency[3].proof.map(MerkleVectors.hex)
        #expect(!MerkleProofs.verifyConsistency(first: 6, second: 8, proof: consistency, firstRoot: MerkleVectors.roots[5], secondRoot: root))
        #expect(!MerkleProofs.verifyConsistency(first: 5, second: 8, proof: consistency, firstRoot: MerkleVectors.roots[6], secondRoot: root))
        #expect(!MerkleProofs.verifyConsistency(first: 6, second: 8, proof: [], firstRoot: MerkleVectors.roots[6], secondRoot: root))
        #expect(!MerkleProofs.verifyConsistency(first: 9, second: 8, proof: consistency, firstRoot: root, secondRoot: root))
    }

    @Test func everyProofOfALargerTreeVerifies() {
        var tree = MerkleTree()
        var roots: [Data] = [tree.rootHash()]
        for i in 0..<300 {
            tree.append(entry: Data("entry-\(i)".utf8))
            roots.append(tree.rootHash())
        }
        for size in stride(from: UInt64(1), through: 300, by: 7) {
            for index in stride(from: UInt64(0), to: size, by: 5) {
                let proof = tree.inclusionProof(index: index, size: size)!
                #expect(MerkleProofs.verifyInclusion(index: index, size: size, leafHash: tree.leafHash(at: index), proof: proof, root: roots[Int(size)]))
            }
            for first in stride(from: UInt64(0), through: size, by: 11) {
                let proof = tree.consistencyProof(first: first, second: size)!
                #expect(
                    MerkleProofs.verifyConsistency(first: first, second: size, proof: proof, firstRoot: roots[Int(first)], secondRoot: roots[Int(size)]),
                    "\(first):\(size)")
            }
        }
    }
}
