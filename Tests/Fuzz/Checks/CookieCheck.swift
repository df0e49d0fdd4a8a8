import WebCore

/// `Cookies.parse` of a `Cookie` header.
enum CookieCheck {
    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        try check(String(decoding: bytes, as: UTF8.self))
        // A cookie-safe value (what session ids are) survives `Set-Cookie` and `Cookie`.
        let value = String(decoding: bytes.filter(\.isCookieSafe), as: UTF8.self)
        let header = Cookies.setCookie(name: "PHPSESSID", value: value, secure: bytes.first == 0x31, maxAge: 0)
        try require(Cookies.value(named: "PHPSESSID", in: header) == value, "Set-Cookie \(header) reads back wrong")
    }

    static func check(_ header: String) throws(FuzzFailure) {
        let pairs = Cookies.parse(header)
        try require(pairs.count <= 64, "\(pairs.count) cookies")
        for (name, value) in pairs {
            try require(!name.isEmpty, "a cookie without a name")
            try require(Substring(name).trimmedOfASCIIWhitespace == name, "an untrimmed name: \(name)")
            try require(
                !name.unicodeScalars.contains(";") && !value.unicodeScalars.contains(";"),
                "a cookie spans a ';': \(name)=\(value)")
        }
        let expected = reference(header)
        try require(
            pairs.count == expected.count && zip(pairs, expected).allSatisfy { $0 == $1 },
            "cookies \(pairs) where the bytes hold \(expected)")
        let few = Cookies.parse(header, maxCookies: 2)
        try require(
            few.count == min(pairs.count, 2) && zip(few, pairs).allSatisfy { $0 == $1 },
            "maxCookies changed the first cookies")
        if let first = pairs.first {
            try require(
                Cookies.value(named: first.name, in: header) == first.value, "value(named:) is not the first value")
        }
    }
}

/// The cookies of `header` read byte by byte, as PHP and browsers do: pieces between `;`, name and
/// value split at the first `=`, spaces and tabs trimmed, one pair of quotes around a value dropped,
/// pieces without `=` or with an empty name skipped, at most 64.
private func reference(_ header: String) -> [(name: String, value: String)] {
    func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var bytes = bytes
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        return bytes
    }
    var result: [(name: String, value: String)] = []
    for piece in Array(header.utf8).split(separator: UInt8(ascii: ";")) where result.count < 64 {
        guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { continue }
        let name = trimmed(piece[..<equals])
        var value = trimmed(piece[(equals + 1)...])
        if value.count >= 2 && value.first == 0x22 && value.last == 0x22 { value = value.dropFirst().dropLast() }
        if !name.isEmpty {
            result.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }
    return result
}

extension UInt8 {
    /// A letter or a digit, as in a session id.
    fileprivate var isCookieSafe: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
