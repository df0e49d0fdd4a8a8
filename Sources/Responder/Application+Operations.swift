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

    /// `GET /status`: php-fpm's pool figures plus the cluster's, as JSON or Prometheus text.
    func status(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try FormFields.parse(Array(request.query.utf8), limits: services.limits.form)
        let figures = StatusFigures(services: services)
        var response: HTTPResponse
        switch query["format"] {
        case nil, "json":
            response = .json(figures.json)
        case "prometheus":
            response = HTTPResponse(
                status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                body: figures.prometheus)
        default:
            throw HTTPError(422, "The format must be json or prometheus.")
        }
        response.addHeader("Cache-Control", "no-store")
        return response
    }

    /// `GET /`: starts the session, counts the visit and the pool that served it, shows the cluster.
    func indexPage(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        let pool = services.servedBy
        let session = try withSession(request, writes: true) { data throws(HTTPError) in
            data[SessionKey.visits] = .int(SessionCodec.visits(data) &+ 1)
        }
        sessionHash = Self.hash(of: session.id)
        // Browsers only (Accept names text/html): scripts get no extra cookie.
        let tracksPools = request.prefersHTML
        let seenBefore =
            session.isNew || !tracksPools ? [] : ServedByPools.names(inCookieHeader: request.header("cookie"))
        let sessionPools = ServedByPools.recording(pool, in: seenBefore)
        let nodes = NodeName.allCases.map { name in
            let health = services.health[name]
            let state = Self.apiState(health.state)
            return IndexView.Node(
                name: name.rawValue.uppercased(), state: state,
                latency: Self.decimal(health.latencyMilliseconds, places: 1), isUp: state == "up")
        }
        let serverKept: Set<String> = [SessionKey.visits]
        let values = SessionCodec.displayValues(session.data).filter { !serverKept.contains($0.key) }.map { value in
            IndexView.Value(
                key: value.key, value: value.value,
                removable: (try? SessionKey.validate(value.key)) != nil)
        }
        // The registered pools: the `servers` table when this process can read it, else itself.
        var registered: [RegisteredServer]? = nil
        var poolsNote: String? = nil
        if let servers {
            do {
                registered = try servers.registeredServers(limit: 100)
            } catch {
                poolsNote = "The list of registered pools could not be read just now; this page shows its own pool."
            }
        } else {
            poolsNote = "This process does not read the list of registered pools; it shows its own."
        }
        let pools = (registered ?? [RegisteredServer(name: pool, host: "", port: 0, active: true, lastSeen: "")]).map {
            server in
            IndexView.Pool(
                name: server.name, address: server.host.isEmpty ? "" : "\(server.host):\(server.port)",
                state: server.active ? "active" : "stopped", isActive: server.active, lastSeen: server.lastSeen,
                isThisPool: server.name == pool, servedThisSession: sessionPools.contains(server.name))
        }
        let replication = services.replicationFigures()
        var response = services.pages.index(
            IndexView(
                servedBy: pool, visits: SessionCodec.visits(session.data), fingerprint: Self.hash(of: session.id),
                sessionPools: sessionPools, nodes: nodes, queuedChanges: replication.outboxLength,
                oldestQueuedSeconds: replication.outboxOldestAgeSeconds, values: values, pools: pools,
                poolsNote: poolsNote))
        if session.isNew { response.addHeader("Set-Cookie", sessionCookie(session.id, request)) }
        if tracksPools && sessionPools != seenBefore {
            response.addHeader(
                "Set-Cookie",
                Cookies.setCookie(
                    name: ServedByPools.cookieName, value: ServedByPools.cookieValue(sessionPools),
                    secure: request.isHTTPS))
        }
        return response
    }
}

/// Everything `/status` shows, gathered once per call.
struct StatusFigures {
    let services: ResponderServices
    let pool: PoolFigures
    let replication: ReplicationFigures
    let uptime: Int

    init(services: ResponderServices) {
        self.services = services
        pool = services.poolFigures()
        replication = services.replicationFigures()
        uptime = max(0, Int(Date().timeIntervalSince(services.startTime)))
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    var json: JSONValue {
        let metrics = services.metrics
        let nodes = JSONValue.object(
            NodeName.allCases.map { name in
                let health = services.health[name]
                return (
                    name.rawValue,
                    .object([
                        ("state", .string(Application.apiState(health.state))),
                        ("detail", .string(health.state.rawValue)),
                        ("latency_ms", .double((health.latencyMilliseconds * 1000).rounded() / 1000)),
                        ("failures", .int(Int64(health.failureCount))),
                    ])
                )
            })
        var outbox: [(key: String, value: JSONValue)] = [
            ("length", .int(Int64(replication.outboxLength))),
            ("oldest_age_seconds", .int(Int64(replication.outboxOldestAgeSeconds))),
            ("replayed_rows", .int(Int64(replication.replayedRows))),
        ]
        outbox.append(("last_replay", replication.lastReplayAt.map { .string(Self.iso8601($0)) } ?? .null))
        return .object([
            ("pool", .string(services.servedBy)),
            ("pid", .int(Int64(services.pid))),
            ("start_time", .string(Self.iso8601(services.startTime))),
            ("uptime_seconds", .int(Int64(uptime))),
            ("accepted_requests", .int(Int64(pool.accepted))),
            ("active_workers", .int(Int64(pool.active))),
            ("idle_workers", .int(Int64(max(0, pool.workers - pool.active)))),
            ("total_workers", .int(Int64(pool.workers))),
            ("max_active_workers", .int(Int64(pool.maxActive))),
            ("slow_requests", .int(Int64(metrics.slowRequests))),
            ("terminated_requests", .int(Int64(metrics.terminatedRequests))),
            ("nodes", nodes),
            ("outbox", .object(outbox)),
            ("session_cas_retries", .int(Int64(metrics.casRetries))),
            ("session_conflicts", .int(Int64(metrics.conflicts))),
            ("decode_failures", .int(Int64(metrics.decodeFailures))),
            (
                "repair",
                .object([
                    ("passes", .int(Int64(replication.repairPasses))),
                    ("copied_rows", .int(Int64(replication.repairedRows))),
                    ("last_repair", replication.lastRepairAt.map { .string(Self.iso8601($0)) } ?? .null),
                ])
            ),
            (
                "gc",
                .object([
                    ("runs", .int(Int64(replication.gcRuns))), ("deleted_rows", .int(Int64(replication.gcDeletedRows))),
                    ("last_run", replication.lastGCAt.map { .string(Self.iso8601($0)) } ?? .null),
                ])
            ),
        ])
    }

    /// The Prometheus text format 0.0.4, emitted by swift-prometheus (`ResponderMetrics`).
    var prometheus: [UInt8] {
        services.metrics.exposition(
            ScrapeInput(
                startTime: services.startTime, pool: pool, replication: replication,
                nodes: NodeName.allCases.map { node in
                    let health = services.health[node]
                    return (node.rawValue, health.isUsable, health.latencyMilliseconds)
                }))
    }
}
