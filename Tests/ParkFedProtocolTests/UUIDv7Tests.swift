import Foundation
import ParkFedProtocol
import Testing

/// Assertion and entry ids: RFC 9562 version 7, time-ordered, random in the rest.
@Suite struct UUIDv7Tests {
    @Test func anIdCarriesItsMillisecondsVersionAndVariantAndIsValid() throws {
        let at = Date(timeIntervalSince1970: 1_796_662_604.247)
        let id = UUIDv7.make(now: at)
        #expect(UUIDv7.isValid(id), "\(id)")
        #expect(UUID(uuidString: id) != nil)
        // The first 48 bits are the Unix time in milliseconds, big-endian.
        let hex = id.replacingOccurrences(of: "-", with: "")
        #expect(UInt64(hex.prefix(12), radix: 16) == 1_796_662_604_247)
        #expect(Array(id)[14] == "7")
        #expect("89ab".contains(Array(id)[19]))
    }

    @Test func idsAreUniqueAndSortByTime() {
        var seen = Set<String>()
        for _ in 0..<10_000 { seen.insert(UUIDv7.make()) }
        #expect(seen.count == 10_000)
        let earlier = UUIDv7.make(now: Date(timeIntervalSince1970: 1_000_000)), later = UUIDv7.make(now: Date(timeIntervalSince1970: 1_000_001))
        #expect(earlier < later)
        // Every random bit position is used: over many ids each hex digit outside the fixed ones takes many values.
        let ids = (0..<256).map { _ in Array(UUIDv7.make(now: Date(timeIntervalSince1970: 0))) }
        for position in [15, 16, 17, 20, 21, 30, 35] { #expect(Set(ids.map { $0[position] }).count > 8, "position \(position)") }
    }
}
