import Foundation
import GRDB

/// ``SQLDatabase`` on a SQLite file through GRDB: a WAL pool (concurrent snapshot reads, one writer), durable
/// commits (`synchronous = FULL`), migrations recorded in GRDB's own table, and the online backup API.
public final class SQLiteDatabase: SQLDatabase {
    public let path: String
    let pool: DatabasePool
    public var dialect: SQLDialect { .sqlite }

    public init(path: String) throws {
        self.path = path
        pool = try SQLiteFile.openPool(path: path)
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.read { db in try body(Connection(db)) }
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.write { db in try body(Connection(db)) }
    }

    public func migrate(_ migrations: [SQLMigration]) throws {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try migration.apply(Connection(db)) }
        }
        try migrator.migrate(pool)
    }

    /// A consistent online copy into a new file (see ``SQLiteBackup``).
    public func backup(to path: String) throws { try SQLiteBackup.copy(pool, to: path) }

    final class Connection: SQLConnection {
        let db: Database
        init(_ db: Database) { self.db = db }
        var dialect: SQLDialect { .sqlite }
        var changesCount: Int { db.changesCount }

        func execute(sql: String, arguments: SQLArguments) throws {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
        }

        func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
            Self.rows(try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)))
        }

        func forEach(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: Self.arguments(arguments))
            var columns: [String]?
            while let row = try cursor.next() {
                if columns == nil { columns = Array(row.columnNames) }
                try body(Self.row(row, columns: columns!))
            }
        }

        func cachedStatement(sql: String) throws -> any SQLStatement { Statement(try db.cachedStatement(sql: sql)) }

        final class Statement: SQLStatement {
            let statement: GRDB.Statement
            init(_ statement: GRDB.Statement) { self.statement = statement }
            func execute(arguments: SQLArguments) throws { try statement.execute(arguments: Connection.arguments(arguments)) }
            func fetchAll(arguments: SQLArguments) throws -> [SQLRow] {
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
