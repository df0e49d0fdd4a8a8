import Postgres

/// Everything the two-node store needs to know, loaded once at start.
public struct ClusterConfiguration: Sendable {
    public var nodeA: PostgresConnectionParameters
    public var nodeB: PostgresConnectionParameters
    /// Client-side deadline of one database call.
    public var queryTimeout: Duration
    /// Seconds without a write or refresh before a session expires.
    public var sessionLifetime: Int
    /// Seconds a delete is remembered for catch-up.
    public var tombstoneTTL: Int
    /// Identifies this process's writes; breaks ties between equal clock values.
    public var writerID: Int32
    /// How recent a node's last beat must be for it to count as fresh (docs/PROTOCOL.md); nil
    /// derives it from `queryTimeout` (`ClusterClient.freshnessSeconds`).
    public var freshness: Duration?

    public init(
        nodeA: PostgresConnectionParameters, nodeB: PostgresConnectionParameters, queryTimeout: Duration = .seconds(2),
        sessionLifetime: Int = 1440, tombstoneTTL: Int = 604_800, writerID: Int32
    ) {
        self.nodeA = nodeA
        self.nodeB = nodeB
        self.queryTimeout = queryTimeout
        self.sessionLifetime = sessionLifetime
        self.tombstoneTTL = tombstoneTTL
        self.writerID = writerID
    }

    public func parameters(of node: NodeName) -> PostgresConnectionParameters { node == .a ? nodeA : nodeB }
}
