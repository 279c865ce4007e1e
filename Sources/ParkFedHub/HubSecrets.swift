import Crypto
import Foundation
import ParkFedCrypto
import ParkFedPKI

/// The hub's keys for real-name data, kept in files beside (never inside) the database: the X25519 key parks seal
/// holders' data to, and the field key ring (AES-256-GCM keys by id, for rotation, and the blind-index key).
/// Made on first use, so hubs created before they existed get them too.
public struct HubSecrets: Sendable {
    public let holderKey: Curve25519.KeyAgreement.PrivateKey
    public let fields: FieldKeyRing

    struct FieldKeysFile: Codable {
        var current: String
        var keys: [String: String]
        var indexKey: String
        enum CodingKeys: String, CodingKey {
            case current, keys
            case indexKey = "index_key"
        }
    }

    public static func loadOrCreate(_ directory: HubDirectory) throws -> HubSecrets {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: directory.holderSealKey) {
            try SecretFile.write(Curve25519.KeyAgreement.PrivateKey().rawRepresentation, to: directory.holderSealKey)
        }
        if !fileManager.fileExists(atPath: directory.fieldKeys) {
            let id = "k" + String(Int(Date().timeIntervalSince1970))
            let file = FieldKeysFile(
                current: id, keys: [id: Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })],
                indexKey: Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try SecretFile.write(try encoder.encode(file), to: directory.fieldKeys)
        }
        guard let raw = fileManager.contents(atPath: directory.holderSealKey) else { throw HubError(.io, "cannot read \(directory.holderSealKey)") }
        let holderKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
        guard let data = fileManager.contents(atPath: directory.fieldKeys),
            let file = try? JSONDecoder().decode(FieldKeysFile.self, from: data),
            let currentRaw = file.keys[file.current].flatMap({ Base64URL.decode($0) }), let index = Base64URL.decode(file.indexKey)
        else { throw HubError(.invalidConfiguration, "\(directory.fieldKeys) is not a valid field key file") }
        let previous = try file.keys.filter { $0.key != file.current }.map { id, value in
            guard let raw = Base64URL.decode(value) else { throw HubError(.invalidConfiguration, "field key \(id) is not base64url") }
            return try FieldKeyRing.Key(id: id, rawRepresentation: raw)
        }
        let fields = try FieldKeyRing(current: try FieldKeyRing.Key(id: file.current, rawRepresentation: currentRaw), previous: previous, indexKey: index)
        return HubSecrets(holderKey: holderKey, fields: fields)
    }

    /// The public key parks seal to (raw, base64url), published in the trust list.
    public var holderSealPublicKey: String { Base64URL.encode(holderKey.publicKey.rawRepresentation) }
}
