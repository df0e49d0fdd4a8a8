import WebCore

/// A request body taken apart: a form or a JSON object; anything else is refused.
public enum RequestBody: Sendable, Equatable {
    case form(FormFields)
    case json([(key: String, value: JSONValue)])

    public static func == (lhs: RequestBody, rhs: RequestBody) -> Bool {
        switch (lhs, rhs) {
        case (.form(let a), .form(let b)): return a == b
        case (.json(let a), .json(let b)): return JSONValue.object(a) == JSONValue.object(b)
        default: return false
        }
    }

    /// Parses the body by its `Content-Type`: 415 for other types, 400 when it cannot be parsed.
    public static func parse(_ request: HTTPRequest, limits: InputLimits) throws(HTTPError) -> RequestBody {
        switch request.mediaType {
        case nil:
            guard request.body.isEmpty else {
                throw HTTPError(415, "Send the body as a form or as JSON.")
            }
            return .form(FormFields())
        case "application/x-www-form-urlencoded":
            return .form(try FormFields.parse(request.body, limits: limits.form))
        case "application/json":
            let value: JSONValue
            do {
                value = try JSONParser.parse(request.body, limits: limits.json)
            } catch {
                throw HTTPError(error.isOverLimit ? 413 : 400, error.description)
            }
            guard case .object(let members) = value else {
                throw HTTPError(400, "The JSON body must be an object.")
            }
            return .json(members)
        default:
            throw HTTPError(415, "Send the body as a form or as JSON.")
        }
    }

    /// True for a JSON body.
    public var isJSON: Bool {
        if case .json = self { return true }
        return false
    }

    /// A field as text: form fields as sent; JSON strings as they are, integers in decimal.
    /// Throws 422 when a JSON field has another type.
    public func text(_ name: String) throws(HTTPError) -> String? {
        switch self {
        case .form(let fields): return fields[name]
        case .json(let members):
            guard let value = members.first(where: { $0.key == name })?.value else { return nil }
            switch value {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .null: return nil
            default: throw HTTPError(422, "The field \(Self.quoted(name)) must be a string.")
            }
        }
    }

    /// The `id` field as text for `ItemInput.id`: like `text`, but a JSON number that is whole
    /// yet too large for an integer (`99999999999999999999`) is given as digits (a well-formed id
    /// of no item, 404), and any other number (`1.5`) as written, refused as not whole (422).
    public func idText() throws(HTTPError) -> String? {
        if case .json(let members) = self, case .double(let number)? = members.first(where: { $0.key == "id" })?.value {
            if number.isFinite, number >= 1, number.rounded(.towardZero) == number {
                return number < 9.2e18 ? String(Int64(number)) : String(repeating: "9", count: 20)
            }
            return String(number)
        }
        return try text("id")
    }

    /// The names of all fields.
    public var fieldNames: [String] {
        switch self {
        case .form(let fields): fields.fields.map(\.name)
        case .json(let members): members.map(\.key)
        }
    }

    /// A field name made safe to quote in a message.
    static func quoted(_ name: String) -> String {
        let clean = name.unicodeScalars.prefix(40).filter { $0.value >= 0x20 && $0.value != 0x7F }
        return "'" + String(String.UnicodeScalarView(clean)) + "'"
    }
}
