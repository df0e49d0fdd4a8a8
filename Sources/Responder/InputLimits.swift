import WebCore

/// Limits on what a request may carry, beyond the body size: each is a setting
/// (`ResponderConfiguration`), each answered with its own status and sentence.
public struct InputLimits: Sendable {
    public var form = FormLimits()
    public var json = JSONLimits()
    /// Most bytes of PHP-serialized session data (413).
    public var maxSessionBytes = 262_144
    /// Most bytes of any one request header's value (431).
    public var maxHeaderBytes = 8192
    /// Most bytes of the `Cookie` header (431).
    public var maxCookieBytes = 8192
    /// Most cookies in the `Cookie` header (431).
    public var maxCookies = 50

    public init() {}

    public init(_ configuration: ResponderConfiguration) {
        form = FormLimits(maxFields: configuration.maxFormFields, maxFieldBytes: configuration.maxFieldBytes)
        json = JSONLimits(maxDepth: configuration.maxJSONDepth, maxMembers: configuration.maxJSONMembers)
        maxSessionBytes = configuration.maxSessionBytes
        maxHeaderBytes = configuration.maxHeaderBytes
        maxCookieBytes = configuration.maxCookieBytes
        maxCookies = configuration.maxCookies
    }

    /// Refuses a request whose headers are over the limits, before any route reads them.
    public func checkHeaders(of request: HTTPRequest) throws(HTTPError) {
        if let cookie = request.headers["cookie"] {
            guard cookie.utf8.count <= maxCookieBytes else {
                throw HTTPError(431, "The Cookie header is longer than \(maxCookieBytes) bytes.")
            }
            var count = 1
            for byte in cookie.utf8 where byte == UInt8(ascii: ";") { count += 1 }
            guard count <= maxCookies else {
                throw HTTPError(431, "The request carries more than \(maxCookies) cookies.")
            }
        }
        for (name, value) in request.headers where value.utf8.count > maxHeaderBytes && name != "cookie" {
            throw HTTPError(431, "A request header is longer than \(maxHeaderBytes) bytes.")
        }
    }
}
