/// Matching a bank statement against what a batch says each park pays in or is paid out.
///
/// Every payment a batch expects has one stable reference (the payment files carry it as the end-to-end id and in
/// the remittance text). A statement entry is matched to the expectation whose reference it names and whose
/// direction it has (a credit to the settlement account is a payer's pay-in; a debit is a pay-out to a receiver).
/// What arrived is summed over every import, so a payment in two parts matches once the second arrives.
public enum Reconciliation {
    public enum Direction: String, Sendable, Hashable, Codable {
        /// Money into the federation's settlement account (from a paying park).
        case credit
        /// Money out of it (to a receiving park).
        case debit
    }

    /// A payment a batch expects.
    public struct Expected: Sendable, Hashable {
        public let reference: String
        public let batch: String
        public let party: String
        public let direction: Direction
        public let amountMinor: Int64
        public init(reference: String, batch: String, party: String, direction: Direction, amountMinor: Int64) {
            self.reference = reference
            self.batch = batch
            self.party = party
            self.direction = direction
            self.amountMinor = amountMinor
        }
    }

    /// One booked entry of a statement.
    public struct Entry: Sendable, Hashable {
        /// The bank's own id of the entry (unique per account): what makes a second import of it a duplicate.
        public let entryRef: String
        public let direction: Direction
        public let amountMinor: Int64
        /// Every reference the entry carries (end-to-end id, remittance text, entry reference).
        public let texts: [String]
        public init(entryRef: String, direction: Direction, amountMinor: Int64, texts: [String]) {
            self.entryRef = entryRef
            self.direction = direction
            self.amountMinor = amountMinor
            self.texts = texts
        }
    }

    public enum Outcome: String, Sendable, Hashable, Codable {
        case matched
        case partlyPaid = "partly_paid"
        case overpaid
        case unknown
        case duplicate
        /// True for the outcomes clearing staff must look at.
        public var isException: Bool { self != .matched && self != .duplicate }
    }

    public struct Match: Sendable, Hashable {
        public let entry: Entry
        public let outcome: Outcome
        /// The expectation it paid (nil when unknown or a duplicate).
        public let expected: Expected?
        /// Everything received against that expectation so far, this entry included.
        public let receivedMinor: Int64
    }

    /// Matches `entries` in order. `received` holds what earlier imports already booked per reference, and
    /// `seen` the entry refs already imported; both are updated as this statement goes.
    public static func match(_ entries: [Entry], expected: [Expected], received: inout [String: Int64], seen: inout Set<String>) -> [Match] {
        let byReference = Dictionary(expected.map { ($0.reference, $0) }, uniquingKeysWith: { first, _ in first })
        // Longest reference first, so that a reference that is a prefix of another never takes its payment.
        let references = byReference.keys.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        var matches: [Match] = []
        for entry in entries {
            guard seen.insert(entry.entryRef).inserted else {
                matches.append(Match(entry: entry, outcome: .duplicate, expected: nil, receivedMinor: 0))
                continue
            }
            let named = references.first { reference in entry.texts.contains { $0.contains(reference) } }.flatMap { byReference[$0] }
            guard let named, named.direction == entry.direction else {
                matches.append(Match(entry: entry, outcome: .unknown, expected: nil, receivedMinor: 0))
                continue
            }
            let total = received[named.reference, default: 0] + entry.amountMinor
            received[named.reference] = total
            let outcome: Outcome = total == named.amountMinor ? .matched : (total < named.amountMinor ? .partlyPaid : .overpaid)
            matches.append(Match(entry: entry, outcome: outcome, expected: named, receivedMinor: total))
        }
        return matches
    }
}
