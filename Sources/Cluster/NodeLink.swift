import Foundation
import Logging
import Postgres

/// One worker's connection to one node, opened on first use and dropped on failure.
/// Not `Sendable`: it belongs to the worker thread that made it.
final class NodeLink {
    let name: NodeName
    private let parameters: PostgresConnectionParameters
    private let health: NodeHealth
    private let logger: Logger
    private var connection: PostgresConnection?
    /// The health generation the connection was opened under; a newer one means it is stale.
    private var generation = 0
    private var sentAt: ContinuousClock.Instant?

    init(name: NodeName, parameters: PostgresConnectionParameters, health: NodeHealth, logger: Logger) {
        self.name = name
        self.parameters = parameters
        self.health = health
        self.logger = logger
    }

    /// True when requests should use this node now.
    var isUsable: Bool { health.isUsable }

    /// The live connection, opening one (and checking the node's identity) when needed.
    func open(deadline: ContinuousClock.Instant) throws(PostgresError) -> PostgresConnection {
        if let connection, connection.isUsable, generation == health.generation { return connection }
        connection = nil
        let fresh = try PostgresConnection(parameters)
        let identity = try fresh.query("SELECT name FROM cluster_node", deadline: deadline)
        guard identity.string(0, 0) == name.rawValue else {
            throw PostgresError(
                .connectionFailed, detail: "database \(parameters.database) is not node \(name.rawValue) (cluster_node)"
            )
        }
        connection = fresh
        generation = health.generation
        return fresh
    }

    /// Sends a prepared statement without waiting.
    func send(_ statement: Statement, _ values: [PostgresValue], deadline: ContinuousClock.Instant)
        throws(PostgresError)
    {
        let connection = try open(deadline: deadline)
        if !connection.isPrepared(statement.rawValue) {
            try connection.prepare(statement.rawValue, statement.sql, deadline: deadline)
        }
        sentAt = .now
        try connection.sendPrepared(statement.rawValue, values)
    }

    /// Waits for the statement sent last.
    func receive(deadline: ContinuousClock.Instant) throws(PostgresError) -> PostgresResult {
        guard let connection else { throw PostgresError(.connectionLost, detail: "no connection") }
        let result = try connection.receive(deadline: deadline)
        if let sentAt {
            let elapsed = ContinuousClock.now - sentAt
            health.recordSuccess(
                milliseconds: Double(elapsed.components.attoseconds) / 1e15
                    + Double(elapsed.components.seconds) * 1000)
        }
        return result
    }

    /// Runs one statement and waits for it.
    func run(_ statement: Statement, _ values: [PostgresValue], deadline: ContinuousClock.Instant) throws(PostgresError)
        -> PostgresResult
    {
        try send(statement, values, deadline: deadline)
        return try receive(deadline: deadline)
    }

    /// Runs an ad-hoc statement (maintenance only; still parameterised).
    func query(_ sql: String, _ values: [PostgresValue] = [], deadline: ContinuousClock.Instant) throws(PostgresError)
        -> PostgresResult
    {
        try open(deadline: deadline).query(sql, values, deadline: deadline)
    }

    /// Handles a failure: a broken connection marks the node down (the application hears of it
    /// through `ClusterHealth.onTransition`); an SQL error does not. The error also reaches the
    /// caller, so it is logged at `debug` only.
    func failed(_ error: PostgresError) {
        if error.breaksConnection || error.code == .timedOut {
            connection = nil
            health.recordFailure(error.debugDescription)
            logger.debug(
                "connection failed", metadata: ["db.node": "\(name.rawValue)", "db.error": "\(error.debugDescription)"])
        } else {
            logger.debug(
                "statement failed", metadata: ["db.node": "\(name.rawValue)", "db.error": "\(error.debugDescription)"])
        }
    }

    /// Cancels the statement running on the server and drops the connection, without judging
    /// the node. The cancel request opens a connection of its own, so it is sent from a
    /// short-lived thread: a hung node must not hold the worker.
    func abandon() {
        if let token = connection?.makeCancelToken() {
            Thread.detachNewThread { token.cancel() }
        }
        connection = nil
    }

    /// Drops the connection without judging the node (used by maintenance probes).
    func close() { connection = nil }

    /// A handle to cancel the running statement from another thread.
    func cancelToken() -> PostgresCancelToken? { connection?.makeCancelToken() }
}
