import Foundation
import Logging
import ParkFedStore
import ParkFedStorePostgres

/// Where a hub keeps its state: the embedded SQLite file of its data directory (the default), or a PostgreSQL
/// database named by `store` in `hub.json` or `$PARKFED_HUB_STORE`, which several hub processes can share.
public enum HubDatabase {
    /// The database for a hub: `location` is a `postgres://` URL, or nil for `sqliteFile`.
    public static func open(_ location: String?, sqliteFile: String, logger: Logger) throws -> any SQLDatabase {
        guard let location, location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") else {
            return try SQLiteDatabase(path: sqliteFile)
        }
        return try PostgresDatabase(url: location, logger: logger)
    }
}
