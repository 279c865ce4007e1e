import Foundation

/// The shape of a JSON object read straight from its bytes: member names as written (in their order, escapes
/// untouched, each prefixed by its length in bytes), nesting, and where a null is; every other value is `v`. It is the key of ``StrictJSON``'s verdict
/// cache: two inputs with one shape have the same member names at every level and nulls in the same places, so the
/// same verdict. Names written differently (order, escapes) only make different shapes, each checked in full once.
/// Anything that is not one well-formed JSON object gives nil (the caller then lets Foundation's parser decide).
enum JSONShape {
    static func scan(_ data: Data) -> String? {
        data.withUnsafeBytes { raw -> String? in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            scanner.skipSpace()
            guard scanner.peek == UInt8(ascii: "{"), scanner.value(depth: 0) else { return nil }
            scanner.skipSpace()
            guard scanner.atEnd else { return nil }
            return String(decoding: scanner.out, as: UTF8.self)
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var out: [UInt8] = []

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            out.reserveCapacity(256)
        }

        /// Deeper than any message of the federation; deeper input is left to Foundation.
        static let maximumDepth = 32

        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        /// A string starting at `"`: its raw bytes (escapes kept), or nil when unterminated or holding a control byte.
        mutating func string() -> Range<Int>? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<index - 1
                case UInt8(ascii: "\\"):
                    index += 2
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maximumDepth, let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"):
                return container(closedBy: UInt8(ascii: "}"), named: true, depth: depth)
            case UInt8(ascii: "["):
                return container(closedBy: UInt8(ascii: "]"), named: false, depth: depth)
            case UInt8(ascii: "\""):
                guard string() != nil else { return false }
                out.append(UInt8(ascii: "v"))
                return true
            case UInt8(ascii: "n"):
                guard literal("null") else { return false }
                out.append(contentsOf: "null".utf8)
                return true
            case UInt8(ascii: "t"):
                guard literal("true") else { return false }
                out.append(UInt8(ascii: "v"))
                return true
            case UInt8(ascii: "f"):
                guard literal("false") else { return false }
                out.append(UInt8(ascii: "v"))
                return true
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                // The number's own syntax is the decoder's to check; here it only has to end where a value ends.
                while let next = peek,
                    next == UInt8(ascii: "-") || next == UInt8(ascii: "+") || next == UInt8(ascii: ".")
                        || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next)
                {
                    index += 1
                }
                out.append(UInt8(ascii: "v"))
                return true
            default:
                return false
            }
        }

        /// An object (`named`: each value after a member name) or an array, from its opening byte to `close`.
        mutating func container(closedBy close: UInt8, named: Bool, depth: Int) -> Bool {
            out.append(bytes[index])
            index += 1
            skipSpace()
            if expect(close) {
                out.append(close)
                return true
            }
            while true {
                skipSpace()
                if named {
                    guard let name = string() else { return false }
                    // Length-prefixed, so that no name can spell another structure (`"a:v,b"`).
                    out.append(contentsOf: String(name.count).utf8)
                    out.append(UInt8(ascii: "#"))
                    out.append(contentsOf: bytes[name])
                    out.append(UInt8(ascii: ":"))
                    skipSpace()
                    guard expect(UInt8(ascii: ":")) else { return false }
                    skipSpace()
                }
                guard value(depth: depth + 1) else { return false }
                out.append(UInt8(ascii: ","))
                skipSpace()
                if expect(UInt8(ascii: ",")) { continue }
                guard expect(close) else { return false }
                out.append(close)
                return true
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }
    }
}
