import Foundation
import ParkFedCrypto
import SwiftASN1

/// PKCS#8 / SPKI PEM forms of Ed25519 keys (RFC 8410), so that `openssl pkey` can read the files we write.
public enum Ed25519PEM {
    // DER prefixes of RFC 8410 §10.3: PrivateKeyInfo and SubjectPublicKeyInfo with OID 1.3.101.112.
    private static let privatePrefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    private static let publicPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    public static func privateKeyPEM(_ key: SigningKey) -> String {
        PEMDocument(type: "PRIVATE KEY", derBytes: privatePrefix + Array(key.rawRepresentation)).pemString + "\n"
    }

    public static func publicKeyPEM(_ key: VerifyingKey) -> String {
        PEMDocument(type: "PUBLIC KEY", derBytes: publicPrefix + Array(key.rawRepresentation)).pemString + "\n"
    }

    public static func parsePrivateKey(pem: String) throws(PKIError) -> SigningKey {
        guard let document = try? PEMDocument(pemString: pem), document.discriminator == "PRIVATE KEY",
            document.derBytes.count == 48, Array(document.derBytes.prefix(16)) == privatePrefix,
            let key = try? SigningKey(rawRepresentation: Data(document.derBytes.suffix(32)))
        else { throw PKIError(.malformedPEM, "not an Ed25519 PKCS#8 private key") }
        return key
    }

    public static func parsePublicKey(pem: String) throws(PKIError) -> VerifyingKey {
        guard let document = try? PEMDocument(pemString: pem), document.discriminator == "PUBLIC KEY",
            document.derBytes.count == 44, Array(document.derBytes.prefix(12)) == publicPrefix,
            let key = try? VerifyingKey(rawRepresentation: Data(document.derBytes.suffix(32)))
        else { throw PKIError(.malformedPEM, "not an Ed25519 public key") }
        return key
    }
}
