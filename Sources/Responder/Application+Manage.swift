import Cluster
import WebCore

extension Application {
    static let htmlPageSize = 50
    static let jsonPageSize = 200
    static let maxPageSize = 1000

    /// An item as JSON.
    static func json(_ item: Item) -> JSONValue {
        .object([
            ("id", .int(item.id)), ("name", .string(item.name)), ("content", .string(item.content)),
            ("updated_at", .string(item.updatedAt)),
        ])
    }

    /// `GET /manage`: HTML, or `{"items":[…]}` when `Accept` names JSON. `?before=ID&limit=N` pages.
    func listItems(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try FormFields.parse(Array(request.query.utf8), limits: services.limits.form)
        let wantsJSON = request.acceptsJSON
        let defaultLimit = wantsJSON ? Self.jsonPageSize : Self.htmlPageSize
        let limit = query["limit"].flatMap { Int($0) }.map { min(max($0, 1), Self.maxPageSize) } ?? defaultLimit
        let before = query["before"].flatMap { Int64($0) }.map { max($0, 0) } ?? Int64.max
        let page = try items.list(limit: limit + 1, before: before)
        let shown = Array(page.prefix(limit))
        let next = page.count > limit ? shown.last?.id : nil
        if wantsJSON {
            var members: [(key: String, value: JSONValue)] = [("items", .array(shown.map(Self.json)))]
            if let next { members.append(("next", .string("/manage?before=\(next)&limit=\(limit)"))) }
            var response = HTTPResponse.json(.object(members))
            response.addHeader("Cache-Control", "no-store")
            return response
        }
        let notice = Cookies.value(named: ManageNotice.cookieName, in: request.header("cookie"))
            .flatMap(ManageNotice.init(rawValue:))
        var response = services.pages.manage(
            items: shown, next: next.map { "/manage?before=\($0)" }, notice: notice, servedBy: services.servedBy)
        if notice != nil {
            response.addHeader(
                "Set-Cookie",
                Cookies.setCookie(
                    name: ManageNotice.cookieName, value: "", secure: request.isHTTPS, maxAge: 0, path: "/manage"))
        }
        return response
    }

    /// `303` to `/manage` with the notice to show there.
    static func redirectToManage(_ notice: ManageNotice, _ request: HTTPRequest) -> HTTPResponse {
        var response = HTTPResponse.seeOther("/manage")
        response.addHeader(
            "Set-Cookie",
            Cookies.setCookie(
                name: ManageNotice.cookieName, value: notice.rawValue, secure: request.isHTTPS, maxAge: 60,
                path: "/manage"))
        return response
    }

    /// `POST /manage`: `action=create|update|delete` as a form or JSON.
    func changeItems(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try RequestBody.parse(request, limits: services.limits)
        guard let action = try body.text("action") else { throw HTTPError(422, "The field 'action' is required.") }
        let browser = !body.isJSON && request.prefersHTML
        switch action {
        case "create":
            guard let rawName = try body.text("name") else { throw HTTPError(422, "The field 'name' is required.") }
            let name = try ItemInput.name(rawName)
            let content = try ItemInput.content(try body.text("content") ?? "")
            let item = try items.create(name: name, content: content)
            return browser ? Self.redirectToManage(.created, request) : .json(Self.json(item), status: 201)
        case "update":
            let id = try ItemInput.id(try body.text("id"))
            let name = try body.text("name").map { raw throws(HTTPError) in try ItemInput.name(raw) }
            let content = try body.text("content").map { raw throws(HTTPError) in try ItemInput.content(raw) }
            let item = try items.update(id: id, name: name, content: content)
            return browser ? Self.redirectToManage(.updated, request) : .json(Self.json(item))
        case "delete":
            let id = try ItemInput.id(try body.text("id"))
            try items.delete(id: id)
            return browser ? Self.redirectToManage(.deleted, request) : .json(.object([("deleted", .int(id))]))
        default:
            throw HTTPError(422, "The field 'action' must be create, update or delete.")
        }
    }
}

/// The confirmation shown after a change (post/redirect/get), carried by a short-lived cookie
/// so that the redirect goes to exactly `/manage`.
enum ManageNotice: String {
    case created, updated, deleted

    static let cookieName = "manage_notice"

    var message: String {
        switch self {
        case .created: "Item created."
        case .updated: "Item updated."
        case .deleted: "Item deleted."
        }
    }
}
