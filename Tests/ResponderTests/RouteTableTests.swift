import Testing
import WebCore

@Suite struct RouteTableTests {
    @Test(arguments: [
        ("GET", "/", "/index.php"), ("GET", "/session", "/session.php"), ("DELETE", "/session", "/session.php"),
        ("POST", "/session/regenerate", "/session.php/regenerate"), ("GET", "/manage", "/manage.php"),
        ("GET", "/health", "/health.php"), ("GET", "/status", "/status.php"),
    ])
    func everyRouteAnswersUnderItsPHPNameToo(_ method: String, _ path: String, _ alias: String) throws {
        let harness = try Harness()
        let plain = harness.send(method, path)
        let php = harness.send(method, alias)
        #expect(plain.status == 200)
        #expect(php.status == plain.status)
        #expect(php.header("Content-Type") == plain.header("Content-Type"))
        #expect(php.header("X-Served-By") == Harness.servedBy)
    }

    @Test func sessionPostAnswersUnderItsPHPName() throws {
        let harness = try Harness()
        let response = harness.form("/session.php", "key=color&value=blue")
        #expect(response.status == 200)
        #expect(response.jsonBody?["data"]?["color"] == .string("blue"))
    }

    @Test func managePostAnswersUnderItsPHPName() throws {
        let harness = try Harness()
        let response = harness.json("/manage.php", #"{"action":"create","name":"n"}"#)
        #expect(response.status == 201)
    }

    @Test func theIndexIsHTMLAndTheSessionIsJSON() throws {
        let harness = try Harness()
        #expect(harness.send("GET", "/").isHTML)
        #expect(harness.send("GET", "/session", headers: ["accept": "text/html"]).isJSON)
        #expect(harness.send("GET", "/health", headers: ["accept": "text/html"]).isJSON)
        #expect(harness.send("GET", "/status", headers: ["accept": "text/html"]).isJSON)
    }

    @Test func stylesheetIsServedAndRevalidated() throws {
        let harness = try Harness()
        let response = harness.send("GET", "/static/style.css")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/css") == true)
        let tag = try #require(response.header("ETag"))
        let again = harness.send("GET", "/static/style.css", headers: ["if-none-match": tag])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
    }

    @Test(arguments: [
        "/nope", "/index.html", "/session/", "/manage/1", "//", "/Session", "/index.php/extra", "/session/regenerate/",
        "/health.php.bak", "/static/", "/.env", "",
    ])
    func unknownPathsAre404(_ path: String) throws {
        let harness = try Harness()
        let response = harness.send("GET", path)
        #expect(response.status == 404)
        #expect(response.isJSON)
        #expect(response.jsonBody?.keys == ["error"])
        #expect(response.header("X-Served-By") == Harness.servedBy)
        let post = harness.form(path, "a=1")
        #expect(post.status == 404)
    }

    @Test func unknownPathIsAnHTMLPageForBrowsers() throws {
        let harness = try Harness()
        let response = harness.send("GET", "/nope", headers: ["accept": "text/html"])
        #expect(response.status == 404)
        #expect(response.isHTML)
        #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"))
    }

    @Test(arguments: [
        ("/", "POST", "GET, HEAD"), ("/", "DELETE", "GET, HEAD"), ("/index.php", "PUT", "GET, HEAD"),
        ("/session", "PUT", "GET, HEAD, POST, DELETE"), ("/session", "PATCH", "GET, HEAD, POST, DELETE"),
        ("/session/regenerate", "GET", "POST"), ("/session/regenerate", "DELETE", "POST"),
        ("/manage", "DELETE", "GET, HEAD, POST"), ("/manage", "PUT", "GET, HEAD, POST"),
        ("/health", "POST", "GET, HEAD"), ("/status", "DELETE", "GET, HEAD"),
        ("/static/style.css", "POST", "GET, HEAD"),
        ("/session", "OPTIONS", "GET, HEAD, POST, DELETE"), ("/manage", "get", "GET, HEAD, POST"),
    ])
    func otherMethodsAre405WithAllow(_ path: String, _ method: String, _ allow: String) throws {
        let harness = try Harness()
        let response = harness.send(method, path)
        #expect(response.status == 405)
        #expect(response.header("Allow") == allow)
        #expect(response.isJSON)
        #expect(response.header("X-Served-By") == Harness.servedBy)
        #expect(harness.sessions.rows.isEmpty)
    }

    @Test(arguments: ["/", "/session", "/manage", "/health", "/status", "/static/style.css", "/nope"])
    func headIsAnsweredLikeGet(_ path: String) throws {
        let harness = try Harness()
        let get = harness.send("GET", path)
        let head = harness.send("HEAD", path)
        #expect(head.status == get.status)
        #expect(head.header("Content-Type") == get.header("Content-Type"))
        #expect(head.header("Cache-Control") == get.header("Cache-Control"))
        #expect(head.header("X-Served-By") == Harness.servedBy)
    }

    @Test func headStartsASessionLikeGet() throws {
        let harness = try Harness()
        let head = harness.send("HEAD", "/")
        let id = try #require(head.sessionCookieID)
        #expect(harness.sessions.data(id)?["visits"] == .int(1))
    }

    @Test func everyResponseCarriesXServedByOnce() throws {
        let harness = try Harness()
        var tooLarge = HTTPRequest(method: "POST", path: "/session")
        tooLarge.bodyProblem = .tooLarge
        let responses = [
            harness.send("GET", "/"), harness.send("GET", "/session"), harness.send("GET", "/manage"),
            harness.send("GET", "/health"), harness.send("GET", "/status"), harness.send("GET", "/nope"),
            harness.send("PUT", "/session"), harness.send(tooLarge), harness.form("/session", "key=visits&value=1"),
            harness.form("/manage", "action=create&name=x", accept: "text/html"),
            harness.json("/manage", #"{"action":"create","name":"x"}"#), harness.send("DELETE", "/session"),
            harness.send("POST", "/session", headers: ["content-type": "text/plain"], body: "x"),
            harness.send("POST", "/session", headers: ["sec-fetch-site": "cross-site"]),
            harness.json("/manage", #"{"action":"delete","id":"12345"}"#),
        ]
        for response in responses {
            #expect(response.headers(named: "X-Served-By") == [Harness.servedBy], "status \(response.status)")
        }
    }

    @Test func servedByComesFromTheServicesNotTheRequest() throws {
        let harness = try Harness(environment: ["RESPONDER_NAME": "ignored-here"])
        let response = harness.send("GET", "/session", headers: ["x-served-by": "forged"])
        #expect(response.headers(named: "X-Served-By") == [Harness.servedBy])
        #expect(response.jsonBody?["served_by"] == .string(Harness.servedBy))
    }
}
