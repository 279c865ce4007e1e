import Foundation
import Testing

@testable import ParkFedProtocol

/// Strict decoding with its verdict cache keyed by the input's shape, read from the bytes (`JSONShape`).
@Suite struct StrictJSONTests {
    struct Probe: Codable, Equatable {
        var a: Int?
        var b: Int?
        var inner: Inner?
        var list: [Inner]?
        struct Inner: Codable, Equatable { var name: String? }
    }

    func decode(_ text: String) throws(WireError) -> Probe { try StrictJSON.decode(Probe.self, from: Data(text.utf8)) }

    @Test func anUnknownMemberIsRefusedWhateverWasAcceptedBefore() throws {
        #expect(
            try decode(#"{"a":1,"b":2,"inner":{"name":"x"},"list":[{"name":"y"}]}"#) == Probe(a: 1, b: 2, inner: .init(name: "x"), list: [.init(name: "y")]))
        // Same shape again: from the cache, same answer.
        #expect(try decode(#"{"a":3,"b":4,"inner":{"name":"z"},"list":[{"name":"w"}]}"#).a == 3)
        for text in [
            #"{"a":1,"b":2,"c":3}"#, #"{"a":1,"inner":{"name":"x","extra":1}}"#, #"{"list":[{"name":"y"},{"nmae":"z"}]}"#,
            // A name that spells another structure must not borrow the known shape of {"a":…,"b":…}.
            #"{"a:v,b":1}"#, #"{"a:v,1#b":1}"#,
            // Escaped names are names too.
            #"{"\u0063":1}"#,
        ] {
            let error = #expect(throws: WireError.self, "\(text)") { try decode(text) }
            #expect(error?.message.hasPrefix("unknown or null member") == true, "\(text): \(error?.message ?? "")")
        }
        // A null where a value was known is refused as before (the schemas have no nullable members).
        #expect(throws: WireError.self) { try decode(#"{"a":null,"b":2}"#) }
        // Not an object, or not JSON: the old messages.
        for text in ["[1]", "1", #"{"a":1"#, #"{"a":1}x"#, ""] {
            let error = #expect(throws: WireError.self, "\(text)") { try decode(text) }
            #expect(error?.message == "the body must be a JSON object", "\(text): \(error?.message ?? "")")
        }
    }

    @Test func theShapeIsReadFromTheBytesOfEveryWellFormedObjectAndOfNothingElse() throws {
        let document = #" { "a" : -1.5e3 , "s":"q\"u\\o\u00e9te", "t":true,"f":false,"n":null, "o":{"x":[1,[2,{}],"z"]},"e":[] } "#
        let shape = try #require(JSONShape.scan(Data(document.utf8)))
        #expect(shape == #"{1#a:v,1#s:v,1#t:v,1#f:v,1#n:null,1#o:{1#x:[v,[v,{},],v,],},1#e:[],}"#)
        let bytes = Array(document.utf8)
        for length in 0..<bytes.count - 1 {
            let prefix = Data(bytes[0..<length])
            let parses = (try? JSONSerialization.jsonObject(with: prefix)) as? [String: Any] != nil
            #expect((JSONShape.scan(prefix) != nil) == parses, "prefix of \(length) bytes")
        }
        #expect(JSONShape.scan(Data(#"{"a":1} {"#.utf8)) == nil)
        #expect(JSONShape.scan(Data(#"{"a":"x"#.utf8 + [0x0A] + #""}"#.utf8)) == nil, "a control byte in a string")
        // Deeper than the scanner goes: left to Foundation (and still decoded strictly).
        let deep = String(repeating: #"{"inner":"#, count: 40) + "{}" + String(repeating: "}", count: 40)
        #expect(JSONShape.scan(Data(deep.utf8)) == nil)
    }
}
