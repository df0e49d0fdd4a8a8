import Cluster
import Mustache
import WebCore

/// One node as the index page shows it.
struct IndexNode {
    let name: String
    let state: String
    let latency: String
    var isUp: Bool { state == "up" }
}

/// One session value as the index page shows it.
struct DisplayValue {
    let key: String
    let value: String
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
        stylesheetTag = "\"" + String(PageTemplates.stylesheet.hashValueStable, radix: 16) + "\""
    }

    /// Headers every page carries.
    static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]

    private func page(_ template: String, _ context: [String: Any], status: Int = 200) -> HTTPResponse {
        let html = library.render(context, withTemplate: template) ?? ""
        var response = HTTPResponse.html(html, status: status)
        for (name, value) in Self.securityHeaders { response.addHeader(name, value) }
        return response
    }

    func index(visits: Int64, servedBy: String, nodes: [IndexNode], values: [DisplayValue]) -> HTTPResponse {
        page(
            "index",
            [
                "title": "Session cluster", "visits": visits, "servedBy": servedBy,
                "nodes": nodes.map { ["name": $0.name, "state": $0.state, "latency": $0.latency, "up": $0.isUp] },
                "values": values.map { ["key": $0.key, "value": $0.value] }, "hasValues": !values.isEmpty,
                "stylesheet": Self.stylesheetPath,
            ])
    }

    func manage(items: [Item], next: String?, notice: ManageNotice?, servedBy: String) -> HTTPResponse {
        page(
            "manage",
            [
                "title": "Items", "servedBy": servedBy, "stylesheet": Self.stylesheetPath,
                "items": items.map {
                    [
                        "id": String($0.id), "name": $0.name, "content": $0.content,
                        "excerpt": Self.excerpt($0.content), "updatedAt": $0.updatedAt,
                    ]
                },
                "hasItems": !items.isEmpty, "next": next ?? "", "hasNext": next != nil,
                "notice": notice?.message ?? "", "hasNotice": notice != nil,
            ])
    }

    /// A small HTML error page.
    func error(status: Int, message: String) -> String {
        library.render(
            [
                "title": "\(status) \(HTTPResponse.reason(status))", "status": status, "message": message,
                "stylesheet": Self.stylesheetPath,
            ], withTemplate: "error") ?? ""
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

    static func excerpt(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 80 else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(79))) + "…"
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs, unlike `hashValue`.
    var hashValueStable: UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            value ^= UInt64(byte)
            value &*= 0x100_0000_01b3
        }
        return value
    }
}
