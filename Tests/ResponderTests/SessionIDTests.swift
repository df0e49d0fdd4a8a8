import Testing

@testable import Responder

@Suite struct SessionIDTests {
    static let alphabet = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,-")

    @Test func newIDsAre32CharactersOfPHPsAlphabet() {
        for _ in 0..<200 {
            let id = SessionID.generate()
            #expect(id.count == 32)
            #expect(id.utf8.count == 32)
            #expect(id.allSatisfy { Self.alphabet.contains($0) }, "\(id)")
            #expect(SessionID.isWellFormed(id))
        }
    }

    @Test func thousandNewIDsAreDistinct() {
        let ids = Set((0..<1000).map { _ in SessionID.generate() })
        #expect(ids.count == 1000)
    }

    @Test func newIDsUseTheWholeAlphabet() {
        var seen = Set<Character>()
        for _ in 0..<1000 { seen.formUnion(SessionID.generate()) }
        #expect(seen == Self.alphabet)
    }

    @Test(arguments: [22, 32, 128, 256])
    func lengthsFrom22To256AreWellFormed(_ length: Int) {
        #expect(SessionID.isWellFormed(String(repeating: "a", count: length)))
        #expect(SessionID.isWellFormed(String(repeating: ",-Z9", count: 64).prefix(length).description))
    }

    @Test(arguments: [0, 1, 21, 257, 1000])
    func otherLengthsAreMalformed(_ length: Int) {
        #expect(!SessionID.isWellFormed(String(repeating: "a", count: length)))
    }

    @Test(arguments: [" ", ".", "_", "=", ";", "+", "/", "%", "é", "\u{0}", "\n", "ä", "😀"])
    func charactersOutsideTheAlphabetAreMalformed(_ bad: String) {
        let id = String(repeating: "a", count: 30) + bad
        #expect(!SessionID.isWellFormed(id))
        #expect(!SessionID.isWellFormed(bad + String(repeating: "a", count: 30)))
    }

    @Test func multiByteCharactersCountAsBytes() {
        // 11 "é" are 22 bytes, but not of the alphabet.
        #expect(!SessionID.isWellFormed(String(repeating: "é", count: 11)))
    }
}
