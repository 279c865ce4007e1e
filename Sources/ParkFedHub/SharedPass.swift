import Foundation
import Synchronization

/// One pass of work shared by every caller that asked for it meanwhile, as group commit shares one transaction:
/// a caller adds its request and waits for the next pass that starts after it asked; one pass serves every request
/// queued before it started. A caller is therefore never answered from a pass that began before its call, which is
/// what makes sharing safe where freshness matters.
///
/// Used for the capacity watch (an append waits for a pass that saw it, so a level change is logged before the entry
/// is acknowledged; one pass re-reads each park-day once for every append waiting) and for the trust epoch every
/// request checks (one read for every request waiting, each read begun after the requests it answers arrived, so a
/// revocation committed before a request is seen by it: measured, the epoch read was 50–70 µs of every request).
public final class SharedPass<Request: Sendable, Answer: Sendable>: Sendable {
    private struct State {
        var requests: [Request] = []
        var waiting: [CheckedContinuation<Answer, Never>] = []
        var running = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Callers waiting for a pass that has not started yet.
    public var queued: Int { state.withLock { $0.waiting.count } }

    /// Adds `request` to the next pass and returns that pass's answer. `pass` runs with every request queued for it
    /// (the closure of the call that found no pass running is the one that runs).
    public func run(_ request: Request, pass: @escaping @Sendable ([Request]) async -> Answer) async -> Answer {
        await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let start = state.withLock { state -> Bool in
                state.requests.append(request)
                state.waiting.append(continuation)
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task { await self.drain(pass) } }
        }
    }

    private func drain(_ pass: @Sendable ([Request]) async -> Answer) async {
        while true {
            let next = state.withLock { state -> ([Request], [CheckedContinuation<Answer, Never>])? in
                guard !state.waiting.isEmpty else {
                    state.running = false
                    return nil
                }
                defer { (state.requests, state.waiting) = ([], []) }
                return (state.requests, state.waiting)
            }
            guard let (requests, waiting) = next else { return }
            let answer = await pass(requests)
            for continuation in waiting { continuation.resume(returning: answer) }
        }
    }
}
