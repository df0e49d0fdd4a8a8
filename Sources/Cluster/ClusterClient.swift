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

    /// The nodes requests should use now, primary first.
    var usableNodes: [NodeName] {
        let primary = health.primary
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
        let results = sendAndCollect(statement, values, on: nodes)
        try checkRequestDeadline()
        guard !results.isEmpty else { throw ClusterError(.unavailable, detail: "no node answered") }
        return results
    }

    /// Writes on every usable node at once. A node known to be away gets nothing; the statement's
    /// outbox twin records the rows for it on the other node in the same statement. A node that
    /// fails during the call is marked down and the rows are queued for it afterwards.
    @discardableResult
    func writeAll(_ statement: Statement, _ values: [PostgresValue]) throws(ClusterError) -> [NodeName: PostgresResult] {
        try checkRequestDeadline()
        let nodes = usableNodes
        guard !nodes.isEmpty else { throw ClusterError(.unavailable, detail: "no node is up") }
        let alone = nodes.count == 1
        let chosen = alone ? (statement.outboxTwin ?? statement) : statement
        let results = sendAndCollect(chosen, values, on: nodes)
        if requestExpired { throw ClusterError(.timedOut, detail: "the request's time ran out") }
        guard !results.isEmpty else { throw ClusterError(.unavailable, detail: "no node took the write") }
        if !alone, results.count == 1, let table = statement.table, let (node, result) = results.first {
            queue(table: table, keysOf: result, on: node)
        }
        return results
    }

    /// Sends `statement` to each of `nodes` without waiting, then collects each answer; a node
    /// that fails is marked down (or abandoned, past the request's deadline) and left out.
    ///
    /// Each node gets its own query time, counted from when the worker turns to it: a node
    /// that hangs (or drops packets while connecting) uses up its own time only, and the other
    /// node's answer, waiting in its socket meanwhile, is still taken. With one shared deadline
    /// the healthy node was judged timed out too and requests failed with both nodes "down".
    private func sendAndCollect(_ statement: Statement, _ values: [PostgresValue], on nodes: [NodeName])
        -> [NodeName: PostgresResult]
    {
        var sent: [NodeName] = []
        for node in nodes {
            do {
                try link(node).send(statement, values, deadline: deadline())
                sent.append(node)
            } catch {
                fail(link(node), error)
            }
        }
        var results: [NodeName: PostgresResult] = [:]
        for node in sent {
            do {
                results[node] = try link(node).receive(deadline: deadline())
            } catch {
                fail(link(node), error)
            }
        }
        return results
    }

    /// Records rows in `node`'s outbox for the other node (after that node failed mid-call).
    func queue(table: String, keysOf result: PostgresResult, on node: NodeName) {
        for row in 0..<result.rowCount {
            guard let key = result.string(row, 0) else { continue }
            queue(table: table, key: key, on: node)
        }
    }

    /// Records one row in `node`'s outbox for the other node.
    func queue(table: String, key: String, on node: NodeName) {
        do {
            // Bookkeeping that keeps the write's guarantee: it gets its own query time even when
            // the request's deadline has passed.
            _ = try link(node).run(
                .outboxAdd, [.text(table), .text(key)], deadline: .now + configuration.queryTimeout)
        } catch {
            fail(link(node), error)
            logger.error(
                "could not queue a change for the other node; anti-entropy will repair it",
                metadata: ["db.node": "\(node.rawValue)", "db.table": "\(table)"])
        }
    }

    /// Registers this responder in `servers` on every usable node.
    public func registerServer(name: String, host: String, port: Int, active: Bool) {
        for node in usableNodes {
            _ = try? run(.serverRegister, [.text(name), .text(host), .int(port), .bool(active)], on: node)
        }
    }
}
