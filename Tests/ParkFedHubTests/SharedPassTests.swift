import ParkFedHub
import Synchronization
import Testing

/// One pass for every caller that asked meanwhile, and never a pass that began before the call: the capacity watch
/// and the trust epoch every request checks rely on it.
@Suite struct SharedPassTests {
    @Test func callersWhoArriveDuringAPassShareTheNextOneNeverTheOneRunning() async throws {
        let shared = SharedPass<Int, [Int]>()
        let passes = Mutex(0)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let (started, starter) = AsyncStream<Void>.makeStream()
        // The answer: the pass's number, then the requests it served.
        let pass: @Sendable ([Int]) async -> [Int] = { requests in
            let number = passes.withLock { count in
                count += 1
                return count
            }
            if number == 1 {
                starter.yield()
                for await _ in release { break }
            }
            return [number] + requests.sorted()
        }
        let first = Task { await shared.run(0, pass: pass) }
        for await _ in started { break }
        let late = (1...5).map { i in Task { await shared.run(i, pass: pass) } }
        // All five are queued behind the running pass before it ends.
        while shared.queued < 5 { await Task.yield() }
        releaser.yield()
        #expect(await first.value == [1, 0])
        for task in late { #expect(await task.value == [2, 1, 2, 3, 4, 5]) }
        #expect(passes.withLock { $0 } == 2)
        #expect(shared.queued == 0)
    }

    @Test func aCallerAloneRunsAPassOfItsOwn() async throws {
        let shared = SharedPass<String, [String]>()
        #expect(await shared.run("a") { $0 } == ["a"])
        #expect(await shared.run("b") { $0 } == ["b"])
    }
}
