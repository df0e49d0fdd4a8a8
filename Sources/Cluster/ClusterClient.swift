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

    /// A deadline one query timeout from now.
    func deadline() -> ContinuousClock.Instant { .now + configuration.queryTimeout }

    /// The nodes requests should use now, primary first.
    var usableNodes: [NodeName] {
        let primary = health.primary
        return [primary, primary.other].filter { health[$0].isUsable }
    }

    /// Runs one statement on one node; a broken node is marked down and reported as unavailable.
    func run(_ statement: Statement, _ values: [PostgresValue], on node: NodeName) throws(ClusterError)
        -> PostgresResult
    {
        let link = link(node)
        guard link.isUsable else { throw ClusterError(.unavailable, detail: "node \(node.rawValue) is down") }
        do {
            return try link.run(statement, values, deadline: deadline())
        } catch {
            link.failed(error)
            throw ClusterError(.unavailable, detail: error.debugDescription)
        }
    }

    /// Sends `statement` to every usable node at once and collects what each answered.
    /// Nodes that fail are marked down and left out; throws when none answered.
    func readAll(_ statement: Statement, _ values: [PostgresValue]) throws(ClusterError) -> [NodeName: PostgresResult] {
        let nodes = usableNodes
        guard !nodes.isEmpty else { throw ClusterError(.unavailable, detail: "no node is up") }
        let deadline = deadline()
        var sent: [NodeName] = []
        for node in nodes {
            do {
                try link(node).send(statement, values, deadline: deadline)
                sent.append(node)
            } catch {
                link(node).failed(error)
            }
        }
        var results: [NodeName: PostgresResult] = [:]
        for node in sent {
            do {
                results[node] = try link(node).receive(deadline: deadline)
            } catch {
                link(node).failed(error)
            }
        }
        guard !results.isEmpty else { throw ClusterError(.unavailable, detail: "no node answered") }
        return results
    }

    /// Writes on every usable node at once. A node known to be away gets nothing; the statement's
    /// outbox twin records the rows for it on the other node in the same statement. A node that
    /// fails during the call is marked down and the rows are queued for it afterwards.
    @discardableResult
    func writeAll(_ statement: Statement, _ values: [PostgresValue]) throws(ClusterError) -> [NodeName: PostgresResult] {
        let nodes = usableNodes
        guard !nodes.isEmpty else { throw ClusterError(.unavailable, detail: "no node is up") }
        let alone = nodes.count == 1
        let chosen = alone ? (statement.outboxTwin ?? statement) : statement
        let deadline = deadline()
        var sent: [NodeName] = []
        for node in nodes {
            do {
                try link(node).send(chosen, values, deadline: deadline)
                sent.append(node)
            } catch {
                link(node).failed(error)
            }
        }
        var results: [NodeName: PostgresResult] = [:]
        for node in sent {
            do {
                results[node] = try link(node).receive(deadline: deadline)
            } catch {
                link(node).failed(error)
            }
        }
        guard !results.isEmpty else { throw ClusterError(.unavailable, detail: "no node took the write") }
        if !alone, results.count == 1, let table = statement.table, let (node, result) = results.first {
            queue(table: table, keysOf: result, on: node)
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
            _ = try link(node).run(.outboxAdd, [.text(table), .text(key)], deadline: deadline())
        } catch {
            link(node).failed(error)
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
