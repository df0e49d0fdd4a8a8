import CFastCGI
import Glibc
import Testing
import WebCore

@testable import FastCGI

/// What the worker may answer from a prepared text: read from the `NAME=VALUE` strings libfcgi
/// hands over, as HAProxy, nginx and lighttpd send them.
@Suite struct BareGetTests {
    /// Runs `body` on a request whose parameters are `parameters`, in order.
    func withRequest<T>(_ parameters: [String], _ body: (FastCGIRequest) -> T) -> T {
        var strings = parameters.map { strdup($0) }
        strings.append(nil)
        defer {
            for string in strings { free(string) }
        }
        let raw = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { raw.deallocate() }
        memset(raw, 0, MemoryLayout<FCGX_Request>.size)
        return strings.withUnsafeMutableBufferPointer { envp in
            raw.pointee.envp = envp.baseAddress
            return body(FastCGIRequest(raw: raw))
        }
    }

    let health = [Array("/health".utf8)]
    let plain = [
        "CONTENT_LENGTH=", "CONTENT_TYPE=", "QUERY_STRING=", "REQUEST_METHOD=GET", "REQUEST_URI=/health",
        "SCRIPT_NAME=/health", "HTTP_HOST=127.0.0.1:8080", "HTTP_USER_AGENT=curl/7.88.1",
    ]

    @Test func aPlainGetOfAPreparedPath() throws {
        // The path points into the request's strings: read it while they live.
        let path = withRequest(plain) { $0.bareGet(paths: health).map { Array($0.path) } }
        #expect(path == Array("/health".utf8))
        let bare = try #require(withRequest(plain) { $0.bareGet(paths: health) })
        #expect(bare.longestHeaderValue == "127.0.0.1:8080".utf8.count)
        #expect(bare.cookieBytes == 0 && bare.cookies == 0)
    }

    /// HAProxy sends `CONTENT_LENGTH=0` (and its headers first) for a request without a body.
    @Test func haproxysZeroLengthIsNoBody() throws {
        let haproxy = [
            "HTTP_HOST=localhost", "HTTP_CONNECTION=close", "GATEWAY_INTERFACE=CGI/1.1", "SCRIPT_NAME=/health",
            "REQUEST_URI=/health", "REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1", "CONTENT_LENGTH=0",
        ]
        #expect(withRequest(haproxy) { $0.bareGet(paths: health) } != nil)
    }

    @Test func theCookieIsMeasuredApartInAnyCase() throws {
        for name in ["HTTP_COOKIE", "HTTP_cookie", "HTTP_Cookie"] {
            let bare = try #require(
                withRequest(plain + ["\(name)=a=1; b=2;c=3", "HTTP_X_LONG=123456789012345"]) {
                    $0.bareGet(paths: health)
                })
            #expect(bare.cookieBytes == 12 && bare.cookies == 3, "\(name)")
            #expect(bare.longestHeaderValue == 15)
        }
        let empty = try #require(withRequest(plain + ["HTTP_COOKIE="]) { $0.bareGet(paths: health) })
        #expect(empty.cookieBytes == 0 && empty.cookies == 1)
        let near = try #require(withRequest(plain + ["HTTP_COOKIES=x"]) { $0.bareGet(paths: health) })
        #expect(near.cookies == 0 && near.longestHeaderValue == 14)
    }

    /// Everything the full route would treat differently is left to it.
    @Test(arguments: [
        ["REQUEST_METHOD=HEAD"], ["REQUEST_METHOD=get"], ["REQUEST_METHOD=POST"], ["REQUEST_URI=/health?x=1"],
        ["REQUEST_URI=/health.php"], ["REQUEST_URI=/%68ealth"], ["REQUEST_URI=/health/"], ["QUERY_STRING=x=1"],
        ["CONTENT_LENGTH=5"], ["CONTENT_LENGTH=00"], ["CONTENT_LENGTH= 0"],
    ])
    func otherRequestsTakeTheFullRoute(change: [String]) {
        let name = change[0].prefix { $0 != "=" }
        let parameters = plain.filter { !$0.hasPrefix(name + "=") } + change
        #expect(withRequest(parameters) { $0.bareGet(paths: health) } == nil)
    }

    @Test func withoutMethodOrURINothingIsPrepared() {
        #expect(withRequest(plain.filter { !$0.hasPrefix("REQUEST_METHOD=") }) { $0.bareGet(paths: health) } == nil)
        #expect(withRequest(plain.filter { !$0.hasPrefix("REQUEST_URI=") }) { $0.bareGet(paths: health) } == nil)
        #expect(withRequest(plain + ["REQUEST_URI=/other"]) { $0.bareGet(paths: health) } == nil, "the last one counts")
        #expect(
            withRequest(plain + ["REQUEST_METHOD=POST"]) { $0.bareGet(paths: health) } == nil, "the last one counts")
    }

    @Test func responseTextPutsLocationFirstAndAddsTheLength() {
        var response = HTTPResponse(status: 303)
        response.addHeader("Content-Type", "text/html; charset=utf-8")
        response.addHeader("Location", "/manage")
        response.body = Array("see".utf8)
        let text = String(decoding: CGIResponseText.bytes(of: response, includeBody: true), as: UTF8.self)
        #expect(
            text
                == "Location: /manage\r\nStatus: 303 See Other\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 3\r\n\r\nsee"
        )
        let head = String(decoding: CGIResponseText.bytes(of: response, includeBody: false), as: UTF8.self)
        #expect(head.hasSuffix("Content-Length: 3\r\n\r\n"))
    }
}
