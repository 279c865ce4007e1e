import Foundation

/// The card's state as the hub stores it on the hot path: a compact binary record instead of a JSON document, so a
/// hold or capture neither parses nor prints JSON (issue #20: Foundation's JSON coding was ~10 % of the card
/// benchmark's CPU). Two records: the card's core (status, ratio, lots, counters; ``compactCore()``) and each
/// authorisation in a row of its own (``Authorisation/compact()``).
///
/// Layout: a format byte (1), then fields in declaration order; integers as LEB128 varints (signed ones zigzagged),
/// strings as a varint length and UTF-8, optionals as a 0/1 byte before the value, dates as the IEEE 754 bits of
/// `timeIntervalSinceReferenceDate` (exact round trip), dictionaries sorted by key (one state, one encoding).
/// Decoding checks every length against what is left and every value against its type's rules, and refuses a record
/// with bytes left over: a damaged row is an error, never a different card.
extension CardAccount {
    static let compactFormat: UInt8 = 1
    /// Statuses by their stored number (append only).
    static let statuses: [Status] = [.active, .blocked]

    /// The card without its authorisations, compactly encoded.
    public func compactCore() -> [UInt8] {
        var out = CompactWriter(format: Self.compactFormat)
        out.string(id)
        out.choice(status, of: Self.statuses)
        out.optional(ratio) { out, ratio in
            out.signed(ratio.principal)
            out.signed(ratio.bonus)
        }
        out.count(lots.count)
        for lot in lots {
            out.string(lot.loadID)
            out.string(lot.park.rawValue)
            out.signed(lot.loadedPrincipal)
            out.signed(lot.loadedBonus)
            out.signed(lot.principal)
            out.signed(lot.bonus)
            out.bool(lot.bonusOwedByLoader)
        }
        out.optional(counter) { $0.signed($1) }
        out.optional(recentCounters) { $0.unsigned($1) }
        return out.bytes
    }

    /// Decodes ``compactCore()`` (authorisations empty).
    public init(compactCore bytes: some Collection<UInt8>) throws(DomainError) {
        var input = try CompactReader(Array(bytes), format: Self.compactFormat, what: "card")
        self.init(id: try input.string())
        status = try input.choice(of: Self.statuses, "status")
        ratio = try input.optional { input throws(DomainError) in try StoredValueSplit.Ratio(principal: try input.signed(), bonus: try input.signed()) }
        for _ in 0..<(try input.count()) {
            lots.append(
                Lot(
                    loadID: try input.string(), park: try ParkID(try input.string()), loadedPrincipal: try input.signed(),
                    loadedBonus: try input.signed(), principal: try input.signed(), bonus: try input.signed(), bonusOwedByLoader: try input.bool()))
        }
        counter = try input.optional { input throws(DomainError) in try input.signed() }
        recentCounters = try input.optional { input throws(DomainError) in try input.unsigned() }
        try input.finish()
    }
}

extension CardAccount.Authorisation {
    /// The authorisation, compactly encoded.
    public func compact() -> [UInt8] {
        var out = CompactWriter(format: CardAccount.compactFormat)
        out.string(requestID)
        out.string(park.rawValue)
        out.signed(amount)
        out.signed(principal)
        out.signed(bonus)
        out.unsigned(expiresAt.timeIntervalSinceReferenceDate.bitPattern)
        out.choice(state, of: Self.states)
        out.count(draws.count)
        for draw in draws {
            out.string(draw.loadID)
            out.string(draw.park.rawValue)
            out.signed(draw.principal)
            out.signed(draw.bonus)
            out.bool(draw.bonusOwedByLoader)
        }
        out.count(refunds.count)
        for (id, amount) in refunds.sorted(by: { $0.key < $1.key }) {
            out.string(id)
            out.signed(amount)
        }
        return out.bytes
    }

    /// Decodes ``compact()``.
    public init(compact bytes: some Collection<UInt8>) throws(DomainError) {
        var input = try CompactReader(Array(bytes), format: CardAccount.compactFormat, what: "authorisation")
        requestID = try input.string()
        park = try ParkID(try input.string())
        amount = try input.signed()
        principal = try input.signed()
        bonus = try input.signed()
        expiresAt = Date(timeIntervalSinceReferenceDate: Double(bitPattern: try input.unsigned()))
        state = try input.choice(of: Self.states, "state")
        for _ in 0..<(try input.count()) {
            draws.append(
                CardAccount.Draw(
                    loadID: try input.string(), park: try ParkID(try input.string()), principal: try input.signed(), bonus: try input.signed(),
                    bonusOwedByLoader: try input.bool()))
        }
        for _ in 0..<(try input.count()) {
            let id = try input.string()
            refunds[id] = try input.signed()
        }
        try input.finish()
    }

    /// States by their stored number (append only).
    static let states: [State] = [.held, .captured, .voided, .expired]
}

/// Writes the compact records' fields.
struct CompactWriter {
    private(set) var bytes: [UInt8]

    init(format: UInt8) {
        bytes = [format]
        bytes.reserveCapacity(128)
    }

    /// One of `all` (every case of its type, in stored order), as its position.
    mutating func choice<T: Equatable>(_ value: T, of all: [T]) { bytes.append(UInt8(all.firstIndex(of: value)!)) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func unsigned(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func signed(_ value: Int64) { unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    mutating func count(_ value: Int) { unsigned(UInt64(value)) }

    mutating func string(_ value: String) {
        count(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    mutating func optional<T>(_ value: T?, _ write: (inout CompactWriter, T) -> Void) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        write(&self, value)
    }
}

/// Reads the compact records' fields, refusing anything truncated, oversized or left over.
struct CompactReader {
    private let bytes: [UInt8]
    private var offset = 1
    private let what: String

    init(_ bytes: [UInt8], format: UInt8, what: String) throws(DomainError) {
        self.bytes = bytes
        self.what = what
        guard bytes.first == format else { throw Self.damaged(what, "format \(bytes.first.map(String.init) ?? "none")") }
    }

    func damaged(_ detail: String) -> DomainError { Self.damaged(what, detail) }

    static func damaged(_ what: String, _ detail: String) -> DomainError {
        DomainError(.invalidState, "a stored \(what) record is damaged: \(detail)")
    }

    mutating func byte() throws(DomainError) -> UInt8 {
        guard offset < bytes.count else { throw damaged("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func choice<T>(of all: [T], _ what: String) throws(DomainError) -> T {
        let position = Int(try byte())
        guard position < all.count else { throw damaged("\(what) \(position)") }
        return all[position]
    }

    mutating func bool() throws(DomainError) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        case let other: throw damaged("flag \(other)")
        }
    }

    mutating func unsigned() throws(DomainError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 64, by: 7) {
            let next = try byte()
            value |= UInt64(next & 0x7f) << shift
            if next & 0x80 == 0 { return value }
        }
        throw damaged("a number longer than 64 bits")
    }

    mutating func signed() throws(DomainError) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func count() throws(DomainError) -> Int {
        let value = try unsigned()
        guard value <= UInt64(bytes.count - offset) else { throw damaged("a count of \(value) with \(bytes.count - offset) bytes left") }
        return Int(value)
    }

    mutating func string() throws(DomainError) -> String {
        let length = try count()
        defer { offset += length }
        guard let text = String(validating: bytes[offset..<offset + length], as: UTF8.self) else { throw damaged("text that is not UTF-8") }
        return text
    }

    mutating func optional<T>(_ read: (inout CompactReader) throws(DomainError) -> T) throws(DomainError) -> T? {
        try bool() ? try read(&self) : nil
    }

    func finish() throws(DomainError) {
        guard offset == bytes.count else { throw damaged("\(bytes.count - offset) bytes left over") }
    }
}
