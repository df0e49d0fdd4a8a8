/// The CGI parameters of one request that `HTTPRequest.fromCGI` reads, gathered in one pass
/// over name and value bytes (as libfcgi hands them over): every `HTTP_*` header under its HTTP
/// name (`HTTP_ACCEPT_LANGUAGE` → `accept-language`), the few request variables below, nothing
/// else. A name given twice keeps its last value.
public struct CGIParameters {
    public internal(set) var headers: [String: String] = [:]
    var method: String?, requestURI: String?, scriptName: String?, pathInfo: String?
    var queryString: String?, https: String?, contentLength: String?, contentType: String?

    public init() { headers.reserveCapacity(16) }

    /// The list of parameters, in order (tests and fuzzing build requests this way).
    public init(_ parameters: [(key: String, value: String)]) {
        self.init()
        for (name, value) in parameters {
            var name = name
            name.withUTF8 { add(name: UnsafeRawBufferPointer($0), value: value) }
        }
    }

    /// True when the front end sent `REQUEST_METHOD`: a request it aborted before sending any
    /// parameter (HAProxy does so with a path it cannot encode) has none.
    public var hasRequestMethod: Bool { method != nil }

    /// Takes one parameter; `value` is read only when the name is one that is kept.
    public mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard let kind = Self.kind(of: name) else { return }
        store(String(decoding: value, as: UTF8.self), as: kind, name: name)
    }

    mutating func add(name: UnsafeRawBufferPointer, value: String) {
        guard let kind = Self.kind(of: name) else { return }
        store(value, as: kind, name: name)
    }

    /// What a CGI parameter is to a request.
    public enum Kind { case header, method, requestURI, scriptName, pathInfo, queryString, https, length, type }

    private mutating func store(_ value: String, as kind: Kind, name: UnsafeRawBufferPointer) {
        switch kind {
        case .header: headers[Self.headerName(cgiName: name)] = value
        case .method: method = value
        case .requestURI: requestURI = value
        case .scriptName: scriptName = value
        case .pathInfo: pathInfo = value
        case .queryString: queryString = value
        case .https: https = value
        case .length: contentLength = value
        case .type: contentType = value
        }
    }

    /// What a parameter name is, compared as bytes (no string is made for names not kept).
    /// Runs for each of the ~30 parameters of every request: the length decides first.
    public static func kind(of name: UnsafeRawBufferPointer) -> Kind? {
        guard name.count >= 5, let start = name.baseAddress else { return nil }
        func equals(_ expected: StaticString) -> Bool {
            var index = 0
            while index < name.count {
                if start.load(fromByteOffset: index, as: UInt8.self) != expected.utf8Start[index] { return false }
                index += 1
            }
            return true
        }
        // "HTTP" as a little-endian 32-bit word.
        if start.loadUnaligned(as: UInt32.self).littleEndian == 0x5054_5448 {
            let fifth = start.load(fromByteOffset: 4, as: UInt8.self)
            if name.count == 5 { return fifth == UInt8(ascii: "S") ? .https : nil }
            return fifth == UInt8(ascii: "_") ? .header : nil
        }
        switch name.count {
        case 9: return equals("PATH_INFO") ? .pathInfo : nil
        case 11: return equals("REQUEST_URI") ? .requestURI : equals("SCRIPT_NAME") ? .scriptName : nil
        case 12: return equals("QUERY_STRING") ? .queryString : equals("CONTENT_TYPE") ? .type : nil
        case 14: return equals("REQUEST_METHOD") ? .method : equals("CONTENT_LENGTH") ? .length : nil
        default: return nil
        }
    }

    /// `HTTP_ACCEPT_LANGUAGE` → `accept-language`, byte by byte: ASCII letters lowered, `_` made
    /// `-`, every other byte kept (header names are ASCII tokens; nothing else is changed).
    static func headerName(cgiName: UnsafeRawBufferPointer) -> String {
        let bytes = cgiName.dropFirst(5)
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            var index = 0
            for byte in bytes {
                buffer[index] = byte == UInt8(ascii: "_") ? UInt8(ascii: "-") : byte.asciiLowercased
                index += 1
            }
            return index
        }
    }
}

/// Building an `HTTPRequest` from CGI parameters (what FastCGI carries). Pure, so that it can
/// be unit-tested and fuzzed without a socket.
extension HTTPRequest {
    /// The most of an oversized body read only to be dropped; past it the connection is closed.
    public static let maxDiscardedBytes = 64 << 20

    /// Builds the request value from CGI parameters given as a dictionary (tests).
    public static func fromCGI(
        parameters: [String: String], readBody: (Int) -> [UInt8], discardBody: (Int) -> Void = { _ in },
        maxBodyBytes: Int
    ) -> HTTPRequest {
        fromCGI(
            CGIParameters(Array(parameters)), readBody: readBody, discardBody: discardBody, maxBodyBytes: maxBodyBytes)
    }

    /// Builds the request value from CGI parameters and the body.
    public static func fromCGI(
        _ parameters: CGIParameters, readBody: (Int) -> [UInt8], discardBody: (Int) -> Void = { _ in },
        maxBodyBytes: Int
    ) -> HTTPRequest {
        var headers = parameters.headers
        let givenMethod = parameters.method
        let requestURI = parameters.requestURI
        let scriptName = parameters.scriptName
        let pathInfo = parameters.pathInfo
        let queryString = parameters.queryString
        let httpsFlag = parameters.https
        let contentLength = parameters.contentLength
        let contentType = parameters.contentType
        if let contentType, !contentType.isEmpty { headers["content-type"] = contentType }
        let method = givenMethod ?? "GET"
        var request = HTTPRequest(
            method: method.utf8.contains(where: { $0 >= UInt8(ascii: "a") }) ? method.uppercased() : method, path: "/")
        request.headers = headers

        let uri = requestURI ?? ((scriptName ?? "/") + (pathInfo ?? ""))
        // Cut at the first `?` byte: a `?` followed by a combining mark is one `Character`.
        let target = Array(uri.utf8)
        let question = target.firstIndex(of: UInt8(ascii: "?"))
        do {
            request.path = try PercentDecoding.decode(target[..<(question ?? target.count)], plusAsSpace: false)
        } catch {
            request.bodyProblem = .malformedTarget
        }
        request.query =
            queryString ?? question.map { String(decoding: target[($0 + 1)...], as: UTF8.self) } ?? ""
        let https = httpsFlag?.lowercased()
        request.isHTTPS = https == "on" || https == "1" || headers["x-forwarded-proto"]?.lowercased() == "https"

        let lengthText = contentLength ?? ""
        if lengthText.isEmpty {
            // No declared body. A body that arrives anyway is a lie about its length.
            let extra = readBody(0)
            if !extra.isEmpty && request.bodyProblem == nil { request.bodyProblem = .lengthMismatch }
        } else if let declared = Int(lengthText), declared >= 0 {
            if declared > maxBodyBytes {
                if request.bodyProblem == nil { request.bodyProblem = .tooLarge }
                discardBody(min(declared, maxDiscardedBytes))
            } else {
                let body = readBody(declared)
                if body.count != declared {
                    if request.bodyProblem == nil { request.bodyProblem = .lengthMismatch }
                } else {
                    request.body = body
                }
            }
        } else if request.bodyProblem == nil {
            request.bodyProblem = .lengthMismatch
        }
        return request
    }
}
