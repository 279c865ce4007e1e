/// The group-commit tests' traffic: `count` writes at once, every tenth of which fails after it has written (so a
/// failed write's rows must be rolled back and nobody else's with them).
public enum ConcurrentWrites {
    /// The error a failing write throws.
    public struct Refused: Error {
        public init() {}
    }

    /// Whether write `id` fails after writing.
    public static func fails(_ id: Int) -> Bool { id % 10 == 3 }

    /// The ids of the writes that are to succeed, in order.
    public static func succeeding(_ count: Int) -> [Int] { (0..<count).filter { !fails($0) } }

    /// Runs `write(id)` for every id below `count` at once; the ids whose write returned, in order.
    public static func run(count: Int, _ write: @escaping @Sendable (_ id: Int) async throws -> Void) async -> [Int] {
        await withTaskGroup(of: Int?.self) { group in
            for id in 0..<count {
                group.addTask {
                    do {
                        try await write(id)
                        return id
                    } catch {
                        return nil
                    }
                }
            }
            return await group.reduce(into: [Int]()) { if let id = $1 { $0.append(id) } }.sorted()
        }
    }
}
