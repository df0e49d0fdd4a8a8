/// One HTTP response as a value: status, ordered headers, body.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers in the order they are sent. `Location` goes before `Status` on the wire (see FastCGI).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "application/json")], body: value.encoded())
    }

    /// An HTML response.
    public static func html(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(text.utf8))
    }

    /// A `303 See Other` to a fixed local path.
    public static func seeOther(_ location: String) -> HTTPResponse {
        HTTPResponse(status: 303, headers: [("Location", location), ("Content-Type", "text/plain")], body: [])
    }

    /// Adds a header; CR and LF in a value are dropped so no header can be injected.
    public mutating func addHeader(_ name: String, _ value: String) {
        let unsafe: (Unicode.Scalar) -> Bool = { $0 == "\r" || $0 == "\n" || $0 == "\0" }
        // CR, LF and NUL are single bytes in UTF-8: looking for them among the bytes is the same
        // test, without decoding scalars (this runs for every header of every answer).
        guard value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
            headers.append((name, value))
            return
        }
        headers.append((name, String(String.UnicodeScalarView(value.unicodeScalars.filter { !unsafe($0) }))))
    }

    /// The first header of that name (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == lower })?.value
    }

    /// The reason phrase of a status code.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 303: "See Other"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
