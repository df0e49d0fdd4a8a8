import Testing
import WebCore

/// `HTTPRequest.fromCGI`: what a FastCGI request's parameters and body become.
@Suite struct HTTPRequestCGITests {
    static func request(_ parameters: [String: String], body: [UInt8] = [], maxBodyBytes: Int = 100) -> HTTPRequest {
        HTTPRequest.fromCGI(
            parameters: parameters, readBody: { limit in Array(body.prefix(limit + 1)) }, maxBodyBytes: maxBodyBytes)
    }

    @Test func pathQueryHeadersAndHTTPS() {
        let request = Self.request(
            [
                "REQUEST_METHOD": "post", "REQUEST_URI": "/sess%69on?a=1", "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_ACCEPT_LANGUAGE": "en", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "2",
            ], body: Array("{}".utf8))
        #expect(request.method == "POST")
        #expect(request.path == "/session")
        #expect(request.query == "a=1")
        #expect(request.headers["accept-language"] == "en")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.isHTTPS)
        #expect(request.body == Array("{}".utf8))
        #expect(request.bodyProblem == nil)
    }

    /// Found by fuzzing: a `?` followed by a combining mark is one Swift `Character`.
    @Test func theQueryStartsAtTheFirstQuestionMarkByte() {
        let request = Self.request(["REQUEST_METHOD": "GET", "REQUEST_URI": "/a?\u{301}b=1"])
        #expect(request.path == "/a")
        #expect(request.query == "\u{301}b=1")
    }

    @Test func bodyProblems() {
        #expect(Self.request(["CONTENT_LENGTH": "101"]).bodyProblem == .tooLarge)
        #expect(Self.request(["CONTENT_LENGTH": "5"], body: [1, 2]).bodyProblem == .lengthMismatch)
        #expect(Self.request(["CONTENT_LENGTH": "x"]).bodyProblem == .lengthMismatch)
        #expect(Self.request([:], body: [1]).bodyProblem == .lengthMismatch)
        #expect(Self.request(["REQUEST_URI": "/%zz"]).bodyProblem == .malformedTarget)
    }

    /// Names are told apart as bytes: near misses are ignored, every `HTTP_*` is a header, and a
    /// name given twice keeps its last value (libfcgi hands over what the front end sent).
    @Test func parameterNamesAreMatchedExactlyAsBytes() {
        var parameters = CGIParameters()
        func add(_ name: String, _ value: [UInt8]) {
            Array(name.utf8).withUnsafeBytes { name in value.withUnsafeBytes { parameters.add(name: name, value: $0) } }
        }
        add("REQUEST_URIX", Array("/wrong".utf8))
        add("request_uri", Array("/wrong".utf8))
        add("REQUEST_UR", Array("/wrong".utf8))
        add("HTTP", Array("x".utf8))
        add("HTTP_", Array("x".utf8))
        add("HTTPX_HOST", Array("x".utf8))
        add("HTTP_X_CUSTOM_NAME", Array("first".utf8))
        add("HTTP_X_CUSTOM_NAME", [0x61, 0xFF, 0x62])  // invalid UTF-8, repaired
        add("SCRIPT_NAME", Array("/manage".utf8))
        add("HTTPS", Array("ON".utf8))
        #expect(!parameters.hasRequestMethod)
        add("REQUEST_METHOD", Array("GET".utf8))
        #expect(parameters.hasRequestMethod)
        #expect(parameters.headers == ["x-custom-name": "a\u{FFFD}b"])
        let request = HTTPRequest.fromCGI(parameters, readBody: { _ in [] }, maxBodyBytes: 10)
        #expect(request.path == "/manage")
        #expect(request.isHTTPS)
        #expect(request.method == "GET")
    }

    /// The list form keeps the last of repeated names, as the bytes form does.
    @Test func theLastOfRepeatedParametersCounts() {
        let request = HTTPRequest.fromCGI(
            CGIParameters([
                ("REQUEST_URI", "/a"), ("HTTP_ACCEPT", "text/html"), ("REQUEST_URI", "/b?x=1"),
                ("HTTP_ACCEPT", "application/json"),
            ]),
            readBody: { _ in [] }, maxBodyBytes: 10)
        #expect(request.path == "/b")
        #expect(request.query == "x=1")
        #expect(request.headers["accept"] == "application/json")
    }
}
