import Foundation
import ParkFedProtocol

extension PartnerCatalog {
    /// Reads the example federation's files from a `partners/` directory and validates them
    /// (``PartnerCatalog/decode(_:)``).
    public static func load(directory: String) throws -> PartnerCatalog {
        try decode { name in
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { throw WireError("cannot read \(path)") }
            return data
        }
    }
}
