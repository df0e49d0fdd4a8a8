internal import CFastCGI
import WebCore

/// Turns one accepted libfcgi request into an `HTTPRequest`, and an `HTTPResponse` back into
/// CGI response text. Nothing else in the product sees libfcgi.
struct FastCGIRequest {
    let raw: UnsafeMutablePointer<FCGX_Request>

    /// All CGI parameters of the request.
    func parameters() -> [String: String] {
        var result: [String: String] = [:]
        guard var cursor = raw.pointee.envp else { return result }
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }

    /// Reads and drops up to `limit` bytes of a body that is not wanted, so that a front end
    /// still sending it sees its answer instead of a closed connection.
    func discardBody(upTo limit: Int) {
        var chunk = [CChar](repeating: 0, count: 65536)
        var left = limit
        while left > 0 {
            let got = chunk.withUnsafeMutableBufferPointer {
                FCGX_GetStr($0.baseAddress, Int32(min($0.count, left)), raw.pointee.in)
            }
            if got <= 0 { return }
            left -= Int(got)
        }
    }

    /// Reads at most `limit + 1` bytes of the body.
    func readBody(upTo limit: Int) -> [UInt8] {
        var body: [UInt8] = []
        var chunk = [CChar](repeating: 0, count: 16384)
        while body.count <= limit {
            let want = Int32(min(chunk.count, limit + 1 - body.count))
            let got = chunk.withUnsafeMutableBufferPointer { FCGX_GetStr($0.baseAddress, want, raw.pointee.in) }
            if got <= 0 { break }
            body.append(contentsOf: chunk[0..<Int(got)].map { UInt8(bitPattern: $0) })
        }
        return body
    }

    /// The most of an oversized body read only to be dropped; past it the connection is closed.
    static let maxDiscardedBytes = 64 << 20

    /// Builds the request value from CGI parameters and the body.
    static func makeHTTPRequest(
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
        let target = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        do {
            let pathText = target.first.map(String.init) ?? "/"
            request.path = try PercentDecoding.decode(Array(pathText.utf8), plusAsSpace: false)
        } catch {
            request.bodyProblem = .malformedTarget
        }
        request.query = parameters["QUERY_STRING"] ?? (target.count > 1 ? String(target[1]) : "")
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
                discardBody(min(declared, Self.maxDiscardedBytes))
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

    /// Writes status, headers and body. `Location` goes before `Status:` because HAProxy 2.6
    /// turns a 303 into a 302 otherwise.
    func write(_ response: HTTPResponse, includeBody: Bool) {
        var head = ""
        if let location = response.header("Location") { head += "Location: \(location)\r\n" }
        head += "Status: \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        var hasLength = false
        for (name, value) in response.headers where name.lowercased() != "location" {
            if name.lowercased() == "content-length" { hasLength = true }
            head += "\(name): \(value)\r\n"
        }
        if !hasLength { head += "Content-Length: \(response.body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes.append(contentsOf: response.body) }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = FCGX_PutStr(chars.baseAddress, Int32(chars.count), raw.pointee.out)
            }
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
