import Foundation
import Logging
import ParkFedStore

/// `parkfed node backup` and `restore`: a consistent online copy of a serving node agent (its outbox, sales, gate
/// entries, devices, keys), and a restore that checks the copy before installing it.
extension NodeAgent {
    /// Backs the node's data directory up into `target` (a new directory) while it keeps serving.
    public func backup(to target: String) async throws {
        try await DirectoryBackup.copy(directory: directory.path, database: directory.database, to: target) { try await store.backup(to: $0) }
    }

    /// Restores a backup into a new data directory after SQLite's integrity check and a check that the copy opens as
    /// this park's node (configuration, certificate, keys and outbox readable). Returns the outbox counts it holds.
    @discardableResult
    public static func restore(from backup: String, to target: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try await DirectoryBackup.restore(from: backup, database: "node.sqlite", to: target) { staging in
            let store = try NodeStore(path: NodeDirectory(staging).database)
            counts = try await store.outboxCounts()
            guard FileManager.default.fileExists(atPath: NodeDirectory(staging).configuration) else {
                throw StoreError(.backupInvalid, "the backup holds no node configuration")
            }
        }
        return counts
    }
}
