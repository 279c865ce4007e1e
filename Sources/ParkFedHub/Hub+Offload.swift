import NIOPosix

extension Hub {
    /// Threads for the hub's blocking work: every store call (SQLite through GRDB, PostgreSQL waiting on its
    /// connection) blocks its thread until the database answers. Request handlers run on Swift's cooperative pool,
    /// which has one thread per core; blocking those would stall every other request (and, in a test process,
    /// every other test), so the server runs each store-touching call here instead. Threads wait here for the
    /// database (for a connection, for the write lock while another transaction holds it), so there are many: one
    /// pool for every hub in the process (tests run dozens of hubs at once).
    static let blockingThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 128)
        pool.start()
        return pool
    }()

    /// Runs `body` on the hub's blocking threads and waits for it without holding a cooperative thread.
    public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.blockingThreads.runIfActive(body)
    }
}
