import Foundation
import GRDB

/// Opening SQLite files the way every ParkFederation store wants them.
enum SQLiteFile {
    /// A WAL-mode pool with foreign keys on, a busy timeout (the CLI and a running server share the file)
    /// and `synchronous = FULL`, so that a committed transaction survives a power cut before we reply; with the
    /// thread that checkpoints its WAL (the pool's writer checkpoints only as a far backstop), which the caller
    /// keeps for as long as it keeps the pool.
    static func openPool(path: String, maximumReaders: Int = 5) throws -> (DatabasePool, SQLiteCheckpointer) {
        var configuration = Configuration()
        configuration.maximumReaderCount = maximumReaders
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Pages are read through a shared memory map instead of a pread(2) each (measured: 6 % of the card
            // path's CPU was pread); 64 MiB of page cache per connection.
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Statement journals (a savepoint's undo pages: every write of a group commit has one) and temporary
            // tables in memory: on disk, each savepoint that changed a page opened, wrote and unlinked a temporary
            // file (measured: open, close, unlink and the sub-journal's pwrite were a fifth of the node's writer
            // thread at the gate).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Checkpoints run beside the writer (``SQLiteCheckpointer``); the writer's own is a far backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(SQLiteCheckpointer.writerPages)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return (pool, try SQLiteCheckpointer(path: path))
    }
}

/// Online backups: SQLite's backup API copies a consistent snapshot while the store keeps serving.
public enum SQLiteBackup {
    /// Copies the database at `pool` into a new file at `path` (which must not exist), page by page, from one
    /// consistent snapshot; writers are not blocked for long. The copy is a plain (rollback-journal) file.
    static func copy(_ pool: DatabasePool, to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError(.invalidState, "\(path) already exists") }
        let target = try DatabaseQueue(path: path)
        try await pool.read { db in try target.writeWithoutTransaction { destination in try db.backup(to: destination) } }
        try target.close()
    }

    /// `PRAGMA integrity_check` of a database file: nil when it is sound, else SQLite's first complaints.
    public static func integrityProblems(path: String) throws -> String? {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        let lines = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        return lines == ["ok"] ? nil : lines.prefix(5).joined(separator: "; ")
    }
}

extension HubStore {
    /// A consistent online copy of the hub's database into `path` (see ``SQLiteBackup``).
    public func backup(to path: String) async throws {
        guard let sqlite = database as? SQLiteDatabase else {
            throw StoreError(.invalidState, "online backups copy the SQLite store; back up a PostgreSQL store with pg_dump")
        }
        try await sqlite.backup(to: path)
    }
}

extension NodeStore {
    /// A consistent online copy of the node's database into `path` (see ``SQLiteBackup``).
    public func backup(to path: String) async throws { try await SQLiteBackup.copy(pool, to: path) }
}

/// A data directory's backup: the database copied with the backup API, every other file (configuration,
/// certificates, keys: their 0600 modes kept) copied as is. SQLite's WAL and shared-memory files are not copied; the
/// backup's database holds everything committed at the moment of the snapshot.
public enum DirectoryBackup {
    /// Copies `directory` into `target` (which must not exist), the database by `copyDatabase`.
    public static func copy(directory: String, database: String, to target: String, copyDatabase: (String) async throws -> Void) async throws {
        let files = FileManager.default
        guard !files.fileExists(atPath: target) else { throw StoreError(.invalidState, "\(target) already exists; choose a new directory") }
        try files.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let databaseName = (database as NSString).lastPathComponent
        for item in try files.contentsOfDirectory(atPath: directory) {
            guard item != databaseName, !item.hasPrefix(databaseName + "-") else { continue }
            try files.copyItem(atPath: (directory as NSString).appendingPathComponent(item), toPath: (target as NSString).appendingPathComponent(item))
        }
        try await copyDatabase((target as NSString).appendingPathComponent(databaseName))
    }

    /// Restores a backup into a new data directory: the backup's database must pass SQLite's integrity check, then
    /// `verify` (run on a staging copy) must accept it; only then does the staging copy become `target`.
    public static func restore(from backup: String, database: String, to target: String, verify: (String) async throws -> Void) async throws {
        let files = FileManager.default
        guard !files.fileExists(atPath: target) else { throw StoreError(.invalidState, "\(target) already exists; restore into a new directory") }
        let backupDatabase = (backup as NSString).appendingPathComponent(database)
        guard files.fileExists(atPath: backupDatabase) else { throw StoreError(.backupInvalid, "\(backup) holds no \(database)") }
        if let problems = try SQLiteBackup.integrityProblems(path: backupDatabase) {
            throw StoreError(.backupInvalid, "\(backupDatabase) fails SQLite's integrity check: \(problems)")
        }
        let staging = target + ".restoring"
        try? files.removeItem(atPath: staging)
        try files.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            for item in try files.contentsOfDirectory(atPath: backup) {
                try files.copyItem(atPath: (backup as NSString).appendingPathComponent(item), toPath: (staging as NSString).appendingPathComponent(item))
            }
            try await verify(staging)
            try files.moveItem(atPath: staging, toPath: target)
        } catch {
            try? files.removeItem(atPath: staging)
            throw error
        }
    }
}
