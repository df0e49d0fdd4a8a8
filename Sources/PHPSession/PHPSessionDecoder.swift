/// Turns serialized bytes into ``PHPValue``s, numbering back-reference slots as PHP does.
///
/// PHP gives every value a slot, in the order written, across all session variables: the value of each
/// variable, every array element and object property value (not keys or property names), enums, `r:`
/// (the same object again) and the values inside a `C:` payload that are serialized values themselves.
/// `R:` (a PHP reference) takes no slot. `R:n;` must point to a slot already opened (its own enclosing
/// array included) and `r:n;` to one that holds an object; anything else is refused as PHP refuses it.
struct PHPSessionDecoder {
    private let bytes: [UInt8]
    /// Per slot, from slot 1: whether it holds an object.
    private var slotIsObject: [Bool] = []
    private var customPayloadCache: [Int: Bool] = [:]
    /// Whether an `R:` or `r:` occurred.
    private(set) var sawReference = false

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of slots used so far.
    var slotCount: Int { slotIsObject.count }

    /// A whole session: `name|value` repeated, as PHP's `php` serialize handler reads it.
    mutating func decodeSession() throws(PHPSessionDecodeError) -> [PHPSessionData.Entry] {
        var entries: [PHPSessionData.Entry] = []
        var indexOfName: [[UInt8]: Int] = [:]
        var position = 0
        while position < bytes.count {
            guard let bar = bytes[position...].firstIndex(of: UInt8(ascii: "|")) else {
                throw PHPSessionDecodeError(.missingDelimiter, at: position)
            }
            let rawName = Array(bytes[position..<bar])
            let firstSlot = slotCount + 1
            let (value, end) = try decodeValue(at: bar + 1)
            let origin = PHPSessionData.Origin(range: (bar + 1)..<end, firstSlot: firstSlot)
            if let index = indexOfName[rawName] {
                // PHP keeps the first position and the last value.
                entries[index].value = value
                entries[index].origin = origin
            } else {
                indexOfName[rawName] = entries.count
                entries.append(PHPSessionData.Entry(rawName: rawName, value: value, origin: origin))
            }
            position = end
        }
        return entries
    }

    /// The value that starts at `start`, and the offset just after it.
    mutating func decodeValue(at start: Int) throws(PHPSessionDecodeError) -> (PHPValue, end: Int) {
        var tokenizer = PHPTokenizer(bytes: bytes, start: start, limit: bytes.count)
        tokenizer.customPayloadCache = customPayloadCache
        defer { customPayloadCache = tokenizer.customPayloadCache }

        var builder = ValueBuilder()
        // While inside an object or `C:` (kept as opaque text): where it started, and the depth to return to.
        var opaque: (start: Int, depth: Int)?
        while let token = try tokenizer.next() {
            try account(token)
            if let current = opaque {
                if tokenizer.depth == current.depth {
                    try builder.deliver(.opaque(Array(bytes[current.start..<tokenizer.position])), at: token.range)
                    opaque = nil
                }
                continue
            }
            if token.isKey {
                builder.pendingKey = key(of: token)
                continue
            }
            switch token.kind {
            case .null: try builder.deliver(.null, at: token.range)
            case .bool(let flag): try builder.deliver(.bool(flag), at: token.range)
            case .int(let number): try builder.deliver(.int(number), at: token.range)
            case .double(let number): try builder.deliver(.double(number), at: token.range)
            case .string(let content): try builder.deliver(.string(Array(bytes[content])), at: token.range)
            case .enumCase, .custom, .reference:
                try builder.deliver(.opaque(Array(bytes[token.range])), at: token.range)
            case .arrayStart:
                builder.open()
            case .objectStart, .customStart:
                opaque = (token.range.lowerBound, tokenizer.depth - 1)
            case .end:
                try builder.close(at: token.range)
            }
        }
        guard let value = builder.result else {
            throw PHPSessionDecodeError(.truncated, at: tokenizer.position)
        }
        return (value, tokenizer.position)
    }

    /// Numbers the slot of `token` and checks a back-reference against the slots so far.
    private mutating func account(_ token: PHPToken) throws(PHPSessionDecodeError) {
        if case .reference(let target, let isObject) = token.kind, !token.isKey {
            sawReference = true
            guard target >= 1, target <= slotIsObject.count, !isObject || slotIsObject[target - 1] else {
                throw PHPSessionDecodeError(.invalidBackReference, at: token.range.lowerBound)
            }
        }
        if token.takesSlot {
            slotIsObject.append(token.isObjectSlot)
        }
    }

    private func key(of token: PHPToken) -> PHPArrayKey {
        switch token.kind {
        case .int(let number): .int(number)
        case .string(let content): .string(Array(bytes[content]))
        default: .int(0)  // the tokenizer reads only `i:` and `s:` keys
        }
    }
}

/// Assembles nested arrays from tokens with an explicit stack.
private struct ValueBuilder {
    private var stack: [(entries: [(key: PHPArrayKey, value: PHPValue)], key: PHPArrayKey?)] = []
    private(set) var result: PHPValue?

    /// The key read for the next value of the innermost array.
    var pendingKey: PHPArrayKey? {
        get { stack.last?.key }
        set { if !stack.isEmpty { stack[stack.count - 1].key = newValue } }
    }

    mutating func open() {
        stack.append((entries: [], key: nil))
    }

    mutating func close(at range: Range<Int>) throws(PHPSessionDecodeError) {
        guard let finished = stack.popLast() else {
            throw PHPSessionDecodeError(.unexpectedByte, at: range.lowerBound)
        }
        try deliver(.array(PHPArray(finished.entries)), at: range)
    }

    mutating func deliver(_ value: PHPValue, at range: Range<Int>) throws(PHPSessionDecodeError) {
        guard !stack.isEmpty else {
            result = value
            return
        }
        guard let key = stack[stack.count - 1].key else {
            throw PHPSessionDecodeError(.unexpectedByte, at: range.lowerBound)
        }
        stack[stack.count - 1].entries.append((key: key, value: value))
        stack[stack.count - 1].key = nil
    }
}
