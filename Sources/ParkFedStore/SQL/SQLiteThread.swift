import Foundation
import GRDB

/// A thread that owns one SQLite connection of a GRDB pool for its whole life and runs, one after another, the jobs
/// of the tasks that prefer it as their executor (`withTaskExecutorPreference`).
///
/// SQLite's calls block (reading pages, `fsync` on commit); run on Swift's cooperative pool, which has one thread per
/// core, they would stall every other request. A store transaction instead runs on one of these threads from its
/// first statement to its commit: every statement is a plain synchronous GRDB call on the connection the thread
/// holds, with no hop between statements. The thread enters GRDB's access closure once (the writer's or a reader's),
/// so GRDB's own checks that a connection is used only inside its closure hold.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var stopping = false
    /// The connection, set on the thread before it runs its first job; nil when the connection could not be had.
    private(set) var connection: SQLiteDatabase.Connection?
    private(set) var openError: (any Error)?

    /// Starts the thread; `session` enters GRDB's closure and calls `serve` with its connection.
    init(name: String, session: @escaping @Sendable (_ serve: (Database) -> Void) throws -> Void) {
        let thread = Thread { [self] in
            do {
                try session { db in self.serve(db) }
            } catch {
                openError = error
                serve(nil)
            }
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run; its connection goes back to GRDB.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func serve(_ db: Database?) {
        connection = db.map(SQLiteDatabase.Connection.init)
        let executor = asUnownedTaskExecutor()
        while let job = next() { job.runSynchronously(on: executor) }
        connection = nil
    }

    private func next() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if stopping { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        if head > 64, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
