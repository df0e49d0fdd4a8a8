import Foundation

/// One HTTP request as the responder sees it, independent of how it arrived.
public struct HTTPRequest: Sendable {
    /// Upper-case method (`GET`, `POST`, …).
    public var method: String
    /// The decoded path, without the query string (`/manage`).
    public var path: String
    /// The raw query string, without `?`.
    public var query: String
    /// Request headers with lower-case names (`content-type`, `cookie`, …).
    public var headers: [String: String]
    public var body: [UInt8]
    /// True when the client reached the front end over HTTPS.
    public var isHTTPS: Bool
    /// Set by the transport when the body could not be taken as it came.
    public var bodyProblem: BodyProblem?

    /// What was wrong with a body before any route saw it.
    public enum BodyProblem: Sendable, Equatable {
        /// `CONTENT_LENGTH` is over the limit (413); the body was not read.
        case tooLarge
        /// The body was shorter or longer than `CONTENT_LENGTH` said, or the length was not a number (400).
        case lengthMismatch
        /// The request line or path could not be decoded (400).
        case malformedTarget
    }

    public init(
        method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = [],
        isHTTPS: Bool = false
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.isHTTPS = isHTTPS
    }

    /// A header by lower-case name.
    public func header(_ name: String) -> String? { headers[name] }

    /// The media type of the body, lower-cased, without parameters (`application/json`).
    public var mediaType: String? {
        guard let value = headers["content-type"] else { return nil }
        // Up to the first `;` scalar: a `;` followed by a combining mark is one `Character`.
        let end = value.unicodeScalars.firstIndex(of: ";") ?? value.endIndex
        let trimmed = value[..<end].trimmingASCIIWhitespace().lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// True when the body is JSON by its declared type.
    public var hasJSONBody: Bool { mediaType == "application/json" }

    /// True when the answer should be HTML: `Accept` names `text/html` before (or without)
    /// `application/json`, and the body is not JSON.
    public var prefersHTML: Bool {
        if hasJSONBody { return false }
        guard let accept = headers["accept"], let html = ASCIICaseInsensitive.offset(of: "text/html", in: accept)
        else { return false }
        guard let json = ASCIICaseInsensitive.offset(of: "application/json", in: accept) else { return true }
        return html < json
    }

    /// True when `Accept` names `application/json` at all.
    public var acceptsJSON: Bool {
        headers["accept"].flatMap { ASCIICaseInsensitive.offset(of: "application/json", in: $0) } != nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    public func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
