import PHPSession
import Testing
import WebCore

@testable import Responder

@Suite struct SessionRouteTests {
    @Test func aNewSessionSetsTheCookie() throws {
        let harness = try Harness()
        let response = harness.send("GET", "/session")
        #expect(response.status == 200)
        let id = try #require(response.sessionCookieID)
        #expect(SessionID.isWellFormed(id) && id.count == 32)
        #expect(response.headers(named: "Set-Cookie") == ["PHPSESSID=\(id); Path=/; HttpOnly; SameSite=Lax"])
        #expect(response.bodyText == #"{"id":"\#(id)","visits":0,"data":{},"served_by":"pool-test:9001"}"#)
        #expect(response.header("Cache-Control") == "no-store")
        #expect(harness.sessions.data(id) == PHPSessionData())
    }

    @Test func theCookieIsSecureOverHTTPS() throws {
        let harness = try Harness()
        for path in ["/session", "/"] {
            let response = harness.send("GET", path, isHTTPS: true)
            let id = try #require(response.sessionCookieID)
            #expect(
                response.headers(named: "Set-Cookie") == ["PHPSESSID=\(id); Path=/; HttpOnly; SameSite=Lax; Secure"])
        }
    }

    @Test func theCookieNameComesFromTheConfiguration() throws {
        let harness = try Harness(environment: ["SESSION_NAME": "SID"])
        let first = harness.send("GET", "/session")
        let cookie = try #require(first.headers(named: "Set-Cookie").first)
        #expect(cookie.hasPrefix("SID="))
        let id = String(cookie.dropFirst(4).prefix { $0 != ";" })
        let second = harness.send("GET", "/", headers: ["cookie": "PHPSESSID=\(id); SID=\(id)"])
        #expect(second.headers(named: "Set-Cookie").isEmpty)
        #expect(harness.sessions.data(id)?["visits"] == .int(1))
    }

    @Test func theIndexCountsVisits() throws {
        let harness = try Harness()
        let first = harness.send("GET", "/")
        let id = try #require(first.sessionCookieID)
        #expect(first.bodyText.contains(#"<strong id="visits">1</strong>"#))
        for _ in 0..<2 { _ = harness.withCookie("GET", "/", id) }
        let fourth = harness.withCookie("GET", "/", id)
        #expect(fourth.status == 200)
        #expect(fourth.headers(named: "Set-Cookie").isEmpty)
        #expect(fourth.bodyText.contains(#"<strong id="visits">4</strong>"#))
        #expect(harness.sessions.data(id)?["visits"] == .int(4))
        #expect(harness.withCookie("GET", "/session", id).jsonBody?["visits"] == .int(4))
    }

    /// PHP's `setcookie` URL-encodes the id it sends (a `,` becomes `%2C`), and PHP decodes every
    /// cookie it reads: a session a PHP page started is the same session here.
    @Test func anURLEncodedSessionCookieIsTheSameSession() throws {
        let harness = try Harness()
        let id = "abcdefghij,klmnopqrst-uvwx,yz012345"
        harness.sessions.seed(id, try PHPSessionData.decode(Array("visits|i:4;".utf8)))
        let encoded = id.replacingOccurrences(of: ",", with: "%2C")
        let response = harness.send("GET", "/session", headers: ["cookie": "PHPSESSID=\(encoded)"])
        #expect(response.jsonBody?["id"] == .string(id))
        #expect(response.jsonBody?["visits"] == .int(4))
        #expect(response.headers(named: "Set-Cookie").isEmpty)
        // A broken escape is no id: a new session, as PHP's strict mode does.
        let broken = harness.send("GET", "/session", headers: ["cookie": "PHPSESSID=abcdefghijklmnopqrstuvwx%2"])
        #expect(broken.sessionCookieID != nil)
        #expect(broken.jsonBody?["id"] != .string("abcdefghijklmnopqrstuvwx%2"))
    }

    @Test func showingTheSessionChangesNothing() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        let before = harness.sessions.rows[id]?.data
        let writes = harness.sessions.writes
        for _ in 0..<3 {
            let response = harness.withCookie("GET", "/session", id)
            #expect(response.jsonBody?["visits"] == .int(1))
            #expect(response.jsonBody?["id"] == .string(id))
            #expect(response.headers(named: "Set-Cookie").isEmpty)
        }
        #expect(harness.sessions.rows[id]?.data == before)
        #expect(harness.sessions.writes == writes)
    }

    @Test(arguments: [
        "short", "", String(repeating: "a", count: 21), String(repeating: "a", count: 257),
        "aaaaaaaaaaaaaaaaaaaaaaaaaaa!",
        "aaaaaaaaaaaaaaaaaaaaaaa aaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaa%2C", "../../../../etc/passwd/aaaaaaa",
    ])
    func aMalformedCookieIDIsNeverAdopted(_ bad: String) throws {
        let harness = try Harness()
        let response = harness.withCookie("GET", "/session", bad)
        let id = try #require(response.sessionCookieID)
        #expect(id != bad)
        #expect(harness.sessions.rows[bad] == nil)
        #expect(harness.sessions.rows.keys.sorted() == [id])
    }

    @Test func anUnknownWellFormedIDIsNeverAdopted() throws {
        let harness = try Harness()
        let chosen = "attackerChosenSessionId0123456789"
        for path in ["/session", "/"] {
            let response = harness.withCookie("GET", path, chosen)
            let id = try #require(response.sessionCookieID)
            #expect(id != chosen)
            #expect(response.jsonBody?["id"] != .string(chosen))
        }
        #expect(harness.sessions.rows[chosen] == nil)
        let set = harness.form("/session", "key=color&value=red", cookie: chosen)
        #expect(set.sessionCookieID != nil && set.sessionCookieID != chosen)
        #expect(harness.sessions.rows[chosen] == nil)
    }

    @Test func aFormSetsOneValue() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        let response = harness.form("/session", "key=color&value=dark+blue", cookie: id)
        #expect(response.status == 200)
        #expect(response.isJSON)
        #expect(response.jsonBody?["data"] == .object([("visits", .int(1)), ("color", .string("dark blue"))]))
        #expect(response.jsonBody?["visits"] == .int(1))
        #expect(harness.sessions.data(id)?["color"] == PHPValue("dark blue"))
    }

    @Test func aFormCanRemoveAValue() throws {
        let harness = try Harness()
        let id = try #require(harness.form("/session", "key=color&value=red").sessionCookieID)
        let response = harness.form("/session", "key=color&action=remove", cookie: id)
        #expect(response.jsonBody?["data"] == .object([]))
    }

    @Test func aFormWithoutValueStoresAnEmptyString() throws {
        let harness = try Harness()
        let response = harness.form("/session", "key=k")
        #expect(response.jsonBody?["data"]?["k"] == .string(""))
    }

    @Test func aJSONObjectSetsSeveralValuesInOrder() throws {
        let harness = try Harness()
        let id = try #require(harness.send("GET", "/").sessionCookieID)
        let body = #"{"color":"blue","n":3,"pi":2.5,"ok":true,"none":null,"list":[1,"a"],"map":{"x":{"y":[]}}}"#
        let response = harness.json("/session", body, cookie: id)
        #expect(response.status == 200)
        let data = try #require(response.jsonBody?["data"])
        #expect(data.keys == ["visits", "color", "n", "pi", "ok", "none", "list", "map"])
        #expect(data["list"] == .array([.int(1), .string("a")]))
        #expect(data["map"] == .object([("x", .object([("y", .array([]))]))]))
        #expect(harness.sessions.data(id)?["n"] == .int(3))
        // Replacing keeps the position.
        let again = harness.json("/session", #"{"color":"red"}"#, cookie: id)
        #expect(again.jsonBody?["data"]?.keys == ["visits", "color", "n", "pi", "ok", "none", "list", "map"])
        #expect(again.jsonBody?["data"]?["color"] == .string("red"))
    }

    @Test func phpMarkersFromAClientAreDataNotObjects() throws {
        let harness = try Harness()
        let response = harness.json("/session", #"{"obj":{"$php":"O:8:\"stdClass\":0:{}"}}"#)
        #expect(response.status == 200)
        let id = try #require(response.sessionCookieID)
        let stored = try #require(harness.sessions.data(id)?["obj"])
        #expect(stored.arrayValue?["$php"] == PHPValue(#"O:8:"stdClass":0:{}"#))
    }

    @Test func aBrowserFormIsRedirectedToTheIndex() throws {
        let harness = try Harness()
        let response = harness.form("/session", "key=color&value=blue", accept: "text/html,application/xhtml+xml")
        #expect(response.status == 303)
        #expect(response.header("Location") == "/")
        #expect(response.headers.first?.name == "Location")
        let id = try #require(response.sessionCookieID)
        #expect(harness.sessions.data(id)?["color"] == PHPValue("blue"))
        let existing = harness.form("/session", "key=size&value=L", accept: "text/html", cookie: id)
        #expect(existing.status == 303)
        #expect(existing.headers(named: "Set-Cookie").isEmpty)
    }

    @Test func aJSONBodyGetsJSONEvenFromABrowser() throws {
        let harness = try Harness()
        let response = harness.send(
            "POST", "/session", headers: ["content-type": "application/json", "accept": "text/html"],
            body: #"{"a":"b"}"#)
        #expect(response.status == 200)
        #expect(response.isJSON)
    }

    @Test func deleteDestroysTheSessionAndExpiresTheCookie() throws {
        let harness = try Harness()
        let id = try #require(harness.form("/session", "key=color&value=red").sessionCookieID)
        let response = harness.withCookie("DELETE", "/session", id)
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"destroyed":true}"#)
        let cookie = try #require(response.headers(named: "Set-Cookie").first)
        #expect(cookie.hasPrefix("PHPSESSID="))
        #expect(cookie.contains("; Max-Age=0"))
        #expect(cookie.contains("Path=/;"))
        #expect(harness.sessions.data(id) == nil)
        #expect(harness.sessions.rows[id]?.deleted == true)
        let after = harness.withCookie("GET", "/session", id)
        #expect(after.sessionCookieID != id)
        #expect(after.jsonBody?["data"] == .object([]))
    }

    @Test func deleteWithoutASessionStillAnswers() throws {
        let harness = try Harness()
        let response = harness.send("DELETE", "/session")
        #expect(response.status == 200)
        #expect(response.jsonBody == .object([("destroyed", .bool(true))]))
        #expect(response.headers(named: "Set-Cookie").first?.contains("Max-Age=0") == true)
        #expect(harness.sessions.rows.isEmpty)
    }

    @Test func deleteFromABrowserRedirects() throws {
        let harness = try Harness()
        let id = try #require(harness.startSession())
        let response = harness.withCookie("DELETE", "/session", id, headers: ["accept": "text/html"])
        #expect(response.status == 303)
        #expect(response.header("Location") == "/")
        #expect(response.headers(named: "Set-Cookie").first?.contains("Max-Age=0") == true)
        #expect(harness.sessions.data(id) == nil)
    }

    @Test func expiringCookieIsSecureOverHTTPS() throws {
        let harness = try Harness()
        let response = harness.send("DELETE", "/session", isHTTPS: true)
        #expect(response.headers(named: "Set-Cookie").first?.hasSuffix("; Secure") == true)
    }

    @Test func regenerateKeepsTheDataUnderANewID() throws {
        let harness = try Harness()
        let old = try #require(harness.send("GET", "/").sessionCookieID)
        _ = harness.form("/session", "key=color&value=blue", cookie: old)
        let response = harness.withCookie("POST", "/session/regenerate", old)
        #expect(response.status == 200)
        let new = try #require(response.sessionCookieID)
        #expect(new != old)
        #expect(SessionID.isWellFormed(new))
        #expect(response.jsonBody?["id"] == .string(new))
        #expect(response.jsonBody?["visits"] == .int(1))
        #expect(response.jsonBody?["data"] == .object([("visits", .int(1)), ("color", .string("blue"))]))
        #expect(harness.sessions.data(old) == nil)
        #expect(harness.sessions.rows[old]?.deleted == true)
        #expect(harness.sessions.data(new)?["color"] == PHPValue("blue"))
        let withOld = harness.withCookie("GET", "/session", old)
        #expect(withOld.sessionCookieID != old)
        #expect(withOld.jsonBody?["data"] == .object([]))
        #expect(harness.withCookie("GET", "/session", new).jsonBody?["data"]?["color"] == .string("blue"))
    }

    @Test func regenerateFromABrowserRedirectsWithTheNewCookie() throws {
        let harness = try Harness()
        let old = try #require(harness.startSession())
        let response = harness.withCookie("POST", "/session/regenerate", old, headers: ["accept": "text/html"])
        #expect(response.status == 303)
        #expect(response.header("Location") == "/")
        let new = try #require(response.sessionCookieID)
        #expect(new != old)
        #expect(harness.sessions.data(old) == nil)
    }

    @Test func unknownValuesSurviveAWriteByteForByte() throws {
        let harness = try Harness()
        let id = "existingSessionFromPHP0123456789"
        let stored = #"visits|i:2;obj|O:8:"stdClass":1:{s:1:"a";i:1;}"#
        harness.sessions.rows[id] = .init(data: [UInt8](stored.utf8), hlc: 1, origin: 1, deleted: false)
        let response = harness.form("/session", "key=color&value=red", cookie: id)
        #expect(response.status == 200)
        #expect(response.jsonBody?["data"]?["obj"] == .object([("$php", .string(#"O:8:"stdClass":1:{s:1:"a";i:1;}"#))]))
        let after = String(decoding: harness.sessions.rows[id]?.data ?? [], as: UTF8.self)
        #expect(after == stored + #"color|s:3:"red";"#)
    }

    @Test func undecodableDataIsNeverOverwritten() throws {
        let harness = try Harness()
        let id = "brokenSessionData0123456789abcdef"
        harness.sessions.rows[id] = .init(data: [UInt8]("visits|garbage".utf8), hlc: 1, origin: 1, deleted: false)
        let response = harness.withCookie("GET", "/", id)
        #expect(response.status == 200)
        #expect(response.sessionCookieID != nil && response.sessionCookieID != id)
        #expect(harness.sessions.rows[id]?.data == [UInt8]("visits|garbage".utf8))
        #expect(harness.services.metrics.decodeFailures == 1)
    }
}
