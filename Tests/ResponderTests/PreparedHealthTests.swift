import FastCGI
import Testing
import WebCore

@testable import Responder

/// `GET /health` answered from bytes prepared at start-up (the FastCGI worker's short way)
/// must be indistinguishable from the full route.
@Suite struct PreparedHealthTests {
    /// In every state of the two nodes: the prepared bytes are the full route's bytes, and a
    /// failing check (503, which is logged) always takes the full route.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func preparedAnswerIsTheFullRoutesAnswer(aFails: Bool, bFails: Bool) throws {
        let harness = try Harness()
        if aFails { harness.services.health.a.recordFailure("refused") }
        if bFails { harness.services.health.b.recordFailure("refused") }
        let full = CGIResponseText.bytes(of: harness.send("GET", "/health"), includeBody: true)
        let index = harness.app.preparedHealthIndex(longestHeaderValue: 40, cookieBytes: 30, cookies: 2)
        if aFails && bFails {
            #expect(index == nil)
            #expect(String(decoding: full, as: UTF8.self).hasPrefix("Status: 503"))
        } else {
            let prepared = harness.app.preparedHealthAnswers[try #require(index)]
            #expect(CGIResponseText.bytes(of: prepared, includeBody: true) == full)
            #expect(String(decoding: full, as: UTF8.self).contains("X-Served-By: \(Harness.servedBy)\r\n"))
        }
    }

    /// Headers within a third of their limits (invalid UTF-8 can triple when repaired) may be
    /// answered in advance; anything nearer a limit goes through the full route's checks.
    @Test func headersNearALimitTakeTheFullRoute() throws {
        let harness = try Harness(environment: [
            "MAX_HEADER_BYTES": "3000", "MAX_COOKIE_BYTES": "300", "MAX_COOKIES": "3",
        ])
        func index(_ longest: Int, _ cookieBytes: Int, _ cookies: Int) -> Int? {
            harness.app.preparedHealthIndex(longestHeaderValue: longest, cookieBytes: cookieBytes, cookies: cookies)
        }
        #expect(index(1000, 100, 3) != nil)
        #expect(index(1001, 0, 0) == nil)
        #expect(index(0, 101, 1) == nil)
        #expect(index(0, 10, 4) == nil)
        // The full route refuses what is past a limit; the short way never sees it.
        #expect(
            harness.send("GET", "/health", headers: ["user-agent": String(repeating: "x", count: 3001)]).status == 431)
        #expect(harness.send("GET", "/health", headers: ["cookie": "a=1; b=2; c=3; d=4"]).status == 431)
    }

    /// The metrics count a prepared answer as the full route counts a request.
    @Test func preparedAnswerIsCounted() throws {
        let harness = try Harness()
        func healthCount() -> Int {
            let text = harness.send("GET", "/status", query: "format=prometheus").bodyText
            let line = text.split(separator: "\n").first {
                $0.hasPrefix("responder_request_duration_seconds_count") && $0.contains("route=\"/health\"")
            }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        let before = healthCount()
        _ = harness.send("GET", "/health")
        #expect(harness.app.preparedHealthIndex(longestHeaderValue: 0, cookieBytes: 0, cookies: 0) != nil)
        #expect(healthCount() == before + 2)
    }
}
