import Foundation
import Logging
import ParkFedStore

/// `parkfed hub backup` and `restore`: a consistent online copy of a serving hub, and a restore that installs a copy
/// only after its database passes SQLite's integrity check and its whole log verifies against its signed checkpoints.
extension Hub {
    /// Backs the hub's data directory up into `target` (a new directory) while it keeps serving. Returns the log size
    /// the copy holds at least (appends after the snapshot are not in it).
    @discardableResult
    public func backup(to target: String) async throws -> UInt64 {
        guard store.dialect == .sqlite else {
            throw StoreError(
                .invalidState, "online backups copy the SQLite store; back up a PostgreSQL store with pg_dump (and copy the data directory's keys)")
        }
        let size = log.size
        try await DirectoryBackup.copy(directory: directory.path, database: directory.database, to: target) { try await store.backup(to: $0) }
        logger.notice("backup written", metadata: ["target": "\(target)", "log_size_at_start": "\(size)"])
        return size
    }

    /// Restores a backup into a new data directory, refusing one whose database is damaged or whose log does not
    /// verify. Returns the log verification report of the restored copy.
    @discardableResult
    public static func restore(from backup: String, to target: String, logger: Logger = Logger(label: "parkfed.restore")) async throws -> LogVerifier.Report {
        var report = LogVerifier.Report()
        try await DirectoryBackup.restore(from: backup, database: "hub.sqlite", to: target) { staging in
            // The hub makes its real-name keys when they are missing; a restore must not: new keys would open nothing.
            let directory = HubDirectory(staging)
            for file in [directory.fieldKeys, directory.holderSealKey] where !FileManager.default.fileExists(atPath: file) {
                throw StoreError(.backupInvalid, "the backup holds no \((file as NSString).lastPathComponent): its real-name data could not be opened")
            }
            let hub = try await Hub(directory: directory, logger: logger)
            report = try await LogVerifier(hub: hub).verify()
            await hub.close()
            guard report.ok else {
                throw StoreError(.backupInvalid, "the backup's log does not verify: \(report.problems.prefix(3).joined(separator: "; "))")
            }
        }
        return report
    }
}
