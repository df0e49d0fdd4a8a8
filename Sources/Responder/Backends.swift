import Cluster

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
