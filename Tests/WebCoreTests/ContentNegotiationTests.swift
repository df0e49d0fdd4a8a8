import Testing
import WebCore

@Suite struct ContentNegotiationTests {
    func request(accept: String? = nil, contentType: String? = nil) -> HTTPRequest {
        var headers: [String: String] = [:]
        if let accept { headers["accept"] = accept }
        if let contentType { headers["content-type"] = contentType }
        return HTTPRequest(method: "POST", path: "/manage", headers: headers)
    }

    /// Found by fuzzing: an empty type before `;`, and a `;` followed by a combining mark.
    @Test func mediaTypeEndsAtTheFirstSemicolonByte() {
        #expect(request(contentType: ";").mediaType == nil)
        #expect(request(contentType: ";charset=utf-8").mediaType == nil)
        #expect(request(contentType: "application/json;\u{301}charset=utf-8").mediaType == "application/json")
    }

    @Test func mediaTypeIsLowerCasedWithoutParameters() {
        #expect(request(contentType: "Application/JSON; charset=UTF-8").mediaType == "application/json")
        #expect(
            request(contentType: " application/x-www-form-urlencoded ").mediaType == "application/x-www-form-urlencoded"
        )
        #expect(request(contentType: "text/plain").mediaType == "text/plain")
    }

    @Test func missingOrEmptyMediaTypeIsNil() {
        #expect(request().mediaType == nil)
        #expect(request(contentType: "").mediaType == nil)
        #expect(request(contentType: " ; charset=utf-8").mediaType == nil)
    }

    @Test func jsonBodyIsRecognizedByItsType() {
        #expect(request(contentType: "application/json;charset=utf-8").hasJSONBody)
        #expect(!request(contentType: "application/jsonx").hasJSONBody)
        #expect(!request(contentType: "text/json").hasJSONBody)
        #expect(request(contentType: " Application/JSON \t; charset=utf-8").hasJSONBody)
        #expect(!request(contentType: "application/json\u{301}").hasJSONBody)
        #expect(!request(contentType: "application/js on").hasJSONBody)
        #expect(!request().hasJSONBody)
    }

    @Test(arguments: [
        "text/html", "TEXT/HTML", "text/html, application/json",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html;q=0.1, application/json",
    ])
    func htmlIsPreferredWhenNamedBeforeOrWithoutJSON(_ accept: String) {
        #expect(request(accept: accept).prefersHTML)
    }

    @Test(arguments: ["application/json", "application/json, text/html", "*/*", "text/plain", "", "text/*"])
    func jsonIsTheAnswerOtherwise(_ accept: String) {
        #expect(!request(accept: accept).prefersHTML)
    }

    @Test func noAcceptMeansJSON() {
        #expect(!request().prefersHTML)
        #expect(!request().acceptsJSON)
    }

    @Test func aJSONBodyAlwaysGetsJSON() {
        #expect(!request(accept: "text/html", contentType: "application/json").prefersHTML)
        #expect(request(accept: "text/html", contentType: "application/x-www-form-urlencoded").prefersHTML)
    }

    @Test func acceptsJSONWhenNamedAnywhere() {
        #expect(request(accept: "application/json").acceptsJSON)
        #expect(request(accept: "text/html, Application/Json;q=0.5").acceptsJSON)
        #expect(!request(accept: "text/html").acceptsJSON)
        #expect(!request(accept: "*/*").acceptsJSON)
    }

    @Test func headersAreLookedUpByLowerCaseName() {
        let request = HTTPRequest(method: "GET", path: "/", headers: ["cookie": "a=1"])
        #expect(request.header("cookie") == "a=1")
        #expect(request.header("x-missing") == nil)
        #expect(request.bodyProblem == nil)
        #expect(!request.isHTTPS)
    }

    @Test func trimmingTouchesOnlySpacesAndTabs() {
        #expect(Substring(" \t a b \t ").trimmedOfASCIIWhitespace == "a b")
        #expect(Substring("\na\n").trimmedOfASCIIWhitespace == "\na\n")
        #expect(Substring("   ").trimmedOfASCIIWhitespace == "")
        #expect(Substring("").trimmedOfASCIIWhitespace == "")
        // A space joined to a combining mark is one Character; only the space goes.
        #expect(Substring(" \u{301}é\t").trimmedOfASCIIWhitespace == "\u{301}é")
        #expect("x y \t".dropFirst(2).trimmedOfASCIIWhitespace == "y", "a slice keeps its own bounds")
    }
}

@Suite struct HTTPResponseTests {
    @Test func lineBreaksAreDroppedFromHeaderValues() {
        var response = HTTPResponse(status: 200)
        response.addHeader("X-Lf", "a\nSet-Cookie: evil=1")
        response.addHeader("X-Cr", "a\rSet-Cookie: evil=1")
        response.addHeader("X-Lf-Cr", "a\n\rb")
        #expect(response.header("x-lf") == "aSet-Cookie: evil=1")
        #expect(response.header("x-cr") == "aSet-Cookie: evil=1")
        #expect(response.header("x-lf-cr") == "ab")
    }

    @Test func crlfIsDroppedFromHeaderValues() {
        var response = HTTPResponse(status: 200)
        response.addHeader("X-Test", "a\r\nSet-Cookie: evil=1")
        let value = response.header("x-test") ?? ""
        #expect(!value.unicodeScalars.contains { $0 == "\r" || $0 == "\n" })
    }

    @Test func seeOtherCarriesTheLocation() {
        let response = HTTPResponse.seeOther("/manage")
        #expect(response.status == 303)
        #expect(response.header("Location") == "/manage")
        #expect(response.headers.first?.name == "Location")
    }

    @Test func jsonAndHTMLSetTheirContentTypes() {
        #expect(HTTPResponse.json(.null).header("content-type") == "application/json")
        #expect(HTTPResponse.html("<p>").header("Content-Type") == "text/html; charset=utf-8")
    }

    @Test func errorsNameTheirStatus() {
        let error = HTTPError.methodNotAllowed(["GET", "HEAD"])
        #expect(error.status == 405)
        #expect(error.headers.first?.name == "Allow" && error.headers.first?.value == "GET, HEAD")
        #expect(HTTPError.unavailable.status == 503)
        #expect(HTTPError.unavailable.headers.contains { $0.name == "Retry-After" && $0.value == "5" })
        #expect(HTTPResponse.reason(413) == "Content Too Large")
    }
}
