/// An oracle for the shape of session data, written apart from the decoder: the name and the start of
/// each variable, found by skipping over serialized values without reading them.
///
/// Lenient: it is used only on data the decoder accepted; nil when it cannot follow the data (the
/// checks it guards are then skipped).
enum SessionLayout {
    /// The variables in order, repeats included: the raw name, and where `name|value` starts.
    static func variables(in bytes: [UInt8]) -> [(name: [UInt8], start: Int)]? {
        var variables: [(name: [UInt8], start: Int)] = []
        var position = 0
        while position < bytes.count {
            guard let bar = bytes[position...].firstIndex(of: UInt8(ascii: "|")) else { return nil }
            variables.append((Array(bytes[position..<bar]), position))
            var scanner = Scanner(bytes: bytes, position: bar + 1)
            guard scanner.skipValue(depth: 0) else { return nil }
            position = scanner.position
        }
        return variables
    }

    /// Whether `R:` or `r:` occurs anywhere in `bytes` (inside strings too: a cheap over-estimate).
    static func mayHoldReferences(_ bytes: [UInt8]) -> Bool {
        zip(bytes, bytes.dropFirst()).contains { ($0 == UInt8(ascii: "R") || $0 == UInt8(ascii: "r")) && $1 == 0x3A }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position: Int

        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 200, position < bytes.count else { return false }
            let tag = bytes[position]
            position += 1
            switch tag {
            case UInt8(ascii: "N"):
                return take(";")
            case UInt8(ascii: "b"), UInt8(ascii: "i"), UInt8(ascii: "d"), UInt8(ascii: "R"), UInt8(ascii: "r"):
                guard let semicolon = bytes[position...].firstIndex(of: UInt8(ascii: ";")) else { return false }
                position = semicolon + 1
                return true
            case UInt8(ascii: "s"), UInt8(ascii: "E"):
                return take(":") && skipQuoted() && take(";")
            case UInt8(ascii: "a"):
                return take(":") && skipMembers(depth: depth)
            case UInt8(ascii: "O"):
                return take(":") && skipQuoted() && take(":") && skipMembers(depth: depth)
            case UInt8(ascii: "C"):
                guard take(":"), skipQuoted(), take(":"), let length = number(), take(":"), take("{"),
                    length <= bytes.count - position
                else { return false }
                position += length
                return take("}")
            default:
                return false
            }
        }

        /// `n:{` then n keys and values, then `}`.
        private mutating func skipMembers(depth: Int) -> Bool {
            guard let count = number(), take(":"), take("{"), count <= bytes.count else { return false }
            for _ in 0..<(2 * count) where !skipValue(depth: depth + 1) {
                return false
            }
            return take("}")
        }

        /// `n:"` n bytes `"`.
        private mutating func skipQuoted() -> Bool {
            guard let length = number(), take(":"), take("\""), length <= bytes.count - position else {
                return false
            }
            position += length
            return take("\"")
        }

        /// Decimal digits, leading zeros allowed; nil past `bytes.count`.
        private mutating func number() -> Int? {
            let start = position
            var value = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 0x30)
                if value > bytes.count { return nil }
                position += 1
            }
            return position > start ? value : nil
        }

        private mutating func take(_ byte: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: byte) else { return false }
            position += 1
            return true
        }
    }
}
