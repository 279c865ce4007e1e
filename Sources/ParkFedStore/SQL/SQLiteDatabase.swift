import Foundation
import GRDB
import Synchronization

/// ``SQLDatabase`` on a SQLite file through GRDB: a WAL pool (concurrent snapshot reads, one writer), durable
/// commits (`synchronous = FULL`) and the online backup API.
///
/// Transactions run on threads of their own (``SQLiteThread``): one writer thread holding GRDB's writer connection
/// and a few reader threads each holding a reader connection. A transaction borrows a thread (waiting, suspended,
/// while all are busy), runs its body there from `BEGIN` to `COMMIT`, and gives it back; nothing of it runs on
/// Swift's cooperative pool. The threads start with the first transaction and end when the database is closed.
public final class SQLiteDatabase: SQLDatabase {
    public let path: String
    let pool: DatabasePool
    let readerCount: Int
    private let threads = Mutex<State>(.idle)
    private enum State {
        case idle, running(Threads), closed
    }
    private struct Threads {
        var writer: LendingPool<SQLiteThread>
        var readers: LendingPool<SQLiteThread>
        var all: [SQLiteThread]
    }
    public var dialect: SQLDialect { .sqlite }

    public init(path: String, readers: Int = 4) throws {
        self.path = path
        readerCount = readers
        pool = try SQLiteFile.openPool(path: path, maximumReaders: readers + 2)
    }

    deinit { stopThreads() }

    /// Ends the threads once their queued work has run; transactions after this throw.
    public func close() async { stopThreads() }

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
            let made = Threads(writer: LendingPool([writer]), readers: LendingPool(readers), all: [writer] + readers)
            state = .running(made)
            return made
        }
    }

    /// Runs `body` on a borrowed thread from `BEGIN` to `COMMIT` (or `ROLLBACK` when it throws).
    private func transaction<T>(on threads: LendingPool<SQLiteThread>, begin: String, _ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await threads.lend { thread in
            try await withTaskExecutorPreference(thread) {
                guard let connection = thread.connection else {
                    throw StoreError(.database, "cannot open \(path): \(thread.openError.map(String.init(describing:)) ?? "the database is closed")")
                }
                try connection.db.execute(sql: begin)
                do {
                    let result = try await body(connection)
                    try connection.db.execute(sql: "COMMIT")
                    return result
                } catch {
                    if connection.db.isInsideTransaction { try? connection.db.execute(sql: "ROLLBACK") }
                    throw error
                }
            }
        }
    }

    @discardableResult

    public func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(on: try started().readers, begin: "BEGIN DEFERRED", body)
    }

    @discardableResult

    public func write<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(on: try started().writer, begin: "BEGIN IMMEDIATE", body)
    }

    /// A consistent online copy into a new file at `path` (which must not exist), page by page from one snapshot,
    /// made on a reader thread; writers are not blocked for long. The copy is a plain (rollback-journal) file.
    public func backup(to target: String) async throws {
        guard !FileManager.default.fileExists(atPath: target) else { throw StoreError(.invalidState, "\(target) already exists") }
        let queue = try DatabaseQueue(path: target)
        try await started().readers.lend { thread in
            try await withTaskExecutorPreference(thread) {
                guard let connection = thread.connection else { throw StoreError(.database, "cannot open \(path)") }
                try queue.writeWithoutTransaction { destination in try connection.db.backup(to: destination) }
            }
        }
        try queue.close()
    }

    /// One connection's statements: plain GRDB calls, made on the thread that holds the connection.
    final class Connection: SQLConnection {
        let db: Database
        init(_ db: Database) { self.db = db }
        var dialect: SQLDialect { .sqlite }

        @discardableResult func execute(sql: String, arguments: SQLArguments) async throws -> Int {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
            return db.changesCount
        }

        func fetchAll(sql: String, arguments: SQLArguments) async throws -> [SQLRow] {
            Self.rows(try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)))
        }

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

        static func arguments(_ arguments: SQLArguments) -> StatementArguments {
            StatementArguments(
                arguments.values.map { value -> DatabaseValue in
                    switch value {
                    case .null: .null
                    case .integer(let v): v.databaseValue
                    case .real(let v): v.databaseValue
                    case .text(let v): v.databaseValue
                    case .blob(let v): v.databaseValue
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
