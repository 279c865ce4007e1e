import Foundation
import Logging
import NIOCore
import NIOPosix
import ParkFedStore
import PostgresNIO

/// ``SQLDatabase`` on a PostgreSQL server (postgres-nio), for a hub that runs as several processes on one database.
///
/// - Reads run in `REPEATABLE READ READ ONLY` transactions: one consistent snapshot, as SQLite's WAL readers see.
/// - Writes run in `READ COMMITTED` transactions that first take one transaction-scoped advisory lock
///   (`pg_advisory_xact_lock`), held until commit or rollback. Every write transaction of every hub process on the
///   database therefore runs one at a time, in one order: exactly SQLite's single-writer semantics, which every
///   check-then-write of the store (a gate's last entry, a card hold against its balance, the next log index) was
///   written for. The lock is released by the server if a process dies mid-transaction.
/// - The store's calls are synchronous (as with GRDB): each statement waits for its `EventLoopFuture` on the calling
///   thread; the connections' I/O runs on NIO's own event loops, never on the thread that waits.
public final class PostgresDatabase: SQLDatabase, @unchecked Sendable {
    public var dialect: SQLDialect { .postgres }
    /// The advisory lock every write transaction holds (an arbitrary constant: "PFED").
    public static let writeLock: Int64 = 0x5046_4544
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    let maximumConnections: Int
    let condition = NSCondition()
    var idle: [PostgresConnection] = []
    var open = 0
    var nextID = 0

    /// Connects lazily to `url` (`postgres://user:password@host:port/database`, or `postgres:///database?host=/run/postgresql`
    /// for a Unix socket), with at most `maximumConnections` connections at once.
    public init(url: String, maximumConnections: Int = 8, logger: Logger = Logger(label: "parkfed.postgres")) throws {
        configuration = try Self.configuration(url)
        self.maximumConnections = maximumConnections
        self.logger = logger
    }

    /// Parses a `postgres://` URL.
    static func configuration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw StoreError(.invalidState, "a PostgreSQL store is a postgres://user:password@host:port/database URL")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else { throw StoreError(.invalidState, "the PostgreSQL URL names no database") }
        let user = components.percentEncodedUser?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = components.percentEncodedPassword?.removingPercentEncoding
        if let socket = components.queryItems?.first(where: { $0.name == "host" })?.value, socket.hasPrefix("/") {
            let port = components.port ?? 5432
            return .init(unixSocketPath: socket + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        return .init(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: user, password: password, database: database,
            tls: .disable)
    }

    deinit {
        // Not waited for: the last reference may go on any thread, an event loop's included.
        // Each connection is kept alive by its own close callback until it is closed (postgres-nio asserts that).
        for connection in idle {
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }

    /// Closes the idle connections (those in use close when returned after this).
    public func close() {
        condition.lock()
        let connections = idle
        idle = []
        open -= connections.count
        condition.unlock()
        for connection in connections { try? connection.close().wait() }
    }

    /// Runs statements outside any transaction on a connection of its own (`CREATE DATABASE`, `DROP DATABASE`).
    public static func administer(_ url: String, _ sql: String, logger: Logger = Logger(label: "parkfed.postgres")) throws {
        let connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration(url),
            id: 0, logger: logger
        ).wait()
        defer { try? connection.close().wait() }
        do { _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait() } catch { throw Connection.storeError(error, sql) }
    }

    /// The URL of another database on the same server.
    public static func url(_ url: String, database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }

    // MARK: Transactions

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(\(Self.writeLock))", body)
    }

    public func migrate(_ migrations: [SQLMigration]) throws {
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS parkfed_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let applied = Set(try String.fetchAll(db, sql: "SELECT name FROM parkfed_migrations"))
            for migration in migrations where !applied.contains(migration.name) {
                try migration.apply(db)
                try db.execute(
                    sql: "INSERT INTO parkfed_migrations (name, applied_at) VALUES (?, ?)",
                    arguments: [migration.name, Int64(Date().timeIntervalSince1970 * 1000)])
            }
        }
    }

    func transaction<T>(begin: String, _ body: (any SQLConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        let session = Connection(connection, logger: logger)
        do {
            try session.simple(begin)
            let result = try body(session)
            try session.simple("COMMIT")
            checkIn(connection)
            return result
        } catch {
            // A failed rollback means the connection is broken: drop it rather than reuse it.
            if (try? session.simple("ROLLBACK")) != nil { checkIn(connection) } else { discard(connection) }
            throw error
        }
    }

    // MARK: Connections

    func checkOut() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && open >= maximumConnections { condition.wait() }
        if let connection = idle.popLast() {
            condition.unlock()
            if connection.isClosed {
                discard(connection)
                return try checkOut()
            }
            return connection
        }
        open += 1
        nextID += 1
        let id = nextID
        condition.unlock()
        do {
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id, logger: logger).wait()
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw StoreError(.database, "cannot connect to PostgreSQL: \(String(reflecting: error))")
        }
    }

    func checkIn(_ connection: PostgresConnection) {
        condition.lock()
        idle.append(connection)
        condition.signal()
        condition.unlock()
    }

    func discard(_ connection: PostgresConnection) {
        try? connection.close().wait()
        condition.lock()
        open -= 1
        condition.signal()
        condition.unlock()
    }

    // MARK: Statements

    final class Connection: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger
        var changesCount = 0
        var dialect: SQLDialect { .postgres }

        init(_ connection: PostgresConnection, logger: Logger) {
            self.connection = connection
            self.logger = logger
        }

        /// Statements without arguments, several separated by `;` (each is sent on its own: the extended protocol
        /// takes one statement at a time).
        func simple(_ sql: String) throws {
            for statement in Self.statements(sql) { _ = try run(statement, []) }
        }

        /// `sql` split at the semicolons outside quoted text, blank pieces left out.
        static func statements(_ sql: String) -> [String] {
            var pieces: [String] = [], current = "", quoted = false
            for character in sql {
                if character == "'" { quoted.toggle() }
                if character == ";", !quoted {
                    pieces.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            pieces.append(current)
            return pieces.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }

        func execute(sql: String, arguments: SQLArguments) throws {
            if arguments.values.isEmpty, sql.contains(";") {
                try simple(sql)
                changesCount = 0
                return
            }
            let result = try run(sql, arguments)
            changesCount = result.metadata.rows ?? 0
        }

        func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
            try run(sql, arguments).rows.map(Self.row)
        }

        func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
            for row in try run(sql, arguments).rows { try body(Self.row(row)) }
        }

        func cachedStatement(sql: String) throws -> any SQLStatement { Statement(connection: self, sql: sql) }

        final class Statement: SQLStatement {
            let connection: Connection
            let sql: String
            init(connection: Connection, sql: String) {
                self.connection = connection
                self.sql = sql
            }
            func execute(arguments: SQLArguments) throws { try connection.execute(sql: sql, arguments: arguments) }
            func fetchAll(arguments: SQLArguments) throws -> [SQLRow] { try connection.fetchAll(sql: sql, arguments: arguments) }
        }

        func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
            var binds = PostgresBindings(capacity: arguments.values.count)
            for value in arguments.values {
                switch value {
                case .null: binds.appendNull()
                case .integer(let v): binds.append(v)
                case .real(let v): binds.append(v)
                case .text(let v): binds.append(v)
                case .blob(let v): binds.append(ByteBuffer(bytes: v))
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numberedPlaceholders(sql), binds: binds)
            do { return try connection.query(query, logger: logger).wait() } catch { throw Self.storeError(error, sql) }
        }

        /// `?` placeholders (outside quoted text) as PostgreSQL's `$1`, `$2`, ….
        static func numberedPlaceholders(_ sql: String) -> String {
            var out = ""
            out.reserveCapacity(sql.utf8.count + 16)
            var number = 0, quoted = false
            for character in sql {
                if character == "'" { quoted.toggle() }
                if character == "?", !quoted {
                    number += 1
                    out += "$\(number)"
                } else {
                    out.append(character)
                }
            }
            return out
        }

        static func row(_ row: PostgresRow) -> SQLRow {
            var columns: [String] = [], values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(value(cell))
            }
            return SQLRow(columns: columns, values: values)
        }

        static func value(_ cell: PostgresCell) -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8, .oid:
                return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
            case .bool:
                return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
            case .float4, .float8:
                return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
            case .numeric:
                guard let decimal = try? cell.decode(Decimal.self) else { return .null }
                let number = NSDecimalNumber(decimal: decimal)
                if let exact = Int64(exactly: number.doubleValue), Decimal(exact) == decimal { return .integer(exact) }
                return .real(number.doubleValue)
            case .bytea:
                return (try? cell.decode(ByteBuffer.self)).map { .blob(Data($0.readableBytesView)) } ?? .null
            default:
                return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
            }
        }

        static func storeError(_ error: any Error, _ sql: String) -> StoreError {
            if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] {
                let code = psql.serverInfo?[.sqlState] ?? "?"
                return StoreError(.database, "PostgreSQL \(code): \(message) in: \(sql.prefix(200))")
            }
            return StoreError(.database, "PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(200))")
        }
    }
}
