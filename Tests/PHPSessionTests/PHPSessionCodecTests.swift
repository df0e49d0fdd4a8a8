import PHPSession
import Testing

@Suite struct PHPSessionCodecTests {
    @Test(arguments: Fixture.sessions)
    func fixtureDecodesAndEncodesToTheSameBytes(name: String) throws {
        let bytes = try Fixture.bytes(name)
        let session = try PHPSessionData.decode(bytes)
        #expect(!session.isEmpty)
        #expect(session.encode() == bytes)
    }

    @Test(arguments: Fixture.sessions)
    func fixtureSurvivesAFullRebuildFromItsValues(name: String) throws {
        // Built again from the decoded values alone, without the decoded bytes to copy: PHP's exact text.
        let bytes = try Fixture.bytes(name)
        let decoded = try PHPSessionData.decode(bytes)
        let rebuilt = try PHPSessionData(decoded.entries)
        #expect(rebuilt == decoded)
        #expect(rebuilt.encode() == bytes)
    }

    @Test(arguments: Fixture.sessions)
    func settingANewNameAppendsItAndLeavesEarlierBytesIdentical(name: String) throws {
        let bytes = try Fixture.bytes(name)
        var session = try PHPSessionData.decode(bytes)
        session["added_key"] = ["x": 1, "list": [true, 2.5]]
        let encoded = session.encode()
        #expect(Array(encoded.prefix(bytes.count)) == bytes)
        #expect(
            Array(encoded.dropFirst(bytes.count))
                == [UInt8]("added_key|a:2:{s:1:\"x\";i:1;s:4:\"list\";a:2:{i:0;b:1;i:1;d:2.5;}}"))
        #expect(session.names.last == "added_key")
        #expect(try PHPSessionData.decode(encoded) == session)
    }

    @Test func scalarsDecodeToTheirValues() throws {
        let session = try PHPSessionData.decode(try Fixture.bytes("session-scalars"))
        #expect(session["visits"] == .int(3))
        #expect(session["color"] == "blue")
        #expect(session["int_max"] == .int(.max))
        #expect(session["int_min"] == .int(.min))
        #expect(session["yes"] == true)
        #expect(session["no"] == false)
        #expect(session["nothing"] == .null)
        #expect(session["empty"] == .string([]))
        #expect(session["with_nul"] == .string([0x61, 0, 0x62, 0]))
        #expect(session["latin1"] == .string([0x63, 0x61, 0x66, 0xE9]))
        #expect(session["bad_utf8"] == .string([0xFF, 0xFE, 0x00, 0x80]))
        #expect(session["utf8"]?.stringValue == "héllo ✓ 𝄞")
        #expect(session["quotes"]?.stringValue == "say \"hi\";|s:1:\"x\";")
        #expect(session[""] == "empty name")
        #expect(session["ünï"] == "non-ASCII name")
        #expect(session.names.first == "visits")
        #expect(session.names.last == "ünï")
    }

    @Test func arraysKeepKeyTypesAndOrder() throws {
        let session = try PHPSessionData.decode(try Fixture.bytes("session-arrays"))
        let mixed = try #require(session["mixed_keys"]?.arrayValue)
        #expect(mixed.keys == [.int(5), .string([UInt8]("x")), .int(-3), .int(10), .string([UInt8]("010"))])
        #expect(session["list"] == [1, "two", 3.0, true, .null])
        #expect(session["empty"] == .array(PHPArray()))
        #expect(session["unordered"]?.arrayValue?.keys == [1, 0])
        let extreme = try #require(session["int_keys_extreme"]?.arrayValue)
        #expect(extreme.keys == [.int(.max), .int(.min)])
    }

    @Test func objectsEnumsAndCustomValuesAreKeptAsTheirExactText() throws {
        let session = try PHPSessionData.decode(try Fixture.bytes("session-objects"))
        #expect(session["visits"] == 7)
        #expect(session["suit"] == .opaque([UInt8]("E:11:\"Suit:Hearts\";")))
        #expect(session["flag"] == .opaque([UInt8]("E:7:\"Flag:On\";")))
        #expect(session["money"] == .opaque([UInt8]("O:5:\"Money\":2:{s:1:\"c\";i:1250;s:3:\"cur\";s:3:\"EUR\";}")))
        #expect(session["opaque"] == .opaque([UInt8]("C:6:\"Opaque\":23:{not serialized {at} all}")))
        #expect(
            session["legacy"]
                == .opaque([UInt8]("C:6:\"Legacy\":40:{a:2:{s:1:\"x\";i:1;s:1:\"y\";a:1:{i:0;b:1;}}}")))
        #expect(session["self"] == .opaque([UInt8]("O:8:\"stdClass\":2:{s:2:\"me\";r:49;s:1:\"n\";d:1.5;}")))
        guard case .opaque(let nested) = session["nested"] else {
            Issue.record("nested object is not opaque")
            return
        }
        #expect(nested.starts(with: [UInt8]("O:7:\"Account\":5:{")))
        #expect(nested.contains(0))  // private and protected property names hold NUL
        #expect(session["after"] == ["still": "here"])
    }

    @Test func changingAValueKeepsEveryOtherVariableByteForByte() throws {
        let bytes = try Fixture.bytes("session-objects")
        var session = try PHPSessionData.decode(bytes)
        session["visits"] = 8
        let encoded = session.encode()
        let expected = [UInt8]("visits|i:8;") + bytes.dropFirst("visits|i:7;".utf8.count)
        #expect(encoded == expected)
    }

    @Test func removingAVariableDropsOnlyIt() throws {
        var session = try PHPSessionData.decode([UInt8]("a|i:1;b|s:1:\"x\";c|N;"))
        #expect(session.removeValue(forName: "b") == "x")
        #expect(session.removeValue(forName: "b") == nil)
        #expect(session.encode() == [UInt8]("a|i:1;c|N;"))
        session["a"] = nil
        #expect(session.encode() == [UInt8]("c|N;"))
    }

    @Test func replacingAValueKeepsItsPosition() throws {
        var session = try PHPSessionData.decode([UInt8]("a|i:1;b|i:2;c|i:3;"))
        session["b"] = "two"
        session["d"] = 4
        #expect(session.names == ["a", "b", "c", "d"])
        #expect(session.encode() == [UInt8]("a|i:1;b|s:3:\"two\";c|i:3;d|i:4;"))
    }

    @Test func storingTheSameValueAgainKeepsTheOriginalText() throws {
        // Not how PHP writes it, but read as PHP reads it, and left alone when the value is unchanged.
        let bytes = [UInt8]("a|i:+05;b|d:.5;c|a:01:{i:0;i:1;}")
        var session = try PHPSessionData.decode(bytes)
        #expect(session["a"] == 5)
        #expect(session["b"] == 0.5)
        session["a"] = 5
        session["c"] = [1]
        #expect(session.encode() == bytes)
        session["b"] = 0.75
        #expect(session.encode() == [UInt8]("a|i:+05;b|d:0.75;c|a:01:{i:0;i:1;}"))
    }

    @Test func emptyInputIsAnEmptySession() throws {
        let session = try PHPSessionData.decode([])
        #expect(session.isEmpty)
        #expect(session.encode() == [])
        #expect(PHPSessionData().encode() == [])
    }

    @Test func aNameGivenTwiceKeepsItsFirstPlaceAndLastValueAsInPHP() throws {
        // PHP 8.2 reads `a|i:1;b|i:2;a|i:3;` as ['a' => 3, 'b' => 2] and writes `a|i:3;b|i:2;`.
        let session = try PHPSessionData.decode([UInt8]("a|i:1;b|i:2;a|i:3;"))
        #expect(session.names == ["a", "b"])
        #expect(session["a"] == 3)
        #expect(session.encode() == [UInt8]("a|i:3;b|i:2;"))
    }

    @Test func storedNumericNamesAreKeptButCannotBeSet() throws {
        // PHP keeps a stored name "5" (as a string key) but never writes one set by code.
        var session = try PHPSessionData.decode([UInt8]("5|i:1;-1|i:2;"))
        #expect(session.names == ["5", "-1"])
        #expect(session.encode() == [UInt8]("5|i:1;-1|i:2;"))
        #expect(throws: PHPSessionNameError.self) { try session.setValue(3, forName: "5") }
        #expect(throws: PHPSessionNameError.self) { try session.setValue(3, forName: "a|b") }
        try session.setValue(3, forName: "05")
        try session.setValue(3, forName: "-0")
        #expect(session.names == ["5", "-1", "05", "-0"])
    }

    @Test func nameValidityFollowsPHP() {
        #expect(PHPSessionData.isValidName("visits"))
        #expect(PHPSessionData.isValidName(""))
        #expect(PHPSessionData.isValidName("007"))
        #expect(PHPSessionData.isValidName("1.5"))
        #expect(PHPSessionData.isValidName("9223372036854775808"))
        #expect(!PHPSessionData.isValidName("0"))
        #expect(!PHPSessionData.isValidName("42"))
        #expect(!PHPSessionData.isValidName("-9223372036854775808"))
        #expect(!PHPSessionData.isValidName("a|b"))
    }

    @Test func namesThatAreNotUTF8SurviveARoundTrip() throws {
        let bytes: [UInt8] = [0xFF, 0x7C] + [UInt8]("i:1;ok|i:2;")
        var session = try PHPSessionData.decode(bytes)
        #expect(session.names == ["\u{FFFD}", "ok"])
        session["ok"] = 3
        #expect(session.encode() == [0xFF, 0x7C] + [UInt8]("i:1;ok|i:3;"))
    }

    @Test func singleValuesParseAndSerialize() throws {
        let text = [UInt8]("a:2:{i:0;s:1:\"x\";s:1:\"k\";a:1:{i:5;d:-0;}}")
        let value = try PHPValue(serialized: text)
        #expect(value == [0: "x", "k": [5: .double(-0.0)]])
        #expect(value.serialized == text)
        #expect(throws: PHPSessionDecodeError.self) { try PHPValue(serialized: [UInt8]("i:1;i:2;")) }
    }

    @Test func literalSessionsEncodeInOrder() {
        let session: PHPSessionData = ["visits": 1, "color": "blue", "ratio": 0.1, "on": true, "none": .null]
        #expect(session.encode() == [UInt8]("visits|i:1;color|s:4:\"blue\";ratio|d:0.1;on|b:1;none|N;"))
    }
}
