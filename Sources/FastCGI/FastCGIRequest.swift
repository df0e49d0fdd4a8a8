internal import CFastCGI
import Glibc
import WebCore

/// Turns one accepted libfcgi request into an `HTTPRequest`, and an `HTTPResponse` back into
/// CGI response text. Nothing else in the product sees libfcgi.
struct FastCGIRequest {
    let raw: UnsafeMutablePointer<FCGX_Request>

    /// The CGI parameters `HTTPRequest.fromCGI` reads, in one pass over libfcgi's `NAME=VALUE`
    /// strings: names are compared as bytes, and only the values kept become strings.
    func parameters() -> CGIParameters {
        var result = CGIParameters()
        guard var cursor = raw.pointee.envp else { return result }
        while let entry = cursor.pointee {
            cursor += 1
            guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
            result.add(
                name: UnsafeRawBufferPointer(start: entry, count: equals - entry),
                value: UnsafeRawBufferPointer(start: equals + 1, count: strlen(equals + 1)))
        }
        return result
    }

    /// Reads and drops up to `limit` bytes of a body that is not wanted, so that a front end
    /// still sending it sees its answer instead of a closed connection.
    func discardBody(upTo limit: Int) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16384) { chunk in
            var left = limit
            while left > 0 {
                let got = FCGX_GetStr(chunk.baseAddress, Int32(min(chunk.count, left)), raw.pointee.in)
                if got <= 0 { return }
                left -= Int(got)
            }
        }
    }

    /// True once the front end's end-of-stdin record has been read.
    func stdinEnded() -> Bool {
        guard let input = raw.pointee.in else { return true }
        return FCGX_HasSeenEOF(input) != 0
    }

    /// Reads at most `limit + 1` bytes of the body.
    func readBody(upTo limit: Int) -> [UInt8] {
        var body: [UInt8] = []
        // Sized to what may come: most requests have no body (`limit` 0), and a zeroed 16 KiB
        // buffer for each of them was a visible share of `/health`'s CPU.
        var chunk = [CChar](repeating: 0, count: min(16384, limit + 1))
        while body.count <= limit {
            let want = Int32(min(chunk.count, limit + 1 - body.count))
            let got = chunk.withUnsafeMutableBufferPointer { FCGX_GetStr($0.baseAddress, want, raw.pointee.in) }
            if got <= 0 { break }
            body.append(contentsOf: chunk[0..<Int(got)].map { UInt8(bitPattern: $0) })
        }
        return body
    }

    /// Writes status, headers and body in one `FCGX_PutStr`.
    func write(_ response: HTTPResponse, includeBody: Bool) {
        write(bytes: CGIResponseText.bytes(of: response, includeBody: includeBody))
    }

    /// Writes a complete CGI answer (headers and body).
    func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = FCGX_PutStr(chars.baseAddress, Int32(chars.count), raw.pointee.out)
            }
        }
    }

    /// The request as a `BareGet`, read from libfcgi's `NAME=VALUE` strings without building
    /// anything; nil for any other method, a query, a declared body, or a path not in `paths`
    /// (where the scan stops: nginx and lighttpd send `REQUEST_URI` before the headers).
    func bareGet(paths: [[UInt8]]) -> BareGet? {
        guard var cursor = raw.pointee.envp else { return nil }
        var isGet = false
        var bare = BareGet()
        var path: UnsafeRawBufferPointer?
        while let entry = cursor.pointee {
            cursor += 1
            guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
            let name = UnsafeRawBufferPointer(start: entry, count: equals - entry)
            let value = UnsafeRawBufferPointer(start: equals + 1, count: strlen(equals + 1))
            switch CGIParameters.kind(of: name) {
            case .header?:
                if BareGet.isCookie(name) {
                    // The last one counts, as it does for the request.
                    bare.cookieBytes = value.count
                    bare.cookies = 1
                    for byte in value where byte == UInt8(ascii: ";") { bare.cookies += 1 }
                } else {
                    bare.longestHeaderValue = max(bare.longestHeaderValue, value.count)
                }
            case .method?: isGet = value.elementsEqual("GET".utf8)
            case .requestURI?:
                guard paths.contains(where: { value.elementsEqual($0) }) else { return nil }
                path = value
            case .queryString?:
                if !value.isEmpty { return nil }
            case .length?:
                // HAProxy sends `0` for a request without a body; the request treats `0` and none alike.
                if !value.isEmpty && !value.elementsEqual("0".utf8) { return nil }
            default: break
            }
        }
        guard isGet, let path else { return nil }
        bare.path = path
        return bare
    }
}

/// An `HTTPResponse` as the CGI response text a FastCGI responder writes.
public enum CGIResponseText {
    /// Status, headers and body as bytes. `Location` goes before `Status:` because HAProxy 2.6
    /// turns a 303 into a 302 otherwise; `Content-Length` is added when the response has none.
    public static func bytes(of response: HTTPResponse, includeBody: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + (includeBody ? response.body.count : 0))
        func append(_ text: String) {
            var text = text
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
        func line(_ name: String, _ value: String) {
            append(name)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(UInt8(ascii: " "))
            append(value)
            bytes.append(UInt8(ascii: "\r"))
            bytes.append(UInt8(ascii: "\n"))
        }
        var hasLength = false
        for (name, value) in response.headers where ASCIICaseInsensitive.equals(name, "location") {
            line("Location", value)
        }
        line("Status", "\(response.status) \(HTTPResponse.reason(response.status))")
        for (name, value) in response.headers where !ASCIICaseInsensitive.equals(name, "location") {
            if ASCIICaseInsensitive.equals(name, "content-length") { hasLength = true }
            line(name, value)
        }
        if !hasLength { line("Content-Length", String(response.body.count)) }
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
        if includeBody { bytes.append(contentsOf: response.body) }
        return bytes
    }
}

/// A `GET` without a query or a body, as much as a prepared answer needs to know of it: its
/// path and the sizes the header limits look at.
public struct BareGet {
    /// `REQUEST_URI`'s bytes, valid until the request finishes.
    public internal(set) var path = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The longest header value but the cookie's, in bytes.
    public internal(set) var longestHeaderValue = 0
    /// The `Cookie` header's length in bytes, and the cookies in it (0 without the header).
    public internal(set) var cookieBytes = 0, cookies = 0

    /// `HTTP_COOKIE` in any case (header names are lowered).
    static func isCookie(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count == 11 else { return false }
        var index = 5
        for expected in "cookie".utf8 {
            guard name[index].asciiLowercased == expected else { return false }
            index += 1
        }
        return true
    }
}
