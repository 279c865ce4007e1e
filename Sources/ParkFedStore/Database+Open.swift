import GRDB

/// Opening SQLite files the way every ParkFederation store wants them.
enum SQLiteFile {
    /// A WAL-mode pool with foreign keys on, a busy timeout (the CLI and a running server share the file)
    /// and `synchronous = FULL`, so that a committed transaction survives a power cut before we reply.
    static func openPool(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return try DatabasePool(path: path, configuration: configuration)
    }
}
