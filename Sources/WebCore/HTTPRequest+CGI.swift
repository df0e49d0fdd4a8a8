/// Building an `HTTPRequest` from CGI parameters (what FastCGI carries). Pure, so that it can
/// be unit-tested and fuzzed without a socket.
extension HTTPRequest {
    /// The CGI variables `fromCGI` reads besides the `HTTP_*` headers.
    public static let cgiVariables = [
        "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "HTTPS", "CONTENT_LENGTH",
        "CONTENT_TYPE",
    ]

    /// The most of an oversized body read only to be dropped; past it the connection is closed.
    public static let maxDiscardedBytes = 64 << 20

    /// Builds the request value from CGI parameters and the body.
    ///
    /// `parameters` may repeat a name (libfcgi hands over what the front end sent); the last one
    /// counts, as in a dictionary. One pass, no dictionary of the parameters is built.
    public static func fromCGI(
        parameters: [String: String], readBody: (Int) -> [UInt8], discardBody: (Int) -> Void = { _ in },
        maxBodyBytes: Int
    ) -> HTTPRequest {
        fromCGI(parameters: Array(parameters), readBody: readBody, discardBody: discardBody, maxBodyBytes: maxBodyBytes)
    }

    /// The same from the parameters as a list (not generic: this runs on every request, and a
    /// generic function called from another module is not specialised).
    public static func fromCGI(
        parameters: [(key: String, value: String)], readBody: (Int) -> [UInt8], discardBody: (Int) -> Void = { _ in },
        maxBodyBytes: Int
    ) -> HTTPRequest {
        var headers: [String: String] = [:]
        headers.reserveCapacity(parameters.count)
        var givenMethod: String?, requestURI: String?, scriptName: String?, pathInfo: String?
        var queryString: String?, httpsFlag: String?, contentLength: String?, contentType: String?
        for (name, value) in parameters {
            if name.utf8.starts(with: "HTTP_".utf8) {
                headers[headerName(cgiName: name)] = value
                continue
            }
            switch name {
            case "REQUEST_METHOD": givenMethod = value
            case "REQUEST_URI": requestURI = value
            case "SCRIPT_NAME": scriptName = value
            case "PATH_INFO": pathInfo = value
            case "QUERY_STRING": queryString = value
            case "HTTPS": httpsFlag = value
            case "CONTENT_LENGTH": contentLength = value
            case "CONTENT_TYPE": contentType = value
            default: break
            }
        }
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

    /// `HTTP_ACCEPT_LANGUAGE` → `accept-language`, byte by byte: ASCII letters lowered, `_` made
    /// `-`, every other byte kept (header names are ASCII tokens; nothing else is changed).
    static func headerName(cgiName: String) -> String {
        let bytes = cgiName.utf8.dropFirst(5)
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
