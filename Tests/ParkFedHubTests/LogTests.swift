import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedHub
import ParkFedPKI
import ParkFedNode
import ParkFedProtocol
import ParkFedTesting
import Testing

/// The verifiable log as outside parties see it: signed checkpoints, proofs, entries, and `verify-log`.
@Suite struct LogTests {
    /// Submits `count` sample assertions numbered from `first` (a pass is sold once: each sample sale is a new pass).
    static func fill(_ federation: TestFederation, _ agent: NodeAgent, count: Int, from first: Int = 0) async throws {
        let batch = try (first..<(first + count)).map { try Assertions.sign(SampleAssertions.data($0), park: agent.park, key: agent.signingKey).1.compact }
        _ = try await IngestTests.submit(agent, batch)
    }

    @Test func checkpointsAndProofsVerifyWithOnlyTheHubsPublicKey() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            let hubKey = try Ed25519PEMReader.hubKey(federation)

            let empty = try await federation.curl("/v1/log/checkpoint", certificate: credentials)
            #expect(try Checkpoint.verify(note: empty.body, key: hubKey).size == 0)

            try await Self.fill(federation, agent, count: 7)
            let first = try Checkpoint.verify(note: try await federation.curl("/v1/log/checkpoint", certificate: credentials).body, key: hubKey)
            #expect(first.size == 7)
            #expect(first.origin == "parkfed/test-federation")
            try await Self.fill(federation, agent, count: 13, from: 7)
            let second = try Checkpoint.verify(note: try await federation.curl("/v1/log/checkpoint", certificate: credentials).body, key: hubKey)
            #expect(second.size == 20)

            // Inclusion of every entry, by index, against the signed root.
            for index in 0..<UInt64(20) {
                let reply = try await federation.curl("/v1/log/proofs/inclusion?index=\(index)&tree_size=20", certificate: credentials)
                let proof = try StrictJSON.decoder.decode(InclusionProofResponse.self, from: Data(reply.body.utf8))
                let entry = try await federation.curl("/v1/log/entries/\(index)", certificate: credentials)
                let leafHash = MerkleHash.leaf(Data(entry.body.utf8))
                #expect(proof.leafHash == leafHash.base64EncodedString())
                #expect(
                    MerkleProofs.verifyInclusion(
                        index: index, size: 20, leafHash: leafHash, proof: proof.proof.map { Data(base64Encoded: $0)! }, root: second.rootHash))
            }
            // By leaf hash, as a visitor's auditor would ask.
            let entry5 = try await federation.curl("/v1/log/entries/5", certificate: credentials).body
            let hex = Hex.encode(MerkleHash.leaf(Data(entry5.utf8)))
            let byHash = try await federation.curl("/v1/log/proofs/inclusion?leaf_hash=\(hex)&tree_size=20", certificate: credentials)
            #expect(byHash.json["leaf_index"] as? Int == 5)
            // Consistency between the two checkpoints.
            let consistency = try await federation.curl("/v1/log/proofs/consistency?first=7&second=20", certificate: credentials)
            let proof = try StrictJSON.decoder.decode(ConsistencyProofResponse.self, from: Data(consistency.body.utf8))
            #expect(
                MerkleProofs.verifyConsistency(
                    first: 7, second: 20, proof: proof.proof.map { Data(base64Encoded: $0)! },
                    firstRoot: first.rootHash, secondRoot: second.rootHash))
            // Out of range and malformed queries are problems, not crashes.
            #expect(
                try await federation.curl("/v1/log/proofs/inclusion?index=20&tree_size=20", certificate: credentials).json["code"] as? String == "out_of_range")
            #expect(
                try await federation.curl("/v1/log/proofs/consistency?first=3&second=99", certificate: credentials).json["code"] as? String == "out_of_range")
            #expect(try await federation.curl("/v1/log/proofs/inclusion?index=x", certificate: credentials).json["code"] as? String == "invalid_query")
        }
    }

    /// The tree as tiles (#20): served as C2SP tlog-tiles, from which an outside auditor (Python, from the
    /// specifications) recomputes the signed root; a restarted hub reads only the tail; a log stored without tiles
    /// gets them at start-up; a changed tile is found by `verify-log`.
    @Test func theLogsTilesAreServedAsTlogTilesAndAnOutsideAuditorRecomputesTheSignedRoot() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            let credentials = (agent.directory.tlsCertificate, agent.directory.tlsKey)
            for round in 0..<2 { try await Self.fill(federation, agent, count: 300, from: 300 * round) }
            let audit = try await ExternalTool.run(
                "python3",
                [
                    Verifiers.path("tlog_tiles.py"), federation.hubURL, agent.directory.tlsCertificate, agent.directory.tlsKey, federation.caFile,
                    federation.hub.directory.signingPublicKey,
                ])
            #expect(audit.succeeded, "\(audit.stdout)\(audit.stderr)")
            #expect(audit.stdout.contains(#""size": 600"#) && audit.stdout.contains(#""leaf_tiles": 3"#) && audit.stdout.contains(#""level1_hashes": 2"#))

            // 600 entries: tiles 0/000 and 0/001 are full; 0/002 has 88 hashes, served only as partial tiles.
            let full = try await federation.curl("/v1/log/tile/0/001", certificate: credentials, extra: ["-o", federation.directory.file("tile")])
            #expect(full.httpStatus == 200)
            let leaves = try await federation.hub.store.leafHashes()
            #expect(try Data(contentsOf: URL(fileURLWithPath: federation.directory.file("tile"))) == leaves[256..<512].reduce(Data(), +))
            #expect(try await federation.curl("/v1/log/tile/0/002", certificate: credentials).json["code"] as? String == "no_such_tile")
            #expect(try await federation.curl("/v1/log/tile/0/002.p/88", certificate: credentials).httpStatus == 200)
            #expect(try await federation.curl("/v1/log/tile/0/002.p/89", certificate: credentials).httpStatus == 404)
            #expect(try await federation.curl("/v1/log/tile/0/x2/000", certificate: credentials).json["code"] as? String == "invalid_tile_path")
            #expect(try await federation.curl("/v1/log/tile/0/001").httpStatus == 401)

            // A hub process on the same store takes up the same tree and gives the same proofs.
            let root = federation.hub.log.snapshotRoot()
            let proof = try await federation.hub.log.inclusionProof(index: 300, treeSize: 600)
            let reopened = try await Hub(directory: federation.hub.directory)
            #expect(reopened.log.size == 600 && reopened.log.snapshotRoot() == root)
            #expect(try await reopened.log.inclusionProof(index: 300, treeSize: 600)?.proof == proof?.proof)
            #expect(try await reopened.log.consistencyProof(first: 257, second: 600)?.proof.isEmpty == false)
            await reopened.close()

            // A log stored before tiles were: the next start writes them, and verify-log checks each.
            #expect(try await federation.sqlTool("DELETE FROM log_tiles;").succeeded)
            let rebuilt = try await Hub(directory: federation.hub.directory)
            #expect(rebuilt.log.snapshotRoot() == root)
            let report = try await LogVerifier(hub: rebuilt).verify()
            #expect(report.ok && report.tiles == 2, "\(report.problems)")
            await rebuilt.close()

            // A tile changed behind the hub's back is found.
            let zeros = federation.usesPostgres ? "decode(repeat('00', 8192), 'hex')" : "zeroblob(8192)"
            #expect(try await federation.sqlTool("UPDATE log_tiles SET hashes = \(zeros) WHERE level = 0 AND idx = 1;").succeeded)
            let tampered = try await LogVerifier(hub: federation.hub).verify()
            #expect(!tampered.ok && tampered.problems.contains { $0.contains("tile 0/1 differs") }, "\(tampered.problems)")
        }
    }

    @Test func parksReadOnlyTheirOwnEntries() async throws {
        try await TestFederation.run { federation in
            let p1 = try await federation.enroll("P001")
            federation.adopt(p1)
            let p2 = try await federation.enroll("P002")
            federation.adopt(p2)
            try await Self.fill(federation, p1, count: 1)
            let own = try await federation.curl("/v1/log/entries/0", certificate: (p1.directory.tlsCertificate, p1.directory.tlsKey))
            #expect(own.httpStatus == 200)
            let other = try await federation.curl("/v1/log/entries/0", certificate: (p2.directory.tlsCertificate, p2.directory.tlsKey))
            #expect(other.httpStatus == 403)
            let regulator = try await federation.issueCertificate(for: .regulator("R01"), name: "r")
            #expect(try await federation.curl("/v1/log/entries/0", certificate: regulator).httpStatus == 200)
            #expect(try await federation.curl("/v1/log/entries/9", certificate: regulator).httpStatus == 404)
        }
    }

    @Test func verifyLogFindsTheFirstEntryChangedWithTheSqlite3Tool() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            for round in 0..<3 { try await Self.fill(federation, agent, count: 4, from: 4 * round) }
            let parkfed = try BackgroundProcess.parkfedExecutable()
            let data = federation.hub.directory.path
            let clean = try await ExternalTool.run(parkfed, ["hub", "verify-log", "--data", data])
            #expect(clean.succeeded, "\(clean.stdout)\(clean.stderr)")
            #expect(clean.stdout.contains("12 entries, 3 checkpoints"))

            // Change one byte of entry 6's stored assertion (its signature part), as an insider with sqlite3 (or psql) would.
            let edit = try await federation.sqlTool(
                """
                UPDATE log_entries SET jws = substr(jws, 1, length(jws) - 3) || CASE WHEN substr(jws, length(jws) - 2, 1) = 'A' THEN 'B' ELSE 'A' END
                  || substr(jws, length(jws) - 1) WHERE idx = 6;
                """)
            #expect(edit.succeeded, "\(edit.stderr)")
            let tampered = try await ExternalTool.run(parkfed, ["hub", "verify-log", "--data", data])
            #expect(tampered.status == 1)
            #expect(tampered.stdout.contains("first bad index 6"), "\(tampered.stdout)")

            // An insider who also rewrites the stored leaf hash is still caught: the signature and the signed roots.
            let leaf = try await federation.sqlTool("SELECT jws FROM log_entries WHERE idx = 6;")
            let newHash = Hex.encode(MerkleHash.leaf(Data(leaf.stdout.trimmingCharacters(in: .newlines).utf8)))
            let blob = federation.usesPostgres ? "decode('\(newHash)', 'hex')" : "X'\(newHash)'"
            _ = try await federation.sqlTool("UPDATE log_entries SET leaf_hash = \(blob) WHERE idx = 6;")
            let rewritten = try await ExternalTool.run(parkfed, ["hub", "verify-log", "--data", data])
            #expect(rewritten.status == 1)
            #expect(rewritten.stdout.contains("first bad index 6"), "\(rewritten.stdout)")
            #expect(rewritten.stdout.contains("recomputed root differs"))
        }
    }

    @Test func verifyLogNoticesADeletedEntry() async throws {
        try await TestFederation.run { federation in
            let agent = try await federation.enroll("P001")
            federation.adopt(agent)
            try await Self.fill(federation, agent, count: 5)
            _ = try await federation.sqlTool("DELETE FROM log_entries WHERE idx = 2;")
            let report = try await LogVerifier(hub: try Hub(directory: federation.hub.directory)).verify()
            #expect(!report.ok)
            #expect(report.firstBadIndex == 2)
        }
    }
}

enum Ed25519PEMReader {
    /// The hub's public key as a party outside the hub gets it: from `hub-signing-pub.pem`.
    static func hubKey(_ federation: TestFederation) throws -> VerifyingKey {
        try ParkFedPKI.Ed25519PEM.parsePublicKey(pem: try String(contentsOfFile: federation.hub.directory.signingPublicKey, encoding: .utf8))
    }
}
