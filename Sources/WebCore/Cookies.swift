/// Parsing the `Cookie` header and writing `Set-Cookie`.
public enum Cookies {
    /// Cookie pairs in order; a malformed pair is skipped, as browsers and PHP do.
    public static func parse(_ header: String, maxCookies: Int = 64) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for part in header.split(separator: ";") {
            guard result.count < maxCookies else { break }
            guard let equals = part.firstIndex(of: "=") else { continue }
            let name = part[..<equals].trimmingASCIIWhitespace()
            var value = part[part.index(after: equals)...].trimmingASCIIWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            if name.isEmpty { continue }
            result.append((name, value))
        }
        return result
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
