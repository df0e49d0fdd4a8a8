import PHPSession
import Testing

/// Expected outputs here were produced by PHP 8.2 making the same change (see `make-fixtures.php` for the
/// `renumber-*.txt` files; the inline cases were run through a PHP save handler the same way).
@Suite struct PHPBackReferenceTests {
    private static func references() throws -> PHPSessionData {
        try PHPSessionData.decode(try Fixture.bytes("session-references"))
    }

    @Test func aValueThatGrowsShiftsLaterReferencesAsPHPDoes() throws {
        var session = try Self.references()
        session["a"] = [7, 8, 9]
        #expect(session.encode() == (try Fixture.bytes("renumber-grow")))
    }

    @Test func aValueThatShrinksShiftsLaterReferencesAsPHPDoes() throws {
        var session = try Self.references()
        session["container"] = 0
        #expect(session.encode() == (try Fixture.bytes("renumber-shrink")))
    }

    @Test func replacingATargetShowsItAtItsFirstRemainingReferenceAsPHPDoes() throws {
        var session = try Self.references()
        session["obj"] = "gone"
        #expect(session.encode() == (try Fixture.bytes("renumber-replace-target")))
    }

    @Test func changingTheLastValueMovesNothing() throws {
        var session = try Self.references()
        session["tail"] = ["x": 1]
        #expect(session.encode() == (try Fixture.bytes("renumber-tail")))
    }

    @Test func appendingMovesNothing() throws {
        var session = try Self.references()
        session["new"] = "value"
        #expect(session.encode() == (try Fixture.bytes("renumber-append")))
    }

    @Test func removingATargetWritesItAtTheFirstReference() throws {
        var session = try PHPSessionData.decode([UInt8]("a|O:1:\"P\":0:{}b|r:1;"))
        session["a"] = nil
        #expect(session.encode() == [UInt8]("b|O:1:\"P\":0:{}"))
    }

    @Test func targetsInsideAnInlinedValueAreInlinedInTurn() throws {
        var session = try PHPSessionData.decode(
            [UInt8]("a|a:2:{i:0;O:1:\"P\":0:{}i:1;O:1:\"Q\":1:{s:1:\"p\";r:2;}}b|r:3;c|r:2;"))
        session["a"] = .null
        #expect(session.encode() == [UInt8]("a|N;b|O:1:\"Q\":1:{s:1:\"p\";O:1:\"P\":0:{}}c|r:3;"))
    }

    @Test func aSelfReferenceFollowsItsObject() throws {
        var session = try PHPSessionData.decode([UInt8]("a|i:1;o|O:8:\"stdClass\":1:{s:2:\"me\";r:2;}"))
        session["a"] = [1, 2, 3]
        #expect(session.encode() == [UInt8]("a|a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}o|O:8:\"stdClass\":1:{s:2:\"me\";r:5;}"))
    }

    @Test func referencesInsideACustomPayloadAreRenumberedAndItsLengthRewritten() throws {
        var session = try PHPSessionData.decode(
            [UInt8]("a|i:1;p|O:1:\"P\":0:{}l|C:6:\"Legacy\":22:{a:2:{i:0;r:2;i:1;i:3;}}z|r:2;"))
        session["a"] = .array(PHPArray(list: (1...10).map { PHPValue.int($0) }))
        let expected =
            "a|a:10:{i:0;i:1;i:1;i:2;i:2;i:3;i:3;i:4;i:4;i:5;i:5;i:6;i:6;i:7;i:7;i:8;i:8;i:9;i:9;i:10;}"
            + "p|O:1:\"P\":0:{}l|C:6:\"Legacy\":23:{a:2:{i:0;r:12;i:1;i:3;}}z|r:12;"
        #expect(session.encode() == [UInt8](expected))
    }

    @Test func aReplacedReferenceTargetKeepsTheReferencingValue() throws {
        // `b` was a PHP reference to `a`'s array; with `a` replaced, `b` keeps the array it showed.
        var session = try PHPSessionData.decode([UInt8]("a|a:1:{i:0;i:1;}b|R:1;c|R:2;"))
        session["a"] = 5
        #expect(session.encode() == [UInt8]("a|i:5;b|a:1:{i:0;i:1;}c|R:3;"))
    }

    @Test func referencesInsideModeledArraysAreRenumbered() throws {
        var session = try PHPSessionData.decode([UInt8]("a|i:1;o|O:1:\"P\":0:{}l|a:2:{i:0;r:2;i:1;R:2;}"))
        #expect(
            session["l"]
                == .array(
                    PHPArray([(key: 0, value: .opaque([UInt8]("r:2;"))), (key: 1, value: .opaque([UInt8]("R:2;")))])))
        session["a"] = [1]
        #expect(session.encode() == [UInt8]("a|a:1:{i:0;i:1;}o|O:1:\"P\":0:{}l|a:2:{i:0;r:3;i:1;R:3;}"))
    }

    @Test func referencesInAValueSetAgainAreReadInTheDecodedNumbering() throws {
        // `l` is read, changed and stored again: its r:2 still means the object `o`.
        var session = try PHPSessionData.decode([UInt8]("a|i:1;o|O:1:\"P\":0:{}l|a:1:{i:0;r:2;}"))
        var list = try #require(session["l"]?.arrayValue)
        list.append("more")
        session["l"] = .array(list)
        session["a"] = [1, 2]
        #expect(
            session.encode() == [UInt8]("a|a:2:{i:0;i:1;i:1;i:2;}o|O:1:\"P\":0:{}l|a:2:{i:0;r:4;i:1;s:4:\"more\";}"))
    }

    @Test func everyEditOfTheReferenceFixtureStaysDecodable() throws {
        // Random replacements, removals and additions: the output must always decode (every reference
        // pointing back to an existing slot of the right kind), and unchanged variables keep their values.
        let original = try Self.references()
        var generator = SeededGenerator(seed: 7)
        let replacements: [PHPValue] = [.null, 1, "x", [1, 2, 3], ["k": [true]], .array(PHPArray())]
        for _ in 0..<500 {
            var session = original
            var changed: Set<String> = []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let name = original.names.randomElement(using: &generator)!
                changed.insert(name)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: session[name] = nil
                case 1: session[name] = replacements.randomElement(using: &generator)!
                default: session["new\(Int.random(in: 0..<3, using: &generator))"] = 1
                }
            }
            let decoded = try PHPSessionData.decode(session.encode())
            #expect(decoded.names == session.names)
            for (name, value) in decoded.entries where !changed.contains(name) && !name.hasPrefix("new") {
                // References in such a value may be renumbered or written out in full.
                if hasOpaque(value) || original[name].map(hasOpaque) == true { continue }
                #expect(value == original[name], "\(name)")
            }
        }
    }

    @Test func invalidBackReferencesAreRefused() {
        for text in [
            "a|N;b|r:1;",  // r: must point to an object
            "a|i:1;b|R:2;",  // slot 2 does not exist yet
            "a|R:0;",
            "a|R:1;",  // R: takes no slot: nothing to point to
            "a|O:1:\"Q\":1:{s:1:\"a\";i:1;}b|r:2;",  // slot 2 is the int
        ] {
            #expect(throws: PHPSessionDecodeError.self, "\(text)") { try PHPSessionData.decode([UInt8](text)) }
        }
        // What PHP accepts: an array holding a reference to itself, R: to a scalar, r: to an object.
        for text in ["a|a:1:{i:0;R:1;}", "a|i:1;b|R:1;", "a|O:1:\"Q\":1:{s:1:\"a\";i:1;}b|r:1;", "a|a:0:{}b|R:1;"] {
            #expect(throws: Never.self, "\(text)") { try PHPSessionData.decode([UInt8](text)) }
        }
    }
}

private func hasOpaque(_ value: PHPValue) -> Bool {
    switch value {
    case .opaque: true
    case .array(let array): array.entries.contains { hasOpaque($0.value) }
    default: false
    }
}
