import Testing
import WebCore

@Suite struct JSONEncodingTests {
    @Test func quotesAndBackslashesAreEscaped() {
        #expect(JSONValue.string(#"a"b\c"#).text == #""a\"b\\c""#)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONValue.string("\n\r\t").text == #""\n\r\t""#)
        #expect(JSONValue.string("\u{0}\u{1}\u{8}\u{C}\u{1F}\u{7F}").text == #""\u0000\u0001\u0008\u000c\u001f\u007f""#)
    }

    @Test func htmlSignificantCharactersAreEscaped() {
        let text = JSONValue.string("</script><b>&amp;").text
        #expect(text == #""\u003c/script\u003e\u003cb\u003e\u0026amp;""#)
        #expect(!text.contains("<") && !text.contains(">") && !text.contains("&"))
    }

    @Test func nonASCIIIsWrittenAsUTF8() {
        #expect(JSONValue.string("é中😀").encoded() == [UInt8]("\"é中😀\""))
    }

    @Test func keysAreEscapedAndOrderIsKept() {
        let value = JSONValue.object([("z", .int(1)), ("a\"<", .null), ("m", .array([.bool(true), .bool(false)]))])
        #expect(value.text == #"{"z":1,"a\"\u003c":null,"m":[true,false]}"#)
    }

    @Test func emptyContainersAreCompact() {
        #expect(JSONValue.object([]).text == "{}")
        #expect(JSONValue.array([]).text == "[]")
        #expect(JSONValue.array([.null, .object([])]).text == "[null,{}]")
    }

    @Test func integersAreWrittenInDecimal() {
        #expect(JSONValue.int(0).text == "0")
        #expect(JSONValue.int(-5).text == "-5")
        #expect(JSONValue.int(.max).text == "9223372036854775807")
        #expect(JSONValue.int(.min).text == "-9223372036854775808")
    }

    @Test func doublesKeepAFractionOrExponent() throws {
        #expect(JSONValue.double(1).text == "1.0")
        #expect(JSONValue.double(-3).text == "-3.0")
        #expect(JSONValue.double(0.5).text == "0.5")
        #expect(JSONValue.double(0.1).text == "0.1")
        for value in [1e15, 1e20, -1.5e300, .leastNonzeroMagnitude, 1e-7, 123_456_789.125, .greatestFiniteMagnitude] {
            let text = JSONValue.double(value).text
            #expect(try parseJSON(text) == .double(value), "\(value) as \(text)")
        }
    }

    @Test func negativeZeroKeepsItsSign() {
        #expect(JSONValue.double(-0.0).text == "-0.0")
    }

    @Test func nonFiniteDoublesBecomeNull() {
        #expect(JSONValue.double(.infinity).text == "null")
        #expect(JSONValue.double(-.infinity).text == "null")
        #expect(JSONValue.double(.nan).text == "null")
    }

    @Test func randomValuesSurviveEncodeThenParse() throws {
        var random = SeededGenerator(seed: 0x0E1C_0DE5)
        for _ in 0..<1500 {
            let value = RandomJSON.value(depth: 0, using: &random)
            let bytes = value.encoded()
            #expect(ReferenceUTF8.isValid(bytes))
            #expect(!bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
            let parsed = try JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 64, maxMembers: 100_000))
            #expect(parsed == value, "\(value.text)")
        }
    }

    @Test func textMatchesEncodedBytes() {
        let value = JSONValue.object([("k", .string("v é"))])
        #expect(Array(value.text.utf8) == value.encoded())
    }

    @Test func writeAppendsToExistingBytes() {
        var out = [UInt8]("x")
        JSONValue.int(1).write(to: &out)
        #expect(out == [UInt8]("x1"))
    }
}

/// Random JSON values with unique keys and finite numbers.
enum RandomJSON {
    static let pieces: [String] = [
        "a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é",
        "e\u{301}", "中", "😀", "\u{2028}", "\u{FFFD}", "\u{10FFFF}", "\u{D7FF}", "\u{E000}", "0",
    ]

    static func string<R: RandomNumberGenerator>(using random: inout R) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &random) { text += pieces.randomElement(using: &random)! }
        return text
    }

    static func double<R: RandomNumberGenerator>(using random: inout R) -> Double {
        switch Int.random(in: 0...3, using: &random) {
        case 0: return Double(Int.random(in: -1_000_000...1_000_000, using: &random))
        case 1: return Double.random(in: -1e6...1e6, using: &random)
        case 2: return Double(Int64.random(in: .min ... .max, using: &random)) * 1e10
        default:
            while true {
                let value = Double(bitPattern: random.next())
                if value.isFinite { return value }
            }
        }
    }

    static func value<R: RandomNumberGenerator>(depth: Int, using random: inout R) -> JSONValue {
        let choice = Int.random(in: 0...(depth < 4 ? 7 : 5), using: &random)
        switch choice {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int64.random(in: .min ... .max, using: &random))
        case 3: return .double(double(using: &random))
        case 4, 5: return .string(string(using: &random))
        case 6:
            return .array(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in value(depth: depth + 1, using: &random) })
        default:
            return .object(
                (0..<Int.random(in: 0...4, using: &random)).map { index in
                    ("k\(index)" + string(using: &random), value(depth: depth + 1, using: &random))
                })
        }
    }
}
