/// The key of one element of a PHP array.
public enum PHPArrayKey: Sendable, Hashable {
    case int(Int64)
    /// Raw bytes.
    case string([UInt8])

    /// The key PHP makes of the string `bytes`: an int key when `bytes` is a canonical decimal integer
    /// in range (`"5"`, `"-3"`, `"0"`, but not `"05"`, `"-0"`, `"+5"` or `"9223372036854775808"`), otherwise
    /// a string key.
    public init(normalizing bytes: [UInt8]) {
        if let number = PHPArrayKey.canonicalInteger(bytes) {
            self = .int(number)
        } else {
            self = .string(bytes)
        }
    }

    /// The key PHP makes of `text`; see ``init(normalizing:)``.
    public init(_ text: String) {
        self.init(normalizing: Array(text.utf8))
    }

    /// The key as JSON shows it: a decimal integer, or the string (invalid UTF-8 repaired with U+FFFD).
    public var text: String {
        switch self {
        case .int(let number): String(number)
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The integer that `bytes` spells in PHP's canonical form, if any (PHP's `ZEND_HANDLE_NUMERIC_STR`).
    static func canonicalInteger<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int64? {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative {
            index = bytes.index(after: index)
        }
        let digits = bytes[index...]
        guard let first = digits.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return nil }
        if first == UInt8(ascii: "0") {
            // "0" alone is canonical; "00", "01" and "-0" are not.
            return digits.count == 1 && !negative ? 0 : nil
        }
        guard digits.count <= 19 else { return nil }
        // Accumulate as a negative number so that Int64.min fits.
        var value: Int64 = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        if negative {
            return value
        }
        return value == Int64.min ? nil : -value
    }
}

extension PHPArrayKey: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension PHPArrayKey: ExpressibleByStringLiteral {
    /// The key PHP makes of the literal, so `"5"` is the int key 5.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}
