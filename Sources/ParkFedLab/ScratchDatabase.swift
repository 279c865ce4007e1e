import Foundation
import ParkFedHub
import ParkFedStorePostgres

/// Empty PostgreSQL databases made and dropped on a server (through its admin URL), for the store benchmark and the
/// tests' per-hub databases.
public enum ScratchDatabase {
    /// Installs the PostgreSQL driver for hubs of this process (``HubDatabase/installPostgres(_:)``).
    public static func installDriver() {
        HubDatabase.installPostgres { url, logger in try PostgresDatabase(url: url, logger: logger) }
    }

    /// A new, empty database on the server of `admin`: its URL.
    public static func make(on admin: String) async throws -> String {
        let name = "pf_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await PostgresDatabase.administer(admin, "CREATE DATABASE \(name)")
        return PostgresDatabase.url(admin, database: String(name))
    }

    /// Drops a database made by ``make(on:)``, closing whatever still uses it.
    public static func drop(_ url: String, on admin: String) async {
        guard let name = URLComponents(string: url)?.path.dropFirst(), name.hasPrefix("pf_") else { return }
        try? await PostgresDatabase.administer(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
