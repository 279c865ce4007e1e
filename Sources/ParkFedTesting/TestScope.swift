import NIOConcurrencyHelpers
import ParkFedProtocol

/// A scope for what a test starts outside a ``TestFederation`` (child processes, agents of a hub process): the
/// actions registered with ``onExit(_:)`` run, last first, and are awaited when the body ends, however it ends.
public final class TestScope: @unchecked Sendable {
    private let actions = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    /// Runs `action` when the scope ends (after the actions registered later).
    public func onExit(_ action: @escaping @Sendable () async -> Void) {
        actions.withLockedValue { $0.append(action) }
    }

    public static func run(_ body: (TestScope) async throws -> Void) async throws {
        let scope = TestScope()
        do { try await body(scope) } catch {
            await scope.finish()
            throw error
        }
        await scope.finish()
    }

    func finish() async {
        for action in actions.withLockedValue({ $0 }).reversed() { await action() }
    }
}
