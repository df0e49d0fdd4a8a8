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

    /// `GET /manage`: HTML, or `{"items":[…]}` when `Accept` names JSON. `?before=ID&limit=N` pages;
    /// in HTML, `?edit=ID` shows one item's form and `?confirm_delete=ID` asks before a delete.
    func listItems(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try FormFields.parse(Array(request.query.utf8), limits: services.limits.form)
        let wantsJSON = request.acceptsJSON
        if !wantsJSON, let raw = query["edit"] {
            let item = try existingItem(raw)
            return services.pages.manage(ManageView(mode: .edit, form: ItemForm(item)), servedBy: services.servedBy)
        }
        if !wantsJSON, let raw = query["confirm_delete"] {
            let item = try existingItem(raw)
            return services.pages.manage(ManageView(mode: .confirmDelete, target: item), servedBy: services.servedBy)
        }
        let defaultLimit = wantsJSON ? Self.jsonPageSize : Self.htmlPageSize
        let givenLimit = query["limit"].flatMap { Int($0) }.map { min(max($0, 1), Self.maxPageSize) }
        let limit = givenLimit ?? defaultLimit
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
        var view = ManageView(items: shown, isPaged: before != Int64.max, notice: notice)
        view.olderPage = next.map { "/manage?before=\($0)" + (givenLimit.map { "&limit=\($0)" } ?? "") }
        var response = services.pages.manage(view, servedBy: services.servedBy)
        if notice != nil {
            response.addHeader(
                "Set-Cookie",
                Cookies.setCookie(
                    name: ManageNotice.cookieName, value: "", secure: request.isHTTPS, maxAge: 0, path: "/manage"))
        }
        return response
    }

    /// The item a query parameter names: 422 for a malformed id, 404 for one of no item.
    private func existingItem(_ raw: String) throws -> Item {
        guard let item = try items.get(id: try ItemInput.id(raw)) else { throw HTTPError(404, "No such item.") }
        return item
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
    ///
    /// A browser form whose name or content is refused gets `422` with the form shown again, the
    /// input kept and each message next to its field; every other client gets the first error.
    func changeItems(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try RequestBody.parse(request, limits: services.limits)
        guard let action = try body.text("action") else { throw HTTPError(422, "The field 'action' is required.") }
        let browser = !body.isJSON && request.prefersHTML
        switch action {
        case "create":
            let fields = CheckedItemFields(
                name: try body.text("name"), content: try body.text("content"), nameRequired: true)
            if browser && fields.hasErrors { return try refusedCreate(fields) }
            if let error = fields.firstError { throw error }
            let item = try items.create(name: fields.name ?? "", content: fields.content ?? "")
            return browser ? Self.redirectToManage(.created, request) : .json(Self.json(item), status: 201)
        case "update":
            let id = try ItemInput.id(try body.idText())
            let fields = CheckedItemFields(
                name: try body.text("name"), content: try body.text("content"), nameRequired: false)
            if browser && fields.hasErrors { return try refusedUpdate(id: id, fields) }
            if let error = fields.firstError { throw error }
            let item = try items.update(id: id, name: fields.name, content: fields.content)
            return browser ? Self.redirectToManage(.updated, request) : .json(Self.json(item))
        case "delete":
            let id = try ItemInput.id(try body.idText())
            try items.delete(id: id)
            return browser ? Self.redirectToManage(.deleted, request) : .json(.object([("deleted", .int(id))]))
        default:
            throw HTTPError(422, "The field 'action' must be create, update or delete.")
        }
    }

    /// The list page again with the create form as it was sent, `422`.
    private func refusedCreate(_ fields: CheckedItemFields) throws -> HTTPResponse {
        let page = try items.list(limit: Self.htmlPageSize + 1, before: Int64.max)
        let shown = Array(page.prefix(Self.htmlPageSize))
        var view = ManageView(items: shown, form: fields.form(id: nil))
        view.olderPage = page.count > Self.htmlPageSize ? shown.last.map { "/manage?before=\($0.id)" } : nil
        return services.pages.manage(view, servedBy: services.servedBy, status: 422)
    }

    /// The edit page again with the form as it was sent, `422`; `404` when the item is gone.
    private func refusedUpdate(id: Int64, _ fields: CheckedItemFields) throws -> HTTPResponse {
        guard let item = try items.get(id: id) else { throw HTTPError(404, "No such item.") }
        let form = fields.form(id: id, name: fields.rawName ?? item.name, content: fields.rawContent ?? item.content)
        return services.pages.manage(ManageView(mode: .edit, form: form), servedBy: services.servedBy, status: 422)
    }
}

/// An item's name and content checked as docs/API.md ("Items") says, every refusal kept with its message.
struct CheckedItemFields {
    let rawName: String?
    let rawContent: String?
    private(set) var name: String?
    private(set) var content: String?
    private(set) var nameError: HTTPError?
    private(set) var contentError: HTTPError?

    init(name rawName: String?, content rawContent: String?, nameRequired: Bool) {
        self.rawName = rawName
        self.rawContent = rawContent
        if let rawName {
            do throws(HTTPError) { name = try ItemInput.name(rawName) } catch { nameError = error }
        } else if nameRequired {
            nameError = HTTPError(422, "The field 'name' is required.")
        }
        if let rawContent {
            do throws(HTTPError) { content = try ItemInput.content(rawContent) } catch { contentError = error }
        }
    }

    var hasErrors: Bool { nameError != nil || contentError != nil }

    /// The error a client that is not a browser form gets: the name's first, as before.
    var firstError: HTTPError? { nameError ?? contentError }

    /// The form to show again: the input as typed, the messages next to their fields.
    func form(id: Int64?, name: String? = nil, content: String? = nil) -> ItemForm {
        ItemForm(
            id: id, name: name ?? rawName ?? "", content: content ?? rawContent ?? "",
            nameError: nameError?.message, contentError: contentError?.message)
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
