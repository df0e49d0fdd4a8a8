internal import CFastCGI
import Glibc
import WebCore

/// Turns one accepted libfcgi request into an `HTTPRequest`, and an `HTTPResponse` back into
/// CGI response text. Nothing else in the product sees libfcgi.
struct FastCGIRequest {
    let raw: UnsafeMutablePointer<FCGX_Request>

    /// The CGI parameters `HTTPRequest.fromCGI` reads: every `HTTP_*` header and the few request
    /// variables it names. The rest (`SERVER_SOFTWARE`, `DOCUMENT_ROOT`, …) are not copied.
    func parameters() -> [String: String] {
        var result: [String: String] = [:]
        result.reserveCapacity(24)
        guard var cursor = raw.pointee.envp else { return result }
        while let entry = cursor.pointee {
            cursor += 1
            guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
            let nameLength = equals - entry
            let name = UnsafeRawBufferPointer(start: entry, count: nameLength)
            guard Self.isWanted(name) else { continue }
            let value = UnsafeRawBufferPointer(start: equals + 1, count: strlen(equals + 1))
            result[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return result
    }

    /// Request variables besides the `HTTP_*` headers that `HTTPRequest.fromCGI` reads.
    private static let wantedNames: [[UInt8]] = HTTPRequest.cgiVariables.map { Array($0.utf8) }

    private static func isWanted(_ name: UnsafeRawBufferPointer) -> Bool {
        if name.count > 5, name[0] == UInt8(ascii: "H"), name[1] == UInt8(ascii: "T"), name[2] == UInt8(ascii: "T"),
            name[3] == UInt8(ascii: "P"), name[4] == UInt8(ascii: "_")
        {
            return true
        }
        return wantedNames.contains { $0.elementsEqual(name) }
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
