import Cluster
import Foundation
import WebCore

extension Application {
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
                    return (node.rawValue, health.isUsable, health.state.rawValue, health.latencyMilliseconds)
                }))
    }
}
