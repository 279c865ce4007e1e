import Foundation
import GRDB
import Synchronization

/// ``SQLDatabase`` on a SQLite file through GRDB: a WAL pool (concurrent snapshot reads, one writer), durable
/// commits (`synchronous = FULL`) shared by the writes that queue meanwhile (group commit), and the online backup
/// API.
///
/// Transactions run on threads of their own (``SQLiteThread``): one writer thread holding GRDB's writer connection
/// and a few reader threads each holding a reader connection. A transaction borrows a thread (waiting, suspended,
/// while all are busy), runs its body there from `BEGIN` to `COMMIT`, and gives it back; nothing of it runs on
/// Swift's cooperative pool. The threads start with the first transaction and end when the database is closed.
public final class SQLiteDatabase: SQLDatabase {
    public let path: String
    let pool: DatabasePool
    let readerCount: Int
    /// WAL checkpoints beside the writer thread, not in it.
    let checkpointer: SQLiteCheckpointer
    private let threads = Mutex<State>(.idle)
    private enum State {
        case idle, running(Threads), closed
    }
    private struct Threads {
        var writer: LendingPool<SQLiteThread>
        /// The one thread `writer` lends.
        var writerThread: SQLiteThread
        var readers: LendingPool<SQLiteThread>
        var all: [SQLiteThread]
    }
    public var dialect: SQLDialect { .sqlite }

    public init(path: String, readers: Int = 4) throws {
        self.path = path
        readerCount = readers
        (pool, checkpointer) = try SQLiteFile.openPool(path: path, maximumReaders: readers + 2)
    }

    deinit { stopThreads() }

    /// Ends the threads once their queued work has run; transactions after this throw.
    public func close() async {
        stopThreads()
        checkpointer.stop()
    }

    private func stopThreads() {
        let state = threads.withLock { state in
            defer { state = .closed }
            return state
        }
        if case .running(let running) = state { for thread in running.all { thread.stop() } }
    }

    private func started() throws -> Threads {
        try threads.withLock { state in
            switch state {
            case .running(let threads): return threads
            case .closed: throw StoreError(.database, "the database \(path) is closed")
            case .idle: break
            }
            let pool = self.pool
            let name = (path as NSString).lastPathComponent
            let writer = SQLiteThread(name: "sqlite-writer \(name)") { serve in pool.writeWithoutTransaction { db in serve(db) } }
            let readers = (0..<readerCount).map { number in
                SQLiteThread(name: "sqlite-reader-\(number) \(name)") { serve in try pool.unsafeRead { db in serve(db) } }
            }
            let made = Threads(writer: LendingPool([writer]), writerThread: writer, readers: LendingPool(readers), all: [writer] + readers)
            state = .running(made)
            return made
        }
    }

    /// The connection a thread holds, or why it has none.
    private func connection(_ thread: SQLiteThread) throws -> Connection {
        guard let connection = thread.connection else {
            throw StoreError(.database, "cannot open \(path): \(thread.openError.map(String.init(describing:)) ?? "the database is closed")")
        }
        return connection
    }

    /// Runs `body` on a borrowed reader thread from `BEGIN` to `COMMIT` (or `ROLLBACK` when it throws).
    @discardableResult
    public func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await onReader { connection in
            try connection.db.cachedStatement(sql: "BEGIN DEFERRED").execute()
            do {
                let result = try await body(connection)
                try connection.db.cachedStatement(sql: "COMMIT").execute()
                return result
            } catch {
                if connection.db.isInsideTransaction { try? connection.db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
    }

    /// Runs `body`, one statement, on a borrowed reader thread without `BEGIN` and `COMMIT`: in SQLite's autocommit
    /// mode one statement reads one snapshot by itself (the trust epoch every request checks).
    @discardableResult
    public func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await onReader(body)
    }

    /// Runs `body` on a borrowed reader thread (the task's executor meanwhile) with the connection it holds.
    private func onReader<T>(_ body: (Connection) async throws -> T) async throws -> T {
        try await started().readers.lend { thread in
            try await withTaskExecutorPreference(thread) { try await body(try self.connection(thread)) }
        }
    }

    /// Writes that queue while one runs share its transaction and its one fsync (group commit); each after the first
    /// runs in a savepoint of its own (a body that throws rolls back only its own statements and gets its error at
    /// once; the first, alone in the transaction then, rolls the transaction back), and
    /// each successful one returns only after the `COMMIT` that holds it. The group ends (commits) when nobody is
    /// waiting for the writer or it holds ``maximumGroup`` writes; a write that finds the writer idle is a group of
    /// one and waits for nobody.
    @discardableResult
    public func write<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        let threads = try started()
        let writer = threads.writer
        // Counted from here until this write holds the writer: a group stays open only for writes counted so.
        wanting.add(1, ordering: .relaxed)
        // The wait for the writer runs with the writer thread as the task's executor too: when the write before
        // gives the writer back, this one resumes on the writer thread at once. (Waiting on the cooperative pool,
        // each hand-off queued behind whatever TLS and JSON work the pool had: measured, the card path's requests
        // waited 17 ms with the writer thread a third busy.)
        let (result, pending): (Result<T, any Error>, CommitGroup?) = try await withTaskExecutorPreference(threads.writerThread) {
            try await writer.lend { thread in
                wanting.subtract(1, ordering: .relaxed)
                let connection: Connection
                do { connection = try self.connection(thread) } catch {
                    // A group left open for this write ends with it.
                    openGroup.withLock { open in
                        open?.finish(.failure(error))
                        open = nil
                    }
                    throw error
                }
                let db = connection.db
                let group: CommitGroup
                if let open = openGroup.withLock({ $0 }) {
                    group = open
                } else {
                    try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                    group = CommitGroup()
                    openGroup.withLock { $0 = group }
                }
                // The group's first write runs in the transaction itself, without a savepoint: nothing else is in it
                // yet, so its failure rolls the whole transaction back. (Inside a savepoint SQLite keeps every page a
                // statement changes in an in-memory statement journal, and each statement's end walks that journal
                // from its start: measured, a 1,000-assertion append spent a fifth of the writer thread's time there.)
                let members = group.join()
                let first = members == 1
                var result: Result<T, any Error>
                do {
                    if !first { try db.cachedStatement(sql: "SAVEPOINT parkfed_write").execute() }
                    result = .success(try await body(connection))
                    if !first { try db.cachedStatement(sql: "RELEASE parkfed_write").execute() }
                } catch {
                    if first {
                        if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                        openGroup.withLock { $0 = nil }
                        group.finish(.failure(error))
                        return (.failure(error), nil)
                    }
                    if db.isInsideTransaction {
                        try? db.execute(sql: "ROLLBACK TO parkfed_write")
                        try? db.execute(sql: "RELEASE parkfed_write")
                    }
                    result = .failure(error)
                }
                guard db.isInsideTransaction else {
                    // SQLite ended the transaction itself (an I/O error, a full disk): the whole group is lost.
                    let lost = StoreError(.database, "SQLite rolled the write transaction back (an I/O error or a full disk); nothing of it was written")
                    openGroup.withLock { $0 = nil }
                    group.finish(.failure(lost))
                    if case .failure = result { return (result, nil) }
                    return (.failure(lost), nil)
                }
                // Writes that have begun and do not hold the writer yet wait either for it to be lent or, already on
                // the writer thread's queue, to run there; each of them will join this group or commit it. (Counting
                // the thread's queued jobs instead also counted other work resumed there, and a group could then
                // stay open, its writes unanswered, until an unrelated write came.)
                if wanting.load(ordering: .relaxed) > 0, members < Self.maximumGroup {
                    // Someone waits for the writer: leave the transaction open for them. A failed body changed nothing
                    // and is answered now; a successful one waits for the commit.
                    if case .failure = result { return (result, nil) }
                    return (result, group)
                }
                openGroup.withLock { $0 = nil }
                do {
                    try db.cachedStatement(sql: "COMMIT").execute()
                } catch {
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                    group.finish(.failure(error))
                    return (.failure(error), nil)
                }
                group.finish(.success(()))
                commitCount.add(1, ordering: .relaxed)
                return (result, nil)
            }
        }
        if let pending { try await pending.committed() }
        return try result.get()
    }

    /// Write transactions committed so far (each one fsync); fewer than the writes when they were grouped.
    public var commits: Int { commitCount.load(ordering: .relaxed) }
    private let commitCount = Atomic<Int>(0)

    /// Writes begun that do not hold the writer yet.
    private let wanting = Atomic<Int>(0)

    /// The most writes one transaction holds before it commits.
    static let maximumGroup = 64

    /// The open write transaction, while one writer has left it for the next (only the writer thread's holder
    /// reads or changes it).
    private let openGroup = Mutex<CommitGroup?>(nil)

    /// The writes of one transaction: their number, and the commit's outcome for those waiting on it.
    final class CommitGroup: Sendable {
        private struct State {
            var members = 0
            var outcome: Result<Void, any Error>?
            var waiting: [CheckedContinuation<Void, any Error>] = []
        }
        private let state = Mutex(State())

        /// Counts one more write in the group; how many it holds now.
        func join() -> Int {
            state.withLock {
                $0.members += 1; return $0.members
            }
        }

        /// Ends the group: everyone waiting learns the commit's outcome.
        func finish(_ outcome: Result<Void, any Error>) {
            let waiting = state.withLock { state in
                state.outcome = outcome
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume(with: outcome) }
        }

        /// Returns when the group has committed; throws when its commit failed.
        func committed() async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.outcome == nil { state.waiting.append(continuation) }
                    return state.outcome
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        }
    }

    /// A consistent online copy into a new file at `path` (which must not exist), page by page from one snapshot,
    /// made on a reader thread; writers are not blocked for long. The copy is a plain (rollback-journal) file.
    public func backup(to target: String) async throws {
        guard !FileManager.default.fileExists(atPath: target) else { throw StoreError(.invalidState, "\(target) already exists") }
        let queue = try DatabaseQueue(path: target)
        try await onReader { connection in
            try queue.writeWithoutTransaction { destination in try connection.db.backup(to: destination) }
        }
        try queue.close()
    }

    /// One connection's statements: plain GRDB calls, made on the thread that holds the connection.
    final class Connection: SQLConnection {
        let db: Database
        init(_ db: Database) { self.db = db }
        var dialect: SQLDialect { .sqlite }

        @discardableResult func execute(sql: String, arguments: SQLArguments) async throws -> Int {
            if arguments.values.isEmpty || sql.utf8.count > Self.cachedLength {
                // Without arguments: schema changes and scripts of several statements, each run once (not cached).
                try db.execute(sql: sql, arguments: Self.arguments(arguments))
            } else {
                try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
            }
            return db.changesCount
        }

        func fetchAll(sql: String, arguments: SQLArguments) async throws -> [SQLRow] {
            if sql.utf8.count > Self.cachedLength { return Self.rows(try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))) }
            return Self.rows(try Row.fetchAll(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments)))
        }

        /// Statements up to this length are compiled once per connection and kept (GRDB's statement cache): the
        /// hot paths run the same few texts thousands of times, and compiling one (parser, GRDB's authorizer) cost
        /// more than running it. Longer texts are the generated ones (multi-row inserts, long `IN` lists) whose
        /// variants would only fill the cache.
        static let cachedLength = 1_024

        func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) async throws {
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: Self.arguments(arguments))
            var columns: [String]?
            while let row = try cursor.next() {
                if columns == nil { columns = Array(row.columnNames) }
                try body(Self.row(row, columns: columns!))
            }
        }

        func cachedStatement(sql: String) throws -> any SQLStatement { Statement(try db.cachedStatement(sql: sql), db: db) }

        final class Statement: SQLStatement {
            let statement: GRDB.Statement
            let db: Database
            init(_ statement: GRDB.Statement, db: Database) {
                self.statement = statement
                self.db = db
            }
            func execute(arguments: SQLArguments) async throws -> Int {
                try statement.execute(arguments: Connection.arguments(arguments))
                return db.changesCount
            }
            func fetchAll(arguments: SQLArguments) async throws -> [SQLRow] {
                Connection.rows(try Row.fetchAll(statement, arguments: Connection.arguments(arguments)))
            }
        }

        /// GRDB's arguments for ours. (Through its initialiser of optional existentials: its initialiser of a
        /// sequence of one convertible type is not specialised outside GRDB and reads each value through a key path,
        /// measured at 3 % of the card path's CPU.)
        static func arguments(_ arguments: SQLArguments) -> StatementArguments {
            StatementArguments(
                arguments.values.map { value -> (any DatabaseValueConvertible)? in
                    switch value {
                    case .null: nil
                    case .integer(let v): v
                    case .real(let v): v
                    case .text(let v): v
                    case .blob(let v): v
                    }
                })
        }

        /// Rows of one result share one column list.
        static func rows(_ rows: [Row]) -> [SQLRow] {
            guard let first = rows.first else { return [] }
            let columns = Array(first.columnNames)
            return rows.map { row($0, columns: columns) }
        }

        static func row(_ row: Row, columns: [String]) -> SQLRow {
            SQLRow(
                columns: columns,
                values: row.databaseValues.map { value in
                    switch value.storage {
                    case .null: .null
                    case .int64(let v): .integer(v)
                    case .double(let v): .real(v)
                    case .string(let v): .text(v)
                    case .blob(let v): .blob(v)
                    }
                })
        }
    }
}
