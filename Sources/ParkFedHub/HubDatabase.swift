import Foundation
import Logging
import NIOConcurrencyHelpers
import ParkFedStore

/// Where a hub keeps its state: the embedded SQLite file of its data directory (the default), or a PostgreSQL
/// database named by `store` in `hub.json` or `$PARKFED_HUB_STORE`, which several hub processes can share.
///
/// The hub links no PostgreSQL driver: the program that runs it installs one (``installPostgres(_:)``: the
/// `parkfed` command and the lab install `ParkFedStorePostgres`), so only the command chooses the stores it supports.
public enum HubDatabase {
    public typealias Opener = @Sendable (_ url: String, _ logger: Logger) throws -> any SQLDatabase

    /// A class around the opener: a closure read out of a lock's `inout` comes back wrapped in two more
    /// reabstraction thunks every time (see `AppendObserver`).
    private final class Driver: Sendable {
        let open: Opener
        init(_ open: @escaping Opener) { self.open = open }
    }
    private static let postgres = NIOLockedValueBox<Driver?>(nil)

    /// Makes `postgres://` stores available to every hub of this process.
    public static func installPostgres(_ opener: @escaping Opener) { postgres.withLockedValue { $0 = Driver(opener) } }

    /// The database for a hub: `location` is a `postgres://` URL, or nil for `sqliteFile`.
    public static func open(_ location: String?, sqliteFile: String, logger: Logger) throws -> any SQLDatabase {
        guard let location, location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") else {
            return try SQLiteDatabase(path: sqliteFile)
        }
        guard let opener = postgres.withLockedValue({ $0 })?.open else {
            throw HubError(.invalidConfiguration, "store \(location.prefix(13))… is PostgreSQL, but this program installed no PostgreSQL driver")
        }
        return try opener(location, logger)
    }
}
