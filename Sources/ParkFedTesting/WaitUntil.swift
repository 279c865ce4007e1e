/// Polls `check` every 100 ms until it holds, for up to 60 s (a process starting on a loaded 2-core machine, under
/// the whole suite, has taken more than 10 s); the way tests wait for an event instead of sleeping a fixed time.
public func waitUntil(_ what: String, _ check: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if try await check() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestSupportError("timed out waiting for \(what)")
}
