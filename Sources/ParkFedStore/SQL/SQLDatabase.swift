import Foundation

/// The SQL the hub's store speaks, whatever database runs it: the embedded SQLite file (GRDB) or PostgreSQL
/// (postgres-nio's `PostgresClient`).
///
/// The hub's store is written once against these types, as async code: on PostgreSQL every statement is a network
/// round trip that suspends the task (no thread waits), on SQLite the transaction runs on a thread that owns its
/// connection (``SQLiteDatabase``), never on Swift's cooperative pool. Statements use `?` placeholders and the SQL
/// both databases understand; DDL is written per dialect in each migration (``SQLConnection/schema(sqlite:postgres:)``).
/// Every ``SQLDatabase/write(_:)`` is one transaction, serialised with every other write to the same database (SQLite
/// has one writer; on PostgreSQL a transaction-scoped advisory lock gives the same order across hub processes), so the
/// store's check-then-write transactions keep their meaning on both.
public enum SQLDialect: String, Sendable, Hashable {
    case sqlite, postgres

    /// The sum of a column that is 0 (not NULL) over no rows.
    public func total(_ expression: String) -> String { "COALESCE(SUM(\(expression)), 0)" }
}

/// A value going into or coming out of SQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value that is stored as one SQL value.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// The value, or nil when `value` is not of this type.
    static func fromSQL(_ value: SQLValue) -> Self?
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public static func fromSQL(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let v): v
        case .real(let v): v.rounded() == v ? Int64(exactly: v) : nil
        default: nil
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func fromSQL(_ value: SQLValue) -> Int? { Int64.fromSQL(value).flatMap { Int(exactly: $0) } }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public static func fromSQL(_ value: SQLValue) -> Bool? { Int64.fromSQL(value).map { $0 != 0 } }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .real(self) }
    public static func fromSQL(_ value: SQLValue) -> Double? {
        switch value {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public static func fromSQL(_ value: SQLValue) -> String? {
        if case .text(let v) = value { return v }
        return nil
    }
}

extension Data: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob(self) }
    public static func fromSQL(_ value: SQLValue) -> Data? {
        if case .blob(let v) = value { return v }
        return nil
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
    public static func fromSQL(_ value: SQLValue) -> Wrapped?? {
        if value == .null { return .some(nil) }
        return Wrapped.fromSQL(value).map { .some($0) }
    }
}

/// The arguments of a statement, in placeholder order: `[a, b, nil]`.
public struct SQLArguments: ExpressibleByArrayLiteral, Sendable, Hashable {
    public var values: [SQLValue]

    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }

    public init(_ elements: [some SQLValueConvertible]) { values = elements.map(\.sqlValue) }

    public init(values: [SQLValue]) { self.values = values }

    public mutating func append(contentsOf other: SQLArguments) { values += other.values }
}

/// One result row: values by column name (as the query names them) or position. Reading a column that is not there,
/// or as a type it does not hold, is a programming error and stops the process, as in GRDB.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript<T: SQLValueConvertible>(_ column: String) -> T {
        guard let index = columns.firstIndex(of: column) else { fatalError("no column \(column) in \(columns)") }
        return self[index]
    }

    public subscript<T: SQLValueConvertible>(_ index: Int) -> T {
        guard let value = T.fromSQL(values[index]) else { fatalError("column \(columns[index]) holds \(values[index]), not \(T.self)") }
        return value
    }
}

/// A statement prepared once and run many times in one transaction (hot paths: the log append, settlement).
public protocol SQLStatement: AnyObject {
    /// Runs the statement; returns the number of rows it changed.
    @discardableResult func execute(arguments: SQLArguments) async throws -> Int
    func fetchAll(arguments: SQLArguments) async throws -> [SQLRow]
}

/// The connection a ``SQLDatabase/read(_:)`` or ``SQLDatabase/write(_:)`` body runs on; it must not escape the body.
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs one statement (or, without arguments, several separated by `;`); returns the rows the last one changed.
    @discardableResult func execute(sql: String, arguments: SQLArguments) async throws -> Int
    func fetchAll(sql: String, arguments: SQLArguments) async throws -> [SQLRow]
    /// Hands the rows to `body` one at a time as the database produces them, without holding them all (large
    /// scans: settlement, log verification). SQLite steps a cursor; PostgreSQL reads the row stream with back-pressure.
    func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) async throws
    func cachedStatement(sql: String) throws -> any SQLStatement
}

extension SQLConnection {
    @discardableResult public func execute(sql: String) async throws -> Int { try await execute(sql: sql, arguments: []) }

    /// Inserts rows into `table` (`values` holds `columns.count` values a row, in column order), 100 rows a statement:
    /// round trips, not rows, cost on a database server. `suffix` follows the `VALUES` list (an `ON CONFLICT` clause).
    public func insertRows(into table: String, columns: [String], values: [SQLValue], suffix: String = "") async throws {
        precondition(values.count % columns.count == 0, "\(table): \(columns.count) values a row")
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let perStatement = 100 * columns.count
        for start in stride(from: 0, to: values.count, by: perStatement) {
            let chunk = Array(values[start..<min(start + perStatement, values.count)])
            let sql =
                "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: chunk.count / columns.count).joined(separator: ", ") + suffix
            try await cachedStatement(sql: sql).execute(arguments: SQLArguments(values: chunk))
        }
    }

    /// Runs `query` once for every 500 of `keys`, with the chunk and as many `?` placeholders (an `IN` list): a long
    /// list is several statements, each within the servers' limit on arguments.
    public func forEachChunk(of keys: [String], _ query: (_ chunk: [String], _ marks: String) async throws -> Void) async throws {
        for start in stride(from: 0, to: keys.count, by: 500) {
            let chunk = Array(keys[start..<min(start + 500, keys.count)])
            try await query(chunk, Array(repeating: "?", count: chunk.count).joined(separator: ", "))
        }
    }

    /// Schema DDL as each dialect spells it: both texts are written out in the migration (column types, keys and
    /// storage options differ), never translated from one into the other.
    public func schema(sqlite: String, postgres: String) async throws {
        try await execute(sql: dialect == .sqlite ? sqlite : postgres)
    }
}

/// A database: transactions to read (a consistent snapshot) and to write (serialised with every other write).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in a read-only transaction that sees one consistent snapshot.
    @discardableResult
    func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T
    /// Runs `body`, which runs exactly one statement, without a transaction around it: one statement sees one
    /// consistent snapshot by itself. On PostgreSQL this saves the `BEGIN` and `COMMIT` round trips of ``read(_:)``
    /// (a hot path's single lookup: the trust epoch every request checks); SQLite runs it as ``read(_:)``.
    @discardableResult
    func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T
    /// Runs `body` in a write transaction (committed when it returns, rolled back when it throws).
    @discardableResult
    func write<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T
    /// Runs `body` in a write transaction that decides only on rows of the entities named by `entities` (a card, a
    /// pass, a slot), and otherwise only appends rows or adds to running totals (ledger lines, obligations). Such
    /// writes of different entities may run at once where the database allows it (PostgreSQL: a lock per entity,
    /// the whole-database lock that ``write(_:)`` takes alone held shared); SQLite runs them as any other write.
    /// `sharing`: entities whose rows `body` only adds to (a day's entries at a park): such writes run at once with
    /// each other, and a write that names the entity in `entities` (a sale checking the day's capacity) waits for
    /// them and they for it. A write that lost a deadlock to another runs again (PostgreSQL), so `body` must decide
    /// everything from what it reads.
    @discardableResult
    func write<T>(entities: [String], sharing: [String], _ body: (any SQLConnection) async throws -> T) async throws -> T
    /// Releases the database's connections and threads; later calls fail.
    func close() async
}

extension SQLDatabase {
    @discardableResult
    public func write<T>(entities: [String], sharing: [String], _ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await write(body)
    }

    /// A write of `entities` only (``write(entities:sharing:_:)`` with none shared).
    @discardableResult
    public func write<T>(entities: [String], _ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await write(entities: entities, sharing: [], body)
    }

    @discardableResult
    public func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T { try await read(body) }

    /// Applies the migrations not applied yet, in order, each once, recorded by name in `parkfed_migrations`, in one
    /// write transaction (a second process migrating at once waits for it and then finds nothing to do). Names GRDB's
    /// migrator recorded in SQLite files made by earlier versions count as applied.
    public func migrate(_ migrations: [SQLMigration]) async throws {
        try await write { db in
            try await db.execute(sql: "CREATE TABLE IF NOT EXISTS parkfed_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            var applied = Set(try await String.fetchAll(db, sql: "SELECT name FROM parkfed_migrations"))
            if db.dialect == .sqlite,
                try await Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") == 1
            {
                applied.formUnion(try await String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            }
            for migration in migrations where !applied.contains(migration.name) {
                try await migration.apply(db)
                try await db.execute(
                    sql: "INSERT INTO parkfed_migrations (name, applied_at) VALUES (?, ?)",
                    arguments: [migration.name, Int64(Date().timeIntervalSince1970 * 1000)])
            }
        }
    }
}

/// Migrations in the order they were registered.
public struct SQLMigrator: Sendable {
    public private(set) var migrations: [SQLMigration] = []
    public init() {}
    public mutating func registerMigration(_ name: String, migrate: @escaping @Sendable (any SQLConnection) async throws -> Void) {
        migrations.append(SQLMigration(name, migrate))
    }
}

/// A named schema change; the name is recorded once it is applied.
public struct SQLMigration: Sendable {
    public let name: String
    public let apply: @Sendable (any SQLConnection) async throws -> Void

    public init(_ name: String, _ apply: @escaping @Sendable (any SQLConnection) async throws -> Void) {
        self.name = name
        self.apply = apply
    }
}

extension SQLRow {
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) async throws -> [SQLRow] {
        try await db.fetchAll(sql: sql, arguments: arguments)
    }

    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) async throws -> SQLRow? {
        try await db.fetchAll(sql: sql, arguments: arguments).first
    }

    public static func fetchOne(_ statement: any SQLStatement, arguments: SQLArguments = []) async throws -> SQLRow? {
        try await statement.fetchAll(arguments: arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of the first row; nil when there is no row or it is NULL.
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) async throws -> Self? {
        guard let row = try await db.fetchAll(sql: sql, arguments: arguments).first else { return nil }
        return Self.fromSQL(row.values[0])
    }

    /// The first column of every row (NULLs and other types left out).
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) async throws -> [Self] {
        try await db.fetchAll(sql: sql, arguments: arguments).compactMap { Self.fromSQL($0.values[0]) }
    }
}
