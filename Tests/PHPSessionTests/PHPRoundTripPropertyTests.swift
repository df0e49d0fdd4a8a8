import PHPSession
import Testing

@Suite struct PHPRoundTripPropertyTests {
    /// Random values: every scalar kind, byte strings with NUL and invalid UTF-8, extreme ints, odd doubles,
    /// nested arrays with int and string keys, and opaque objects.
    private struct ValueGenerator {
        var random: SeededGenerator

        mutating func value(depth: Int) -> PHPValue {
            switch Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &random) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &random))
            case 2: return .int(int())
            case 3: return .double(double())
            case 4, 5: return .string(bytes())
            case 6: return .opaque([UInt8]("O:1:\"P\":1:{s:1:\"v\";") + value(depth: 0).serialized + [UInt8]("}"))
            default:
                var array = PHPArray()
                for _ in 0..<Int.random(in: 0...5, using: &random) {
                    let key: PHPArrayKey = Bool.random(using: &random) ? .int(int()) : .string(bytes())
                    array.entries.append((key: key, value: value(depth: depth - 1)))
                }
                if Bool.random(using: &random) {
                    array = PHPArray(list: array.entries.map(\.value))
                }
                return .array(array)
            }
        }

        mutating func int() -> Int64 {
            [
                Int64.min, .max, 0, -1, Int64.random(in: -1000...1000, using: &random),
                Int64.random(in: .min ... .max, using: &random),
            ]
            .randomElement(using: &random)!
        }

        mutating func double() -> Double {
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                return [0.0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
                    .randomElement(using: &random)!
            case 1: return Double(bitPattern: random.next())
            case 2: return Double(Int.random(in: -100_000...100_000, using: &random)) / 100
            default:
                return Double.random(in: -1e20...1e20, using: &random) * pow10(Int.random(in: -30...30, using: &random))
            }
        }

        mutating func bytes() -> [UInt8] {
            let pool: [[UInt8]] = [
                [0], [0xFF], [0x22, 0x3B], [0x7C], [UInt8]("é"), [UInt8]("abc"), [0x7D], [0xC0, 0x80],
            ]
            return (0..<Int.random(in: 0...4, using: &random)).flatMap { _ in pool.randomElement(using: &random)! }
        }

        private func pow10(_ exponent: Int) -> Double {
            var result = 1.0
            for _ in 0..<exponent.magnitude { result *= 10 }
            return exponent < 0 ? 1 / result : result
        }
    }

    @Test func randomSessionsSurviveEncodeThenDecode() throws {
        var generator = ValueGenerator(random: SeededGenerator(seed: 42))
        for round in 0..<3000 {
            var session = PHPSessionData()
            for index in 0..<Int.random(in: 0...5, using: &generator.random) {
                session["v\(index)_\(round % 7)"] = generator.value(depth: 4)
            }
            let bytes = session.encode()
            let decoded = try PHPSessionData.decode(bytes)
            #expect(decoded == session)
            #expect(decoded.encode() == bytes)
        }
    }

    @Test func randomValuesSurviveSerializeThenParse() throws {
        var generator = ValueGenerator(random: SeededGenerator(seed: 4242))
        for _ in 0..<3000 {
            let value = generator.value(depth: 5)
            let parsed = try PHPValue(serialized: value.serialized)
            #expect(parsed == value)
        }
    }

    @Test func randomEditsOfDecodedSessionsKeepUntouchedVariables() throws {
        var generator = ValueGenerator(random: SeededGenerator(seed: 7))
        for _ in 0..<1000 {
            var original = PHPSessionData()
            for index in 0..<Int.random(in: 1...6, using: &generator.random) {
                original["k\(index)"] = generator.value(depth: 3)
            }
            var session = try PHPSessionData.decode(original.encode())
            let target = "k\(Int.random(in: 0...6, using: &generator.random))"
            session[target] = generator.value(depth: 2)
            let decoded = try PHPSessionData.decode(session.encode())
            #expect(decoded == session)
            for (name, value) in original.entries where name != target {
                #expect(decoded[name] == value)
            }
        }
    }
}
