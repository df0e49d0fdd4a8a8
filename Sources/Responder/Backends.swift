import Cluster
import Synchronization

/// Where sessions live. `SessionStore` is the real one; tests may use another.
public protocol SessionBackend {
    func read(id: String) throws(ClusterError) -> SessionSnapshot?
    func insertNew(id: String, data: [UInt8]) throws(ClusterError) -> Bool
    func write(_ snapshot: SessionSnapshot, data: [UInt8]) throws(ClusterError) -> Bool
    func destroy(id: String) throws(ClusterError)
}

/// Where items live. `ItemStore` is the real one.
public protocol ItemBackend {
    func create(name: String, content: String) throws(ClusterError) -> Item
    func update(id: Int64, name: String?, content: String?) throws(ClusterError) -> Item
    func delete(id: Int64) throws(ClusterError)
    func get(id: Int64) throws(ClusterError) -> Item?
    func list(limit: Int, before: Int64) throws(ClusterError) -> [Item]
}

/// Where the registered responders are listed. `ClusterClient` is the real one.
public protocol ServerBackend {
    func registeredServers(limit: Int) throws(ClusterError) -> [RegisteredServer]
}

/// What bounds a request's database work by `REQUEST_TERMINATE_TIMEOUT`. `ClusterClient` is the real one.
public protocol RequestDeadlineScope: AnyObject {
    func beginRequest(deadline: ContinuousClock.Instant?)
}

extension ClusterClient: RequestDeadlineScope {}
extension SessionStore: SessionBackend {}
extension ClusterClient: ServerBackend {}
extension ItemStore: ItemBackend {}

/// The list of registered pools, shared by a process's workers for `maxAge`: the index page
/// shows it on every `GET /`, and reading it each time cost a database round trip per page.
/// A failed read is not kept, so the next request tries again.
public final class SharedServerList: Sendable {
    private struct Entry {
        let readAt: ContinuousClock.Instant
        let limit: Int
        let servers: [RegisteredServer]
    }

    private let maxAge: Duration
    private let entry = Mutex<Entry?>(nil)

    public init(maxAge: Duration = .seconds(2)) { self.maxAge = maxAge }

    /// The kept list when it is fresh and long enough, else `read()`'s, kept for the next callers.
    func servers(
        limit: Int, now: ContinuousClock.Instant = .now, read: () throws(ClusterError) -> [RegisteredServer]
    ) throws(ClusterError) -> [RegisteredServer] {
        if let kept = entry.withLock({ $0 }), kept.limit >= limit, now - kept.readAt < maxAge {
            return Array(kept.servers.prefix(limit))
        }
        let servers = try read()
        entry.withLock { $0 = Entry(readAt: now, limit: limit, servers: servers) }
        return servers
    }
}

/// A worker's `ServerBackend` that answers from the process's `SharedServerList`.
public struct SharedServerBackend: ServerBackend {
    let list: SharedServerList
    let backend: any ServerBackend

    public init(list: SharedServerList, backend: any ServerBackend) {
        self.list = list
        self.backend = backend
    }

    public func registeredServers(limit: Int) throws(ClusterError) -> [RegisteredServer] {
        try list.servers(limit: limit) { () throws(ClusterError) in try backend.registeredServers(limit: limit) }
    }
}
