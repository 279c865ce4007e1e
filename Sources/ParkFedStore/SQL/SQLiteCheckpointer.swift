import Foundation
import GRDB

/// Copies a WAL database's committed pages back into the database file from a thread and connection of its own, so
/// that the writer does not.
///
/// SQLite's automatic checkpoint runs in the connection that commits, right after its commit, every 1,000 pages of
/// WAL: copying them and syncing the database file stalled the writer (and every write queued behind it) for
/// milliseconds at a time. Measured at a node's gate (8 gates at once, offline): decisions p99 7–8 ms and
/// 4,000–4,700 a second with the writer checkpointing, p99 2.5–4.6 ms and 5,300–6,100 a second without.
///
/// Every ``interval`` this thread runs a `PASSIVE` checkpoint, which never waits for or blocks the writer or the
/// readers and copies what it can. The writer keeps a far automatic checkpoint (``writerPages``) as a backstop: a
/// WAL can only start over from its beginning when a write begins with every frame copied, which a checkpoint
/// running beside steady writes rarely leaves; the writer's own checkpoint then copies only what came since this
/// thread's last pass, and the next write starts the WAL over, so the file stays bounded.
final class SQLiteCheckpointer: Sendable {
    /// Pages of WAL after which the committing writer checkpoints itself (SQLite's default is 1,000).
    static let writerPages = 10_000
    static let interval: TimeInterval = 0.05

    private let control: Control

    /// Starts the thread on a read-write connection of its own to `path` (a WAL database).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "checkpointer"
        // Opening runs a statement (below), which waits like the pool's connections do for a file another connection
        // holds for a moment (measured: without it, a store opened beside a busy one failed "database is locked").
        configuration.busyMode = .timeout(10)
        // A checkpoint syncs the database file before the WAL may start over only under `synchronous` NORMAL or
        // FULL: said here, whatever this SQLite's default is.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        let control = Control()
        self.control = control
        let thread = Thread {
            while control.wait(Self.interval) {
                // A checkpoint that cannot run now (the file busy, an I/O error) is tried again on the next pass;
                // the writer's own checkpoint bounds the WAL meanwhile.
                _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
        }
        thread.name = "sqlite-checkpointer \((path as NSString).lastPathComponent)"
        thread.start()
    }

    deinit { stop() }

    /// Ends the thread after its current pass (the store is closing).
    func stop() { control.stop() }

    /// The thread's stop flag and its wake-up.
    private final class Control: @unchecked Sendable {
        private let condition = NSCondition()
        private var stopped = false

        /// Waits `seconds` (or until stopped); false once stopped.
        func wait(_ seconds: TimeInterval) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            if !stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
            return !stopped
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.signal()
            condition.unlock()
        }
    }
}
