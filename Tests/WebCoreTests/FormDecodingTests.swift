import Testing
import WebCore

@Suite struct FormDecodingTests {
    /// The fields of `text`, or the status of the refusal.
    func parse(_ text: String, limits: FormLimits = FormLimits()) -> Result<[String], HTTPError> {
        parse([UInt8](text), limits: limits)
    }

    func parse(_ bytes: [UInt8], limits: FormLimits = FormLimits()) -> Result<[String], HTTPError> {
        do {
            let form = try FormFields.parse(bytes, limits: limits)
            return .success(form.fields.map { "\($0.name)=\($0.value)" })
        } catch {
            return .failure(error)
        }
    }

    func status(_ text: String, limits: FormLimits = FormLimits()) -> Int? {
        if case .failure(let error) = parse(text, limits: limits) { return error.status }
        return nil
    }

    @Test func plusIsASpaceAndEscapedPlusIsAPlus() throws {
        let form = try FormFields.parse([UInt8]("a+b=c+d&e=%2B1"))
        #expect(form["a b"] == "c d")
        #expect(form["e"] == "+1")
    }

    @Test func percentEscapesDecodeToUTF8InEitherCase() throws {
        let form = try FormFields.parse([UInt8]("name=%C3%A9t%c3%a9&emoji=%F0%9F%98%80&amp=%26%3D"))
        #expect(form["name"] == "été")
        #expect(form["emoji"] == "😀")
        #expect(form["amp"] == "&=")
    }

    @Test func fieldsKeepTheirOrderAndTheFirstWins() throws {
        let form = try FormFields.parse([UInt8]("b=1&a=2&b=3"))
        #expect(form.fields.map(\.name) == ["b", "a", "b"])
        #expect(form["b"] == "1")
        #expect(form["missing"] == nil)
    }

    @Test func pairsWithoutValuesAndEmptyPairs() throws {
        let form = try FormFields.parse([UInt8]("a&b=&=c&&d=1=2&"))
        #expect(form.fields.map { "\($0.name)=\($0.value)" } == ["a=", "b=", "=c", "d=1=2"])
    }

    @Test func emptyBodyHasNoFields() throws {
        #expect(try FormFields.parse([]) == FormFields())
        #expect(try FormFields.parse([UInt8]("&&&")).fields.isEmpty)
    }

    @Test(arguments: ["a=%zz", "a=%4", "a=%", "a=1%", "%=1", "a=%G1", "a=%1G", "a%2=1", "a=%%41", "a=%-1"])
    func brokenPercentEncodingIsRefused(_ text: String) {
        #expect(status(text) == 400)
    }

    @Test(arguments: ["a=%C3%28", "a=%ED%A0%80", "a=%FF", "a=%C0%AF", "a=%F4%90%80%80", "a=%E4%B8", "%80=1", "a=%C3"])
    func invalidUTF8AfterDecodingIsRefused(_ text: String) {
        #expect(status(text) == 400)
    }

    @Test func rawInvalidUTF8IsRefused() {
        if case .failure(let error) = parse([UInt8]("a=") + [0xFF]) {
            #expect(error.status == 400)
        } else {
            Issue.record("raw 0xFF was accepted")
        }
    }

    @Test func fieldCountLimitAnswers413() {
        let limits = FormLimits(maxFields: 3)
        #expect(status("a=1&b=2&c=3", limits: limits) == nil)
        #expect(status("a=1&b=2&c=3&d=4", limits: limits) == 413)
        let full = (0..<1000).map { "f\($0)=x" }.joined(separator: "&")
        #expect(status(full) == nil)
        #expect(status(full + "&one=more") == 413)
    }

    @Test func fieldLengthLimitCountsDecodedBytes() {
        let limits = FormLimits(maxFieldBytes: 8)
        #expect(status("abc=12345678", limits: limits) == nil)
        #expect(status("abc=123456789", limits: limits) == 413)
        #expect(status("123456789=x", limits: limits) == 413, "names count too")
        // Two emoji are 8 bytes decoded (24 on the wire); three are 12.
        #expect(status("e=%F0%9F%98%80%F0%9F%98%80", limits: limits) == nil)
        #expect(status("e=%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80", limits: limits) == 413)
        #expect(status("e=" + String(repeating: "+", count: 8), limits: limits) == nil)
    }

    @Test func decodeWithoutPlusAsSpaceKeepsPlus() throws {
        #expect(try PercentDecoding.decode([UInt8]("a+b%20c"), plusAsSpace: false) == "a+b c")
        #expect(try PercentDecoding.decode([UInt8]("a+b"), plusAsSpace: true) == "a b")
    }

    @Test func decodeNamesItsErrors() {
        #expect(throws: PercentDecodingError.brokenEscape) {
            try PercentDecoding.decode([UInt8]("%4"), plusAsSpace: true)
        }
        #expect(throws: PercentDecodingError.invalidUTF8) {
            try PercentDecoding.decode([UInt8]("%FF"), plusAsSpace: true)
        }
    }

    @Test func decodeWorksOnSlicesOfArrays() throws {
        let bytes = [UInt8]("xx%41yy")
        #expect(try PercentDecoding.decode(bytes[2..<5], plusAsSpace: false) == "A")
    }

    @Test func encodeLeavesOnlyUnreservedCharacters() {
        #expect(PercentDecoding.encode("a-b_c.d~e f+g&h=é") == "a-b_c.d~e%20f%2Bg%26h%3D%C3%A9")
    }

    @Test func encodeThenDecodeIsTheIdentity() throws {
        var random = SeededGenerator(seed: 42)
        let pieces = ["a", " ", "+", "%", "&", "=", "é", "😀", "\u{0}", "\n", "~", "中"]
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...10, using: &random) { text += pieces.randomElement(using: &random)! }
            #expect(try PercentDecoding.decode([UInt8](PercentDecoding.encode(text)), plusAsSpace: true) == text)
            let form = try FormFields.parse([UInt8]("k=" + PercentDecoding.encode(text)))
            #expect(form["k"] == text)
        }
    }
}
