import Synchronization

/// Resources (connections, threads) lent to one task at a time. A task that finds none free waits, suspended, in
/// the order it asked (first come, first served); no thread is blocked while it waits.
public final class LendingPool<Resource: Sendable>: Sendable {
    private struct State {
        var free: [Resource]
        var waiting: [CheckedContinuation<Resource, Never>] = []
    }
    private let state: Mutex<State>

    public init(_ resources: [Resource]) {
        precondition(!resources.isEmpty, "a lending pool needs something to lend")
        state = Mutex(State(free: resources))
    }

    /// Runs `body` with a resource of its own, given back when `body` ends (returns or throws).
    public func lend<T>(_ body: (Resource) async throws -> T) async throws -> T {
        let resource = await borrow()
        defer { giveBack(resource) }
        return try await body(resource)
    }

    /// How many tasks are waiting for a resource right now.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func borrow() async -> Resource {
        await withCheckedContinuation { (continuation: CheckedContinuation<Resource, Never>) in
            let found: Resource? = state.withLock { state in
                if let resource = state.free.popLast() { return resource }
                state.waiting.append(continuation)
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    private func giveBack(_ resource: Resource) {
        let next: CheckedContinuation<Resource, Never>? = state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.free.append(resource)
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: resource)
    }
}

extension LendingPool where Resource == Void {
    /// A gate that lets one task at a time through (an async mutex).
    public convenience init() { self.init([()]) }

    /// Runs `body` with no other task inside the gate.
    public func serially<T>(_ body: () async throws -> T) async throws -> T { try await lend { _ in try await body() } }
}
