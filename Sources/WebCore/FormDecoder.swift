/// Limits on a form body or query string.
public struct FormLimits: Sendable {
    public var maxFields: Int
    /// Bytes of a field's name or value after percent-decoding (`MAX_FIELD_BYTES`).
    public var maxFieldBytes: Int
    public init(maxFields: Int = 1000, maxFieldBytes: Int = 65536) {
        self.maxFields = maxFields
        self.maxFieldBytes = maxFieldBytes
    }
}

/// Decoded `application/x-www-form-urlencoded` fields, in order.
public struct FormFields: Sendable, Equatable {
    public var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    /// The first value of a field.
    public subscript(name: String) -> String? { fields.first(where: { $0.name == name })?.value }

    public static func == (lhs: FormFields, rhs: FormFields) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0 == $1 }
    }

    /// Parses a form body or query string. Throws a `400`/`413`-style `HTTPError`.
    public static func parse(_ bytes: [UInt8], limits: FormLimits = FormLimits()) throws(HTTPError) -> FormFields {
        var result: [(name: String, value: String)] = []
        if bytes.isEmpty { return FormFields() }
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            guard result.count < limits.maxFields else { throw HTTPError(413, "The form has too many fields.") }
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name: String
            let value: String
            do {
                name = try PercentDecoding.decode(Array(parts[0]), plusAsSpace: true)
                value = parts.count > 1 ? try PercentDecoding.decode(Array(parts[1]), plusAsSpace: true) : ""
            } catch .brokenEscape {
                throw .badRequest("The form has broken percent-encoding.")
            } catch {
                throw .badRequest("The form is not valid UTF-8.")
            }
            // The limit counts what the user typed (decoded bytes), not its encoding: a
            // percent-encoded emoji is 12 bytes on the wire and 4 in the field.
            guard name.utf8.count <= limits.maxFieldBytes, value.utf8.count <= limits.maxFieldBytes else {
                throw HTTPError(413, "A form field is too long.")
            }
            result.append((name, value))
        }
        return FormFields(result)
    }
}
