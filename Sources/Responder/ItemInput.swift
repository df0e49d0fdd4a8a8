import WebCore

/// Validation of item fields as docs/API.md ("Items") states them.
enum ItemInput {
    static let maxNameLength = 200
    static let maxContentLength = 10_000

    /// The trimmed name, 1 to 200 code points, or 422.
    static func name(_ raw: String) throws(HTTPError) -> String {
        let trimmed = trimmingWhiteSpace(raw)
        let length = trimmed.unicodeScalars.count
        guard length >= 1 else { throw HTTPError(422, "The name must not be empty.") }
        guard length <= maxNameLength else { throw HTTPError(422, "The name must be at most 200 characters.") }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPError(422, "The name must not hold control characters.")
        }
        return trimmed
    }

    /// The content, at most 10,000 code points and no NUL, or 422.
    static func content(_ raw: String) throws(HTTPError) -> String {
        guard raw.unicodeScalars.count <= maxContentLength else {
            throw HTTPError(422, "The content must be at most 10000 characters.")
        }
        guard !raw.unicodeScalars.contains(where: { $0.value == 0 }) else {
            throw HTTPError(422, "The content must not hold NUL characters.")
        }
        return raw
    }

    /// A numeric id, or 422. Ids too large for any item are well-formed but name no item (404).
    static func id(_ raw: String?) throws(HTTPError) -> Int64 {
        guard let raw, !raw.isEmpty else { throw HTTPError(422, "The field 'id' is required.") }
        guard raw.utf8.count <= 64, raw.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw HTTPError(422, "The field 'id' must be a positive whole number.")
        }
        guard let value = Int64(raw), value > 0 else { throw HTTPError(404, "No such item.") }
        return value
    }

    /// `text` without leading and trailing code points of Unicode's White_Space property.
    static func trimmingWhiteSpace(_ text: String) -> String {
        var scalars = text.unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
