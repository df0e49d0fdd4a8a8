import Cluster
import PHPSession
import Testing
import WebCore

@Suite struct ClusterFailureTests {
    @Test func aLostRaceIsRetriedOnTopOfTheNewerData() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        harness.sessions.writesToLose = 1
        harness.sessions.interloper = { data in
            data["visits"] = .int(10)
            data["other"] = PHPValue("from another request")
        }
        let response = harness.withCookie("GET", "/", id)
        #expect(response.status == 200)
        #expect(response.bodyText.contains(#"<strong id="visits">11</strong>"#))
        let stored = try #require(harness.sessions.data(id))
        #expect(stored["visits"] == .int(11))
        #expect(stored["other"] == PHPValue("from another request"))
        #expect(stored.names == ["visits", "other"])
        #expect(harness.services.metrics.casRetries == 1)
        #expect(harness.services.metrics.conflicts == 0)
    }

    @Test func anUndecodableSessionIsNeverOverwritten() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        // Undecodable: counted once, never overwritten, a new session.
        harness.sessions.rows[id]?.data = Array("visits|garbage".utf8)
        let fresh = harness.withCookie("GET", "/", id)
        #expect(fresh.sessionCookieID != nil && fresh.sessionCookieID != id)
        #expect(harness.sessions.rows[id]?.data == Array("visits|garbage".utf8))
        #expect(harness.services.metrics.decodeFailures == 1)
    }

    @Test func aLostRaceKeepsBothValueChanges() throws {
        let harness = try Harness()
        let id = try #require(harness.form("/session", "key=a&value=1").sessionCookieID)
        harness.sessions.writesToLose = 1
        harness.sessions.interloper = { data in data["b"] = PHPValue("2") }
        let response = harness.json("/session", #"{"c":"3"}"#, cookie: id)
        #expect(response.status == 200)
        #expect(response.jsonBody?["data"] == .object([("a", .string("1")), ("b", .string("2")), ("c", .string("3"))]))
        #expect(harness.sessions.data(id)?.names == ["a", "b", "c"])
    }

    @Test func severalLostRacesAreStillSettled() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        harness.sessions.writesToLose = 3
        harness.sessions.interloper = { data in data["visits"] = .int((data["visits"]?.intValue ?? 0) + 1) }
        #expect(harness.withCookie("GET", "/", id).status == 200)
        // 1 + 3 concurrent increments + this one.
        #expect(harness.sessions.data(id)?["visits"] == .int(5))
        #expect(harness.services.metrics.casRetries == 3)
    }

    @Test func aRaceThatIsNeverWonIs409() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        let before = harness.sessions.rows[id]?.data
        harness.sessions.alwaysLose = true
        let response = harness.withCookie("GET", "/session", id, headers: ["accept": "application/json"])
        // Showing an unchanged session writes nothing, so it cannot lose.
        #expect(response.status == 200)
        let started = ContinuousClock.now
        let post = harness.json("/session", #"{"k":"v"}"#, cookie: id)
        #expect(post.status == 409)
        #expect(post.errorMessage != nil)
        #expect(post.header("X-Served-By") == Harness.servedBy)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(harness.sessions.rows[id]?.data == before)
        #expect(harness.services.metrics.conflicts == 1)
        #expect(harness.sessions.writes > 1)
    }

    @Test(arguments: [
        ("GET", "/", ""), ("GET", "/session", ""), ("POST", "/session", "key=a&value=b"), ("DELETE", "/session", ""),
        ("POST", "/session/regenerate", ""), ("GET", "/index.php", ""),
    ])
    func sessionStoreUnavailableIs503(_ method: String, _ path: String, _ body: String) throws {
        let harness = try Harness()
        let id = try #require(harness.startSession())
        harness.sessions.failure = ClusterError(
            .unavailable,
            detail: "ERROR: SELECT data FROM php_session at /var/lib/postgresql/17/main (Sources/x.swift:12)")
        for accept in ["application/json", "text/html"] {
            let response = harness.send(
                method, path,
                headers: [
                    "cookie": "PHPSESSID=\(id)", "accept": accept, "content-type": "application/x-www-form-urlencoded",
                ], body: body)
            #expect(response.status == 503, "\(method) \(path)")
            #expect(response.header("Retry-After") == "5")
            #expect(response.header("X-Served-By") == Harness.servedBy)
            #expect(showsNoInternals(response.bodyText), "\(response.bodyText)")
            #expect(response.headers(named: "Set-Cookie").isEmpty)
        }
    }

    @Test(arguments: [
        ("GET", "/manage", ""), ("POST", "/manage", "action=create&name=x"),
        ("POST", "/manage", "action=update&id=1&name=x"), ("POST", "/manage", "action=delete&id=1"),
    ])
    func itemStoreUnavailableIs503(_ method: String, _ path: String, _ body: String) throws {
        let harness = try Harness()
        harness.items.failure = ClusterError(.unavailable, detail: "could not connect to server: Connection refused")
        for accept in ["application/json", "text/html"] {
            let response = harness.send(
                method, path, headers: ["accept": accept, "content-type": "application/x-www-form-urlencoded"],
                body: body)
            #expect(response.status == 503)
            #expect(response.header("Retry-After") == "5")
            #expect(showsNoInternals(response.bodyText), "\(response.bodyText)")
            #expect(!response.bodyText.contains("Connection refused"))
        }
    }

    @Test func aTimedOutCallIs503() throws {
        let harness = try Harness()
        harness.sessions.failure = ClusterError(.timedOut, detail: "canceling statement due to statement timeout")
        let response = harness.send("GET", "/session")
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "5")
        #expect(response.bodyText == #"{"error":"The request took too long and was stopped; please retry."}"#)
    }

    /// A change that no node confirmed in a way that keeps it may or may not have been made:
    /// 504, never the 503 that promises nothing changed.
    @Test func aChangeOfUnknownOutcomeIs504() throws {
        let harness = try Harness()
        harness.items.failure = ClusterError(.indeterminate, detail: "written on node a only, not queued")
        let response = harness.json("/manage", #"{"action":"create","name":"x"}"#)
        #expect(response.status == 504)
        #expect(response.header("Retry-After") == "5")
        #expect(
            response.bodyText
                == #"{"error":"The database did not confirm the change in time; it may or may not have been made."}"#)
        #expect(showsNoInternals(response.bodyText))
    }

    @Test func aConflictFromTheStoreIs409() throws {
        let harness = try Harness()
        harness.items.failure = ClusterError(.conflict, detail: "serialization failure")
        let response = harness.json("/manage", #"{"action":"create","name":"x"}"#)
        #expect(response.status == 409)
        #expect(showsNoInternals(response.bodyText))
    }

    @Test func healthIsOkWhileBothNodesServe() throws {
        let harness = try Harness()
        let response = harness.send("GET", "/health")
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"status":"ok","nodes":{"a":"up","b":"up"}}"#)
        #expect(response.header("Cache-Control") == "no-store")
    }

    @Test func healthIsOkWithOneNodeDown() throws {
        let harness = try Harness()
        harness.services.health.a.recordFailure("connection refused")
        harness.services.health.b.set(.catchingUp)
        let response = harness.send("GET", "/health")
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"status":"ok","nodes":{"a":"down","b":"up"}}"#)
    }

    @Test func healthIs503WhenBothNodesAreDown() throws {
        let harness = try Harness()
        harness.services.health.a.recordFailure("connection refused")
        harness.services.health.b.recordFailure("timeout")
        let response = harness.send("GET", "/health")
        #expect(response.status == 503)
        #expect(response.bodyText == #"{"status":"down","nodes":{"a":"down","b":"down"}}"#)
        #expect(response.header("X-Served-By") == Harness.servedBy)
        #expect(!response.bodyText.contains("refused"))
        let head = harness.send("HEAD", "/health.php")
        #expect(head.status == 503)
    }
}
