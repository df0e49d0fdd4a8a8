import WebCore

/// The HTML pages as responses. Each page is written with `HTMLWriter` (`IndexPage`,
/// `ManagePage`, `ErrorPage`), which escapes every value: one renderer, chosen by measured cost
/// (bench/README.md, "Pages": the manage page costs a tenth of what swift-mustache took).
public struct Pages: Sendable {
    static let stylesheetPath = "/static/style.css"
    private let stylesheetTag = "\"" + String(StableHash.fnv1a(Stylesheet.text), radix: 16) + "\""

    public init() {}

    /// Headers every page carries. `img-src` allows `data:` for the icon, which is inline so that
    /// no page asks for a `/favicon.ico` that would not exist.
    static let securityHeaders: [(name: String, value: String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
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

    func index(_ view: IndexView) -> HTTPResponse {
        page(IndexPage.render(view))
    }

    func manage(_ view: ManageView, servedBy: String, status: Int = 200) -> HTTPResponse {
        page(ManagePage.render(view, servedBy: servedBy), status: status)
    }

    /// A small HTML error page.
    func error(status: Int, message: String) -> String {
        String(
            decoding: ErrorPage.render(title: "\(status) \(HTTPResponse.reason(status))", message: message),
            as: UTF8.self)
    }

    /// The stylesheet, cacheable, with `304` for a matching `If-None-Match`.
    func stylesheetResponse(ifNoneMatch: String?) -> HTTPResponse {
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "public, max-age=86400"),
            ("ETag", stylesheetTag), ("X-Content-Type-Options", "nosniff"),
        ]
        if ifNoneMatch == stylesheetTag { return HTTPResponse(status: 304, headers: headers) }
        return HTTPResponse(status: 200, headers: headers, body: Array(Stylesheet.text.utf8))
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
        return String(
            decoding: bytes[..<t] + [UInt8(ascii: " ")] + bytes[(t + 1)..<(t + 6)] + Array(" UTC".utf8), as: UTF8.self)
    }
}
