import Foundation
import Logging
import NIOCore
import ParkFedStore
import PostgresNIO
import Synchronization

/// ``SQLDatabase`` on a PostgreSQL server through postgres-nio's `PostgresClient` (async, pooled), for a hub that
/// runs as several processes on one database.
///
/// - Reads run in `REPEATABLE READ READ ONLY` transactions: one consistent snapshot, as SQLite's WAL readers see.
/// - Writes run in `READ COMMITTED` transactions that first take one transaction-scoped advisory lock
///   (`pg_advisory_xact_lock`), held until commit or rollback. Every write transaction of every hub process on the
///   database therefore runs one at a time, in one order: exactly SQLite's single-writer semantics, which every
///   check-then-write of the store (a gate's last entry, a card hold against its balance, the next log index) was
///   written for. The lock is released by the server if a process dies mid-transaction.
/// - Every statement suspends its task until the server answers; no thread waits. The client's connection pool runs
///   in a task of its own from `init` until ``close()``.
public final class PostgresDatabase: SQLDatabase, Sendable {
    public var dialect: SQLDialect { .postgres }
    /// The advisory lock every write transaction holds (an arbitrary constant: "PFED").
    public static let writeLock: Int64 = 0x5046_4544
    let client: PostgresClient
    let logger: Logger
    private let running: Mutex<Task<Void, Never>?>
    /// Set by the pool's task just before it enters `run()`: the first transactions wait for it, so that no
    /// connection is asked of a pool that is not running yet.
    private let poolStarted: StartFlag
    private final class StartFlag: Sendable {
        let raised = Mutex(false)
    }

    /// Connects lazily to `url` (`postgres://user:password@host:port/database`, or `postgres:///database?host=/run/postgresql`
    /// for a Unix socket), with at most `maximumConnections` connections at once.
    public init(url: String, maximumConnections: Int = 8, logger: Logger = Logger(label: "parkfed.postgres")) throws {
        var configuration = try Self.endpoint(url).client
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        let started = StartFlag()
        poolStarted = started
        running = Mutex(
            Task.detached {
                started.raised.withLock { $0 = true }
                await client.run()
            })
    }

    deinit { running.withLock { $0?.cancel() } }

    /// Ends the client's pool (its connections close) and waits until it has.
    public func close() async {
        let task = running.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    /// A `postgres://` URL's parts.
    struct Endpoint {
        let host: String?
        let port: Int
        let socket: String?
        let user: String
        let password: String?
        let database: String

        var client: PostgresClient.Configuration {
            if let socket { return .init(unixSocketPath: socket, username: user, password: password, database: database) }
            return .init(host: host ?? "127.0.0.1", port: port, username: user, password: password, database: database, tls: .disable)
        }

        var connection: PostgresConnection.Configuration {
            if let socket { return .init(unixSocketPath: socket, username: user, password: password, database: database) }
            return .init(host: host ?? "127.0.0.1", port: port, username: user, password: password, database: database, tls: .disable)
        }
    }

    /// Parses a `postgres://` URL.
    static func endpoint(_ url: String) throws -> Endpoint {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw StoreError(.invalidState, "a PostgreSQL store is a postgres://user:password@host:port/database URL")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else { throw StoreError(.invalidState, "the PostgreSQL URL names no database") }
        let user = components.percentEncodedUser?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let port = components.port ?? 5432
        var socket: String?
        if let directory = components.queryItems?.first(where: { $0.name == "host" })?.value, directory.hasPrefix("/") {
            socket = directory + "/.s.PGSQL.\(port)"
        }
        return Endpoint(
            host: components.host, port: port, socket: socket, user: user, password: components.percentEncodedPassword?.removingPercentEncoding,
            database: database)
    }

    /// Runs statements outside any transaction on a connection of its own (`CREATE DATABASE`, `DROP DATABASE`).
    public static func administer(_ url: String, _ sql: String, logger: Logger = Logger(label: "parkfed.postgres")) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try endpoint(url).connection, id: 0, logger: logger)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Connection.storeError(error, "(connect)")
        }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw Connection.storeError(error, sql)
        }
    }

    /// The URL of another database on the same server.
    public static func url(_ url: String, database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }

    // MARK: Transactions

    @discardableResult
    public func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(begin: ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"], body)
    }

    /// One statement on a pooled connection, outside any transaction (autocommit): its own snapshot.
    @discardableResult
    public func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(begin: [], commit: false, body)
    }

    @discardableResult
    public func write<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(begin: ["BEGIN ISOLATION LEVEL READ COMMITTED", "SELECT pg_advisory_xact_lock(\(Self.writeLock))"], body)
    }

    /// A write of some entities only: the whole-database lock shared (so such writes run at once, and a whole-database
    /// write still waits for all of them and they for it), then one exclusive lock per entity, in one order (no two
    /// such writes wait for each other in a cycle). Entity locks are `(entityLockClass, FNV-1a of the key)` pairs, a
    /// key space apart from ``writeLock``; two keys with one hash only wait for each other.
    /// Entities in `sharing` take their lock shared (one named in both takes it exclusively). A transaction that
    /// loses a deadlock (its row locks, e.g. two running totals upserted in opposite orders) runs again, up to
    /// ``deadlockAttempts`` times.
    @discardableResult
    public func write<T>(entities: [String], sharing: [String], _ body: (any SQLConnection) async throws -> T) async throws -> T {
        let exclusive = Set(entities.map(Self.entityLock))
        let shared = Set(sharing.map(Self.entityLock)).subtracting(exclusive)
        // One statement, one round trip: PostgreSQL evaluates a target list left to right, so the locks are taken
        // in one order (the hashes') by every such write.
        let locks =
            ["pg_advisory_xact_lock_shared(\(Self.writeLock))"]
            + exclusive.union(shared).sorted().map { key in
                "pg_advisory_xact_lock\(shared.contains(key) ? "_shared" : "")(\(Self.entityLockClass), \(key))"
            }
        let begin = ["BEGIN ISOLATION LEVEL READ COMMITTED", "SELECT " + locks.joined(separator: ", ")]
        var attempt = 1
        while true {
            do {
                return try await transaction(begin: begin, body)
            } catch let error as StoreError where error.code == .deadlock && attempt < Self.deadlockAttempts {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
                attempt += 1
            }
        }
    }

    /// How many times an entity write runs before a deadlock is its caller's error.
    static let deadlockAttempts = 5

    /// The first half of every entity lock ("PF").
    public static let entityLockClass: Int32 = 0x5046

    /// The second half of an entity's lock: the 32-bit FNV-1a hash of its key.
    static func entityLock(_ key: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int32(bitPattern: hash)
    }

    /// Runs `begin`, then `body`, then `COMMIT` (`ROLLBACK` when `body` throws) on one pooled connection; with
    /// `commit: false` and no `begin`, `body` runs in autocommit mode.
    func transaction<T>(begin: [String], commit: Bool = true, _ body: (any SQLConnection) async throws -> T) async throws -> T {
        while !poolStarted.raised.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                let session = Connection(connection, logger: logger)
                for statement in begin { try await session.execute(sql: statement, arguments: []) }
                guard commit else { return try await body(session) }
                do {
                    let result = try await body(session)
                    try await session.execute(sql: "COMMIT", arguments: [])
                    return result
                } catch {
                    // A connection whose rollback fails is broken; the client's pool replaces it.
                    _ = try? await session.execute(sql: "ROLLBACK", arguments: [])
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError {
            throw Connection.storeError(error, begin.first ?? "(statement)")
        }
    }

    // MARK: Statements

    final class Connection: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        init(_ connection: PostgresConnection, logger: Logger) {
            self.connection = connection
            self.logger = logger
        }

        /// Statements without arguments separated by `;` are sent one by one (the extended protocol takes one
        /// statement at a time); returns the rows the last one changed.
        @discardableResult func execute(sql: String, arguments: SQLArguments) async throws -> Int {
            if arguments.values.isEmpty, sql.contains(";") {
                var changed = 0
                for statement in Self.statements(sql) { changed = try await run(statement, []) }
                return changed
            }
            return try await run(sql, arguments)
        }

        func fetchAll(sql: String, arguments: SQLArguments) async throws -> [SQLRow] {
            var rows: [SQLRow] = []
            try await forEach(sql: sql, arguments: arguments) { rows.append($0) }
            return rows
        }

        func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) async throws {
            do {
                if let prepared = Self.prepared(sql, arguments) {
                    try await forEachRow(of: prepared) { try body(Self.row($0)) }
                    return
                }
                for try await row in try await connection.query(Self.query(sql, arguments), logger: logger) { try body(Self.row(row)) }
            } catch let error as PSQLError {
                throw Self.storeError(error, sql)
            }
        }

        func cachedStatement(sql: String) throws -> any SQLStatement { Statement(connection: self, sql: sql) }

        /// On PostgreSQL a statement is sent as an unnamed extended-protocol query each time it runs.
        final class Statement: SQLStatement {
            let connection: Connection
            let sql: String
            init(connection: Connection, sql: String) {
                self.connection = connection
                self.sql = sql
            }
            func execute(arguments: SQLArguments) async throws -> Int { try await connection.execute(sql: sql, arguments: arguments) }
            func fetchAll(arguments: SQLArguments) async throws -> [SQLRow] { try await connection.fetchAll(sql: sql, arguments: arguments) }
        }

        /// One statement; its rows are read and dropped, and the rows it changed (its command tag) returned.
        func run(_ sql: String, _ arguments: SQLArguments) async throws -> Int {
            do {
                if Self.returnsNoRows(sql), let prepared = Self.prepared(sql + " RETURNING 1", arguments) {
                    // postgres-nio hands a prepared statement's command tag only for a statement that returns no
                    // rows, and (2.x) not even then: the rows it changed are counted as the rows it returns.
                    var changed = 0
                    try await forEachRow(of: prepared) { _ in changed += 1 }
                    return changed
                }
                let result = try await connection.query(Self.query(sql, arguments), logger: logger).get()
                return result.metadata.rows ?? 0
            } catch {
                throw Self.storeError(error, sql)
            }
        }

        /// Whether `sql` is a plain `INSERT`, `UPDATE` or `DELETE` (no `RETURNING` yet): such a statement runs
        /// prepared with `RETURNING 1` added, and any other statement run for its count goes unnamed.
        static func returnsNoRows(_ sql: String) -> Bool {
            let head = sql.drop { $0 == " " || $0 == "\n" }.prefix(7).uppercased()
            return (head.hasPrefix("INSERT ") || head.hasPrefix("UPDATE ") || head.hasPrefix("DELETE ")) && !sql.uppercased().contains("RETURNING")
        }

        /// Runs a named prepared statement (``prepared(_:_:)``) and hands its rows to `body` as they come.
        func forEachRow(of prepared: (text: PreparedText.Text, bindings: PostgresBindings), _ body: (PostgresRow) throws -> Void) async throws {
            try await PreparedText.$current.withValue(prepared.text) {
                for try await row in try await connection.execute(PreparedRows(bindings: prepared.bindings), logger: logger) { try body(row) }
            }
        }

        static func query(_ sql: String, _ arguments: SQLArguments) -> PostgresQuery {
            PostgresQuery(unsafeSQL: numberedPlaceholders(sql), binds: bindings(arguments))
        }

        static func bindings(_ arguments: SQLArguments) -> PostgresBindings {
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
            return binds
        }

        /// Statements with arguments, up to 1 KiB of text, run as named prepared statements: PostgreSQL parses and
        /// plans each once per connection, and later runs only bind and execute it (postgres-nio prepares a name on
        /// a connection the first time it is used there). The name covers the text and the arguments' types, so
        /// one text with a NULL in another place is another statement; longer texts (generated multi-row inserts,
        /// long `IN` lists) and statements without arguments run unnamed, as before.
        static func prepared(_ sql: String, _ arguments: SQLArguments) -> (text: PreparedText.Text, bindings: PostgresBindings)? {
            guard !arguments.values.isEmpty, sql.utf8.count <= 1024 else { return nil }
            var hash: UInt64 = 14_695_981_039_346_656_037
            for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
            var name = "pf_" + String(hash, radix: 36) + "_"
            var types: [PostgresDataType] = []
            types.reserveCapacity(arguments.values.count)
            for value in arguments.values {
                let (letter, type): (Character, PostgresDataType) =
                    switch value {
                    case .null: ("n", .null)
                    case .integer: ("i", .int8)
                    case .real: ("r", .float8)
                    case .text: ("t", .text)
                    case .blob: ("b", .bytea)
                    }
                name.append(letter)
                types.append(type)
            }
            return ((name, numberedPlaceholders(sql), types), bindings(arguments))
        }

        /// `sql` split at the semicolons outside quoted text ('…' and $$…$$, as a function body is), blank pieces
        /// left out.
        static func statements(_ sql: String) -> [String] {
            var pieces: [String] = [], current = "", quoted = false, dollarQuoted = false
            var previous: Character?
            for character in sql {
                if character == "'", !dollarQuoted { quoted.toggle() }
                if character == "$", previous == "$", !quoted { dollarQuoted.toggle() }
                previous = character
                if character == ";", !quoted, !dollarQuoted {
                    pieces.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            pieces.append(current)
            return pieces.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }

        /// Statement texts as PostgreSQL numbers its placeholders, made once per text.
        static let numbered = Mutex<[String: String]>([:])

        /// `?` placeholders (outside quoted text) as PostgreSQL's `$1`, `$2`, ….
        static func numberedPlaceholders(_ sql: String) -> String {
            if let known = numbered.withLock({ $0[sql] }) { return known }
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
            numbered.withLock { known in
                if known.count > 4096 { known.removeAll() }
                known[sql] = out
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
            if let store = error as? StoreError { return store }
            if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] {
                let code = psql.serverInfo?[.sqlState] ?? "?"
                // 40P01 deadlock detected, 40001 serialization failure: the transaction was rolled back whole.
                let kind: StoreError.Code = ["40P01", "40001"].contains(code) ? .deadlock : code == "23505" ? .uniqueViolation : .database
                return StoreError(kind, "PostgreSQL \(code): \(message) in: \(sql.prefix(200))")
            }
            return StoreError(.database, "PostgreSQL: \(String(reflecting: error)) in: \(sql.prefix(200))")
        }
    }
}

/// postgres-nio names a prepared statement by its type (`PostgresPreparedStatement`'s `name`, `sql` and
/// `bindingDataTypes` are static): our statements are texts known only at run time, so the statement type below
/// reads them from this task-local value, which ``PostgresDatabase/Connection`` sets around each call
/// (postgres-nio reads them synchronously when the call starts, and again only on that call's error path).
enum PreparedText {
    typealias Text = (name: String, sql: String, types: [PostgresDataType])
    @TaskLocal static var current: Text = ("", "", [])
}

/// A named prepared statement whose rows are read.
struct PreparedRows: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { PreparedText.current.name }
    static var sql: String { PreparedText.current.sql }
    static var bindingDataTypes: [PostgresDataType] { PreparedText.current.types }
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
