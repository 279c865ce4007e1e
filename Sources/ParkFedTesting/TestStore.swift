import Foundation
import ParkFedLab

/// Which store the test hubs use. With `PARKFED_TEST_POSTGRES` set to a PostgreSQL server's admin URL
/// (`scripts/postgres start` prints one), every test hub gets a new database of its own on that server, and the hub
/// test suite runs against PostgreSQL; without it, against the SQLite file in the hub's data directory.
public enum TestStore {
    public static let postgresAdmin: String? = ProcessInfo.processInfo.environment["PARKFED_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    public static var usesPostgres: Bool { postgresAdmin != nil }

    /// A new, empty database on the server of `admin` (default: the test server): its URL (nil without a server).
    public static func newDatabase(on admin: String? = postgresAdmin) async throws -> String? {
        guard let admin else { return nil }
        ScratchDatabase.installDriver()
        return try await ScratchDatabase.make(on: admin)
    }

    /// Drops a database made by ``newDatabase()``, closing whatever still uses it.
    public static func dropDatabase(_ url: String, on admin: String? = postgresAdmin) async {
        guard let admin else { return }
        await ScratchDatabase.drop(url, on: admin)
    }
}
