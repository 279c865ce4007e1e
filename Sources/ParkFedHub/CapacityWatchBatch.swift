import Foundation
import Synchronization

/// Runs the capacity watch for many appends at once, as group commit does for writes: an append adds the park-days
/// it touched and waits for the next pass that covers them; one pass re-reads each park-day once for every append
/// waiting. An append is still answered only after a pass that saw it, so a level change is logged before the sale,
/// entry or exit that caused it is acknowledged.
final class CapacityWatchBatch: Sendable {
    private struct State {
        var touched: Set<String> = []
        var latest: Date = .distantPast
        var waiting: [CheckedContinuation<Void, Never>] = []
        var running = false
    }
    private let state = Mutex(State())

    /// Adds `touched` to the next pass and returns when a pass that included it has finished. `pass` runs with the
    /// union of everything queued and the latest `now` among its waiters (`Hub.watchCapacity`).
    func watch(_ touched: Set<String>, now: Date, pass: @escaping @Sendable (Set<String>, Date) async -> Void) async {
        guard !touched.isEmpty else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let start = state.withLock { state -> Bool in
                state.touched.formUnion(touched)
                state.latest = max(state.latest, now)
                state.waiting.append(continuation)
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task { await self.drain(pass) } }
        }
    }

    private func drain(_ pass: @Sendable (Set<String>, Date) async -> Void) async {
        while true {
            let next = state.withLock { state -> (Set<String>, Date, [CheckedContinuation<Void, Never>])? in
                guard !state.waiting.isEmpty else {
                    state.running = false
                    return nil
                }
                defer { (state.touched, state.latest, state.waiting) = ([], .distantPast, []) }
                return (state.touched, state.latest, state.waiting)
            }
            guard let (touched, now, waiting) = next else { return }
            await pass(touched, now)
            for continuation in waiting { continuation.resume() }
        }
    }
}
