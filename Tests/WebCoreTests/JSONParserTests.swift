import Testing
import WebCore

@Suite struct JSONParserTests {
    // MARK: Valid documents

    @Test func scalarsParseWithSurroundingWhitespace() throws {
        #expect(try parseJSON("null") == .null)
        #expect(try parseJSON(" true ") == .bool(true))
        #expect(try parseJSON("\t\r\nfalse\n") == .bool(false))
        #expect(try parseJSON("\"x\"") == .string("x"))
        #expect(try parseJSON(" \n{} ") == .object([]))
        #expect(try parseJSON("[ ]") == .array([]))
    }

    @Test func simpleEscapesDecode() throws {
        #expect(try parseJSON(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test func unicodeEscapesDecodeInEitherCase() throws {
        #expect(try parseJSON(#""\u00e9\u4E2D\u0041""#) == .string("é中A"))
        #expect(try parseJSON(#""\u0000""#) == .string("\u{0}"))
        #expect(try parseJSON(#""\uFFFF""#) == .string("\u{FFFF}"))
    }

    @Test func surrogatePairsBecomeOneScalar() throws {
        let value = try parseJSON(#""\ud83d\ude00 \uD834\uDD1E""#)
        #expect(value == .string("😀 𝄞"))
        guard case .string(let text) = value else { return }
        #expect(text.unicodeScalars.map(\.value) == [0x1F600, 0x20, 0x1D11E])
    }

    @Test func rawUTF8PassesThrough() throws {
        #expect(try parseJSON("\"héllo 中文 😀\"") == .string("héllo 中文 😀"))
        #expect(try parseJSON("{\"clé\":\"valeur\"}") == .object([("clé", .string("valeur"))]))
    }

    @Test func memberOrderIsKept() throws {
        let value = try parseJSON(#"{"z":1,"a":2,"m":{"y":true,"b":null}}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
        guard case .object(let inner)? = value["m"] else {
            Issue.record("inner is not an object")
            return
        }
        #expect(inner.map(\.key) == ["y", "b"])
    }

    @Test func nestedDocumentParses() throws {
        let value = try parseJSON(#"{"a":[1,-2.5,"s",{"b":[]},null,true],"c":{}}"#)
        let expected = JSONValue.object([
            ("a", .array([.int(1), .double(-2.5), .string("s"), .object([("b", .array([]))]), .null, .bool(true)])),
            ("c", .object([])),
        ])
        #expect(value == expected)
    }

    // MARK: Refusals

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"b":2,"a":3}"#, #"{"x":{"k":1,"k":1}}"#, #"{"a":1,"\u0061":2}"#,
        #"[{"":1,"":2}]"#,
    ])
    func duplicateKeysAreRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    @Test func sameKeyInSiblingObjectsIsFine() throws {
        #expect(try parseJSON(#"[{"a":1},{"a":2}]"#) == .array([.object([("a", .int(1))]), .object([("a", .int(2))])]))
    }

    @Test func canonicallyEquivalentButDistinctKeysAreBothKept() throws {
        // "é" as U+00E9 and as "e" + U+0301 are different JSON names (RFC 8259 §8.3 compares code units).
        let text = #"{"\u00e9":1,"e\u0301":2}"#
        let value = try parseJSON(text)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == 2)
    }

    @Test(arguments: [
        #""\ud800""#, #""\ud800x""#, #""\ud800\u0041""#, #""\udc00""#, #""\ud800\ud800""#, #""\ude00\ud83d""#,
        #""\uDBFF""#, #""a\uDFFFb""#, #""\ud83d\""#, #""\ud83d\n""#, #"{"\ud800":1}"#,
    ])
    func loneSurrogatesAreRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    @Test(
        arguments: [
            [0x22, 0xC3, 0x28, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE4, 0xB8, 0x22], [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D],
            [0x31, 0x20, 0xFE],
        ] as [[UInt8]])
    func invalidUTF8IsRefused(_ bytes: [UInt8]) {
        let error = jsonError(bytes)
        #expect(error != nil)
        #expect(error?.description.contains("UTF-8") == true)
    }

    @Test(arguments: [
        "1 2", "{}x", "[]]", "nullx", "truefalse", #""a""b""#, "{} {}", "0 0", "[1],", "1\u{0}",
    ])
    func trailingDataIsRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    @Test(arguments: [
        "", " ", "{", "[", "[1", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "\"abc", "tru", "nul", "[1,]",
        "{\"a\":1,}", "{,}", "[,1]", "{a:1}", "{'a':1}", "['a']", "{\"a\" 1}", "{1:2}", "undefined", "True", "NULL",
        "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\", "\"\\u", "/* */ 1", "[1 2]", "{\"a\":1 \"b\":2}",
    ])
    func malformedDocumentsAreRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    @Test(arguments: [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] as [UInt8])
    func rawControlCharactersInStringsAreRefused(_ byte: UInt8) {
        #expect(jsonError([0x22, 0x61, byte, 0x62, 0x22]) != nil)
    }

    @Test func byteOrderMarkIsRefused() {
        #expect(jsonError([0xEF, 0xBB, 0xBF] + [UInt8]("{}")) != nil)
    }

    // MARK: Limits

    @Test func depthLimitCountsArraysAndObjects() throws {
        let limits = JSONLimits(maxDepth: 3)
        #expect(throws: Never.self) { try parseJSON("[[[1]]]", limits: limits) }
        #expect(throws: Never.self) { try parseJSON(#"{"a":[{"b":1}]}"#, limits: limits) }
        #expect(jsonError("[[[[1]]]]", limits: limits) != nil)
        #expect(jsonError(#"{"a":[{"b":{}}]}"#, limits: limits) != nil)
        #expect(jsonError(#"[[[[]]]]"#, limits: limits) != nil)
    }

    @Test func defaultDepthIs32() {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(jsonError(ok) == nil)
        #expect(jsonError(deep)?.description.contains("deep") == true)
    }

    @Test func veryDeepDocumentIsRefusedWithoutRecursingFarIntoIt() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 200_000)
        #expect(jsonError(deep) != nil)
        let deepObjects = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(jsonError(deepObjects) != nil)
    }

    @Test func memberLimitCountsEveryElementAndMember() {
        let limits = JSONLimits(maxMembers: 3)
        #expect(jsonError("[1,2,3]", limits: limits) == nil)
        #expect(jsonError("[1,2,3,4]", limits: limits) != nil)
        #expect(jsonError(#"{"a":[1,2]}"#, limits: limits) == nil)
        #expect(jsonError(#"{"a":[1,2],"b":3}"#, limits: limits) != nil)
        #expect(jsonError("[[1],[2]]", limits: limits) != nil)
    }

    @Test func defaultMemberLimitIs1000() {
        let ok = "[" + Array(repeating: "0", count: 1000).joined(separator: ",") + "]"
        let over = "[" + Array(repeating: "0", count: 1001).joined(separator: ",") + "]"
        #expect(jsonError(ok) == nil)
        #expect(jsonError(over)?.description == "The JSON body has more than 1000 members.")
        #expect(jsonError(over)?.isOverLimit == true)
        #expect(jsonError("[1,]")?.isOverLimit == false)
    }

    // MARK: Numbers

    @Test func integersThatFitAreInts() throws {
        #expect(try parseJSON("0") == .int(0))
        #expect(try parseJSON("-12") == .int(-12))
        #expect(try parseJSON("9223372036854775807") == .int(.max))
        #expect(try parseJSON("-9223372036854775808") == .int(.min))
    }

    @Test func bigIntegersBecomeDoubles() throws {
        #expect(try parseJSON("9223372036854775808") == .double(9_223_372_036_854_775_808.0))
        #expect(try parseJSON("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        #expect(try parseJSON("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func negativeZero() throws {
        let integer = try parseJSON("-0")
        // An integer -0 is the integer 0, as PHP's json_decode reads it.
        #expect(integer == .int(0))
        guard case .double(let value) = try parseJSON("-0.0") else {
            Issue.record("-0.0 is not a double")
            return
        }
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func fractionsAndExponentsAreDoubles() throws {
        #expect(try parseJSON("1.5") == .double(1.5))
        #expect(try parseJSON("-0.25") == .double(-0.25))
        #expect(try parseJSON("1e3") == .double(1000))
        #expect(try parseJSON("1E+3") == .double(1000))
        #expect(try parseJSON("2.5e-3") == .double(0.0025))
        #expect(try parseJSON("0e0") == .double(0))
        #expect(try parseJSON("1.0") == .double(1))
        #expect(try parseJSON("1e-400") == .double(0))
    }

    @Test(arguments: ["1e400", "-1e400", "1.8e308"])
    func numbersOutOfRangeAreRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    @Test(arguments: [
        "01", "-01", "00", "00.5", "012e3", ".5", "1.", "-", "+1", "1e", "1e+", "1e-", "--1", "0x10", "Infinity",
        "-Infinity", "NaN", "1.e5", "- 1", "1_000",
    ])
    func malformedNumbersAreRefused(_ text: String) {
        #expect(jsonError(text) != nil)
    }

    // MARK: Robustness

    @Test func errorOffsetsPointIntoTheInput() {
        #expect(jsonError("[1,]")?.offset == 3)
        #expect(jsonError("{}x")?.offset == 2)
    }

    /// Thousands of random inputs: every one either parses or throws a `JSONParseError` (a trap would
    /// end the test process), errors point inside the input, and whatever parses survives re-encoding.
    @Test func randomInputsNeverTrap() throws {
        var random = SeededGenerator(seed: 0x5EED_0001)
        let tokens: [[UInt8]] = [
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud83d", "\\ude00", "\\n", "0", "1", "-", ".", "e",
            "E", "+", "9", "true", "false", "null", " ", "\"a\"", "\"b\":", "é", "😀", "\u{7F}", "\n",
        ].map { [UInt8]($0) }
        let seeds: [[UInt8]] = [
            #"{"a":[1,2.5e3,-0,"x\u00e9\ud83d\ude00"],"b":{"c":null,"d":[true,false]}}"#, "[[[[]]]]", #""\"""#,
        ].map { [UInt8]($0) }
        var parsed = 0
        for round in 0..<6000 {
            var bytes: [UInt8] = []
            switch round % 3 {
            case 0:
                let count = Int.random(in: 0...24, using: &random)
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:
                let count = Int.random(in: 1...16, using: &random)
                for _ in 0..<count { bytes += tokens.randomElement(using: &random)! }
            default:
                bytes = seeds.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0...2, using: &random) {
                    case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.remove(at: position)
                    default: bytes.insert(contentsOf: tokens.randomElement(using: &random)!, at: position)
                    }
                    if bytes.isEmpty { break }
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                parsed += 1
                #expect(ReferenceUTF8.isValid(bytes))
                #expect(try JSONParser.parse(value.encoded()) == value)
            } catch {
                #expect(!error.description.isEmpty)
                #expect(error.offset >= 0 && error.offset <= bytes.count, "offset \(error.offset) of \(bytes)")
            }
        }
        #expect(parsed > 50)
    }
}
