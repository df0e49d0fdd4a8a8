/// Parsing the `Cookie` header and writing `Set-Cookie`.
public enum Cookies {
    /// Cookie pairs in order; a malformed pair is skipped, as browsers and PHP do.
    ///
    /// Works on bytes, as PHP does: a `;` or `=` followed by a combining mark is one `Character`
    /// to Swift but still separates.
    public static func parse(_ header: String, maxCookies: Int = 64) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        forEachPair(in: header, maxCookies: maxCookies) { name, value in
            result.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            return true
        }
        return result
    }

    /// The first value of the named cookie (among the first 64, as `parse` reads them); names
    /// compare as bytes (cookie names are ASCII tokens), and only the value found is decoded.
    public static func value(named name: String, in header: String?) -> String? {
        guard let header else { return nil }
        var found: String?
        forEachPair(in: header, maxCookies: 64) { pairName, value in
            guard pairName.elementsEqual(name.utf8) else { return true }
            found = String(decoding: value, as: UTF8.self)
            return false
        }
        return found
    }

    /// Calls `body` with the name and value bytes of each well-formed pair, in order, at most
    /// `maxCookies` of them, until it returns false. Cut at ASCII bytes, the pieces of valid
    /// UTF-8 stay valid.
    private static func forEachPair(
        in header: String, maxCookies: Int,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Bool
    ) {
        var header = header
        header.withUTF8 { bytes in
            var pairs = 0
            var partStart = 0
            while partStart <= bytes.count, pairs < maxCookies {
                var partEnd = partStart
                while partEnd < bytes.count, bytes[partEnd] != UInt8(ascii: ";") { partEnd += 1 }
                defer { partStart = partEnd + 1 }
                guard partEnd > partStart,
                    let equals = bytes[partStart..<partEnd].firstIndex(of: UInt8(ascii: "="))
                else { continue }
                let name = trimmed(partStart..<equals, in: bytes)
                var value = trimmed((equals + 1)..<partEnd, in: bytes)
                if value.count >= 2, bytes[value.lowerBound] == UInt8(ascii: "\""),
                    bytes[value.upperBound - 1] == UInt8(ascii: "\"")
                {
                    value = (value.lowerBound + 1)..<(value.upperBound - 1)
                }
                if name.isEmpty { continue }
                pairs += 1
                guard body(UnsafeBufferPointer(rebasing: bytes[name]), UnsafeBufferPointer(rebasing: bytes[value]))
                else { return }
            }
        }
    }

    /// `range` of `bytes` without leading and trailing spaces and tabs.
    private static func trimmed(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return lower..<upper
    }

    /// A `Set-Cookie` value. `value` must already be cookie-safe (session ids are).
    public static func setCookie(
        name: String, value: String, secure: Bool, maxAge: Int? = nil, path: String = "/"
    ) -> String {
        var text = "\(name)=\(value); Path=\(path)"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        text += "; HttpOnly; SameSite=Lax"
        if secure { text += "; Secure" }
        return text
    }
}
