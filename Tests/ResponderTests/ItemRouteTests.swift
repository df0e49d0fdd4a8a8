import Cluster
import Testing
import WebCore

@Suite struct ItemRouteTests {
    func create(_ harness: Harness, name: String, content: String? = nil) -> HTTPResponse {
        var members: [(key: String, value: JSONValue)] = [("action", .string("create")), ("name", .string(name))]
        if let content { members.append(("content", .string(content))) }
        return harness.json("/manage", .object(members))
    }

    @Test func createAnswers201WithTheItem() throws {
        let harness = try Harness()
        let response = create(harness, name: "  First item\t", content: "Some <content>")
        #expect(response.status == 201)
        #expect(response.isJSON)
        let item = try #require(response.jsonBody)
        #expect(item.keys == ["id", "name", "content", "updated_at"])
        guard case .int(let id)? = item["id"] else {
            Issue.record("id is not a number: \(response.bodyText)")
            return
        }
        #expect(id > 0)
        #expect(item["name"] == .string("First item"))
        #expect(item["content"] == .string("Some <content>"))
        #expect(item["updated_at"] == .string(MemoryItemBackend.timestamp))
        #expect(harness.items.items[id]?.name == "First item")
    }

    @Test func createFromAFormWorksToo() throws {
        let harness = try Harness()
        let response = harness.form("/manage", "action=create&name=From+a+form&content=%C3%A9t%C3%A9")
        #expect(response.status == 201)
        #expect(response.jsonBody?["name"] == .string("From a form"))
        #expect(response.jsonBody?["content"] == .string("été"))
    }

    @Test func contentIsOptionalOnCreate() throws {
        let harness = try Harness()
        let response = create(harness, name: "bare")
        #expect(response.status == 201)
        #expect(response.jsonBody?["content"] == .string(""))
    }

    @Test func updateChangesOnlyTheFieldsGiven() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("name", "content"))
        let renamed = harness.json(
            "/manage", .object([("action", .string("update")), ("id", .int(id)), ("name", .string("new"))]))
        #expect(renamed.status == 200)
        #expect(renamed.jsonBody?["name"] == .string("new"))
        #expect(renamed.jsonBody?["content"] == .string("content"))
        let rewritten = harness.form("/manage", "action=update&id=\(id)&content=other")
        #expect(rewritten.status == 200)
        #expect(rewritten.jsonBody?["name"] == .string("new"))
        #expect(rewritten.jsonBody?["content"] == .string("other"))
        #expect(rewritten.jsonBody?["id"] == .int(id))
        let nothing = harness.form("/manage", "action=update&id=\(id)")
        #expect(nothing.status == 200)
        #expect(harness.items.items[id]?.name == "new" && harness.items.items[id]?.content == "other")
    }

    @Test func updateCanEmptyTheContent() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("name", "content"))
        let response = harness.form("/manage", "action=update&id=\(id)&content=")
        #expect(response.jsonBody?["content"] == .string(""))
    }

    @Test func deleteAnswersTheIdAsANumber() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("doomed"))
        let response = harness.form("/manage", "action=delete&id=\(id)")
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"deleted":\#(id)}"#)
        #expect(harness.items.items[id] == nil)
        let again = harness.form("/manage", "action=delete&id=\(id)")
        #expect(again.status == 404)
        let update = harness.form("/manage", "action=update&id=\(id)&name=back")
        #expect(update.status == 404)
    }

    @Test(arguments: ["update", "delete"])
    func unknownIdsAre404(_ action: String) throws {
        let harness = try Harness()
        _ = harness.createItem("exists")
        for id in ["999", "0", "99999999999999999999999"] {
            let response = harness.form("/manage", "action=\(action)&id=\(id)&name=x")
            #expect(response.status == 404, "id \(id)")
            #expect(response.errorMessage != nil)
        }
        #expect(harness.items.items.count == 1)
    }

    @Test(arguments: ["", "abc", "1.5", "-1", "1e3", " 1", "0x1", "１", "1 ", "+1"])
    func nonNumericIdsAre422(_ id: String) throws {
        let harness = try Harness()
        let existing = try #require(harness.createItem("exists"))
        _ = existing
        let body = "action=update&id=\(PercentDecoding.encode(id))&name=x"
        #expect(harness.form("/manage", body).status == 422)
        #expect(harness.form("/manage", "action=delete&id=\(PercentDecoding.encode(id))").status == 422)
        #expect(harness.items.items.count == 1)
    }

    @Test func missingIdIs422() throws {
        let harness = try Harness()
        #expect(harness.form("/manage", "action=delete").status == 422)
        #expect(harness.form("/manage", "action=update&name=x").status == 422)
    }

    @Test func jsonIdsMayBeNumbersOrStrings() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("one"))
        let asString = harness.json("/manage", #"{"action":"update","id":"\#(id)","name":"two"}"#)
        #expect(asString.status == 200)
        let asFloat = harness.json("/manage", #"{"action":"update","id":\#(id).5,"name":"three"}"#)
        #expect(asFloat.status == 422)
        #expect(asFloat.errorMessage == "The field 'id' must be a positive whole number.")
        let asBool = harness.json("/manage", #"{"action":"delete","id":true}"#)
        #expect(asBool.status == 422)
        // Whole but past any integer: a well-formed id of no item, as in a form or a JSON string.
        for huge in ["99999999999999999999", #""99999999999999999999""#, "1e30"] {
            let response = harness.json("/manage", #"{"action":"delete","id":\#(huge)}"#)
            #expect(response.status == 404, "id \(huge)")
        }
        #expect(harness.form("/manage", "action=delete&id=99999999999999999999").status == 404)
        #expect(harness.items.items.count == 1)
    }

    @Test(arguments: ["", "create ", "CREATE", "remove", "list", "frobnicate"])
    func unknownActionsAre422(_ action: String) throws {
        let harness = try Harness()
        let response = harness.form("/manage", "action=\(PercentDecoding.encode(action))&name=x&id=1")
        #expect(response.status == 422)
        #expect(harness.items.items.isEmpty)
    }

    @Test func missingActionIs422() throws {
        let harness = try Harness()
        #expect(harness.form("/manage", "name=x").status == 422)
        #expect(harness.json("/manage", #"{"name":"x"}"#).status == 422)
        #expect(harness.json("/manage", #"{"action":null,"name":"x"}"#).status == 422)
        #expect(harness.json("/manage", #"{"action":["create"],"name":"x"}"#).status == 422)
        #expect(harness.send("POST", "/manage").status == 422)
        #expect(harness.items.items.isEmpty)
    }

    @Test func namesAreCountedInCodePointsAfterTrimming() throws {
        let harness = try Harness()
        let twoHundred = String(repeating: "é", count: 200)
        #expect(create(harness, name: twoHundred).status == 201)
        #expect(create(harness, name: "  \n" + twoHundred + " \u{3000}").status == 201)
        #expect(create(harness, name: String(repeating: "😀", count: 200)).status == 201)
        #expect(create(harness, name: String(repeating: "x", count: 200)).status == 201)
        // 100 characters of "e" + U+0301 are 200 code points; 101 are 202.
        #expect(create(harness, name: String(repeating: "e\u{301}", count: 100)).status == 201)
        #expect(create(harness, name: String(repeating: "e\u{301}", count: 101)).status == 422)
        #expect(create(harness, name: String(repeating: "é", count: 201)).status == 422)
        #expect(create(harness, name: String(repeating: "x", count: 201)).status == 422)
        #expect(harness.items.items.count == 5)
    }

    @Test(arguments: ["", " ", "\t\n", "\u{3000}\u{A0}"])
    func emptyNamesAre422(_ name: String) throws {
        let harness = try Harness()
        let response = create(harness, name: name)
        #expect(response.status == 422)
        #expect(response.errorMessage?.isEmpty == false)
        #expect(harness.items.items.isEmpty)
    }

    @Test func missingNameOnCreateIs422() throws {
        let harness = try Harness()
        #expect(harness.form("/manage", "action=create&content=x").status == 422)
    }

    @Test func badNameOnUpdateIs422AndChangesNothing() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("keep", "this"))
        #expect(harness.form("/manage", "action=update&id=\(id)&name=&content=lost").status == 422)
        #expect(harness.items.items[id]?.name == "keep" && harness.items.items[id]?.content == "this")
    }

    @Test func contentIsCountedInCodePoints() throws {
        let harness = try Harness()
        #expect(create(harness, name: "a", content: String(repeating: "x", count: 10_000)).status == 201)
        #expect(create(harness, name: "b", content: String(repeating: "😀", count: 10_000)).status == 201)
        #expect(create(harness, name: "c", content: String(repeating: "x", count: 10_001)).status == 422)
        #expect(create(harness, name: "d", content: String(repeating: "é", count: 10_001)).status == 422)
        let id = try #require(harness.createItem("e"))
        #expect(
            harness.form("/manage", "action=update&id=\(id)&content=" + String(repeating: "y", count: 10_001)).status
                == 422)
        #expect(harness.items.items.count == 3)
    }

    @Test func listIsJSONWhenAcceptNamesJSON() throws {
        let harness = try Harness()
        let first = try #require(harness.createItem("first"))
        let second = try #require(harness.createItem("second"))
        let response = harness.send("GET", "/manage", headers: ["accept": "application/json"])
        #expect(response.status == 200)
        #expect(response.isJSON)
        #expect(response.jsonBody?.keys == ["items"])
        guard case .array(let items)? = response.jsonBody?["items"] else {
            Issue.record("items is not an array: \(response.bodyText)")
            return
        }
        #expect(items.map { $0["id"] } == [.int(second), .int(first)])
        #expect(items.first?.keys == ["id", "name", "content", "updated_at"])
    }

    @Test func listPagesWithLimitAndBefore() throws {
        let harness = try Harness()
        let ids = (0..<5).compactMap { harness.createItem("item \($0)") }
        let response = harness.send("GET", "/manage", query: "limit=2", headers: ["accept": "application/json"])
        guard case .array(let page)? = response.jsonBody?["items"] else {
            Issue.record("no items")
            return
        }
        #expect(page.map { $0["id"] } == [.int(ids[4]), .int(ids[3])])
        #expect(response.jsonBody?["next"] == .string("/manage?before=\(ids[3])&limit=2"))
        let next = harness.send(
            "GET", "/manage", query: "before=\(ids[3])&limit=2", headers: ["accept": "application/json"])
        guard case .array(let second)? = next.jsonBody?["items"] else {
            Issue.record("no items")
            return
        }
        #expect(second.map { $0["id"] } == [.int(ids[2]), .int(ids[1])])
    }

    @Test func listIsHTMLOtherwise() throws {
        let harness = try Harness()
        _ = harness.createItem("visible name")
        for accept in [nil, "text/html", "*/*"] as [String?] {
            let response = harness.send("GET", "/manage", headers: accept.map { ["accept": $0] } ?? [:])
            #expect(response.status == 200)
            #expect(response.isHTML)
            #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"))
            #expect(response.bodyText.contains("visible name"))
        }
    }

    @Test func acceptNamingBothStillGivesJSON() throws {
        // docs/API.md: "GET /manage is HTML unless Accept names application/json".
        let harness = try Harness()
        let response = harness.send("GET", "/manage", headers: ["accept": "text/html, application/json"])
        let contentType = response.header("Content-Type")
        #expect(contentType == "application/json")
    }

    @Test(arguments: [
        "action=create&name=x", "action=update&id=ID&name=y", "action=delete&id=ID",
    ])
    func browserFormsAreRedirectedToManage(_ template: String) throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("target"))
        let response = harness.form(
            "/manage", template.replacingOccurrences(of: "ID", with: String(id)), accept: "text/html")
        #expect(response.status == 303)
        #expect(response.header("Location") == "/manage")
        #expect(response.headers.first?.name == "Location")
        #expect(response.body.isEmpty)
    }

    @Test func theNoticeShowsOnceAfterARedirect() throws {
        let harness = try Harness()
        let response = harness.form("/manage", "action=create&name=x", accept: "text/html")
        let cookie = try #require(response.headers(named: "Set-Cookie").first)
        let pair = String(cookie.prefix { $0 != ";" })
        let page = harness.send("GET", "/manage", headers: ["accept": "text/html", "cookie": pair])
        #expect(page.bodyText.contains("Item created."))
        #expect(page.headers(named: "Set-Cookie").first?.contains("Max-Age=0") == true)
    }

    @Test func aJSONBodyGetsJSONEvenFromABrowser() throws {
        let harness = try Harness()
        let response = harness.send(
            "POST", "/manage", headers: ["content-type": "application/json", "accept": "text/html"],
            body: #"{"action":"create","name":"x"}"#)
        #expect(response.status == 201)
        #expect(response.isJSON)
    }

    @Test func itemNamesAreNotTemplates() throws {
        let harness = try Harness()
        _ = harness.createItem("{{servedBy}} {{> head}}")
        let page = harness.send("GET", "/manage", headers: ["accept": "text/html"]).bodyText
        #expect(page.contains("{{servedBy}} {{&gt; head}}"))
    }

    @Test func itemNamesAreEscapedInHTML() throws {
        let harness = try Harness()
        let id = try #require(harness.createItem("<script>alert(1)</script>", #"" onmouseover="x"#))
        let page = harness.send("GET", "/manage", headers: ["accept": "text/html"]).bodyText
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        let edit = harness.send("GET", "/manage", query: "edit=\(id)", headers: ["accept": "text/html"]).bodyText
        #expect(!edit.contains("<script>"))
        #expect(!edit.contains(#"value="" onmouseover"#))
        #expect(edit.contains("value=\"&lt;script&gt;"))
    }
}
