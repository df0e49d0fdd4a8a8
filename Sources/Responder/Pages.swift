import Cluster
import Mustache
import PHPSession
import WebCore

/// One session value as the index page shows it.
struct DisplayValue {
    let key: String
    let value: String
}

/// What the index page shows. Every field is plain text: `IndexPage` escapes it.
struct IndexView {
    /// One database node.
    struct Node {
        let name: String
        let state: String
        let latency: String
        let isUp: Bool
    }

    /// One session value; `removable` when the route accepts its key.
    struct Value {
        let key: String
        let value: String
        let removable: Bool
    }

    /// One responder pool, from the `servers` table or this process alone.
    struct Pool {
        let name: String
        let address: String
        let state: String
        let isActive: Bool
        /// ISO 8601, or empty when unknown.
        let lastSeen: String
        /// The pool that rendered this page.
        let isThisPool: Bool
        /// Named in the session's `served_by_pools`.
        let servedThisSession: Bool
    }

    let title = "Your session"
    let servedBy: String
    let visits: Int64
    /// A short, non-reversible tag of the session id: it changes when the id does.
    let fingerprint: String
    let sessionPools: [String]
    let nodes: [Node]
    let queuedChanges: Int
    let oldestQueuedSeconds: Int
    let values: [Value]
    let pools: [Pool]
    /// Why the list of pools is short or missing, when it is.
    let poolsNote: String?
}

/// The form of one item, as typed: kept with its messages when the server refused it.
struct ItemForm {
    /// nil for a new item.
    let id: Int64?
    let name: String
    let content: String
    let nameError: String?
    let contentError: String?

    init(id: Int64? = nil, name: String = "", content: String = "", nameError: String? = nil,
        contentError: String? = nil) {
        self.id = id
        self.name = name
        self.content = content
        self.nameError = nameError
        self.contentError = contentError
    }

    init(_ item: Item) { self.init(id: item.id, name: item.name, content: item.content) }

    var hasErrors: Bool { nameError != nil || contentError != nil }
}

/// What the manage page shows: the list with its create form, one item's edit form, or the
/// confirmation of a delete.
struct ManageView {
    enum Mode { case list, edit, confirmDelete }

    var mode: Mode = .list
    var items: [Item] = []
    /// `/manage?before=ID` of the next (older) page.
    var olderPage: String?
    /// True when this is not the first page.
    var isPaged = false
    var notice: ManageNotice?
    var form = ItemForm()
    /// The item a delete asks about.
    var target: Item?
}

/// The HTML pages, rendered by swift-mustache, which escapes every `{{value}}` by default.
public struct Pages: Sendable {
    static let stylesheetPath = "/static/style.css"
    private let library: MustacheLibrary
    private let stylesheetTag: String

    public init() {
        var library = MustacheLibrary()
        do {
            for (name, text) in PageTemplates.all { try library.register(text, named: name) }
        } catch {
            fatalError("page templates do not parse: \(error)")  // a build-time constant; tests render every page
        }
        self.library = library
        stylesheetTag = "\"" + String(StableHash.fnv1a(PageTemplates.stylesheet), radix: 16) + "\""
    }

    /// Headers every page carries. `img-src` allows `data:` for the icon, which is inline so that
    /// no page asks for a `/favicon.ico` that would not exist.
    static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]

    /// A page as a response: the security headers, and `no-store` since every page shows live state.
    private func page(_ html: String, status: Int = 200) -> HTTPResponse {
        page(Array(html.utf8), status: status)
    }

    private func page(_ html: [UInt8], status: Int = 200) -> HTTPResponse {
        var response = HTTPResponse(
            status: status, headers: [("Content-Type", "text/html; charset=utf-8")], body: html)
        for (name, value) in Self.securityHeaders { response.addHeader(name, value) }
        response.addHeader("Cache-Control", "no-store")
        return response
    }

    /// A Mustache template inside the layout.
    private func render(_ template: String, _ context: Any, title: String, section: PageLayout.Section, servedBy: String?)
        -> String
    {
        var head = HTMLWriter()
        PageLayout.head(&head, title: title, section: section)
        var foot = HTMLWriter(capacity: 256)
        PageLayout.foot(&foot, servedBy: servedBy)
        return head.string + (library.render(context, withTemplate: template) ?? "") + foot.string
    }

    func index(_ view: IndexView) -> HTTPResponse {
        page(IndexPage.render(view))
    }

    func manage(_ view: ManageView, servedBy: String, status: Int = 200) -> HTTPResponse {
        let context = ManageContext(view, servedBy: servedBy)
        return page(render("manage", context, title: context.title, section: .manage, servedBy: servedBy), status: status)
    }

    /// A small HTML error page.
    func error(status: Int, message: String) -> String {
        let title = "\(status) \(HTTPResponse.reason(status))"
        return render("error", ErrorContext(title: title, message: message), title: title, section: .other, servedBy: nil)
    }

    /// The stylesheet, cacheable, with `304` for a matching `If-None-Match`.
    func stylesheetResponse(ifNoneMatch: String?) -> HTTPResponse {
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "public, max-age=86400"),
            ("ETag", stylesheetTag), ("X-Content-Type-Options", "nosniff"),
        ]
        if ifNoneMatch == stylesheetTag { return HTTPResponse(status: 304, headers: headers) }
        return HTTPResponse(status: 200, headers: headers, body: Array(PageTemplates.stylesheet.utf8))
    }

    /// The first 80 code points of `text` on one line, with `…` when cut.
    static func excerpt(_ text: String) -> String {
        let flat = text.unicodeScalars.map { $0.properties.isWhitespace ? " " : Character($0) }
        let scalars = String(flat).unicodeScalars
        guard scalars.count > 80 else { return String(flat) }
        return String(String.UnicodeScalarView(scalars.prefix(79))) + "…"
    }

    /// `2026-11-26T19:00:00Z` as `2026-11-26 19:00 UTC`; anything else as it is.
    static func readableTime(_ iso: String) -> String {
        let bytes = Array(iso.utf8)
        guard let t = bytes.firstIndex(of: UInt8(ascii: "T")), bytes.last == UInt8(ascii: "Z"), bytes.count - t > 6,
            !bytes[(t + 1)...].contains(UInt8(ascii: "T"))
        else { return iso }
        return String(decoding: bytes[..<t] + [UInt8(ascii: " ")] + bytes[(t + 1)..<(t + 6)] + Array(" UTC".utf8), as: UTF8.self)
    }
}

final class ErrorContext {
    let title: String
    let message: String

    init(title: String, message: String) {
        self.title = title
        self.message = message
    }
}

/// The manage page as its template reads it: flags instead of an enum, text instead of numbers.
/// Classes: swift-mustache casts the object of every lookup to its protocols, and casting a
/// struct copies it (retaining every field) each time.
final class ManageContext {
    final class Row {
        let id: String
        let name: String
        let excerpt: String
        let hasContent: Bool
        let updatedAt: String
        let updatedText: String

        init(id: String, name: String, excerpt: String, hasContent: Bool, updatedAt: String, updatedText: String) {
            self.id = id
            self.name = name
            self.excerpt = excerpt
            self.hasContent = hasContent
            self.updatedAt = updatedAt
            self.updatedText = updatedText
        }
    }

    final class Form {
        let isNew: Bool
        let id: String
        let name: String
        let content: String
        let nameError: String?
        let contentError: String?
        let hasErrors: Bool
        let headingID: String

        init(
            isNew: Bool, id: String, name: String, content: String, nameError: String?, contentError: String?,
            hasErrors: Bool, headingID: String
        ) {
            self.isNew = isNew
            self.id = id
            self.name = name
            self.content = content
            self.nameError = nameError
            self.contentError = contentError
            self.hasErrors = hasErrors
            self.headingID = headingID
        }
    }

    let title: String
    let servedBy: String
    let notice: String?
    let isList: Bool
    let isEdit: Bool
    let isConfirmDelete: Bool
    let form: Form
    let items: [Row]
    let hasItems: Bool
    let olderPage: String?
    let isPaged: Bool
    let hasPager: Bool
    let target: Row?

    init(_ view: ManageView, servedBy: String) {
        self.servedBy = servedBy
        switch view.mode {
        case .list: title = "Items"
        case .edit: title = "Edit \(view.form.name.isEmpty ? "item" : view.form.name)"
        case .confirmDelete: title = "Delete \(view.target?.name ?? "item")?"
        }
        notice = view.notice?.message
        isList = view.mode == .list
        isEdit = view.mode == .edit
        isConfirmDelete = view.mode == .confirmDelete
        form = Form(
            isNew: view.form.id == nil, id: view.form.id.map(String.init) ?? "", name: view.form.name,
            content: view.form.content, nameError: view.form.nameError, contentError: view.form.contentError,
            hasErrors: view.form.hasErrors, headingID: view.form.id == nil ? "create-title" : "edit-title")
        items = view.items.map(Self.row)
        hasItems = !view.items.isEmpty
        olderPage = view.olderPage
        isPaged = view.isPaged
        hasPager = view.isPaged || view.olderPage != nil
        target = view.target.map(Self.row)
    }

    static func row(_ item: Item) -> Row {
        Row(
            id: String(item.id), name: item.name, excerpt: Pages.excerpt(item.content),
            hasContent: !item.content.isEmpty, updatedAt: item.updatedAt,
            updatedText: Pages.readableTime(item.updatedAt))
    }
}

/// The pools that served this browser's index page during its current session, oldest first, at
/// most 32. They live in a cookie, not in the session, so a PHP application sharing the session
/// finds only what the application put there: percent-encoded names joined by `|`.
enum ServedByPools {
    static let cookieName = "served_by_pools"
    static let limit = 32

    /// The names in the cookie header; malformed parts are skipped.
    static func names(inCookieHeader header: String?) -> [String] {
        guard let value = Cookies.value(named: cookieName, in: header), !value.isEmpty else { return [] }
        var seen = Set<String>()
        return value.split(separator: "|").compactMap { part in
            (try? PercentDecoding.decode(Array(part.utf8), plusAsSpace: false)).flatMap { name in
                name.isEmpty || !seen.insert(name).inserted ? nil : name
            }
        }.suffix(limit).map { $0 }
    }

    /// `names` with `pool` added at the end when it is new, the oldest dropped past the limit.
    static func recording(_ pool: String, in names: [String]) -> [String] {
        guard !names.contains(pool) else { return names }
        return Array((names + [pool]).suffix(limit))
    }

    /// The cookie value for `names`.
    static func cookieValue(_ names: [String]) -> String {
        names.map { PercentDecoding.encode($0) }.joined(separator: "|")
    }
}
