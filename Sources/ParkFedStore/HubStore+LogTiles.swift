import Foundation

/// A full tile of the log's Merkle tree (C2SP tlog-tiles, height 8): 256 hashes of tree level `8·level`, for nodes
/// `index·256 ..< (index+1)·256`. Written once, in the transaction whose append completed it, and never changed.
public struct LogTileRecord: Sendable, Hashable {
    public var level: Int
    public var index: UInt64
    public var hashes: Data

    public init(level: Int, index: UInt64, hashes: Data) {
        self.level = level
        self.index = index
        self.hashes = hashes
    }
}

/// What a hub process reads at start-up to take up the log where it stands: its size, the leaf hashes of the last
/// incomplete tile, and for each higher level the full tiles whose roots make that level's incomplete tile.
public struct LogTail: Sendable {
    public var size: UInt64
    public var lastLeaves: [Data]
    public var tiles: [Int: [Data]]
    /// Whether the last full tile of leaves is stored (false in a log made before tiles were stored; tiles are
    /// written in order, so the last one stands for all before it, and `verify-log` checks every one).
    public var tilesStored: Bool
}

extension HubStore {
    static func registerLogTileMigration(_ migrator: inout SQLMigrator) {
        migrator.registerMigration("v26-log-tiles") { db in
            try await db.schema(
                sqlite: """
                    CREATE TABLE log_tiles (
                        level INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        hashes BLOB NOT NULL CHECK (length(hashes) = 8192),
                        PRIMARY KEY (level, idx)
                    ) WITHOUT ROWID;
                    """,
                postgres: """
                    CREATE TABLE log_tiles (
                        level INTEGER NOT NULL,
                        idx BIGINT NOT NULL,
                        hashes BYTEA NOT NULL CHECK (length(hashes) = 8192),
                        PRIMARY KEY (level, idx)
                    );
                    """)
        }
    }

    /// The log's tail in one read transaction: `plan` says, for the size found, from which index the leaf hashes
    /// are needed and which full tiles of which level; a tile holds `2^tileHeight` hashes (the store keeps tiles
    /// without computing them, so the caller names their height).
    public func logTail(
        tileHeight: Int, plan: @Sendable (UInt64) -> (leavesFrom: UInt64, tileRanges: [(level: Int, range: Range<UInt64>)])
    ) async throws -> LogTail {
        try await database.read { db in
            let size = try await Self.logSize(db)
            let (from, ranges) = plan(size)
            let leaves = try await Data.fetchAll(db, sql: "SELECT leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx", arguments: [Int64(from)])
            var tiles: [Int: [Data]] = [:]
            for (level, range) in ranges {
                tiles[level] = try await Self.logTiles(level: level, range: range, db)
            }
            // One indexed look-up, not a count of every tile: start-up stays flat as the log grows.
            let fullLeafTiles = size >> UInt64(tileHeight)
            var stored = true
            if fullLeafTiles > 0 {
                let last = try await Int64.fetchOne(db, sql: "SELECT 1 FROM log_tiles WHERE level = 0 AND idx = ?", arguments: [Int64(fullLeafTiles - 1)])
                stored = last != nil
            }
            return LogTail(size: size, lastLeaves: leaves, tiles: tiles, tilesStored: stored)
        }
    }

    /// The full tiles of `level` with indices in `range`, in order; fewer when some are not full yet.
    public func logTiles(level: Int, range: Range<UInt64>) async throws -> [Data] {
        try await database.read { db in try await Self.logTiles(level: level, range: range, db) }
    }

    static func logTiles(level: Int, range: Range<UInt64>, _ db: any SQLConnection) async throws -> [Data] {
        try await Data.fetchAll(
            db, sql: "SELECT hashes FROM log_tiles WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
            arguments: [Int64(level), Int64(range.lowerBound), Int64(range.upperBound)])
    }

    /// One full tile, if it is full.
    public func logTile(level: Int, index: UInt64) async throws -> Data? {
        try await database.read { db in
            try await Data.fetchOne(db, sql: "SELECT hashes FROM log_tiles WHERE level = ? AND idx = ?", arguments: [Int64(level), Int64(index)])
        }
    }

    /// Stores full tiles; one already stored stays as it is (tiles never change: a hub process that completed the
    /// same tile computed the same bytes).
    public func insertLogTiles(_ tiles: [LogTileRecord]) async throws {
        guard !tiles.isEmpty else { return }
        try await database.write { db in try await Self.insertLogTiles(tiles, db) }
    }

    static func insertLogTiles(_ tiles: [LogTileRecord], _ db: any SQLConnection) async throws {
        try await db.insertRows(
            into: "log_tiles", columns: ["level", "idx", "hashes"],
            values: tiles.flatMap { tile in ([Int64(tile.level), Int64(tile.index), tile.hashes] as SQLArguments).values },
            suffix: " ON CONFLICT (level, idx) DO NOTHING")
    }

    /// Every stored tile of `level`, in index order (for `verify-log`).
    public func forEachLogTile(level: Int, _ body: (UInt64, Data) throws -> Void) async throws {
        try await database.read { db in
            try await db.forEach(sql: "SELECT idx, hashes FROM log_tiles WHERE level = ? ORDER BY idx", arguments: [Int64(level)]) { row in
                try body(UInt64(row["idx"] as Int64), row["hashes"])
            }
        }
    }
}
