import Foundation
import ParkFedCrypto
import ParkFedDomain
import SwiftASN1
import X509

extension Certificate {
    /// The federation principal this certificate carries as a SAN URI `urn:parkfed:…`, if exactly one.
    public var federationPrincipal: Principal? {
        guard let san = try? extensions.subjectAlternativeNames else { return nil }
        var found: [Principal] = []
        for name in san {
            if case .uniformResourceIdentifier(let uri) = name, let principal = Principal(uri: uri) {
                found.append(principal)
            }
        }
        // The hub certificate also names DNS/IP; a client certificate carries exactly one principal.
        return found.count == 1 ? found[0] : nil
    }

    /// The serial number as lower-case hex, the form the hub stores.
    public var serialHex: String {
        Hex.encode(serialNumber.bytes)
    }

    /// PEM text of this certificate, ending with a newline so that PEM files can be concatenated into chains.
    public func pemString() throws -> String {
        let text = try serializeAsPEM().pemString
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    /// Parses every `CERTIFICATE` block of a PEM bundle, in order.
    public static func parseChain(pem: String) throws(PKIError) -> [Certificate] {
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch {
            throw PKIError(.malformedPEM, "not a PEM certificate chain")
        }
        var chain: [Certificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            do { chain.append(try Certificate(derEncoded: document.derBytes)) } catch {
                throw PKIError(.malformedCertificate, "a certificate in the chain does not parse")
            }
        }
        guard !chain.isEmpty else { throw PKIError(.malformedPEM, "no CERTIFICATE in the PEM text") }
        return chain
    }
}
