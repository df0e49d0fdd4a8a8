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
        var value = value
        value.withUTF8 { utf8 in
            // Runs of plain bytes are copied at once; only the five special bytes are replaced.
            var plainStart = 0
            for index in utf8.indices {
                let escape: StaticString
                switch utf8[index] {
                case UInt8(ascii: "&"): escape = "&amp;"
                case UInt8(ascii: "<"): escape = "&lt;"
                case UInt8(ascii: ">"): escape = "&gt;"
                case UInt8(ascii: "\""): escape = "&quot;"
                case UInt8(ascii: "'"): escape = "&#39;"
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<index]))
                markup(escape)
                plainStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart...]))
        }
    }

    mutating func text(_ value: some BinaryInteger) { bytes.append(contentsOf: String(value).utf8) }

    /// `markup` when `condition` holds.
    mutating func markup(_ literal: StaticString, if condition: Bool) {
        if condition { markup(literal) }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
