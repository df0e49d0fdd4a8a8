import Testing
import WebCore

@testable import Responder

@Suite struct QueryValidationTests {
    @Test(arguments: ["/", "/session", "/manage", "/health", "/status", "/nowhere"])
    func brokenPercentEncodingInAnyQueryIsABadRequest(_ path: String) throws {
        let harness = try Harness()
        for query in ["x=%zz", "x=%4", "x=%ff%fe", "%"] {
            let response = harness.send("GET", path, query: query)
            #expect(response.status == 400, "\(path)?\(query)")
            #expect(response.header("X-Served-By") == Harness.servedBy)
        }
    }

    @Test func aWellFormedQueryIsIgnoredWhereItMeansNothing() throws {
        let harness = try Harness()
        #expect(harness.send("GET", "/session", query: "utm_source=mail&x=%C3%A9").status == 200)
        #expect(harness.send("GET", "/health", query: "").status == 200)
    }
}
