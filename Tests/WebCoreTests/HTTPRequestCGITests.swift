import Testing
import WebCore

/// `HTTPRequest.fromCGI`: what a FastCGI request's parameters and body become.
@Suite struct HTTPRequestCGITests {
    static func request(_ parameters: [String: String], body: [UInt8] = [], maxBodyBytes: Int = 100) -> HTTPRequest {
        HTTPRequest.fromCGI(
            parameters: parameters, readBody: { limit in Array(body.prefix(limit + 1)) }, maxBodyBytes: maxBodyBytes)
    }

    @Test func pathQueryHeadersAndHTTPS() {
        let request = Self.request([
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
}
