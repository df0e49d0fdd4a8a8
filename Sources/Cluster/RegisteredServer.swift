import Postgres

/// A responder registered in the `servers` table.
public struct RegisteredServer: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: Int
    public var active: Bool
    /// UTC, `2026-11-26T19:00:00Z`.
    public var lastSeen: String

    public init(name: String, host: String, port: Int, active: Bool, lastSeen: String) {
        self.name = name
        self.host = host
        self.port = port
        self.active = active
        self.lastSeen = lastSeen
    }
}

extension ClusterClient {
    /// The responders registered on the primary (the other node when it is away), by name.
    public func registeredServers(limit: Int = 100) throws(ClusterError) -> [RegisteredServer] {
        var lastError = ClusterError(.unavailable, detail: "no node is up")
        for node in usableNodes {
            do {
                let result = try run(.serverList, [.int(limit)], on: node)
                return (0..<result.rowCount).map { row in
                    RegisteredServer(
                        name: result.string(row, 0) ?? "", host: result.string(row, 1) ?? "",
                        port: Int(result.int64(row, 2) ?? 0), active: result.bool(row, 3) ?? false,
                        lastSeen: result.string(row, 4) ?? "")
                }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
