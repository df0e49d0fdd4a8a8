import PHPSession
import Testing

@Suite struct PHPSessionMalformedInputTests {
    private func code(of text: String) -> PHPSessionDecodeError.Code? {
        code(of: [UInt8](text))
    }

    private func code(of bytes: [UInt8]) -> PHPSessionDecodeError.Code? {
        do {
            _ = try PHPSessionData.decode(bytes)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func whatPHPRefusesIsRefused() {
        // Each of these makes PHP 8.2's session_start() fail.
        let refused = [
            "a|i:2;b|i:3;garbage", "a|", "a|i:1;a", "a|d:+INF;", "a|b:2;", "a|b:01;", "a|a:1:{i:0;i:1;};",
            "a|s:1:\"ab\";", "a|a:1:{d:1;i:1;}", "a|d:nan;", "a|d:-NAN;", "a|d:1.5e;", "a|d:;", "a|i:-;", "a|i:;",
            "a|s:+1:\"a\";", "a|O:0:\"\":0:{}", "a|a:1:{N;i:1;}", "a|d:0x10;", "a|d: 1;", "a|i: 1;", "a|d:1_0;",
            "a|S:1:\"a\";", "a|x:1;",
        ]
        for text in refused {
            #expect(code(of: text) != nil, "\(text)")
        }
    }

    @Test func whatPHPAcceptsIsAccepted() throws {
        let accepted: [(String, PHPValue)] = [
            ("a|i:+5;", 5), ("a|i:05;", 5), ("a|i:-0;", 0), ("a|d:1.;", 1.0), ("a|d:.5;", 0.5), ("a|d:1e5;", 100000.0),
            ("a|d:1E+5;", 100000.0), ("a|d:-.5;", -0.5), ("a|d:-INF;", .double(-.infinity)),
            ("a|d:1e500;", .double(.infinity)),
            ("a|i:99999999999999999999;", .int(.max)), ("a|i:-99999999999999999999;", .int(.min)),
            ("a|s:01:\"a\";", "a"), ("a|a:01:{i:+0;i:1;}", [1]),
            ("a|O:3:\"1ab\":0:{}", .opaque([UInt8]("O:3:\"1ab\":0:{}"))),
            ("a|O:8:\"stdClass\":1:{i:0;i:1;}", .opaque([UInt8]("O:8:\"stdClass\":1:{i:0;i:1;}"))),
            ("a|C:1:\"Q\":0:{}", .opaque([UInt8]("C:1:\"Q\":0:{}"))),
        ]
        for (text, value) in accepted {
            let session = try PHPSessionData.decode([UInt8](text))
            #expect(session["a"] == value, "\(text)")
            #expect(session.encode() == [UInt8](text), "\(text)")
        }
    }

    @Test func truncationAnywhereThrows() throws {
        for name in Fixture.sessions {
            let bytes = try Fixture.bytes(name)
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                // A prefix that ends exactly after a variable is itself valid session data.
                if let session = try? PHPSessionData.decode(prefix) {
                    #expect(session.encode() == prefix)
                }
            }
            #expect(code(of: Array(bytes.dropLast())) != nil, "\(name)")
        }
    }

    @Test func lengthsLargerThanTheInputThrowWithoutAllocating() {
        #expect(code(of: "a|s:99999999999999999999999:\"x\";") == .lengthOutOfRange)
        #expect(code(of: "a|s:9223372036854775807:\"x\";") == .lengthOutOfRange)
        #expect(code(of: "a|s:5:\"x\";") == .lengthOutOfRange)
        #expect(code(of: "a|a:4000000000:{i:0;i:1;}") == .lengthOutOfRange)
        #expect(code(of: "a|a:9223372036854775807:{") == .lengthOutOfRange)
        #expect(code(of: "a|O:1:\"P\":100000:{}") == .lengthOutOfRange)
        #expect(code(of: "a|C:1:\"P\":100000:{}") == .lengthOutOfRange)
        #expect(code(of: "a|E:100:\"A:B\";") == .lengthOutOfRange)
        #expect(code(of: "a|O:100:\"P\":0:{}") == .lengthOutOfRange)
    }

    @Test func unknownTagsAndBadBytesThrow() {
        #expect(code(of: "a|x:1;") == .unknownTag)
        #expect(code(of: "a|S:1:\"a\";") == .unknownTag)
        #expect(code(of: "a|i:1x") == .unexpectedByte)
        #expect(code(of: "a|a:1:{i:0;i:1;") == .truncated)
        #expect(code(of: "a|a:1:{b:1;i:1;}") == .unexpectedByte)
        #expect(code(of: "a|E:3:\"XYZ\";") == .unexpectedByte)
        #expect(code(of: "a|O:3:\"a-b\":0:{}") == .unexpectedByte)
        #expect(code(of: "no delimiter") == .missingDelimiter)
    }

    @Test func nestingDeeperThanTheLimitThrows() {
        let limit = PHPSessionData.maximumDepth
        func nested(_ depth: Int, open: String = "a:1:{i:0;") -> [UInt8] {
            [UInt8]("a|") + Array(repeating: [UInt8](open), count: depth).flatMap { $0 } + [UInt8]("N;")
                + [UInt8](repeating: UInt8(ascii: "}"), count: depth)
        }
        #expect(code(of: nested(limit)) == nil)
        #expect(code(of: nested(limit + 1)) == .nestingTooDeep)
        #expect(code(of: nested(limit + 1, open: "O:1:\"P\":1:{s:1:\"p\";")) == .nestingTooDeep)
        // A bomb far deeper than any stack could recurse: refused at the limit, without recursion.
        #expect(code(of: nested(200_000)) == .nestingTooDeep)
        let unclosed = [UInt8]("a|") + Array(repeating: [UInt8]("a:1:{i:0;"), count: 100_000).flatMap { $0 }
        #expect(code(of: unclosed) == .nestingTooDeep)
    }

    @Test func nestedCustomPayloadsAreCheckedInLinearTime() {
        // Each C: payload holds the next one; checking whether payloads are serialized values must not
        // repeat work exponentially.
        var payload = [UInt8]("i:1;")
        for _ in 0..<60 {
            payload = [UInt8]("C:1:\"L\":\(payload.count):{") + payload + [UInt8]("}")
        }
        let bytes = [UInt8]("a|") + payload + [UInt8]("b|r:2;")
        #expect(code(of: bytes) == nil)
        #expect((try? PHPSessionData.decode(bytes).encode()) == bytes)
    }

    @Test func randomMutationsOfFixturesNeverTrap() throws {
        // A small fuzzer: flip, insert, delete and duplicate bytes; decoding must either throw or give a
        // session that encodes to data that decodes to it again. (Not always the same bytes: a duplicated
        // name is merged, as PHP merges it.)
        var generator = SeededGenerator(seed: 20_261_126)
        let alphabet = [UInt8]("NbidsaOCERr:;{}\"|0123456789-+.eE")
        for name in Fixture.sessions {
            let original = try Fixture.bytes(name)
            for _ in 0..<400 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<max(bytes.count, 1), using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0 where !bytes.isEmpty: bytes[index] = alphabet.randomElement(using: &generator)!
                    case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: min(index, bytes.count))
                    case 2 where !bytes.isEmpty: bytes.remove(at: index)
                    default:
                        bytes[index...].isEmpty
                            ? () : bytes.replaceSubrange(index..<index, with: bytes[index...].prefix(7))
                    }
                }
                if let session = try? PHPSessionData.decode(bytes) {
                    let reread = try? PHPSessionData.decode(session.encode())
                    #expect(reread == session)
                    _ = session.jsonValue
                    var changed = session
                    if let first = session.names.first, PHPSessionData.isValidName(first) {
                        changed[first] = 0
                        #expect((try? PHPSessionData.decode(changed.encode())) != nil)
                    }
                }
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 99)
        let alphabet = [UInt8]("NbidsaOCERr:;{}\"|0123456789")
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            if let session = try? PHPSessionData.decode(bytes) {
                let reread = try? PHPSessionData.decode(session.encode())
                #expect(reread == session)
            }
        }
    }

    @Test func errorDescriptionsDoNotRepeatTheInput() {
        do {
            _ = try PHPSessionData.decode([UInt8]("secret|s:99:\"password\";"))
            Issue.record("decoded")
        } catch {
            #expect(!"\(error)".contains("secret"))
            #expect(String(reflecting: error).contains("lengthOutOfRange"))
        }
    }
}
