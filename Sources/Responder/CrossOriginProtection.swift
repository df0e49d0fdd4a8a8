import WebCore

/// Go 1.25's `CrossOriginProtection`: state-changing requests from another site are refused.
public enum CrossOriginProtection {
    static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// Nil when the request may proceed, else the 403 to answer.
    public static func check(_ request: HTTPRequest) -> HTTPError? {
        if safeMethods.contains(request.method) { return nil }
        if let site = request.header("sec-fetch-site")?.lowercased(), !site.isEmpty {
            if site == "same-origin" || site == "none" { return nil }
            return HTTPError(403, "Cross-site requests that change state are refused.")
        }
        guard let origin = request.header("origin") else { return nil }
        guard let host = request.header("host") else {
            return HTTPError(403, "Cross-site requests that change state are refused.")
        }
        let scheme = request.isHTTPS ? "https" : "http"
        if origin.lowercased() == "\(scheme)://\(host.lowercased())" { return nil }
        return HTTPError(403, "Cross-site requests that change state are refused.")
    }
}
