import Crypto
import Foundation
import ParkFedCrypto

/// A signed checkpoint of the hub's log in the C2SP tlog-checkpoint / signed-note text format:
///
///     <origin>
///     <tree size>
///     <root hash, base64>
///     timestamp <Unix milliseconds>
///
///     — <origin> <base64(4-byte key hash ‖ Ed25519 signature)>
///
/// The signature covers the body (the first four lines, each ending in a newline). Anyone with the hub's public key
/// can check it, then check inclusion and consistency proofs against its root.
public struct Checkpoint: Sendable, Hashable {
    public var origin: String
    public var size: UInt64
    public var rootHash: Data
    public var timestamp: Date

    public init(origin: String, size: UInt64, rootHash: Data, timestamp: Date) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.timestamp = timestamp
    }

    public var body: String {
        "\(origin)\n\(size)\n\(rootHash.base64EncodedString())\ntimestamp \(Int64((timestamp.timeIntervalSince1970 * 1000).rounded()))\n"
    }

    /// The signed-note key hash: the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), 0x01 being Ed25519.
    public static func keyHash(name: String, key: VerifyingKey) -> Data {
        var data = Data(name.utf8)
        data.append(0x0a)
        data.append(0x01)
        data.append(key.rawRepresentation)
        return Data(SHA256.hash(data: data).prefix(4))
    }

    /// The signed note.
    public func signed(with key: SigningKey) throws -> String {
        let signature = try key.signature(for: Data(body.utf8))
        let blob = Self.keyHash(name: origin, key: key.publicKey) + signature
        return body + "\n— \(origin) \(blob.base64EncodedString())\n"
    }

    /// Parses a signed note and checks its signature by `key` under the name `origin`.
    public static func verify(note: String, key: VerifyingKey, origin: String? = nil) throws(WireError) -> Checkpoint {
        guard let separator = note.range(of: "\n\n") else { throw WireError("a checkpoint note has a body, a blank line and signatures") }
        let body = String(note[..<separator.lowerBound]) + "\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 3, let size = UInt64(lines[1]), let root = Data(base64Encoded: String(lines[2])), root.count == 32 else {
            throw WireError("the checkpoint body is not origin, size, root hash")
        }
        let name = String(lines[0])
        if let origin, origin != name { throw WireError("checkpoint origin \(name) is not \(origin)") }
        var timestamp = Date(timeIntervalSince1970: 0)
        for line in lines.dropFirst(3) where line.hasPrefix("timestamp ") {
            guard let millis = Int64(line.dropFirst(10)) else { throw WireError("bad timestamp line") }
            timestamp = Date(timeIntervalSince1970: Double(millis) / 1000)
        }
        let expectedHash = keyHash(name: name, key: key)
        for line in note[separator.upperBound...].split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "—", parts[1] == name, let blob = Data(base64Encoded: String(parts[2])), blob.count == 68 else { continue }
            if blob.prefix(4) == expectedHash, key.isValidSignature(blob.dropFirst(4), for: Data(body.utf8)) {
                return Checkpoint(origin: name, size: size, rootHash: root, timestamp: timestamp)
            }
        }
        throw WireError("no valid signature by the hub's key on the checkpoint")
    }
}
