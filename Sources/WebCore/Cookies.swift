/// Parsing the `Cookie` header and writing `Set-Cookie`.
public enum Cookies {
    /// Cookie pairs in order; a malformed pair is skipped, as browsers and PHP do.
    ///
    /// Works on bytes, as PHP does: a `;` or `=` followed by a combining mark is one `Character`
    /// to Swift but still separates.
    public static func parse(_ header: String, maxCookies: Int = 64) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for part in header.utf8.split(separator: UInt8(ascii: ";")) {
            guard result.count < maxCookies else { break }
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = trimmed(part[..<equals])
            var value = trimmed(part[part.index(after: equals)...])
            if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                value = value.dropFirst().dropLast()
            }
            if name.isEmpty { continue }
            // Cut at ASCII bytes, the pieces of valid UTF-8 stay valid.
            result.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return result
    }

    /// `bytes` without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        var bytes = bytes
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return bytes
    }

    /// The first value of the named cookie.
    public static func value(named name: String, in header: String?) -> String? {
        guard let header else { return nil }
        return parse(header).first(where: { $0.name == name })?.value
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
