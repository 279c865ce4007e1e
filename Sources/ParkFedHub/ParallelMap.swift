import Foundation

/// CPU-bound work over a batch, spread on every core in contiguous chunks (a batch's signature checks, its effects):
/// the results come back in the batch's order.
enum ParallelMap {
    /// `transform` of every item, in order; one worker per core, and no more workers than there are
    /// `minimumPerWorker` items (a small batch runs on the caller's task).
    static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], minimumPerWorker: Int, _ transform: @escaping @Sendable (Item) -> Result
    ) async -> [Result] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / max(1, minimumPerWorker)))
        guard workers > 1 else { return items.map(transform) }
        let chunk = (items.count + workers - 1) / workers
        return await withTaskGroup(of: (Int, [Result]).self) { group in
            for worker in 0..<workers {
                let range = (worker * chunk)..<min(items.count, (worker + 1) * chunk)
                guard !range.isEmpty else { continue }
                group.addTask { (worker, items[range].map(transform)) }
            }
            var parts = [[Result]](repeating: [], count: workers)
            for await (worker, part) in group { parts[worker] = part }
            return parts.flatMap { $0 }
        }
    }
}
