/// A QR Code (ISO/IEC 18004) in byte mode at error-correction level M, versions 1 to 15: the symbol a visitor's
/// pass is printed or shown as. No package on this machine encodes QR codes, so this is a small, table-driven
/// encoder after the standard (and Project Nayuki's reference design): data and Reed-Solomon codewords,
/// interleaving, function patterns, the eight masks scored by the standard's penalty rules.
public struct QRCode: Sendable, Hashable {
    /// The version (1-15): the symbol is `17 + 4 × version` modules wide.
    public let version: Int
    public let size: Int
    /// The mask pattern chosen (0-7).
    public let mask: Int
    /// Row-major dark modules.
    public let modules: [Bool]

    public static let maximumVersion = 15

    public enum Failure: Error, Equatable, Sendable {
        /// The text needs more than `maximumVersion` at level M (412 bytes).
        case tooLong(bytes: Int, capacity: Int)
    }

    /// The module at (x, y); false outside the symbol.
    public func isDark(x: Int, y: Int) -> Bool {
        guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
        return modules[y * size + x]
    }

    /// The smallest version that holds `count` bytes, without drawing the symbol (what a sale reports; drawing it
    /// and choosing its mask is most of the work).
    public static func version(forByteCount count: Int) throws(Failure) -> Int {
        guard let version = (1...maximumVersion).first(where: { byteCapacity(version: $0) >= count }) else {
            throw .tooLong(bytes: count, capacity: byteCapacity(version: maximumVersion))
        }
        return version
    }

    /// Encodes `text` (UTF-8) in the smallest version that holds it.
    public init(text: String) throws(Failure) {
        try self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8]) throws(Failure) {
        let version = try Self.version(forByteCount: bytes.count)
        let codewords = Self.interleaved(Self.dataCodewords(bytes, version: version), version: version)
        var best: Matrix?
        var bestPenalty = Int.max
        for mask in 0..<8 {
            var matrix = Matrix(version: version)
            matrix.drawFunctionPatterns()
            matrix.drawCodewords(codewords)
            matrix.applyMask(mask)
            matrix.drawFormatBits(mask: mask)
            let penalty = matrix.penalty()
            if penalty < bestPenalty {
                bestPenalty = penalty
                best = matrix
                best!.mask = mask
            }
        }
        self.version = version
        self.size = best!.size
        self.mask = best!.mask
        self.modules = best!.dark
    }

    // MARK: Capacity tables (level M)

    /// Error-correction codewords per block, level M, versions 1-15.
    static let eccPerBlock = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24]
    /// Blocks, level M, versions 1-15.
    static let blocks = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10]

    /// All codeword modules of a version (data plus error correction, remainder bits excluded).
    static func rawDataModules(version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewordCount(version: Int) -> Int {
        rawDataModules(version: version) / 8 - eccPerBlock[version - 1] * blocks[version - 1]
    }

    /// Bytes that fit in byte mode: 4 mode bits and an 8-bit (v1-9) or 16-bit count.
    public static func byteCapacity(version: Int) -> Int {
        (dataCodewordCount(version: version) * 8 - 4 - (version < 10 ? 8 : 16)) / 8
    }

    // MARK: Codewords

    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(UInt32(bytes.count), count: version < 10 ? 8 : 16)
        for byte in bytes { bits.append(UInt32(byte), count: 8) }
        let capacityBits = dataCodewordCount(version: version) * 8
        bits.append(0, count: min(4, capacityBits - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var codewords = bits.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < capacityBits / 8 {
            codewords.append(pad)
            pad ^= 0xEC ^ 0x11
        }
        return codewords
    }

    /// Splits data into blocks, appends each block's Reed-Solomon codewords, and interleaves them.
    static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let blockCount = blocks[version - 1], ecc = eccPerBlock[version - 1]
        let rawCodewords = rawDataModules(version: version) / 8
        let shortBlocks = blockCount - rawCodewords % blockCount
        let shortLength = rawCodewords / blockCount
        let divisor = ReedSolomon.divisor(degree: ecc)
        var blocksData: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortLength - ecc + (index < shortBlocks ? 0 : 1)
            var block = Array(data[offset..<offset + length])
            offset += length
            let remainder = ReedSolomon.remainder(block, divisor: divisor)
            if index < shortBlocks { block.append(0) }  // placeholder, skipped when interleaving
            blocksData.append(block + remainder)
        }
        var result: [UInt8] = []
        for column in 0..<blocksData[0].count {
            for (index, block) in blocksData.enumerated() where column != shortLength - ecc || index >= shortBlocks {
                result.append(block[column])
            }
        }
        return result
    }
}

/// Reed-Solomon over GF(2^8) with the QR polynomial 0x11D.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z: UInt32 = 0
        for bit in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= ((UInt32(y) >> UInt32(bit)) & 1) * UInt32(x)
        }
        return UInt8(z & 0xFF)
    }

    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for index in 0..<degree {
                result[index] = multiply(result[index], root)
                if index + 1 < degree { result[index] ^= result[index + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for index in 0..<divisor.count { result[index] ^= multiply(divisor[index], factor) }
        }
        return result
    }
}

struct BitBuffer {
    private(set) var bits: [Bool] = []
    var count: Int { bits.count }

    mutating func append(_ value: UInt32, count: Int) {
        guard count > 0 else { return }
        for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> UInt32(shift)) & 1 == 1) }
    }

    var bytes: [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            (0..<8).reduce(UInt8(0)) { byte, offset in (byte << 1) | (bits[start + offset] ? 1 : 0) }
        }
    }
}

/// The module grid while a symbol is built.
struct Matrix {
    let version: Int
    let size: Int
    var dark: [Bool]
    var isFunction: [Bool]
    var mask = 0

    init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        dark = [Bool](repeating: false, count: size * size)
        isFunction = [Bool](repeating: false, count: size * size)
    }

    mutating func set(_ x: Int, _ y: Int, _ value: Bool) {
        dark[y * size + x] = value
        isFunction[y * size + x] = true
    }

    func get(_ x: Int, _ y: Int) -> Bool { dark[y * size + x] }

    /// Alignment pattern centres, from the standard's table for versions 1-15.
    static let alignmentCentres: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
        [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70],
    ]

    mutating func drawFunctionPatterns() {
        for index in 0..<size {
            set(6, index, index % 2 == 0)
            set(index, 6, index % 2 == 0)
        }
        drawFinder(3, 3)
        drawFinder(size - 4, 3)
        drawFinder(3, size - 4)
        let centres = Self.alignmentCentres[version - 1]
        for (i, cx) in centres.enumerated() {
            for (j, cy) in centres.enumerated() {
                let corner = (i == 0 && j == 0) || (i == 0 && j == centres.count - 1) || (i == centres.count - 1 && j == 0)
                if !corner { drawAlignment(cx, cy) }
            }
        }
        drawFormatBits(mask: 0)  // reserve the format areas; redrawn after masking
        drawVersionBits()
    }

    mutating func drawFinder(_ cx: Int, _ cy: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = cx + dx, y = cy + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let distance = max(abs(dx), abs(dy))
                set(x, y, distance != 2 && distance != 4)
            }
        }
    }

    mutating func drawAlignment(_ cx: Int, _ cy: Int) {
        for dy in -2...2 {
            for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
        }
    }

    /// 15 format bits: level M (00) and the mask, BCH(15,5), XOR 0x5412, drawn twice.
    mutating func drawFormatBits(mask: Int) {
        let data = (0b00 << 3) | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = ((data << 10) | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        for index in 0...5 { set(8, index, bit(index)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for index in 9..<15 { set(14 - index, 8, bit(index)) }
        for index in 0..<8 { set(size - 1 - index, 8, bit(index)) }
        for index in 8..<15 { set(8, size - 15 + index, bit(index)) }
        set(8, size - 8, true)  // the dark module
    }

    /// 18 version bits for versions 7 and up, BCH(18,6).
    mutating func drawVersionBits() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = (version << 12) | remainder
        for index in 0..<18 {
            let value = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3, b = index / 3
            set(a, b, value)
            set(b, a, value)
        }
    }

    /// Places codeword bits in the zigzag order, skipping function modules.
    mutating func drawCodewords(_ codewords: [UInt8]) {
        var bitIndex = 0
        let totalBits = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for column in 0..<2 {
                    let x = right - column
                    let upward = ((right + 1) & 2) == 0
                    let y = upward ? size - 1 - vertical : vertical
                    guard !isFunction[y * size + x] else { continue }
                    if bitIndex < totalBits {
                        dark[y * size + x] = (codewords[bitIndex >> 3] >> (7 - UInt8(bitIndex & 7))) & 1 == 1
                        bitIndex += 1
                    }
                }
            }
            right -= 2
        }
    }

    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] {
                let invert: Bool =
                    switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: x * y % 2 + x * y % 3 == 0
                    case 6: (x * y % 2 + x * y % 3) % 2 == 0
                    default: ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                if invert { dark[y * size + x].toggle() }
            }
        }
    }

    /// The standard's penalty score (N1 runs, N2 blocks, N3 finder-like patterns, N4 balance).
    func penalty() -> Int {
        var result = 0
        for horizontal in [true, false] {
            for line in 0..<size {
                var runColour = false, runLength = 0
                var history = [Int](repeating: 0, count: 7)
                func cell(_ i: Int) -> Bool { horizontal ? get(i, line) : get(line, i) }
                func pushHistory(_ length: Int) {
                    var length = length
                    if history[0] == 0 { length += size }
                    history.removeLast()
                    history.insert(length, at: 0)
                }
                func finderLikeCount() -> Int {
                    let n = history[1]
                    let core = n > 0 && history[2] == n && history[3] == n * 3 && history[4] == n && history[5] == n
                    return (core && history[0] >= n * 4 && history[6] >= n ? 1 : 0) + (core && history[6] >= n * 4 && history[0] >= n ? 1 : 0)
                }
                for i in 0..<size {
                    if cell(i) == runColour {
                        runLength += 1
                        if runLength == 5 { result += 3 } else if runLength > 5 { result += 1 }
                    } else {
                        pushHistory(runLength)
                        if !runColour { result += finderLikeCount() * 40 }
                        runColour = cell(i)
                        runLength = 1
                    }
                }
                // Terminate the line as if followed by light modules.
                if runColour {
                    pushHistory(runLength)
                    runLength = 0
                }
                runLength += size
                pushHistory(runLength)
                result += finderLikeCount() * 40
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let colour = get(x, y)
                if colour == get(x + 1, y), colour == get(x, y + 1), colour == get(x + 1, y + 1) { result += 3 }
            }
        }
        let darkCount = dark.filter { $0 }.count
        let total = size * size
        let k = (abs(darkCount * 20 - total * 10) + total - 1) / total - 1
        result += max(0, k) * 10
        return result
    }
}
