import Testing
import WebCore

@testable import Responder

/// Every input limit is a setting, refused with its own status just past it, accepted at it,
/// and a refused request changes nothing.
@Suite struct InputLimitTests {
    /// A harness with `settings`, a session holding `small=1`, and that session's id.
    static func harnessWithSession(_ settings: [String: String]) throws -> (Harness, String) {
        let harness = try Harness(environment: settings)
        let id = try #require(harness.form("/session", "key=small&value=1").sessionCookieID)
        return (harness, id)
    }

    static func expectUnchanged(
        _ harness: Harness, _ id: String, _ before: [UInt8]?, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(harness.sessions.rows[id]?.data == before, sourceLocation: sourceLocation)
        #expect(harness.sessions.rows.count == 1, sourceLocation: sourceLocation)
    }

    @Test func formFields() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_FORM_FIELDS": "3"])
        let before = harness.sessions.rows[id]?.data
        let over = harness.form("/session", "key=a&value=1&x=1&y=2", cookie: id)
        #expect(over.status == 413)
        #expect(over.errorMessage == "The form has too many fields.")
        Self.expectUnchanged(harness, id, before)
        #expect(harness.form("/session", "key=a&value=1&x=1", cookie: id).status == 200)
        #expect(harness.send("GET", "/manage", query: "a=1&b=2&c=3&d=4").status == 413)
    }

    @Test func fieldBytesCountWhatTheUserTyped() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_FIELD_BYTES": "20"])
        let before = harness.sessions.rows[id]?.data
        #expect(harness.form("/session", "key=a&value=" + String(repeating: "v", count: 21), cookie: id).status == 413)
        // Six emoji: 24 bytes decoded (72 on the wire).
        let sixEmoji = String(repeating: "%F0%9F%98%80", count: 6)
        #expect(harness.form("/session", "key=a&value=" + sixEmoji, cookie: id).status == 413)
        Self.expectUnchanged(harness, id, before)
        #expect(harness.form("/session", "key=a&value=" + String(repeating: "v", count: 20), cookie: id).status == 200)
        // Five emoji: 20 bytes decoded, 60 percent-encoded.
        let fiveEmoji = String(repeating: "%F0%9F%98%80", count: 5)
        #expect(harness.form("/session", "key=a&value=" + fiveEmoji, cookie: id).status == 200)
    }

    /// With the default limits, a browser form holds the largest valid item in any script:
    /// 10,000 four-byte code points of content (120,000 bytes percent-encoded) and a 200-code-point
    /// name; one code point more is refused for what it is (422), not for its encoding (413).
    @Test func defaultLimitsAdmitTheLargestValidItemFromAForm() throws {
        let harness = try Harness()
        let emoji = "%F0%9F%98%80"
        let name = String(repeating: emoji, count: 200)
        let largest = harness.form(
            "/manage", "action=create&name=\(name)&content=" + String(repeating: emoji, count: 10_000))
        #expect(largest.status == 201)
        #expect(largest.jsonBody?["content"] == .string(String(repeating: "😀", count: 10_000)))
        let pastContent = harness.form(
            "/manage", "action=create&name=x&content=" + String(repeating: emoji, count: 10_001))
        #expect(pastContent.status == 422)
        let pastName = harness.form("/manage", "action=create&name=\(name)\(emoji)&content=")
        #expect(pastName.status == 422)
        #expect(harness.items.items.count == 1)
    }

    @Test func jsonMembers() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_JSON_MEMBERS": "3"])
        let before = harness.sessions.rows[id]?.data
        let over = harness.json("/session", #"{"a":"1","b":"2","c":[1]}"#, cookie: id)
        #expect(over.status == 413)
        #expect(over.errorMessage == "The JSON body has more than 3 members.")
        Self.expectUnchanged(harness, id, before)
        #expect(harness.json("/session", #"{"a":"1","b":"2","c":"3"}"#, cookie: id).status == 200)
    }

    @Test func jsonDepth() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_JSON_DEPTH": "3"])
        let before = harness.sessions.rows[id]?.data
        let over = harness.json("/session", #"{"a":{"b":{"c":{}}}}"#, cookie: id)
        #expect(over.status == 413)
        #expect(over.errorMessage == "The JSON body is nested deeper than 3 levels.")
        Self.expectUnchanged(harness, id, before)
        #expect(harness.json("/session", #"{"a":{"b":{}}}"#, cookie: id).status == 200)
        // A deep document at the default limit: refused without recursing through it all.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(harness.json("/session", #"{"a":"# + deep + "}", cookie: id).status == 413)
    }

    @Test func headerBytes() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_HEADER_BYTES": "300"])
        let before = harness.sessions.rows[id]?.data
        let over = harness.send(
            "POST", "/session",
            headers: [
                "content-type": "application/x-www-form-urlencoded", "cookie": "PHPSESSID=\(id)",
                "user-agent": String(repeating: "u", count: 301),
            ], body: "key=a&value=1")
        #expect(over.status == 431)
        #expect(over.errorMessage == "A request header is longer than 300 bytes.")
        Self.expectUnchanged(harness, id, before)
        #expect(
            harness.send("GET", "/health", headers: ["user-agent": String(repeating: "u", count: 300)]).status == 200)
    }

    @Test func cookieBytesAndCount() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_COOKIE_BYTES": "300", "MAX_COOKIES": "3"])
        let before = harness.sessions.rows[id]?.data
        let long = "PHPSESSID=\(id); other=" + String(repeating: "c", count: 300)
        let many = "PHPSESSID=\(id); a=1; b=2; c=3"
        for cookie in [long, many] {
            let response = harness.send(
                "POST", "/session", headers: ["content-type": "application/x-www-form-urlencoded", "cookie": cookie],
                body: "key=a&value=1")
            #expect(response.status == 431)
            #expect(response.errorMessage?.isEmpty == false)
        }
        Self.expectUnchanged(harness, id, before)
        let atLimit = harness.send(
            "POST", "/session",
            headers: ["content-type": "application/x-www-form-urlencoded", "cookie": "PHPSESSID=\(id); a=1; b=2"],
            body: "key=a&value=1")
        #expect(atLimit.status == 200)
    }

    @Test func sessionBytes() throws {
        let (harness, id) = try Self.harnessWithSession(["MAX_SESSION_BYTES": "1024"])
        let before = harness.sessions.rows[id]?.data
        let over = harness.form("/session", "key=big&value=" + String(repeating: "x", count: 1024), cookie: id)
        #expect(over.status == 413)
        #expect(over.errorMessage == "The session would grow past 1024 bytes.")
        Self.expectUnchanged(harness, id, before)
        #expect(
            harness.form("/session", "key=big&value=" + String(repeating: "x", count: 900), cookie: id).status == 200)
    }

    @Test(arguments: [
        ("MAX_FORM_FIELDS", "0"), ("MAX_JSON_DEPTH", "600"), ("MAX_HEADER_BYTES", "12"), ("MAX_COOKIES", "x"),
        ("MAX_SESSION_BYTES", "-1"), ("MAX_FIELD_BYTES", "1e6"), ("MAX_JSON_MEMBERS", "2000000"),
        ("MAX_COOKIE_BYTES", "1"),
    ])
    func aMalformedLimitStopsTheStartNamingIt(key: String, value: String) {
        #expect(throws: ConfigurationError.self) {
            try ResponderConfiguration(environment: baseEnvironment.merging([key: value]) { $1 })
        }
        do {
            _ = try ResponderConfiguration(environment: baseEnvironment.merging([key: value]) { $1 })
        } catch {
            #expect(error.key == key)
        }
    }
}
