import Foundation
import ParkFedQR
import ParkFedTesting
import Testing

@Suite struct QRCodeTests {
    @Test func smallestVersionHoldsTheTextAtLevelM() throws {
        #expect(QRCode.byteCapacity(version: 1) == 14)
        #expect(QRCode.byteCapacity(version: 10) == 213)
        #expect(QRCode.byteCapacity(version: 15) == 412)
        #expect(try QRCode(text: String(repeating: "a", count: 14)).version == 1)
        #expect(try QRCode(text: String(repeating: "a", count: 15)).version == 2)
        #expect(try QRCode(text: String(repeating: "a", count: 412)).version == 15)
        #expect(throws: QRCode.Failure.tooLong(bytes: 413, capacity: 412)) { try QRCode(text: String(repeating: "a", count: 413)) }
        // The version a sale reports without drawing the symbol is the one the drawn symbol has.
        for count in stride(from: 1, through: 412, by: 7) {
            #expect(try QRCode.version(forByteCount: count) == QRCode(bytes: [UInt8](repeating: 0x41, count: count)).version)
        }
        #expect(throws: QRCode.Failure.tooLong(bytes: 413, capacity: 412)) { try QRCode.version(forByteCount: 413) }
    }

    @Test func formatInformationIsWrittenTwiceAndTheDarkModuleIsSet() throws {
        let code = try QRCode(text: "HELLO")
        #expect(code.size == 21)
        // Format bits 0-5 run down column 8 from the top and leftwards along row 8 from the right edge.
        let first = (0...5).map { code.isDark(x: 8, y: $0) }
        let second = (0...5).map { code.isDark(x: code.size - 1 - $0, y: 8) }
        #expect(first == second)
        #expect(code.isDark(x: 8, y: code.size - 8))
    }

    /// An outside decoder (zxing-cpp) reads back exactly what was encoded, for every version size we use.
    @Test func zxingDecodesThePNGsBackToTheSameText() async throws {
        let directory = try TemporaryDirectory()
        let texts = [
            "PF1",
            "https://example.org/pass/" + String(repeating: "x", count: 60),
            "eyJhbGciOiJFZERTQSJ9." + String(repeating: "AbCd-_09", count: 30) + ".sig",
            "联票 张*三 " + String(repeating: "Z", count: 100),
            String((0..<412).map { Character(UnicodeScalar(UInt8(65 + $0 % 26))) }),
        ]
        var paths: [String] = []
        for (index, text) in texts.enumerated() {
            let path = directory.path + "/qr\(index).png"
            try Data(QRImage.png(try QRCode(text: text))).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let result = try await ExternalTool.run("python3", [Verifiers.path("decode_qr.py")] + paths)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == texts)
    }

    @Test func svgDrawsEveryDarkModule() throws {
        let code = try QRCode(text: "parkfed")
        let svg = QRImage.svg(code)
        let darkCount = code.modules.filter { $0 }.count
        #expect(svg.components(separatedBy: "h1v1h-1z").count - 1 == darkCount)
        #expect(svg.hasPrefix("<?xml"))
    }
}
