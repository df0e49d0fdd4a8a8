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
        let type = Self.mediaType(in: value)
        return type.isEmpty ? nil : type.lowercased()
    }

    /// True when the body is JSON by its declared type.
    public var hasJSONBody: Bool {
        guard let value = headers["content-type"] else { return false }
        return ASCIICaseInsensitive.equals(Self.mediaType(in: value), "application/json")
    }

    /// The media type in a `Content-Type` value, as written: up to the first `;` byte (a `;`
    /// followed by a combining mark is one `Character`, but `;` is never part of a longer UTF-8
    /// sequence), without spaces and tabs around it.
    private static func mediaType(in value: String) -> Substring {
        let bytes = value.utf8
        return value[..<(bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex)].trimmedOfASCIIWhitespace
    }

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

extension Substring {
    /// The text without leading and trailing spaces and tabs, in this one's storage. Both are
    /// single UTF-8 bytes, so the text is trimmed byte by byte.
    public var trimmedOfASCIIWhitespace: Substring {
        let bytes = utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return self[endIndex...] }
        return self[first..<bytes.index(after: last)]
    }
}
