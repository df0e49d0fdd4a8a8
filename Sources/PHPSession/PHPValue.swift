import WebCore

/// One value of PHP's `serialize()` format, as a PHP session holds it.
///
/// Strings are byte strings: PHP strings may hold NUL and need not be UTF-8. Whatever the responder does
/// not model (objects `O:`/`C:`, enums `E:`, back-references `R:`/`r:`) is kept as ``opaque(_:)``: the
/// exact serialized text, written back byte for byte.
public enum PHPValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// A float; `INF`, `-INF`, `NAN` and `-0` included.
    case double(Double)
    /// Raw bytes.
    case string([UInt8])
    case array(PHPArray)
    /// The serialized text of one value the responder does not model, for example
    /// `O:3:"Foo":1:{s:1:"a";i:1;}`, `E:11:"Suit:Hearts";` or `r:2;`.
    case opaque([UInt8])

    /// The string `text` as its UTF-8 bytes.
    public init(_ text: String) {
        self = .string(Array(text.utf8))
    }

    /// Parses one serialized value, such as `a:1:{i:0;s:1:"x";}`; the whole input must be that value.
    ///
    /// Back-references inside it are numbered from the value itself, as PHP's `unserialize()` does.
    public init(serialized bytes: [UInt8]) throws(PHPSessionDecodeError) {
        var decoder = PHPSessionDecoder(bytes)
        let (value, end) = try decoder.decodeValue(at: 0)
        guard end == bytes.count else {
            throw PHPSessionDecodeError(.trailingBytes, at: end)
        }
        self = value
    }

    /// The value in PHP's `serialize()` format, as PHP 8.2 writes it (`serialize_precision = -1`).
    ///
    /// ``opaque(_:)`` values are copied as they are.
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        PHPSerializer.append(self, to: &out)
        return out
    }

    /// The integer, for `.int`.
    public var intValue: Int64? {
        if case .int(let value) = self { value } else { nil }
    }

    /// The float, for `.double`.
    public var doubleValue: Double? {
        if case .double(let value) = self { value } else { nil }
    }

    /// The flag, for `.bool`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    /// The raw bytes, for `.string`.
    public var bytesValue: [UInt8]? {
        if case .string(let bytes) = self { bytes } else { nil }
    }

    /// The text, for a `.string` whose bytes are valid UTF-8.
    public var stringValue: String? {
        guard case .string(let bytes) = self else { return nil }
        return UTF8Validation.string(from: bytes)
    }

    /// The array, for `.array`.
    public var arrayValue: PHPArray? {
        if case .array(let array) = self { array } else { nil }
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { true } else { false }
    }

    /// Whether an ``opaque(_:)`` value occurs in this value, at any depth.
    var containsOpaque: Bool {
        switch self {
        case .opaque: true
        case .array(let array): array.entries.contains { $0.value.containsOpaque }
        default: false
        }
    }
}

extension PHPValue: Equatable {
    /// Values are equal when PHP would serialize them alike: every NaN equals every NaN, and `-0`
    /// differs from `0` (PHP writes `d:-0;`).
    public static func == (lhs: PHPValue, rhs: PHPValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.opaque(let a), .opaque(let b)): a == b
        default: false
        }
    }
}
