import PHPSession
import Testing

@testable import Responder

/// `visits` as PHP's `++` reads it.
@Suite struct SessionCodecTests {
    static func visits(_ value: PHPValue) -> Int64 {
        var data = PHPSessionData()
        data["visits"] = value
        return SessionCodec.visits(data)
    }

    @Test func numericStringsCountAsPHPReadsThem() {
        #expect(Self.visits(.int(7)) == 7)
        #expect(Self.visits(.string(Array("12".utf8))) == 12)
        #expect(Self.visits(.string(Array(" \t12\n".utf8))) == 12, "PHP 8 allows surrounding blanks")
        #expect(Self.visits(.string(Array("3.9".utf8))) == 3)
        #expect(Self.visits(.string(Array("\u{a0}12".utf8))) == 0, "a no-break space is not PHP white space")
        #expect(Self.visits(.string(Array("12abc".utf8))) == 0)
        #expect(Self.visits(.bool(true)) == 1)
        #expect(Self.visits(.double(.infinity)) == 0)
    }
}
