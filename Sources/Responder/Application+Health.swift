import Cluster
import Foundation
import WebCore

extension Application {
    /// A node's state as the API names it (docs/API.md, "`GET /health`"): a node catching up serves, so it is `up`.
    static func apiState(_ state: NodeHealth.State) -> String { apiState(up: state != .down) }
    static func apiState(up: Bool) -> String { up ? "up" : "down" }

    /// `GET /health`: 200 while at least one node serves, else 503. Never touches a database:
    /// the state comes from the circuit breakers, which the maintenance thread keeps fresh.
    func health() -> HTTPResponse { Self.healthResponses[healthIndex] }

    /// The index of the current answer in `healthResponses`.
    private var healthIndex: Int { (services.health[.a].isUsable ? 1 : 0) | (services.health[.b].isUsable ? 2 : 0) }

    /// Every answer `respond(to:)` can give a plain `GET /health` that passes, in full (with
    /// `X-Served-By`), for the FastCGI worker to encode once at start-up.
    public var preparedHealthAnswers: [HTTPResponse] {
        Self.healthResponses.map { answer in
            var answer = answer
            addServedBy(to: &answer)
            return answer
        }
    }

    /// For a `GET /health` without a query or a body, whose longest header value but the
    /// cookie's, cookie length and cookie count are given: the index in `preparedHealthAnswers`
    /// of the answer `respond(to:)` would give, counted in the metrics as it counts it; nil when
    /// the full route must answer (a header near a limit, or a failing check, which is logged).
    /// So php-fpm answers its `ping.path`: before any script, with a fixed text.
    public func preparedHealthIndex(longestHeaderValue: Int, cookieBytes: Int, cookies: Int) -> Int? {
        // A value's bytes can triple when invalid UTF-8 is repaired; past a third of a limit
        // the full route measures it.
        let limits = services.limits
        guard longestHeaderValue <= limits.maxHeaderBytes / 3, cookieBytes <= limits.maxCookieBytes / 3,
            cookies <= limits.maxCookies
        else { return nil }
        let started = ContinuousClock.now
        let index = healthIndex
        guard Self.healthResponses[index].status == 200 else { return nil }
        let elapsed = ContinuousClock.now - started
        services.metrics.requestFinished(
            route: "/health", status: 200,
            nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return index
    }

    /// The `/health` answers for every combination of node A's and node B's states, encoded
    /// once: HAProxy asks every second and the answer only changes with the nodes' states.
    private static let healthResponses: [HTTPResponse] = (0..<4).map { index in
        let aUp = index & 1 != 0
        let bUp = index & 2 != 0
        let up = aUp || bUp
        let nodes = JSONValue.object([
            (NodeName.a.rawValue, .string(apiState(up: aUp))), (NodeName.b.rawValue, .string(apiState(up: bUp))),
        ])
        var response = HTTPResponse.json(
            .object([("status", .string(up ? "ok" : "down")), ("nodes", nodes)]), status: up ? 200 : 503)
        response.addHeader("Cache-Control", "no-store")
        if !up { response.addHeader("Retry-After", "5") }
        return response
    }
}
