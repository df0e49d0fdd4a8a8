import Cluster
import Foundation
import Logging
import PHPSession
import Testing
import WebCore

@testable import Responder

/// `servers` rows in memory; `failure` stands for a node that cannot be read.
final class MemoryServerBackend: ServerBackend {
    var servers: [RegisteredServer] = []
    var failure: ClusterError?
    private(set) var reads = 0

    func registeredServers(limit: Int) throws(ClusterError) -> [RegisteredServer] {
        reads += 1
        if let failure { throw failure }
        return Array(servers.prefix(limit))
    }
}

/// An application like `Harness`'s, with the figures and the `servers` list the index page shows.
final class PagesHarness {
    let sessions = MemorySessionBackend()
    let items = MemoryItemBackend()
    let servers = MemoryServerBackend()
    let services: ResponderServices
    let app: Application

    init(servedBy: String = Harness.servedBy, readsServers: Bool = true, outbox: Int = 0, oldest: Int = 0) throws {
        let configuration = try ResponderConfiguration(environment: baseEnvironment)
        services = ResponderServices(
            configuration: configuration, health: ClusterHealth(), metrics: ResponderMetrics(pool: servedBy),
            servedBy: servedBy,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            replicationFigures: { ReplicationFigures(outboxLength: outbox, outboxOldestAgeSeconds: oldest) })
        app = Application(
            services: services, sessions: sessions, items: items, servers: readsServers ? servers : nil)
    }

    func get(_ path: String, query: String = "", cookie: String? = nil, accept: String = "text/html") -> HTTPResponse {
        var headers = ["accept": accept]
        if let cookie { headers["cookie"] = "PHPSESSID=\(cookie)" }
        return app.respond(to: HTTPRequest(method: "GET", path: path, query: query, headers: headers))
    }

    /// A form posted the way a browser posts it.
    func post(_ path: String, _ body: String, cookie: String? = nil) -> HTTPResponse {
        var headers = [
            "content-type": "application/x-www-form-urlencoded", "accept": "text/html,application/xhtml+xml",
            "sec-fetch-site": "same-origin",
        ]
        if let cookie { headers["cookie"] = "PHPSESSID=\(cookie)" }
        return app.respond(to: HTTPRequest(method: "POST", path: path, headers: headers, body: Array(body.utf8)))
    }

    func createItem(_ name: String, _ content: String = "") throws -> Item {
        try items.create(name: name, content: content)
    }
}

@Suite struct IndexPageTests {
    @Test func servedByPoolsLivesInACookieNotInTheSession() throws {
        let harness = try PagesHarness()
        let first = harness.get("/")
        let id = try #require(first.sessionCookieID)
        #expect(harness.sessions.data(id)?.names == ["visits"], "the PHP session holds only what the app put there")
        let cookies = first.headers.filter { $0.name == "Set-Cookie" }.map(\.value)
        let pools = try #require(cookies.first { $0.hasPrefix("served_by_pools=") })
        #expect(pools.hasPrefix("served_by_pools=\(PercentDecoding.encode(Harness.servedBy));"))
        #expect(pools.contains("HttpOnly") && pools.contains("SameSite=Lax"))
    }

    @Test func poolsSeenBeforeAreCountedAndANewSessionStartsOver() throws {
        let harness = try PagesHarness()
        let id = try #require(harness.get("/").sessionCookieID)
        let header = "PHPSESSID=\(id); served_by_pools=pool-other|\(PercentDecoding.encode(Harness.servedBy))"
        let page = harness.app.respond(
            to: HTTPRequest(method: "GET", path: "/", headers: ["accept": "text/html", "cookie": header])
        ).bodyText
        #expect(page.contains(#"<strong id="pool-count">2</strong>"#))
        #expect(page.contains(#"<span class="tag">pool-other</span>"#))
        // A fresh session (no valid id) forgets the pools of the old one.
        let fresh = harness.app.respond(
            to: HTTPRequest(
                method: "GET", path: "/", headers: ["accept": "text/html", "cookie": "served_by_pools=pool-other"])
        ).bodyText
        #expect(fresh.contains(#"<strong id="pool-count">1</strong>"#))
    }

    @Test func thePoolListIsCappedAt32AndToleratesGarbage() {
        let many = (1...32).map { "p\($0)" }
        let names = ServedByPools.recording("p33", in: many)
        #expect(names.count == 32)
        #expect(names.first == "p2" && names.last == "p33")
        #expect(ServedByPools.recording("p20", in: many) == many)
        #expect(ServedByPools.names(inCookieHeader: "served_by_pools=a|%zz||a|b%7Cc") == ["a", "b|c"])
        #expect(
            ServedByPools.names(
                inCookieHeader: ServedByPools.cookieName + "=" + ServedByPools.cookieValue(["x y", "é"])) == [
                    "x y", "é",
                ])
    }

    @Test func theIndexShowsVisitsPoolsNodesAndTheQueue() throws {
        let harness = try PagesHarness(outbox: 7, oldest: 12)
        harness.services.health.b.recordFailure("refused")
        harness.services.health.a.recordSuccess(milliseconds: 1.25)
        let page = harness.get("/").bodyText
        #expect(page.contains(#"<strong id="visits">1</strong>"#))
        #expect(page.contains(#"<strong id="served-by">pool-test:9001</strong>"#))
        #expect(page.contains(#"<strong id="pool-count">1</strong>"#))
        #expect(page.contains(#"<th scope="row">Node A</th><td><span class="state up">up</span></td><td>1.2 ms</td>"#))
        #expect(
            page.contains(
                #"<th scope="row">Node B</th><td><span class="state down">down</span></td><td><span class="muted">not reached</span>"#
            ))
        #expect(page.contains("<strong>7</strong>, the oldest 12 s old"))
    }

    @Test func theRegisteredPoolsComeFromTheServersTable() throws {
        let harness = try PagesHarness()
        harness.servers.servers = [
            RegisteredServer(
                name: "pool-1", host: "127.0.0.1", port: 9001, active: true, lastSeen: "2026-11-26T19:00:00Z"),
            RegisteredServer(name: Harness.servedBy, host: "127.0.0.1", port: 9002, active: true, lastSeen: ""),
            RegisteredServer(name: "<pool>", host: "h", port: 1, active: false, lastSeen: "2026-11-26T18:00:00Z"),
        ]
        let page = harness.get("/").bodyText
        #expect(harness.servers.reads == 1)
        #expect(
            page.contains(
                #"<th scope="row" class="wrap">pool-1</th><td data-label="Address">127.0.0.1:9001</td><td data-label="State"><span class="state up">active</span>"#
            ))
        #expect(page.contains(#"<time datetime="2026-11-26T19:00:00Z">2026-11-26 19:00 UTC</time>"#))
        #expect(
            page.contains(
                #"<tr class="current"><th scope="row" class="wrap">pool-test:9001 <small>(this page)</small>"#))
        #expect(page.contains("&lt;pool&gt;") && !page.contains("<pool>"))
        #expect(page.contains(#"<span class="state down">stopped</span>"#))
        #expect(page.contains("served it"))
    }

    @Test func anUnreadableServersTableStillShowsThePage() throws {
        let harness = try PagesHarness()
        harness.servers.failure = ClusterError(.unavailable)
        let response = harness.get("/")
        #expect(response.status == 200)
        #expect(response.bodyText.contains("could not be read just now"))
        #expect(response.bodyText.contains(#"<th scope="row" class="wrap">pool-test:9001 <small>(this page)</small>"#))
        #expect(showsNoInternals(response.bodyText))
    }

    @Test func withoutAServersBackendThePageShowsItsOwnPool() throws {
        let harness = try PagesHarness(readsServers: false)
        let page = harness.get("/").bodyText
        #expect(page.contains(#"<th scope="row" class="wrap">pool-test:9001 <small>(this page)</small>"#))
    }

    @Test func valuesHaveARemoveButtonAndServerKeysAreNotListed() throws {
        let harness = try PagesHarness()
        let id = try #require(harness.get("/").sessionCookieID)
        _ = harness.post("/session", "key=color&value=blue", cookie: id)
        let page = harness.get("/", cookie: id).bodyText
        #expect(page.contains(#"<th scope="row" class="wrap"><code>color</code></th><td class="value wrap">blue</td>"#))
        #expect(
            page.contains(
                #"<input type="hidden" name="action" value="remove"><input type="hidden" name="key" value="color">"#))
        #expect(!page.contains("<code>visits</code>") && !page.contains("<code>served_by_pools</code>"))
        #expect(page.contains(#"<option value="color"></option>"#))
        let removed = harness.post("/session", "action=remove&key=color", cookie: id)
        #expect(removed.status == 303 && removed.header("Location") == "/")
        #expect(!harness.get("/", cookie: id).bodyText.contains("<code>color</code>"))
    }

    @Test func aKeyTheRouteRefusesHasNoRemoveButton() throws {
        let harness = try PagesHarness()
        let id = "sessionWrittenByPHP0123456789abc"
        harness.sessions.rows[id] = .init(data: Array(#"odd key|s:1:"v";"#.utf8), hlc: 1, origin: 1, deleted: false)
        let page = harness.get("/", cookie: id).bodyText
        #expect(page.contains("<code>odd key</code>"))
        #expect(!page.contains(#"name="key" value="odd key""#))
    }

    @Test func theIndexHasTheSessionButtons() throws {
        let harness = try PagesHarness()
        let page = harness.get("/").bodyText
        #expect(page.contains(#"<form method="post" action="/session/regenerate">"#))
        #expect(
            page.contains(
                #"<form method="post" action="/session"><input type="hidden" name="action" value="destroy">"#))
        #expect(page.contains(#"<code id="fingerprint">"#))
    }
}

@Suite struct ManagePageTests {
    @Test func theListLinksToEditAndConfirm() throws {
        let harness = try PagesHarness()
        let item = try harness.createItem("first", String(repeating: "x", count: 100))
        let page = harness.get("/manage").bodyText
        #expect(page.contains(#"<th scope="row" class="wrap"><a href="/manage?edit=\#(item.id)">first</a>"#))
        #expect(page.contains(#"href="/manage?confirm_delete=\#(item.id)""#))
        #expect(page.contains(String(repeating: "x", count: 79) + "…"))
        #expect(page.contains(#"<time datetime="2026-11-26T19:00:00Z">2026-11-26 19:00 UTC</time>"#))
        #expect(page.contains(#"<input type="hidden" name="action" value="create">"#))
    }

    @Test func theEditPageShowsOneItemsForm() throws {
        let harness = try PagesHarness()
        let item = try harness.createItem("<b>name</b>", "line 1\nline 2")
        let response = harness.get("/manage", query: "edit=\(item.id)")
        #expect(response.status == 200)
        let page = response.bodyText
        #expect(page.contains(#"<input type="hidden" name="action" value="update">"#))
        #expect(page.contains(#"<input type="hidden" name="id" value="\#(item.id)">"#))
        #expect(page.contains(#"value="&lt;b&gt;name&lt;/b&gt;""#))
        #expect(page.contains(">\nline 1\nline 2</textarea>"))
        #expect(!page.contains(#"value="create""#))
    }

    @Test func theConfirmPageAsksBeforeADelete() throws {
        let harness = try PagesHarness()
        let item = try harness.createItem("doomed")
        let page = harness.get("/manage", query: "confirm_delete=\(item.id)").bodyText
        #expect(page.contains("<h1>Delete “doomed”?</h1>"))
        #expect(
            page.contains(
                #"<input type="hidden" name="action" value="delete"><input type="hidden" name="id" value="\#(item.id)">"#
            ))
        #expect(harness.items.items[item.id] != nil, "showing the question deletes nothing")
    }

    @Test(arguments: ["edit", "confirm_delete"])
    func anUnknownOrMalformedIdIsAnErrorPage(_ parameter: String) throws {
        let harness = try PagesHarness()
        let missing = harness.get("/manage", query: "\(parameter)=12345")
        #expect(missing.status == 404)
        #expect(missing.isHTML)
        #expect(harness.get("/manage", query: "\(parameter)=abc").status == 422)
    }

    @Test func jsonListingIgnoresThePageParameters() throws {
        let harness = try PagesHarness()
        let item = try harness.createItem("x")
        let response = harness.get("/manage", query: "edit=\(item.id)", accept: "application/json")
        #expect(response.isJSON)
        #expect(response.jsonBody?["items"] != nil)
    }

    @Test func aRefusedCreateShowsTheFormAgainWithTheInputAnd422() throws {
        let harness = try PagesHarness()
        _ = try harness.createItem("existing")
        let response = harness.post("/manage", "action=create&name=+++&content=kept+%3Cb%3E")
        #expect(response.status == 422)
        #expect(response.header("Location") == nil)
        #expect(response.isHTML)
        let page = response.bodyText
        #expect(page.contains(#"<div class="field invalid"><label for="item-name">Name</label>"#))
        #expect(page.contains(#"aria-invalid="true" aria-describedby="item-name-error""#))
        #expect(page.contains(#"<p class="field-error" id="item-name-error">The name must not be empty.</p>"#))
        #expect(page.contains(#"value="   ""#))
        #expect(page.contains(">\nkept &lt;b&gt;</textarea>"))
        #expect(page.contains("existing"), "the list is still shown")
        #expect(harness.items.items.count == 1, "a refused request changes nothing")
    }

    @Test func aRefusedContentIsMarkedNextToItsField() throws {
        let harness = try PagesHarness()
        let long = String(repeating: "y", count: 10_001)
        let response = harness.post("/manage", "action=create&name=ok&content=\(long)")
        #expect(response.status == 422)
        #expect(response.bodyText.contains(#"id="item-content-error">The content must be at most 10000 characters."#))
        #expect(response.bodyText.contains(#"value="ok""#))
        #expect(!response.bodyText.contains("item-name-error"))
    }

    @Test func aRefusedUpdateShowsTheEditFormAgain() throws {
        let harness = try PagesHarness()
        let item = try harness.createItem("before", "text")
        let response = harness.post("/manage", "action=update&id=\(item.id)&name=&content=changed")
        #expect(response.status == 422)
        let page = response.bodyText
        #expect(page.contains(#"<input type="hidden" name="id" value="\#(item.id)">"#))
        #expect(page.contains(#"id="item-name-error">The name must not be empty."#))
        #expect(page.contains(">\nchanged</textarea>"))
        #expect(harness.items.items[item.id]?.name == "before")
        #expect(harness.post("/manage", "action=update&id=99999&name=").status == 404)
    }

    @Test func scriptsAndJSONStillGetTheFirstErrorAsJSON() throws {
        let harness = try PagesHarness()
        let request = HTTPRequest(
            method: "POST", path: "/manage", headers: ["content-type": "application/x-www-form-urlencoded"],
            body: Array("action=create&name=+".utf8))
        let response = harness.app.respond(to: request)
        #expect(response.status == 422)
        #expect(response.isJSON)
        #expect(response.errorMessage == "The name must not be empty.")
    }

    @Test func browserChangesRedirectToManageWithANotice() throws {
        let harness = try PagesHarness()
        let created = harness.post("/manage", "action=create&name=new&content=c")
        #expect(created.status == 303)
        #expect(created.header("Location") == "/manage")
        let id = try #require(harness.items.items.keys.first)
        for body in ["action=update&id=\(id)&name=renamed&content=c", "action=delete&id=\(id)"] {
            let response = harness.post("/manage", body)
            #expect(response.status == 303 && response.header("Location") == "/manage")
            #expect(response.headers(named: "Set-Cookie").first?.hasPrefix("manage_notice=") == true)
        }
        #expect(harness.items.items.isEmpty)
    }

    @Test func pagesLinkOlderAndBackToTheLatest() throws {
        let harness = try PagesHarness()
        for index in 0..<(Application.htmlPageSize + 3) { _ = try harness.createItem("item \(index)") }
        let first = harness.get("/manage").bodyText
        let older = try #require(first.firstMatch(of: /href="(\/manage\?before=\d+)" rel="next"/)).1
        #expect(!first.contains(#"<a href="/manage">Latest items</a>"#))
        let query = String(older.dropFirst("/manage?".count))
        let second = harness.get("/manage", query: query).bodyText
        #expect(second.contains(#"<a href="/manage">Latest items</a>"#))
        #expect(second.contains("item 0"))
        #expect(!second.contains(#"rel="next""#))
    }
}

/// Every page variant, checked by rules of HTML5 a browser and a screen reader depend on, and by
/// HTML Tidy when it is installed (`apt-get install tidy`); the browser run checks them again with
/// the Nu HTML Checker.
@Suite struct PageMarkupTests {
    static func variants() throws -> [(String, String)] {
        let harness = try PagesHarness(outbox: 3, oldest: 4)
        harness.servers.servers = [
            RegisteredServer(
                name: "pool-1", host: "127.0.0.1", port: 9001, active: true, lastSeen: "2026-11-26T19:00:00Z")
        ]
        let id = try #require(harness.get("/").sessionCookieID)
        _ = harness.post("/session", "key=color&value=%3Cblue%3E", cookie: id)
        let item = try harness.createItem("<i>item</i> & \"quotes\"", "line\n<script>x</script>")
        let notice = harness.post("/manage", "action=create&name=second")
        let pair = String(try #require(notice.headers(named: "Set-Cookie").first).prefix { $0 != ";" })
        let withNotice = harness.app.respond(
            to: HTTPRequest(method: "GET", path: "/manage", headers: ["accept": "text/html", "cookie": pair]))
        let emptyHarness = try PagesHarness(readsServers: false)
        return [
            ("index", harness.get("/", cookie: id).bodyText),
            ("index-new", emptyHarness.get("/").bodyText),
            ("manage", withNotice.bodyText),
            ("manage-empty", emptyHarness.get("/manage").bodyText),
            ("manage-edit", harness.get("/manage", query: "edit=\(item.id)").bodyText),
            ("manage-confirm", harness.get("/manage", query: "confirm_delete=\(item.id)").bodyText),
            ("manage-422", harness.post("/manage", "action=create&name=&content=x").bodyText),
            ("manage-edit-422", harness.post("/manage", "action=update&id=\(item.id)&name=+").bodyText),
            ("error-404", harness.get("/nope").bodyText),
        ]
    }

    @Test func everyPageFollowsTheMarkupRules() throws {
        for (name, html) in try Self.variants() {
            let problems = MarkupCheck.problems(in: html)
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    @Test(.enabled(if: MarkupCheck.tidyPath != nil, "HTML Tidy is not installed"))
    func tidyFindsNoErrors() throws {
        for (name, html) in try Self.variants() {
            let report = try MarkupCheck.tidyErrors(html)
            #expect(report.isEmpty, "\(name): \(report)")
        }
    }

    @Test func theCheckerCatchesWhatItShould() {
        let page = """
            <!DOCTYPE html><html lang="en"><head><title>t</title></head><body>
            <form><form></form></form><input id="a" name="x"><input id="a" type="hidden"><div><span></div>
            <p style="color:red" onclick="x()">x</p><label for="missing">L</label></body></html>
            """
        let problems = MarkupCheck.problems(in: page).joined(separator: "\n")
        for expected in [
            "nested <form>", "duplicate id a", "no label for input a", "</div> closes <span>",
            "inline style", "event handler", "label for missing",
        ] {
            #expect(problems.contains(expected), "\(expected) not found in \(problems)")
        }
    }
}

/// A small HTML checker for what these pages must get right: balanced elements, unique ids, a
/// label for every field, references that resolve, and nothing the CSP would block.
enum MarkupCheck {
    static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
    ]

    struct Tag {
        let name: String
        let closing: Bool
        let attributes: [String: String]
    }

    static func tags(in html: String) -> [Tag] {
        let pattern = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>\/]+(?:=(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/
        let attribute = /([^\s=>\/]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/
        return html.matches(of: pattern).map { match in
            var attributes: [String: String] = [:]
            for found in String(match.3).matches(of: attribute) {
                let value = found.2 ?? found.3 ?? found.4 ?? ""
                attributes[String(found.1).lowercased()] = String(value)
            }
            return Tag(name: String(match.2).lowercased(), closing: !match.1.isEmpty, attributes: attributes)
        }
    }

    static func problems(in html: String) -> [String] {
        var problems: [String] = []
        if !html.hasPrefix("<!DOCTYPE html>") { problems.append("no doctype first") }
        let all = tags(in: html)
        var stack: [String] = []
        var ids: Set<String> = []
        var labelled: Set<String> = []
        var references: [(String, String)] = []
        for tag in all {
            if tag.closing {
                guard let open = stack.last else {
                    problems.append("</\(tag.name)> without an open element")
                    continue
                }
                if open != tag.name { problems.append("</\(tag.name)> closes <\(open)>") }
                stack.removeLast()
                continue
            }
            if tag.name == "form" && stack.contains("form") { problems.append("nested <form>") }
            if !voidElements.contains(tag.name) { stack.append(tag.name) }
            if let id = tag.attributes["id"], !ids.insert(id).inserted { problems.append("duplicate id \(id)") }
            if tag.attributes["style"] != nil { problems.append("inline style on <\(tag.name)>") }
            if tag.attributes.keys.contains(where: { $0.hasPrefix("on") }) {
                problems.append("event handler on <\(tag.name)>")
            }
            if tag.name == "script" { problems.append("a script") }
            if tag.name == "label", let target = tag.attributes["for"] {
                labelled.insert(target)
                references.append(("label for", target))
            }
            for name in ["aria-describedby", "aria-labelledby"] {
                for target in tag.attributes[name]?.split(separator: " ") ?? [] {
                    references.append((name, String(target)))
                }
            }
            if let list = tag.attributes["list"] { references.append(("list", list)) }
        }
        if !stack.isEmpty { problems.append("unclosed: \(stack)") }
        for tag in all where !tag.closing && ["input", "textarea", "select"].contains(tag.name) {
            let type = tag.attributes["type"] ?? "text"
            if ["hidden", "submit", "button"].contains(type) { continue }
            let id = tag.attributes["id"] ?? "?"
            if !labelled.contains(id) && tag.attributes["aria-label"] == nil {
                problems.append("no label for \(tag.name) \(id)")
            }
        }
        for (kind, target) in references where !ids.contains(target) {
            problems.append("\(kind) \(target) names no id")
        }
        return problems
    }

    static let tidyPath: String? = ["/usr/bin/tidy", "/usr/local/bin/tidy"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Tidy's errors (not its warnings) for one page; empty when it has none.
    static func tidyErrors(_ html: String) throws -> String {
        guard let tidyPath else { return "" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tidyPath)
        process.arguments = ["-quiet", "-errors", "--show-warnings", "no", "--gnu-emacs", "yes"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(html.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // Exit status 2 means errors; 1 only warnings.
        return process.terminationStatus >= 2 ? report : ""
    }
}
