import GRDB
import Synchronization

/// Group commit over a GRDB pool, for the node agent's hot writes (gate reservations and admissions).
///
/// Writes that arrive while a group is being written wait and form the next group: one `BEGIN IMMEDIATE`, every
/// write in a savepoint of its own, one `COMMIT` (one fsync under `synchronous = FULL`) for all of them. A write
/// whose body throws rolls back only its own statements and gets its error; every other write of the group is
/// answered only after the `COMMIT` that holds it, so nothing answered is lost. A write that finds the writer idle
/// is a group of one and waits for nobody.
///
/// The groups run on the pool's own writer queue, so they are ordered with every other write of the pool
/// (`pool.write`), which keeps working beside them.
final class GroupWriter: Sendable {
    private let pool: DatabasePool
    private let state = Mutex(State())
    /// Transactions committed by the group writer (each one fsync), for measurements.
    private let commitCount = Atomic<Int>(0)

    private struct State {
        var queue: [Job] = []
        var draining = false
    }

    /// One queued write: its body (run inside the group's transaction) and how to answer it.
    private final class Job: Sendable {
        let run: @Sendable (Database) throws -> Void
        let answer: @Sendable (Result<Void, any Error>) -> Void
        init(run: @escaping @Sendable (Database) throws -> Void, answer: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            self.run = run
            self.answer = answer
        }
    }

    /// The most writes one transaction holds.
    static let maximumGroup = 64

    init(pool: DatabasePool) { self.pool = pool }

    /// Group commits so far.
    var commits: Int { commitCount.load(ordering: .relaxed) }

    /// Runs `body` in the next group's transaction and returns its value once that transaction has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let value = Mutex<T?>(nil)
            let job = Job(
                run: { db in
                    let result = try body(db)
                    value.withLock { $0 = result }
                },
                answer: { outcome in
                    switch outcome {
                    case .success: continuation.resume(returning: value.withLock { $0! })
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                })
            let start = state.withLock { state in
                state.queue.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if start { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
        }
    }

    /// Writes groups until nobody waits (on the pool's writer queue).
    private func drain(_ db: Database) {
        while true {
            let group: [Job] = state.withLock { state in
                let taken = Array(state.queue.prefix(Self.maximumGroup))
                state.queue.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            guard !group.isEmpty else { return }
            write(group, db)
        }
    }

    /// One transaction for `group`: each body in its own savepoint; answers after the commit.
    private func write(_ group: [Job], _ db: Database) {
        var outcomes: [Result<Void, any Error>] = []
        outcomes.reserveCapacity(group.count)
        do {
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
        } catch {
            for job in group { job.answer(.failure(error)) }
            return
        }
        for job in group {
            do {
                try db.cachedStatement(sql: "SAVEPOINT parkfed_group").execute()
                try job.run(db)
                try db.cachedStatement(sql: "RELEASE parkfed_group").execute()
                outcomes.append(.success(()))
            } catch {
                if db.isInsideTransaction {
                    try? db.execute(sql: "ROLLBACK TO parkfed_group")
                    try? db.execute(sql: "RELEASE parkfed_group")
                }
                outcomes.append(.failure(error))
            }
            guard db.isInsideTransaction else {
                // SQLite ended the transaction itself (an I/O error, a full disk): nothing of the group was written.
                let lost = StoreError(.database, "SQLite rolled the write transaction back (an I/O error or a full disk); nothing of it was written")
                for job in group { job.answer(.failure(lost)) }
                return
            }
        }
        do {
            try db.cachedStatement(sql: "COMMIT").execute()
        } catch {
            if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
            for job in group { job.answer(.failure(error)) }
            return
        }
        commitCount.add(1, ordering: .relaxed)
        for (job, outcome) in zip(group, outcomes) { job.answer(outcome) }
    }
}
