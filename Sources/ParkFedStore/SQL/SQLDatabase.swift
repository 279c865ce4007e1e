import Foundation

/// The SQL the hub's store speaks, whatever database runs it: the embedded SQLite file (GRDB) or PostgreSQL.
///
/// The hub's store is written once against these types. Statements use `?` placeholders and the SQL both databases
/// understand; the few differences (column types in DDL, `TOTAL`) are spelled by ``SQLDialect``. Every
/// ``SQLDatabase/write(_:)`` is one transaction, serialised with every other write to the same database (SQLite has
/// one writer; on PostgreSQL a transaction-scoped advisory lock gives the same order across hub processes), so the
/// store's check-then-write transactions keep their meaning on both.
public enum SQLDialect: String, Sendable, Hashable {
    case sqlite, postgres

    /// DDL written for SQLite, as this dialect spells it: on PostgreSQL 64-bit integers, `BIGSERIAL` keys, `BYTEA`,
    /// and no `WITHOUT ROWID` (a SQLite storage choice).
    public func ddl(_ sqlite: String) -> String {
        guard self == .postgres else { return sqlite }
        var text = sqlite.replacingOccurrences(of: "INTEGER PRIMARY KEY AUTOINCREMENT", with: "BIGSERIAL PRIMARY KEY")
        text = text.replacingOccurrences(of: " INTEGER", with: " BIGINT")
        text = text.replacingOccurrences(of: " BLOB", with: " BYTEA")
        text = text.replacingOccurrences(of: " REAL", with: " DOUBLE PRECISION")
        text = text.replacingOccurrences(of: ") WITHOUT ROWID", with: ")")
        return text
    }

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
    func execute(arguments: SQLArguments) throws
    func fetchAll(arguments: SQLArguments) throws -> [SQLRow]
}

/// The connection a ``SQLDatabase/read(_:)`` or ``SQLDatabase/write(_:)`` body runs on; it must not escape the body.
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    func execute(sql: String, arguments: SQLArguments) throws
    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// Streams the rows to `body` without holding them all (large scans: settlement, log verification).
    func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws
    /// Rows changed by the last `execute`.
    var changesCount: Int { get }
    func cachedStatement(sql: String) throws -> any SQLStatement
}

extension SQLConnection {
    public func execute(sql: String) throws { try execute(sql: sql, arguments: []) }
}

/// A database: transactions to read (a consistent snapshot) and to write (serialised with every other write).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Applies the migrations not applied yet, in order, each once (recorded by name).
    func migrate(_ migrations: [SQLMigration]) throws
}

/// Migrations in the order they were registered.
public struct SQLMigrator: Sendable {
    public private(set) var migrations: [SQLMigration] = []
    public init() {}
    public mutating func registerMigration(_ name: String, migrate: @escaping @Sendable (any SQLConnection) throws -> Void) {
        migrations.append(SQLMigration(name, migrate))
    }
}

/// A named schema change; the name is recorded once it is applied.
public struct SQLMigration: Sendable {
    public let name: String
    public let apply: @Sendable (any SQLConnection) throws -> Void

    public init(_ name: String, _ apply: @escaping @Sendable (any SQLConnection) throws -> Void) {
        self.name = name
        self.apply = apply
    }
}

extension SQLRow {
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        try db.fetchAll(sql: sql, arguments: arguments)
    }

    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try db.fetchAll(sql: sql, arguments: arguments).first
    }

    public static func fetchOne(_ statement: any SQLStatement, arguments: SQLArguments = []) throws -> SQLRow? {
        try statement.fetchAll(arguments: arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of the first row; nil when there is no row or it is NULL.
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchAll(sql: sql, arguments: arguments).first else { return nil }
        return Self.fromSQL(row.values[0])
    }

    /// The first column of every row (NULLs and other types left out).
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchAll(sql: sql, arguments: arguments).compactMap { Self.fromSQL($0.values[0]) }
    }
}
