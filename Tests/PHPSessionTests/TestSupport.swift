import Foundation
import PHPSession
import WebCore

/// Loads the golden files that `Fixtures/make-fixtures.php` wrote with PHP 8.2.
enum Fixture {
    static func bytes(_ name: String, _ ext: String = "txt") throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
            throw FixtureMissing(name: "\(name).\(ext)")
        }
        return Array(try Data(contentsOf: url))
    }

    static func text(_ name: String, _ ext: String) throws -> String {
        String(decoding: try bytes(name, ext), as: UTF8.self)
    }

    /// The session fixtures that PHP wrote.
    static let sessions = [
        "session-scalars", "session-floats", "session-arrays", "session-objects", "session-references",
        "session-mixed",
    ]

    /// The session fixtures that come with a `.json` of the expected JSON view.
    static let sessionsWithJSON = ["session-scalars", "session-floats", "session-arrays", "session-mixed"]
}

struct FixtureMissing: Error {
    var name: String
}

extension Array where Element == UInt8 {
    init(_ text: String) {
        self = Array(text.utf8)
    }
}

/// A small, seeded generator (SplitMix64) so that random tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes a `JSONValue` exactly as PHP's `json_encode` does with `JSON_UNESCAPED_SLASHES |
/// JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_LINE_TERMINATORS`, so the
/// JSON view can be compared with the fixtures' `.json` files as text (order included).
enum PHPStyleJSON {
    static func text(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .double(let number):
            var text = PHPFloatFormat.string(for: number).replacingOccurrences(of: "E", with: "e")
            if !text.contains(".") && !text.contains("e") {
                text += ".0"
            }
            out += text
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                write(element, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                writeString(member.key, to: &out)
                out += ":"
                write(member.value, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
