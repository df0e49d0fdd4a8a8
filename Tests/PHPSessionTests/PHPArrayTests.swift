import PHPSession
import Testing

@Suite struct PHPArrayTests {
    @Test func stringKeysThatSpellCanonicalIntegersBecomeIntKeys() {
        #expect(PHPArrayKey("5") == .int(5))
        #expect(PHPArrayKey("-3") == .int(-3))
        #expect(PHPArrayKey("0") == .int(0))
        #expect(PHPArrayKey("-9223372036854775808") == .int(.min))
        #expect(PHPArrayKey("9223372036854775807") == .int(.max))
        for text in [
            "05", "-0", "+5", "00", "", "-", "1 ", " 1", "1.0", "9223372036854775808", "-9223372036854775809", "1e3",
        ] {
            #expect(PHPArrayKey(text) == .string(Array(text.utf8)), "\(text)")
        }
    }

    @Test func subscriptNormalizesKeysAsPHPDoes() {
        var array = PHPArray()
        array["5"] = "five"
        array["x"] = "ex"
        #expect(array.keys == [.int(5), .string([UInt8]("x"))])
        #expect(array[5] == "five")
        array[5] = "FIVE"
        #expect(array.keys == [5, "x"])
        #expect(array["5"] == "FIVE")
        array["x"] = nil
        #expect(array.keys == [5])
    }

    @Test func appendUsesTheNextFreeKeyOfPHP82() {
        var array = PHPArray()
        array.append("a")
        #expect(array.keys == [0])
        array[10] = "b"
        array.append("c")
        #expect(array.keys == [0, 10, 11])
        var negative: PHPArray = PHPArray([(key: -5, value: 1)])
        negative.append(2)
        #expect(negative.keys == [-5, 0])
        var full = PHPArray([(key: .int(.max), value: 1)])
        let appended = full.append(2)
        #expect(!appended)
        #expect(full.count == 1)
    }

    @Test func listDetectionNeedsKeysZeroToNMinusOneInOrder() {
        #expect(PHPArray().isList)
        #expect(PHPArray(list: [1, 2]).isList)
        #expect(!PHPArray([(key: 1, value: 1), (key: 0, value: 0)]).isList)
        #expect(!PHPArray([(key: 0, value: 1), (key: 2, value: 0)]).isList)
        #expect(!PHPArray([(key: .string([UInt8]("0")), value: 1)]).isList)
    }

    @Test func decodedDuplicateKeysAreKeptAndTheLastWinsOnRead() throws {
        // PHP reads a:2:{i:0;i:1;i:0;i:2;} as [0 => 2]; the text is kept as written.
        let text = [UInt8]("a:2:{i:0;i:1;i:0;i:2;}")
        let value = try PHPValue(serialized: text)
        #expect(value.arrayValue?[0] == 2)
        #expect(value.serialized == text)
        var array = try #require(value.arrayValue)
        array[0] = 3
        #expect(array.entries.count == 1)
    }
}
