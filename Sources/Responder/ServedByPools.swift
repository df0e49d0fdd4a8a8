import WebCore

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
