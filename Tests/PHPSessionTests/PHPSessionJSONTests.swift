import PHPSession
import Testing
import WebCore

@Suite struct PHPSessionJSONTests {
    @Test(arguments: Fixture.sessionsWithJSON)
    func jsonViewMatchesTheOneComputedByPHP(name: String) throws {
        let session = try PHPSessionData.decode(try Fixture.bytes(name))
        let expected = try Fixture.text(name, "json").trimmingSuffixNewline
        #expect(PHPStyleJSON.text(session.jsonValue) == expected)
    }

    @Test func unmodeledValuesShowTheirStoredText() throws {
        let session = try PHPSessionData.decode(try Fixture.bytes("session-references"))
        let json = session.jsonValue
        #expect(json["obj_again"] == .object([(key: "$php", value: .string("r:2;"))]))
        #expect(json["list_ref"] == .object([(key: "$php", value: .string("R:11;"))]))
        #expect(json["list"] == .array([.int(1), .int(2)]))
        #expect(json["suit"] == .object([(key: "$php", value: .string("E:11:\"Suit:Spades\";"))]))
        #expect(
            json["container"]
                == .object([
                    (key: "first", value: .object([(key: "k", value: .string("v"))])),
                    (key: "second", value: .object([(key: "$php", value: .string("R:16;"))])),
                ]))
        let objects = try PHPSessionData.decode(try Fixture.bytes("session-objects")).jsonValue
        // The private property name holds NUL, which is valid UTF-8 and so stays readable text.
        guard case .object(let members) = objects["nested"], members.first?.key == "$php" else {
            Issue.record("nested object is not shown as $php")
            return
        }
    }

    @Test func unmodeledTextThatIsNotUTF8IsBase64() {
        let value = PHPValue.opaque([UInt8]("O:1:\"A\":1:{s:1:\"b\";s:1:\"") + [0xFF] + [UInt8]("\";}"))
        #expect(
            value.jsonValue
                == .object([(key: "$php_base64", value: .string("TzoxOiJBIjoxOntzOjE6ImIiO3M6MToi/yI7fQ=="))]))
    }

    @Test func stringsThatAreNotUTF8AreBase64() {
        #expect(PHPValue.string([0xFF]).jsonValue == .object([(key: "$base64", value: .string("/w=="))]))
        #expect(PHPValue.string([0xC0, 0x80]).jsonValue == .object([(key: "$base64", value: .string("wIA="))]))
        #expect(PHPValue.string([0xED, 0xA0, 0x80]).jsonValue == .object([(key: "$base64", value: .string("7aCA"))]))
        #expect(PHPValue("a\u{0}b").jsonValue == .string("a\u{0}b"))
    }

    @Test func base64PadsLikeRFC4648() {
        let cases: [([UInt8], String)] = [
            ([0xFF], "/w=="), ([0xFF, 0xFE], "//4="), ([0xFF, 0xFE, 0xFD], "//79"), ([0, 0, 0, 0xFF], "AAAA/w=="),
            ([0x66, 0x6F, 0x6F, 0x62, 0x61, 0xFF], "Zm9vYmH/"),
        ]
        for (bytes, text) in cases {
            #expect(PHPValue.string(bytes).jsonValue == .object([(key: "$base64", value: .string(text))]))
        }
    }

    @Test func infiniteAndNaNFloatsShowTheirText() {
        #expect(PHPValue.double(.infinity).jsonValue == .object([(key: "$php", value: .string("d:INF;"))]))
        #expect(PHPValue.double(-.infinity).jsonValue == .object([(key: "$php", value: .string("d:-INF;"))]))
        #expect(PHPValue.double(.nan).jsonValue == .object([(key: "$php", value: .string("d:NAN;"))]))
        #expect(PHPValue.double(1.5).jsonValue == .double(1.5))
    }

    @Test func listsBecomeArraysAndOtherArraysObjects() {
        #expect(PHPValue.array(PHPArray()).jsonValue == .array([]))
        let list: PHPValue = [1, 2]
        #expect(list.jsonValue == .array([.int(1), .int(2)]))
        let gap: PHPValue = [0: "a", 2: "c"]
        #expect(gap.jsonValue == .object([(key: "0", value: .string("a")), (key: "2", value: .string("c"))]))
        let duplicate = PHPValue.array(PHPArray([(key: "k", value: 1), (key: "j", value: 2), (key: "k", value: 3)]))
        #expect(duplicate.jsonValue == .object([(key: "k", value: .int(3)), (key: "j", value: .int(2))]))
    }

    @Test func clientJSONBecomesPHPArraysWithNormalizedKeys() throws {
        let json = JSONValue.object([
            (key: "5", value: .string("five")), (key: "05", value: .null),
            (key: "list", value: .array([.int(1), .double(2.5)])),
            (key: "flag", value: .bool(false)), (key: "$php", value: .string("r:1;")),
        ])
        let value = PHPValue(json: json)
        let array = try #require(value.arrayValue)
        #expect(array.keys == [5, .string([UInt8]("05")), "list", "flag", "$php"])
        #expect(array["list"] == [1, 2.5])
        #expect(array["$php"] == "r:1;")
        let expected =
            "a:5:{i:5;s:4:\"five\";s:2:\"05\";N;s:4:\"list\";a:2:{i:0;i:1;i:1;d:2.5;}"
            + "s:4:\"flag\";b:0;s:4:\"$php\";s:4:\"r:1;\";}"
        #expect(value.serialized == [UInt8](expected))
    }

    @Test func jsonRoundTripKeepsPlainValues() {
        let value: PHPValue = ["a": [1, "two", ["x": .null]], "b": 0.25, "c": true]
        #expect(PHPValue(json: value.jsonValue) == value)
    }
}

extension String {
    fileprivate var trimmingSuffixNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
