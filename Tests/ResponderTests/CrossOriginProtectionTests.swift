import Responder
import Testing
import WebCore

@Suite struct CrossOriginProtectionTests {
    func request(
        _ method: String, site: String? = nil, origin: String? = nil, host: String? = "example.com:8080",
        https: Bool = false
    ) -> HTTPRequest {
        var headers: [String: String] = [:]
        if let site { headers["sec-fetch-site"] = site }
        if let origin { headers["origin"] = origin }
        if let host { headers["host"] = host }
        return HTTPRequest(method: method, path: "/session", headers: headers, isHTTPS: https)
    }

    func refused(_ request: HTTPRequest) -> Bool {
        guard let error = CrossOriginProtection.check(request) else { return false }
        #expect(error.status == 403)
        return true
    }

    @Test(arguments: ["GET", "HEAD", "OPTIONS"])
    func safeMethodsAreNeverRefused(_ method: String) {
        #expect(!refused(request(method, site: "cross-site", origin: "https://evil.example")))
        #expect(!refused(request(method, origin: "https://evil.example")))
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func sameOriginAndUserInitiatedFetchesAreAllowed(_ method: String) {
        #expect(!refused(request(method, site: "same-origin")))
        #expect(!refused(request(method, site: "none")))
        // Sec-Fetch-Site decides even when Origin would not match.
        #expect(!refused(request(method, site: "same-origin", origin: "https://other.example")))
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func crossSiteAndSameSiteFetchesAreRefused(_ method: String) {
        #expect(refused(request(method, site: "cross-site")))
        #expect(refused(request(method, site: "same-site")))
        #expect(refused(request(method, site: "same-site", origin: "http://example.com:8080")))
        #expect(refused(request(method, site: "something-new")))
    }

    @Test func matchingOriginIsAllowed() {
        #expect(!refused(request("POST", origin: "http://example.com:8080")))
        #expect(!refused(request("POST", origin: "http://EXAMPLE.com:8080", host: "example.COM:8080")))
        #expect(!refused(request("POST", origin: "http://example.com", host: "example.com")))
    }

    @Test func matchingHTTPSOriginIsAllowed() {
        #expect(!refused(request("POST", origin: "https://example.com", host: "example.com", https: true)))
    }

    @Test func originOfAnotherSchemeIsRefused() {
        #expect(refused(request("POST", origin: "https://example.com:8080")))
        #expect(refused(request("POST", origin: "http://example.com", host: "example.com", https: true)))
    }

    @Test func originOfAnotherHostIsRefused() {
        #expect(refused(request("POST", origin: "http://evil.example:8080")))
        #expect(refused(request("POST", origin: "http://example.com.evil.example:8080")))
        #expect(refused(request("POST", origin: "null")))
    }

    @Test func originOfAnotherPortIsRefused() {
        #expect(refused(request("POST", origin: "http://example.com:8081")))
        #expect(refused(request("POST", origin: "http://example.com")))
        #expect(refused(request("DELETE", origin: "http://example.com:8080", host: "example.com")))
    }

    @Test func originWithoutHostIsRefused() {
        #expect(refused(request("POST", origin: "http://example.com:8080", host: nil)))
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func requestsWithNeitherHeaderAreServed(_ method: String) {
        #expect(!refused(request(method)))
        #expect(!refused(request(method, host: nil)))
    }
}
