/// HTML built from markup written in the source and values that are always escaped.
///
/// Markup can only come from string literals (`StaticString`), and every runtime value goes
/// through `text`, which escapes it: nothing a client sent can become markup, as with a
/// template engine that escapes by default, without a template engine's lookups by name.
struct HTMLWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 8192) { bytes.reserveCapacity(capacity) }

    /// Markup, as written in the source.
    mutating func markup(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A value, escaped for text and for attribute values in double or single quotes.
    mutating func text(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "&"): markup("&amp;")
            case UInt8(ascii: "<"): markup("&lt;")
            case UInt8(ascii: ">"): markup("&gt;")
            case UInt8(ascii: "\""): markup("&quot;")
            case UInt8(ascii: "'"): markup("&#39;")
            default: bytes.append(byte)
            }
        }
    }

    mutating func text(_ value: some BinaryInteger) { bytes.append(contentsOf: String(value).utf8) }

    /// `markup` when `condition` holds.
    mutating func markup(_ literal: StaticString, if condition: Bool) {
        if condition { markup(literal) }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
