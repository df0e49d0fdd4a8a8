import PHPSession
import Testing

@Suite struct PHPFloatFormatTests {
    @Test func examplesMatchPHP82() {
        let cases: [(Double, String)] = [
            (0.1, "0.1"), (100, "100"), (1e25, "1.0E+25"), (-0.0, "-0"), (0, "0"), (.infinity, "INF"),
            (-.infinity, "-INF"), (.nan, "NAN"), (1e-10, "1.0E-10"), (0.0001, "0.0001"), (0.00001, "1.0E-5"),
            (1e15, "1000000000000000"), (1e16, "10000000000000000"), (1e17, "1.0E+17"), (1.5e17, "1.5E+17"),
            (0.00012345, "0.00012345"), (1.2345e-5, "1.2345E-5"), (.leastNonzeroMagnitude, "5.0E-324"),
            (1.7976931348623157e308, "1.7976931348623157E+308"), (-1.5, "-1.5"), (0.1 + 0.2, "0.30000000000000004"),
            (12_345_678_901_234_568, "12345678901234568"), (1234567890123456.7, "1234567890123456.8"),
            (9.223372036854776e18, "9.223372036854776E+18"),
        ]
        for (value, text) in cases {
            #expect(PHPFloatFormat.string(for: value) == text, "\(value)")
        }
    }

    /// `float-samples.txt` holds the bits and PHP's text of 3,000 random bit patterns, 4,000 short decimals
    /// at every scale, and powers of ten and two across the whole range.
    @Test func everySampleMatchesWhatPHPWrote() throws {
        let lines = try Fixture.text("float-samples", "txt").split(separator: "\n")
        #expect(lines.count > 8000)
        var mismatches: [String] = []
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let bits = UInt64(parts[0], radix: 16) else {
                mismatches.append("unreadable line \(line)")
                continue
            }
            let value = Double(bitPattern: bits)
            if PHPFloatFormat.string(for: value) != parts[1] {
                mismatches.append("\(parts[0]): PHP \(parts[1]), ours \(PHPFloatFormat.string(for: value))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test func everySampleReadsBackToTheSameDouble() throws {
        for line in try Fixture.text("float-samples", "txt").split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let bits = UInt64(parts[0], radix: 16) else { continue }
            let value = Double(bitPattern: bits)
            let decoded = try PHPValue(serialized: [UInt8]("d:\(parts[1]);"))
            #expect(decoded == .double(value), "\(parts[1])")
        }
    }
}
