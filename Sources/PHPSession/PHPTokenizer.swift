/// Reads one serialized value as a stream of ``PHPToken``s, without recursion.
///
/// It accepts what PHP 8.2's `unserialize()` accepts for the tags it knows (leading zeros in lengths,
/// `i:+5;`, `d:.5;`, `d:1e5;`, out-of-range integers saturated as PHP does) and refuses anything else
/// with a ``PHPSessionDecodeError``; it never reads past `limit` and never allocates from a length it
/// has not checked against the bytes that remain.
struct PHPTokenizer {
    private enum Container {
        /// Inside `a:` or `O:`: members still to come, and whether a key comes next.
        case members(remaining: Int, expectingKey: Bool)
        /// Inside the payload of a `C:` that ends at `payloadEnd`.
        case custom(payloadEnd: Int)
    }

    private static let smallestMember = 6  // `i:0;N;`

    let bytes: [UInt8]
    /// Offset of the next unread byte.
    private(set) var position: Int
    private let limit: Int
    private let depthBase: Int
    private var containers: [Container] = []
    private var payloadLimits: [Int] = []
    private var started = false
    /// Whether the payload of the `C:` at a given offset parses as serialized values; handed on to the
    /// tokenizers that check nested payloads so that each payload is checked once.
    var customPayloadCache: [Int: Bool] = [:]

    /// Creates a tokenizer for the one value that starts at `start` and ends at or before `limit`;
    /// `depthBase` is the nesting depth at which that value sits.
    init(bytes: [UInt8], start: Int, limit: Int, depthBase: Int = 0) {
        self.bytes = bytes
        self.position = start
        self.limit = min(limit, bytes.count)
        self.depthBase = depthBase
    }

    /// The number of arrays, objects and payloads open at this point.
    var depth: Int { containers.count }

    private var currentLimit: Int { payloadLimits.last ?? limit }

    /// The next token, or nil once the value is complete.
    mutating func next() throws(PHPSessionDecodeError) -> PHPToken? {
        guard let top = containers.last else {
            if started { return nil }
            started = true
            return try readValue(limit: limit)
        }
        switch top {
        case .members(let remaining, let expectingKey):
            if remaining == 0 {
                containers.removeLast()
                return try readEnd(closesCustom: false)
            }
            if expectingKey {
                containers[containers.count - 1] = .members(remaining: remaining, expectingKey: false)
                return try readKey(limit: currentLimit)
            }
            containers[containers.count - 1] = .members(remaining: remaining - 1, expectingKey: true)
            return try readValue(limit: currentLimit)
        case .custom(let payloadEnd):
            if position == payloadEnd {
                containers.removeLast()
                payloadLimits.removeLast()
                return try readEnd(closesCustom: true)
            }
            return try readValue(limit: payloadEnd)
        }
    }

    // MARK: - Values

    private mutating func readValue(limit: Int) throws(PHPSessionDecodeError) -> PHPToken {
        let start = position
        guard position < limit else { throw PHPSessionDecodeError(.truncated, at: position) }
        let tag = bytes[position]
        position += 1
        let kind: PHPToken.Kind
        switch tag {
        case UInt8(ascii: "N"):
            kind = .null
        case UInt8(ascii: "b"):
            try expect(":", limit: limit)
            guard position < limit else { throw PHPSessionDecodeError(.truncated, at: position) }
            let digit = bytes[position]
            guard digit == UInt8(ascii: "0") || digit == UInt8(ascii: "1") else {
                throw PHPSessionDecodeError(.unexpectedByte, at: position)
            }
            position += 1
            kind = .bool(digit == UInt8(ascii: "1"))
        case UInt8(ascii: "i"):
            try expect(":", limit: limit)
            kind = .int(try readSignedInteger(limit: limit))
        case UInt8(ascii: "d"):
            try expect(":", limit: limit)
            kind = .double(try readDouble(limit: limit))
        case UInt8(ascii: "s"):
            try expect(":", limit: limit)
            kind = .string(try readQuoted(limit: limit))
        case UInt8(ascii: "E"):
            try expect(":", limit: limit)
            let text = try readQuoted(limit: limit)
            guard bytes[text].contains(UInt8(ascii: ":")) else {
                throw PHPSessionDecodeError(.unexpectedByte, at: text.lowerBound)
            }
            kind = .enumCase
        case UInt8(ascii: "a"):
            try expect(":", limit: limit)
            let count = try readCount(limit: limit)
            try push(.members(remaining: count, expectingKey: true), at: start)
            return PHPToken(kind: .arrayStart(count: count), range: start..<position)
        case UInt8(ascii: "O"):
            try expect(":", limit: limit)
            _ = try readClassName(limit: limit)
            try expect(":", limit: limit)
            let count = try readCount(limit: limit)
            try push(.members(remaining: count, expectingKey: true), at: start)
            return PHPToken(kind: .objectStart(count: count), range: start..<position)
        case UInt8(ascii: "C"):
            return try readCustom(start: start, limit: limit)
        case UInt8(ascii: "R"), UInt8(ascii: "r"):
            try expect(":", limit: limit)
            let target = try readUnsigned(limit: limit)
            kind = .reference(target: target, isObject: tag == UInt8(ascii: "r"))
        default:
            throw PHPSessionDecodeError(.unknownTag, at: start)
        }
        try expect(";", limit: limit)
        return PHPToken(kind: kind, range: start..<position)
    }

    /// An array key or property name: `i:…;` or `s:…;`.
    private mutating func readKey(limit: Int) throws(PHPSessionDecodeError) -> PHPToken {
        guard position < limit else { throw PHPSessionDecodeError(.truncated, at: position) }
        guard bytes[position] == UInt8(ascii: "i") || bytes[position] == UInt8(ascii: "s") else {
            throw PHPSessionDecodeError(.unexpectedByte, at: position)
        }
        var token = try readValue(limit: limit)
        token.isKey = true
        return token
    }

    private mutating func readEnd(closesCustom: Bool) throws(PHPSessionDecodeError) -> PHPToken {
        let start = position
        try expect("}", limit: currentLimit)
        return PHPToken(kind: .end(closesCustom: closesCustom), range: start..<position)
    }

    /// `C:len:"Class":len:{payload}`; the tag is already read.
    private mutating func readCustom(start: Int, limit: Int) throws(PHPSessionDecodeError) -> PHPToken {
        try expect(":", limit: limit)
        let className = try readClassName(limit: limit)
        try expect(":", limit: limit)
        let length = try readUnsigned(limit: limit)
        try expect(":", limit: limit)
        try expect("{", limit: limit)
        guard length < limit - position else { throw PHPSessionDecodeError(.lengthOutOfRange, at: position) }
        let payload = position..<(position + length)
        guard bytes[payload.upperBound] == UInt8(ascii: "}") else {
            throw PHPSessionDecodeError(.unexpectedByte, at: payload.upperBound)
        }
        if payloadIsSerialized(payload) {
            try push(.custom(payloadEnd: payload.upperBound), at: start)
            payloadLimits.append(payload.upperBound)
            return PHPToken(kind: .customStart(className: className, payload: payload), range: start..<position)
        }
        position = payload.upperBound + 1
        return PHPToken(kind: .custom, range: start..<position)
    }

    /// Whether `payload` is one or more complete serialized values, as when `Serializable::serialize()`
    /// returns `serialize(…)`.
    private mutating func payloadIsSerialized(_ payload: Range<Int>) -> Bool {
        guard !payload.isEmpty else { return false }
        if let known = customPayloadCache[payload.lowerBound] { return known }
        var cache = customPayloadCache
        var offset = payload.lowerBound
        var valid = true
        while offset < payload.upperBound {
            var inner = PHPTokenizer(
                bytes: bytes, start: offset, limit: payload.upperBound, depthBase: depthBase + depth + 1)
            inner.customPayloadCache = cache
            do {
                while try inner.next() != nil {}
            } catch {
                valid = false
                break
            }
            cache = inner.customPayloadCache
            offset = inner.position
        }
        customPayloadCache = cache
        customPayloadCache[payload.lowerBound] = valid
        return valid
    }

    private mutating func push(_ container: Container, at start: Int) throws(PHPSessionDecodeError) {
        guard depthBase + containers.count < PHPSessionData.maximumDepth else {
            throw PHPSessionDecodeError(.nestingTooDeep, at: start)
        }
        containers.append(container)
    }

    // MARK: - Pieces

    private mutating func expect(_ byte: Unicode.Scalar, limit: Int) throws(PHPSessionDecodeError) {
        guard position < limit else { throw PHPSessionDecodeError(.truncated, at: position) }
        guard bytes[position] == UInt8(ascii: byte) else { throw PHPSessionDecodeError(.unexpectedByte, at: position) }
        position += 1
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `[0-9]+`, saturating at `Int.max` (such a length is always out of range).
    private mutating func readUnsigned(limit: Int) throws(PHPSessionDecodeError) -> Int {
        let start = position
        var value = 0
        while position < limit, isDigit(bytes[position]) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? Int.max : next
            position += 1
        }
        guard position > start else {
            throw PHPSessionDecodeError(position < limit ? .unexpectedByte : .truncated, at: position)
        }
        return value
    }

    /// `[+-]?[0-9]+`, saturating at the bounds of `Int64` as PHP 8.2 does.
    private mutating func readSignedInteger(limit: Int) throws(PHPSessionDecodeError) -> Int64 {
        var negative = false
        if position < limit, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
            negative = bytes[position] == UInt8(ascii: "-")
            position += 1
        }
        let start = position
        var value: Int64 = 0  // kept negative so that Int64.min fits
        var saturated = false
        while position < limit, isDigit(bytes[position]) {
            if !saturated {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(bytes[position] - UInt8(ascii: "0")))
                if overflow1 || overflow2 {
                    saturated = true
                } else {
                    value = next
                }
            }
            position += 1
        }
        guard position > start else {
            throw PHPSessionDecodeError(position < limit ? .unexpectedByte : .truncated, at: position)
        }
        if negative {
            return saturated ? Int64.min : value
        }
        return saturated || value == Int64.min ? Int64.max : -value
    }

    /// `NAN`, `INF`, `-INF`, or a decimal number: `[+-]?` digits with an optional `.` and fraction (at least
    /// one digit in all), then optionally `e`/`E`, `[+-]?` and digits.
    private mutating func readDouble(limit: Int) throws(PHPSessionDecodeError) -> Double {
        for (word, value) in [("NAN", Double.nan), ("INF", Double.infinity), ("-INF", -Double.infinity)] {
            let utf8 = Array(word.utf8)
            if limit - position >= utf8.count, bytes[position..<(position + utf8.count)].elementsEqual(utf8) {
                position += utf8.count
                return value
            }
        }
        let start = position
        if position < limit, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
            position += 1
        }
        var digits = 0
        while position < limit, isDigit(bytes[position]) {
            position += 1
            digits += 1
        }
        if position < limit, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < limit, isDigit(bytes[position]) {
                position += 1
                digits += 1
            }
        }
        guard digits > 0 else {
            throw PHPSessionDecodeError(position < limit ? .unexpectedByte : .truncated, at: position)
        }
        if position < limit, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < limit, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                position += 1
            }
            let exponentStart = position
            while position < limit, isDigit(bytes[position]) {
                position += 1
            }
            guard position > exponentStart else {
                throw PHPSessionDecodeError(position < limit ? .unexpectedByte : .truncated, at: position)
            }
        }
        guard let value = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else {
            throw PHPSessionDecodeError(.unexpectedByte, at: start)
        }
        return value
    }

    /// `len:"…"`: the range of the bytes between the quotes.
    private mutating func readQuoted(limit: Int) throws(PHPSessionDecodeError) -> Range<Int> {
        let length = try readUnsigned(limit: limit)
        try expect(":", limit: limit)
        try expect("\"", limit: limit)
        guard length <= limit - position else { throw PHPSessionDecodeError(.lengthOutOfRange, at: position) }
        let range = position..<(position + length)
        position += length
        try expect("\"", limit: limit)
        return range
    }

    /// A quoted class name: letters, digits, `_`, `\` and bytes from 0x80, as PHP requires.
    private mutating func readClassName(limit: Int) throws(PHPSessionDecodeError) -> Range<Int> {
        let range = try readQuoted(limit: limit)
        guard !range.isEmpty else { throw PHPSessionDecodeError(.unexpectedByte, at: range.lowerBound) }
        for offset in range {
            let byte = bytes[offset]
            let valid =
                isDigit(byte) || byte >= 0x80 || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "\\")
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
            guard valid else { throw PHPSessionDecodeError(.unexpectedByte, at: offset) }
        }
        return range
    }

    /// `n:{` of an array or object, with `n` no larger than the members the remaining bytes could hold.
    private mutating func readCount(limit: Int) throws(PHPSessionDecodeError) -> Int {
        let countOffset = position
        let count = try readUnsigned(limit: limit)
        try expect(":", limit: limit)
        try expect("{", limit: limit)
        guard count <= (limit - position) / Self.smallestMember else {
            throw PHPSessionDecodeError(.lengthOutOfRange, at: countOffset)
        }
        return count
    }
}
