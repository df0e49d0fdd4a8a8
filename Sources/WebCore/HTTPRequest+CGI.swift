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
    public static func fromCGI(
        parameters: [String: String], readBody: (Int) -> [UInt8], discardBody: (Int) -> Void = { _ in },
        maxBodyBytes: Int
    ) -> HTTPRequest {
        var headers: [String: String] = [:]
        for (name, value) in parameters where name.hasPrefix("HTTP_") {
            headers[String(name.dropFirst(5)).lowercased().replacingUnderscores()] = value
        }
        if let type = parameters["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        let method = (parameters["REQUEST_METHOD"] ?? "GET").uppercased()
        var request = HTTPRequest(method: method, path: "/")
        request.headers = headers

        let uri = parameters["REQUEST_URI"] ?? ((parameters["SCRIPT_NAME"] ?? "/") + (parameters["PATH_INFO"] ?? ""))
        // Cut at the first `?` byte: a `?` followed by a combining mark is one `Character`.
        let target = Array(uri.utf8)
        let question = target.firstIndex(of: UInt8(ascii: "?"))
        do {
            request.path = try PercentDecoding.decode(target[..<(question ?? target.count)], plusAsSpace: false)
        } catch {
            request.bodyProblem = .malformedTarget
        }
        request.query =
            parameters["QUERY_STRING"] ?? question.map { String(decoding: target[($0 + 1)...], as: UTF8.self) } ?? ""
        let https = parameters["HTTPS"]?.lowercased()
        request.isHTTPS = https == "on" || https == "1" || headers["x-forwarded-proto"]?.lowercased() == "https"

        let lengthText = parameters["CONTENT_LENGTH"] ?? ""
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

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
