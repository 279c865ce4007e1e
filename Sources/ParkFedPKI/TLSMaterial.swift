import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// Conversions from swift-certificates values to the NIOSSL types TLS configurations take.
public enum TLSMaterial {
    public static func nioCertificate(_ certificate: Certificate) throws -> NIOSSLCertificate {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
    }

    public static func nioKey(_ key: P256.Signing.PrivateKey) throws -> NIOSSLPrivateKey {
        try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der)
    }

    /// Loads every certificate of a PEM file for NIOSSL.
    public static func nioCertificates(pemFile path: String) throws -> [NIOSSLCertificate] {
        try NIOSSLCertificate.fromPEMFile(path)
    }
}
