import Responder
import Testing
import WebCore

@Suite struct StatusAndPagesTests {
    @Test func statusHasEveryKeyTheAPIDocumentLists() throws {
        let harness = try Harness(poolFigures: { PoolFigures(accepted: 7, active: 1, maxActive: 3, workers: 4) })
        let response = harness.send("GET", "/status")
        #expect(response.status == 200)
        #expect(response.isJSON)
        let status = try #require(response.jsonBody)
        for key in [
            "pool", "pid", "start_time", "uptime_seconds", "accepted_requests", "active_workers", "idle_workers",
            "max_active_workers", "slow_requests", "nodes", "outbox", "decode_failures",
        ] {
            #expect(status[key] != nil, "missing \(key)")
        }
        #expect(status["pool"] == .string(Harness.servedBy))
        #expect(status["accepted_requests"] == .int(7))
        #expect(status["active_workers"] == .int(1))
        #expect(status["idle_workers"] == .int(3))
        #expect(status["max_active_workers"] == .int(3))
        for node in ["a", "b"] {
            let figures = try #require(status["nodes"]?[node], "missing node \(node)")
            #expect(figures["state"] == .string("up"))
            #expect(figures["latency_ms"] != nil)
        }
        #expect(status["outbox"]?["length"] == .int(0))
        #expect(status["outbox"]?["oldest_age_seconds"] == .int(0))
        if case .string(let start)? = status["start_time"] {
            #expect(start.hasSuffix("Z") && start.count == 20, "\(start)")
        } else {
            Issue.record("start_time is not a string")
        }
        #expect(response.header("Cache-Control") == "no-store")
    }

    @Test func statusShowsANodeThatIsDown() throws {
        let harness = try Harness()
        harness.services.health.b.recordFailure("refused")
        let status = try #require(harness.send("GET", "/status").jsonBody)
        #expect(status["nodes"]?["b"]?["state"] == .string("down"))
        #expect(status["nodes"]?["a"]?["state"] == .string("up"))
    }

    @Test func statusCountsDecodeFailures() throws {
        let harness = try Harness()
        let id = "brokenSessionData0123456789abcdef"
        harness.sessions.rows[id] = .init(data: [UInt8]("x|".utf8), hlc: 1, origin: 1, deleted: false)
        _ = harness.withCookie("GET", "/session", id)
        #expect(harness.send("GET", "/status").jsonBody?["decode_failures"] == .int(1))
    }

    @Test func prometheusLinesAreCommentsOrResponderSamples() throws {
        let harness = try Harness()
        let response = harness.send("GET", "/status", query: "format=prometheus")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = response.bodyText
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count > 10)
        for line in lines {
            #expect(line.hasPrefix("# ") || line.hasPrefix("responder_"), "\(line)")
        }
        #expect(text.contains("# TYPE responder_"))
        #expect(text.contains(#"responder_node_up{pool="pool-test:9001",node="a"} 1"#))
    }

    /// The value of the sample whose name and labels are `series` in a Prometheus text.
    static func sample(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func prometheusFollowsEventsAndFigures() throws {
        final class Accepted: @unchecked Sendable { var count = 0 }
        let accepted = Accepted()
        let harness = try Harness(poolFigures: { PoolFigures(accepted: accepted.count, workers: 4) })
        let pool = #"pool="pool-test:9001""#
        func scrape() -> String { harness.send("GET", "/status", query: "format=prometheus").bodyText }
        accepted.count = 5
        let first = scrape()
        #expect(Self.sample("responder_accepted_requests_total{\(pool)}", in: first) == 5)
        #expect(Self.sample("responder_idle_workers{\(pool)}", in: first) == 4)
        let indexCount = #"responder_request_duration_seconds_count{\#(pool),route="/"}"#
        let before = Self.sample(indexCount, in: first) ?? 0
        _ = harness.send("GET", "/")
        _ = harness.send("GET", "/index.php")
        _ = harness.send("GET", "/no-such-page")
        accepted.count = 12
        let second = scrape()
        // Counters advance by what changed, not by what they show.
        #expect(Self.sample("responder_accepted_requests_total{\(pool)}", in: second) == 12)
        #expect(Self.sample(indexCount, in: second) == before + 2)
        #expect(Self.sample(#"responder_responses_total{\#(pool),code="4xx"}"#, in: second) == 1)
        #expect(second.contains("# TYPE responder_request_duration_seconds histogram"))
        #expect(second.contains("# HELP responder_accepted_requests_total Requests accepted."))
        accepted.count = 12
        #expect(Self.sample("responder_accepted_requests_total{\(pool)}", in: scrape()) == 12)
    }

    @Test func jsonFormatIsTheDefaultAndOtherFormatsAre422() throws {
        let harness = try Harness()
        #expect(harness.send("GET", "/status", query: "format=json").isJSON)
        #expect(harness.send("GET", "/status", query: "format=xml").status == 422)
    }

    @Test func pagesAreHTML5WithSecurityHeaders() throws {
        let harness = try Harness()
        _ = harness.createItem("an item")
        for path in ["/", "/manage"] {
            let response = harness.send("GET", path, headers: ["accept": "text/html"])
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/html; charset=utf-8")
            #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"), "\(path)")
            #expect(response.bodyText.contains("</html>"))
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(response.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(response.header("Referrer-Policy") == "same-origin")
            #expect(response.header("Cache-Control") == "no-store")
        }
    }

    @Test func theIndexShowsServedByAndBothNodes() throws {
        let harness = try Harness()
        harness.services.health.b.recordFailure("refused")
        let page = harness.send("GET", "/").bodyText
        #expect(page.contains(Harness.servedBy))
        #expect(page.contains(#"<th scope="row">Node A</th><td><span class="state up">up</span>"#))
        #expect(page.contains(#"<th scope="row">Node B</th><td><span class="state down">down</span>"#))
        #expect(page.contains(#"href="/manage""#))
        #expect(page.contains(#"name="key""#) && page.contains(#"name="value""#))
    }

    @Test func sessionValuesAreEscapedInHTML() throws {
        let harness = try Harness()
        let id = try #require(
            harness.form("/session", "key=evil&value=" + PercentDecoding.encode("<script>alert('x')</script>&\""))
                .sessionCookieID)
        let page = harness.withCookie("GET", "/", id).bodyText
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
        #expect(page.contains("evil"))
    }

    @Test func sessionKeysWrittenByPHPAreEscapedInHTML() throws {
        let harness = try Harness()
        let id = "sessionWrittenByPHP0123456789abc"
        harness.sessions.rows[id] = .init(data: [UInt8](#"<b>key|s:1:"v";"#.utf8), hlc: 1, origin: 1, deleted: false)
        let response = harness.withCookie("GET", "/", id)
        #expect(response.status == 200)
        #expect(response.headers(named: "Set-Cookie").isEmpty)
        #expect(!response.bodyText.contains("<b>key"))
        #expect(response.bodyText.contains("&lt;b&gt;key"))
    }

    @Test func structuredSessionValuesAreShownAsEscapedJSON() throws {
        let harness = try Harness()
        let id = try #require(harness.json("/session", #"{"list":["<i>"]}"#).sessionCookieID)
        let page = harness.withCookie("GET", "/", id).bodyText
        #expect(!page.contains("<i>"))
    }

    @Test func theStylesheetIsCachedAndRevalidated() throws {
        let harness = try Harness()
        let first = harness.send("GET", "/static/style.css")
        #expect(first.status == 200)
        #expect(first.header("Content-Type") == "text/css; charset=utf-8")
        #expect(first.header("Cache-Control") == "public, max-age=86400")
        let tag = try #require(first.header("ETag"))
        let again = harness.send("GET", "/static/style.css", headers: ["if-none-match": tag])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
    }

    @Test func methodNotAllowedPageKeepsTheAllowHeader() throws {
        let harness = try Harness()
        let response = harness.send("DELETE", "/manage", headers: ["accept": "text/html"])
        #expect(response.status == 405)
        #expect(response.isHTML)
        #expect(response.header("Allow") == "GET, HEAD, POST")
    }

    @Test func unavailablePageKeepsRetryAfter() throws {
        let harness = try Harness()
        harness.sessions.failure = .init(.unavailable)
        let response = harness.send("GET", "/", headers: ["accept": "text/html"])
        #expect(response.status == 503)
        #expect(response.isHTML)
        #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"))
        #expect(response.header("Retry-After") == "5")
    }

    @Test func errorPagesEscapeTheirMessage() throws {
        let harness = try Harness()
        let response = harness.form("/session", "key=%3Cscript%3E&value=1", accept: "text/html")
        #expect(response.status == 422)
        #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"))
        #expect(!response.bodyText.contains("<script>"))
    }
}
