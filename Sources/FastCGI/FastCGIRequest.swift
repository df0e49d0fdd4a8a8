internal import CFastCGI
import Glibc
import WebCore

/// Turns one accepted libfcgi request into an `HTTPRequest`, and an `HTTPResponse` back into
/// CGI response text. Nothing else in the product sees libfcgi.
struct FastCGIRequest {
    let raw: UnsafeMutablePointer<FCGX_Request>

    /// The CGI parameters `HTTPRequest.fromCGI` reads, in the order they came: every `HTTP_*`
    /// header and the few request variables it names. The rest (`SERVER_SOFTWARE`,
    /// `DOCUMENT_ROOT`, …) are not copied.
    func parameters() -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        result.reserveCapacity(24)
        guard var cursor = raw.pointee.envp else { return result }
        while let entry = cursor.pointee {
            cursor += 1
            guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
            let nameLength = equals - entry
            let name = UnsafeRawBufferPointer(start: entry, count: nameLength)
            guard Self.isWanted(name) else { continue }
            let value = UnsafeRawBufferPointer(start: equals + 1, count: strlen(equals + 1))
            result.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return result
    }

    /// Request variables besides the `HTTP_*` headers that `HTTPRequest.fromCGI` reads.
    private static let wantedNames: [[UInt8]] = HTTPRequest.cgiVariables.map { Array($0.utf8) }

    private static func isWanted(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count >= 5 else { return false }
        switch name[0] {
        case UInt8(ascii: "H"):
            if name.count == 5 { return name.elementsEqual("HTTPS".utf8) }
            return name[1] == UInt8(ascii: "T") && name[2] == UInt8(ascii: "T") && name[3] == UInt8(ascii: "P")
                && name[4] == UInt8(ascii: "_")
        case UInt8(ascii: "R"), UInt8(ascii: "S"), UInt8(ascii: "P"), UInt8(ascii: "Q"), UInt8(ascii: "C"):
            return wantedNames.contains { $0.count == name.count && $0.elementsEqual(name) }
        default:
            return false
        }
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

    /// Writes status, headers and body in one `FCGX_PutStr`. `Location` goes before `Status:`
    /// because HAProxy 2.6 turns a 303 into a 302 otherwise.
    func write(_ response: HTTPResponse, includeBody: Bool) {
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
        for (name, value) in response.headers where Self.sameName(name, "location") { line("Location", value) }
        line("Status", "\(response.status) \(HTTPResponse.reason(response.status))")
        for (name, value) in response.headers where !Self.sameName(name, "location") {
            if Self.sameName(name, "content-length") { hasLength = true }
            line(name, value)
        }
        if !hasLength { line("Content-Length", String(response.body.count)) }
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
        if includeBody { bytes.append(contentsOf: response.body) }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = FCGX_PutStr(chars.baseAddress, Int32(chars.count), raw.pointee.out)
            }
        }
    }

    /// ASCII case-insensitive equality with a lowercase name, without building strings.
    private static func sameName(_ name: String, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard name.utf8.count == expected.count else { return false }
        return zip(name.utf8, expected).allSatisfy { $0.asciiLowercased == $1 }
    }
}
