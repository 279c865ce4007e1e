/// How many bytes a request body may have, by kind of request: one named setting for the hub and the node agent.
/// A body over its route's limit is answered 413 `body_too_large` before it is decoded.
public enum BodyLimit {
    /// Small commands (a link, a recognition, a mode change, a settlement run): 4 KiB.
    public static let small = 4 * 1024
    /// One business request (a sale, a hold, a member, a pass change): 16 KiB.
    public static let request = 16 * 1024
    /// Requests that carry a CSR or a list (enrollment, renewal, payment references): 64 KiB.
    public static let document = 64 * 1024
    /// A bank statement (camt.053 or CSV) of the settlement account: 4 MiB.
    public static let statement = 4 * 1024 * 1024
    /// A batch of up to 1,000 signed assertions: 8 MiB. Also the most any request context accepts.
    public static let batch = 8 * 1024 * 1024
}
