import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The figures of one process: counters `/status` shows as JSON, and the same through
/// swift-metrics into a swift-prometheus registry for `/status?format=prometheus`.
///
/// Events (slow requests, retries, request durations…) go through swift-metrics as they happen.
/// Figures kept elsewhere (accepted requests, outbox, GC, node health) are copied into the
/// registry when it is scraped: gauges are set, counters advance by what changed since.
public final class ResponderMetrics: Sendable {
    private struct Counts {
        var slowRequests = 0
        var decodeFailures = 0
        var casRetries = 0
        var conflicts = 0
        var terminated = 0
    }

    private let counts = Mutex(Counts())
    private let registry = PrometheusCollectorRegistry()
    private let pool: String

    private let slowCounter: CoreMetrics.Counter
    private let decodeFailureCounter: CoreMetrics.Counter
    private let casRetryCounter: CoreMetrics.Counter
    private let conflictCounter: CoreMetrics.Counter
    private let terminatedCounter: CoreMetrics.Counter
    /// Request durations by route, and answers by status class; made once, used by every request.
    /// In the order of `routes`, then `other`.
    private let durations: [CoreMetrics.Timer]
    private let responses: [CoreMetrics.Counter]
    private let scrape: Mutex<ScrapedFigures>

    /// The routes request durations are kept for; anything else counts as `other`.
    static let routes = ["/", "/session", "/session/regenerate", "/manage", "/health", "/status", "/static/style.css"]

    public init(pool: String = "") {
        self.pool = pool
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        let labels = [("pool", pool)]
        func counter(_ name: String, _ extra: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "responder_\(name)", dimensions: labels + extra, factory: factory)
        }
        slowCounter = counter("slow_requests_total")
        decodeFailureCounter = counter("decode_failures_total")
        casRetryCounter = counter("session_cas_retries_total")
        conflictCounter = counter("session_conflicts_total")
        terminatedCounter = counter("terminated_requests_total")
        durations = (Self.routes + ["other"]).map { route in
            CoreMetrics.Timer(
                label: "responder_request_duration_seconds", dimensions: labels + [("route", route)],
                factory: factory)
        }
        responses = (1...5).map { counter("responses_total", [("code", "\($0)xx")]) }
        scrape = Mutex(ScrapedFigures(registry: registry, pool: pool))
    }

    public func slowRequest() {
        counts.withLock { $0.slowRequests += 1 }
        slowCounter.increment()
    }
    public func decodeFailure() {
        counts.withLock { $0.decodeFailures += 1 }
        decodeFailureCounter.increment()
    }
    public func casRetry() {
        counts.withLock { $0.casRetries += 1 }
        casRetryCounter.increment()
    }
    public func conflict() {
        counts.withLock { $0.conflicts += 1 }
        conflictCounter.increment()
    }
    public func terminatedRequest() {
        counts.withLock { $0.terminated += 1 }
        terminatedCounter.increment()
    }

    /// One answered request: its duration by route, its status by class.
    func requestFinished(route: String, status: Int, nanoseconds: Int64) {
        // A few short comparisons cost less than hashing the route for a dictionary.
        durations[Self.routes.firstIndex(of: route) ?? Self.routes.count].recordNanoseconds(nanoseconds)
        if (100...599).contains(status) { responses[status / 100 - 1].increment() }
    }

    public var slowRequests: Int { counts.withLock { $0.slowRequests } }
    public var decodeFailures: Int { counts.withLock { $0.decodeFailures } }
    public var casRetries: Int { counts.withLock { $0.casRetries } }
    public var conflicts: Int { counts.withLock { $0.conflicts } }
    public var terminatedRequests: Int { counts.withLock { $0.terminated } }

    /// The Prometheus text format 0.0.4 of everything, after copying in `figures`.
    func exposition(_ figures: ScrapeInput) -> [UInt8] {
        scrape.withLock { scraped in
            scraped.update(figures)
            return registry.emitToBuffer()
        }
    }
}

/// What a scrape copies into the registry.
struct ScrapeInput {
    var startTime: Date
    var pool: PoolFigures
    var replication: ReplicationFigures
    /// Per node name: up, latency in milliseconds.
    var nodes: [(name: String, up: Bool, state: String, latencyMilliseconds: Double)]
}

/// The registry's copies of figures kept elsewhere, with what the counters last showed.
private struct ScrapedFigures {
    let registry: PrometheusCollectorRegistry
    let labels: [(String, String)]
    let startTime: Prometheus.Gauge
    let activeWorkers: Prometheus.Gauge
    let idleWorkers: Prometheus.Gauge
    let maxActiveWorkers: Prometheus.Gauge
    let outboxLength: Prometheus.Gauge
    let outboxOldest: Prometheus.Gauge
    let accepted: Prometheus.Counter
    let replayed: Prometheus.Counter
    let gcRuns: Prometheus.Counter
    let gcDeleted: Prometheus.Counter
    let repairPasses: Prometheus.Counter
    let repaired: Prometheus.Counter
    var nodeUp: [String: Prometheus.Gauge] = [:]
    var nodeLatency: [String: Prometheus.Gauge] = [:]
    /// Per node, one gauge per state (`up`, `catching_up`, `down`): 1 for the current one.
    var nodeState: [String: [String: Prometheus.Gauge]] = [:]
    static let nodeStates = ["up", "catching_up", "down"]
    /// What each counter shows, by name, so that a scrape adds only what changed.
    var shown: [String: Int] = [:]

    init(registry: PrometheusCollectorRegistry, pool: String) {
        self.registry = registry
        let labels = [("pool", pool)]
        self.labels = labels
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(name: "responder_\(name)", labels: labels, help: help)
        }
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(name: "responder_\(name)", labels: labels, help: help)
        }
        startTime = gauge("start_time_seconds", "Start time of the process since the epoch.")
        activeWorkers = gauge("active_workers", "Workers inside a request.")
        idleWorkers = gauge("idle_workers", "Workers waiting for a request.")
        maxActiveWorkers = gauge("max_active_workers", "Most workers busy at once.")
        outboxLength = gauge("outbox_length", "Changes queued for the other node.")
        outboxOldest = gauge("outbox_oldest_age_seconds", "Age of the oldest queued change.")
        accepted = counter("accepted_requests_total", "Requests accepted.")
        replayed = counter("replayed_rows_total", "Queued changes this process replayed to a returning node.")
        gcRuns = counter("gc_runs_total", "Garbage-collection passes run by this process.")
        gcDeleted = counter("gc_deleted_rows_total", "Rows removed by garbage collection.")
        repairPasses = counter("repair_passes_total", "Anti-entropy passes run by this process.")
        repaired = counter("repair_copied_rows_total", "Rows anti-entropy copied between the nodes.")
    }

    mutating func update(_ input: ScrapeInput) {
        startTime.set(input.startTime.timeIntervalSince1970.rounded(.down))
        activeWorkers.set(Int64(input.pool.active))
        idleWorkers.set(Int64(max(0, input.pool.workers - input.pool.active)))
        maxActiveWorkers.set(Int64(input.pool.maxActive))
        outboxLength.set(Int64(input.replication.outboxLength))
        outboxOldest.set(Int64(input.replication.outboxOldestAgeSeconds))
        advance(accepted, "accepted", to: input.pool.accepted)
        advance(replayed, "replayed", to: input.replication.replayedRows)
        advance(gcRuns, "gcRuns", to: input.replication.gcRuns)
        advance(gcDeleted, "gcDeleted", to: input.replication.gcDeletedRows)
        advance(repairPasses, "repairPasses", to: input.replication.repairPasses)
        advance(repaired, "repaired", to: input.replication.repairedRows)
        for node in input.nodes {
            let labels = self.labels + [("node", node.name)]
            if nodeUp[node.name] == nil {
                nodeUp[node.name] = registry.makeGauge(
                    name: "responder_node_up", labels: labels, help: "1 while the node serves.")
                nodeLatency[node.name] = registry.makeGauge(
                    name: "responder_node_latency_milliseconds", labels: labels,
                    help: "Smoothed round trip to the node.")
            }
            if nodeState[node.name] == nil {
                nodeState[node.name] = Dictionary(
                    uniqueKeysWithValues: Self.nodeStates.map { state in
                        (
                            state,
                            registry.makeGauge(
                                name: "responder_node_state", labels: labels + [("state", state)],
                                help: "1 for the node's state as this process sees it (up, catching_up, down).")
                        )
                    })
            }
            for (state, gauge) in nodeState[node.name] ?? [:] { gauge.set(Int64(state == node.state ? 1 : 0)) }
            nodeUp[node.name]?.set(Int64(node.up ? 1 : 0))
            nodeLatency[node.name]?.set(node.latencyMilliseconds)
        }
    }

    /// Moves `counter` up to `value`; a figure that went down (never expected) is not shown as a drop.
    private mutating func advance(_ counter: Prometheus.Counter, _ name: String, to value: Int) {
        let delta = value - (shown[name] ?? 0)
        if delta > 0 {
            counter.increment(by: Int64(delta))
            shown[name] = value
        }
    }
}
