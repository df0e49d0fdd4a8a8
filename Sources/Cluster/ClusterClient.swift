import Foundation
import Logging
import Postgres

/// One worker's handle on both nodes: sends a statement to each usable node at once, then
/// collects the answers, so a request pays one round trip for two nodes.
///
/// Not `Sendable`: it owns the worker's two connections.
public final class ClusterClient {
    public let configuration: ClusterConfiguration
    public let health: ClusterHealth
    public let clock: HybridLogicalClock
    let logger: Logger
    private let linkA: NodeLink
    private let linkB: NodeLink

    public init(configuration: ClusterConfiguration, health: ClusterHealth, clock: HybridLogicalClock, logger: Logger) {
        self.configuration = configuration
        self.health = health
        self.clock = clock
        self.logger = logger
        linkA = NodeLink(name: .a, parameters: configuration.nodeA, health: health.a, logger: logger)
        linkB = NodeLink(name: .b, parameters: configuration.nodeB, health: health.b, logger: logger)
    }

    func link(_ name: NodeName) -> NodeLink { name == .a ? linkA : linkB }

    /// When the request being served must be answered (`REQUEST_TERMINATE_TIMEOUT`); nil for none.
    public private(set) var requestDeadline: ContinuousClock.Instant?
    /// True once a call of the current request was cut off by its deadline.
    public private(set) var requestExpired = false

    /// Starts a request: every call from now on ends by `deadline` at the latest.
    public func beginRequest(deadline: ContinuousClock.Instant?) {
        requestDeadline = deadline
        requestExpired = false
    }

    /// A deadline one query timeout from now, or the request's deadline when that comes first.
    func deadline() -> ContinuousClock.Instant {
        let query = ContinuousClock.now + configuration.queryTimeout
        guard let requestDeadline else { return query }
        return min(query, requestDeadline)
    }

    /// Throws `.timedOut` when the request's deadline has passed.
    func checkRequestDeadline() throws(ClusterError) {
        if requestExpired || (requestDeadline.map { ContinuousClock.now >= $0 } ?? false) {
            requestExpired = true
            throw ClusterError(.timedOut, detail: "the request's time ran out")
        }
    }

    /// Handles a failed call: when the request's own deadline cut it off, the statement is
    /// cancelled on the server (`PQcancel`) and the connection dropped, and the node is not
    /// blamed; otherwise the node is marked down.
    func fail(_ link: NodeLink, _ error: PostgresError) {
        if error.code == .timedOut, let requestDeadline, ContinuousClock.now >= requestDeadline {
            requestExpired = true
            link.abandon()
        } else {
            link.failed(error)
        }
    }

    /// The nodes requests should use now, preferred first.
    var usableNodes: [NodeName] {
        let primary = health.preferred
        return [primary, primary.other].filter { health[$0].isUsable }
    }

    /// Runs one statement on one node; a broken node is marked down and reported as unavailable.
    func run(_ statement: Statement, _ values: [PostgresValue], on node: NodeName) throws(ClusterError)
        -> PostgresResult
    {
        try checkRequestDeadline()
        let link = link(node)
        guard link.isUsable else { throw ClusterError(.unavailable, detail: "node \(node.rawValue) is down") }
        do {
            sentAt[node] = Date().timeIntervalSince1970
            return try link.run(statement, values, deadline: deadline())
        } catch {
            fail(link, error)
            if requestExpired { throw ClusterError(.timedOut, detail: "the request's time ran out") }
            throw ClusterError(.unavailable, detail: error.debugDescription)
        }
    }

    /// Sends `statement` to every usable node at once and collects what each answered.
    /// Nodes that fail are marked down and left out; throws when none answered.
    func readAll(_ statement: Statement, _ values: [PostgresValue]) throws(ClusterError) -> [NodeName: PostgresResult] {
        try checkRequestDeadline()
        let nodes = usableNodes
        guard !nodes.isEmpty else { throw ClusterError(.unavailable, detail: "no node is up") }
        let results = sendAndCollect(statement, values, on: nodes).results
        try checkRequestDeadline()
        guard !results.isEmpty else { throw ClusterError(.unavailable, detail: "no node answered") }
        return results
    }

    /// What one statement sent to several nodes came to.
    struct Collected {
        /// The answers of the nodes that answered.
        var results: [NodeName: PostgresResult] = [:]
        /// Nodes that took the statement and then failed: it may or may not have been applied there.
        var unconfirmed: [NodeName] = []
    }

    /// Sends `statement` to each of `nodes` without waiting, then collects each answer; a node
    /// that fails is marked down (or abandoned, past the request's deadline) and left out.
    ///
    /// Each node gets its own query time, counted from when the worker turns to it: a node
    /// that hangs (or drops packets while connecting) uses up its own time only, and the other
    /// node's answer, waiting in its socket meanwhile, is still taken. With one shared deadline
    /// the healthy node was judged timed out too and requests failed with both nodes "down".
    func sendAndCollect(_ statement: Statement, _ values: [PostgresValue], on nodes: [NodeName]) -> Collected {
        sendAndCollect(statement, on: nodes) { _ in values }
    }

    /// `sendAndCollect` with each node's own values (a write's fence is counted on that node's clock).
    func sendAndCollect(
        _ statement: Statement, on nodes: [NodeName], values: (NodeName) -> [PostgresValue]
    ) -> Collected {
        var sent: [NodeName] = []
        for node in nodes {
            do {
                sentAt[node] = Date().timeIntervalSince1970
                try link(node).send(statement, values(node), deadline: deadline())
                sent.append(node)
            } catch {
                fail(link(node), error)
            }
        }
        var collected = Collected()
        for node in sent {
            do {
                collected.results[node] = try link(node).receive(deadline: deadline())
            } catch {
                fail(link(node), error)
                collected.unconfirmed.append(node)
            }
        }
        return collected
    }

    /// When the last statement went to each node, on this host's clock (seconds since 1970).
    private var sentAt: [NodeName: Double] = [:]

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// How far a node's clock is ahead of this host's, from `Statement.nodeClock` as the last
    /// statement sent to that node answered it: the node read its clock after the statement was
    /// sent, however long its answer then waited to be collected.
    /// Also remembered for `rememberedOffset`.
    @discardableResult
    func measureClockOffset(of node: NodeName, nodeClock: String?) -> Double? {
        guard let sent = sentAt[node], let clock = nodeClock.flatMap(Double.init) else { return nil }
        let offset = clock - sent
        if let known = recentOffsets[node], ContinuousClock.now - known.at < Self.offsetMemory, known.offset <= offset {
            return offset
        }
        recentOffsets[node] = (offset, .now)
        return offset
    }

    /// How long a measured clock offset may stand in for a node's offset when a write goes to a
    /// node it did not read (`rememberedOffset`).
    static let offsetMemory = Duration.seconds(5)

    /// The smallest clock offset of each node measured within `offsetMemory`, and when. Each
    /// measurement also counts the time the answer took to be read by the node, so the smallest is
    /// the closest, and gives the earliest fence.
    private var recentOffsets: [NodeName: (offset: Double, at: ContinuousClock.Instant)] = [:]

    /// A clock offset of `node` measured within `offsetMemory`, for the fence of a write to a node
    /// this request did not read; nil when there is none.
    func rememberedOffset(of node: NodeName) -> Double? {
        guard let known = recentOffsets[node], ContinuousClock.now - known.at < Self.offsetMemory else { return nil }
        return known.offset
    }

    /// The fence of a write sent now to a node whose clock is `offset` ahead of this host's: one
    /// query time from now on that node's clock, when this responder has given up on the call
    /// (`Statement.fence`).
    func fence(offset: Double?) -> PostgresValue {
        guard let offset else { return .null }
        return .text(String(Date().timeIntervalSince1970 + offset + Self.seconds(configuration.queryTimeout)))
    }

    /// Seconds within which a node must have been beaten to count as fresh: less than the time
    /// a responder takes to judge a hung node away (`DB_QUERY_TIMEOUT`), so that a node that was
    /// paused long enough for the other to stand alone is never fresh when it returns.
    var freshnessSeconds: Double {
        if let freshness = configuration.freshness { return Self.seconds(freshness) }
        return min(1.5, Self.seconds(configuration.queryTimeout) * 0.75)
    }

    /// Makes `node` stand alone, so that it may take changes while the other node is away:
    /// it must already stand alone, or be current and fresh. Waits until the standing has
    /// settled (`Statement.soloSettleSeconds`). Throws `.unavailable` when the node cannot
    /// prove that it holds every acknowledged write.
    func standAlone(on node: NodeName) throws(ClusterError) {
        let result = try run(.standingClaim, [.text(String(freshnessSeconds))], on: node)
        guard result.rowCount == 1, let since = result.string(0, 0).flatMap(Double.init) else {
            throw ClusterError(
                .unavailable, detail: "node \(node.rawValue) cannot prove it holds every write while the other is away")
        }
        let wait = Double(Statement.soloSettleSeconds) - since
        if wait > 0 { Thread.sleep(forTimeInterval: wait + 0.02) }
    }

    /// A write that one node confirmed while the other failed during the call (or was skipped):
    /// the row is queued on `node` for the other, and `node` must stand alone for a change to an
    /// existing row; otherwise the outcome is unknown (`.indeterminate`).
    func keepAlone(table: String, key: String, on node: NodeName, changesExistingRow: Bool) throws(ClusterError) {
        do {
            // Bookkeeping that keeps the write: its own query time, even past the request's deadline.
            _ = try link(node).run(
                .outboxAdd, [.text(table), .text(key)], deadline: .now + configuration.queryTimeout)
        } catch {
            fail(link(node), error)
            // The caller gets `.indeterminate` (HTTP 504) and logs it; here it is detail.
            logger.debug(
                "a write reached one node only and could not be queued for the other",
                metadata: ["db.node": "\(node.rawValue)", "db.table": "\(table)"])
            throw ClusterError(.indeterminate, detail: "written on node \(node.rawValue) only, not queued")
        }
        guard changesExistingRow else { return }
        do throws(ClusterError) {
            try standAlone(on: node)
        } catch {
            throw ClusterError(.indeterminate, detail: "written on node \(node.rawValue) only: \(error.detail)")
        }
    }

    /// Writes one row on every usable node: at once on both, or with the alone twin on the one
    /// node that is up (which must stand alone first when the write changes an existing row).
    /// When one node confirms and the other fails or is skipped, the row is kept for the other
    /// (`keepAlone`). Returns the answers of the nodes that confirmed.
    func writeEverywhere(_ statement: Statement, _ values: [PostgresValue], key: String, changesExistingRow: Bool)
        throws(ClusterError) -> [NodeName: PostgresResult]
    {
        try writeEverywhere(statement, key: key, changesExistingRow: changesExistingRow) { _ in values }
    }

    /// `writeEverywhere` with each node's own values.
    func writeEverywhere(
        _ statement: Statement, key: String, changesExistingRow: Bool, values: (NodeName) -> [PostgresValue]
    ) throws(ClusterError) -> [NodeName: PostgresResult] {
        try checkRequestDeadline()
        let nodes = usableNodes
        guard let table = statement.table, let twin = statement.aloneTwin else {
            throw ClusterError(.unavailable, detail: "\(statement.rawValue) is not a replicated write")
        }
        guard let first = nodes.first else { throw ClusterError(.unavailable, detail: "no node is up") }
        if nodes.count == 1 && changesExistingRow { try standAlone(on: first) }
        let collected = sendAndCollect(nodes.count == 1 ? twin : statement, on: nodes, values: values)
        guard let (node, result) = collected.results.first else {
            throw ClusterError(
                collected.unconfirmed.isEmpty ? .unavailable : .indeterminate, detail: "no node confirmed the write")
        }
        if nodes.count > 1, collected.results.count == 1, result.rowCount > 0 {
            try keepAlone(table: table, key: key, on: node, changesExistingRow: changesExistingRow)
        }
        return collected.results
    }

    /// Registers this responder in `servers` on every usable node.
    public func registerServer(name: String, host: String, port: Int, active: Bool) {
        for node in usableNodes {
            _ = try? run(.serverRegister, [.text(name), .text(host), .int(port), .bool(active)], on: node)
        }
    }
}
