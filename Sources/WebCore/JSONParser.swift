/// Why a JSON text was refused. The description is safe to show to a client.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public let offset: Int
    /// True when the document is well-formed as far as read but over a `JSONLimits` bound (413).
    public let isOverLimit: Bool

    public init(description: String, offset: Int, isOverLimit: Bool = false) {
        self.description = description
        self.offset = offset
        self.isOverLimit = isOverLimit
    }
}

/// Limits that keep a hostile document from costing more than a page of memory per byte.
public struct JSONLimits: Sendable {
    public var maxDepth: Int
    public var maxMembers: Int
    public init(maxDepth: Int = 32, maxMembers: Int = 1000) {
        self.maxDepth = maxDepth
        self.maxMembers = maxMembers
    }
}

/// A strict RFC 8259 parser over UTF-8 bytes: refuses invalid UTF-8, lone surrogates,
/// duplicate keys, trailing data and documents deeper or wider than its limits.
public struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private let limits: JSONLimits
    private var members = 0

    private init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses one whole document.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws(JSONParseError) -> JSONValue {
        guard UTF8Validation.isValid(bytes) else {
            throw JSONParseError(description: "The JSON body is not valid UTF-8.", offset: 0)
        }
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("Unexpected data after the JSON value.") }
        return value
    }

    private func error(_ text: String) -> JSONParseError {
        JSONParseError(description: text, offset: index)
    }

    private func overLimit(_ text: String) -> JSONParseError {
        JSONParseError(description: text, offset: index, isOverLimit: true)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func countMember() throws(JSONParseError) {
        members += 1
        if members > limits.maxMembers { throw overLimit("The JSON body has more than \(limits.maxMembers) members.") }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("The JSON body ends too early.") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("The JSON body holds an unexpected character.")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("The JSON body ends too early.") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw error("The JSON body holds an unexpected word.")
        }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else {
            throw overLimit("The JSON body is nested deeper than \(limits.maxDepth) levels.")
        }
        index += 1
        var result: [(key: String, value: JSONValue)] = []
        var seen = Set<[UInt8]>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(result)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("A JSON object key must be a string.")
            }
            let key = try parseString()
            guard seen.insert(Array(key.utf8)).inserted else { throw error("The JSON object repeats a key.") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("Expected ':' in JSON.") }
            index += 1
            skipWhitespace()
            try countMember()
            let value = try parseValue(depth: depth)
            result.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("The JSON body ends too early.") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw error("Expected ',' or '}' in JSON.") }
            index += 1
            return .object(result)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else {
            throw overLimit("The JSON body is nested deeper than \(limits.maxDepth) levels.")
        }
        index += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(result)
        }
        while true {
            skipWhitespace()
            try countMember()
            result.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("The JSON body ends too early.") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw error("Expected ',' or ']' in JSON.") }
            index += 1
            return .array(result)
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("A JSON number is malformed.") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("A JSON number is malformed.") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("A JSON number is malformed.") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { throw error("A JSON number is out of range.") }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("A JSON string is not closed.") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("A JSON string is not closed.") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(to: &out)
                default: throw error("A JSON string has an unknown escape.")
                }
            case 0..<0x20:
                throw error("A JSON string holds a raw control character.")
            default:
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("A JSON \\u escape is cut short.") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("A JSON \\u escape is malformed.")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func appendUnicodeEscape(to out: inout [UInt8]) throws(JSONParseError) {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw error("A JSON string holds a lone surrogate.") }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("A JSON string holds a lone surrogate.") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw error("A JSON string holds a lone surrogate.")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("A JSON \\u escape is malformed.") }
        out.append(contentsOf: Array(String(Character(unicode)).utf8))
    }
}
