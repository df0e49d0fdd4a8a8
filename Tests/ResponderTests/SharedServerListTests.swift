import Cluster
import Testing

@testable import Responder

/// The registered pools are read once per `maxAge` by a whole process, not once per page.
@Suite struct SharedServerListTests {
    static let pool = RegisteredServer(name: "pool-1", host: "127.0.0.1", port: 9001, active: true, lastSeen: "")

    @Test func aFreshListIsNotReadAgain() throws {
        let backend = MemoryServerBackend()
        backend.servers = [Self.pool]
        let list = SharedServerList(maxAge: .seconds(2))
        let start = ContinuousClock.now
        for offset in [0, 100, 1900] {
            let servers = try list.servers(limit: 10, now: start + .milliseconds(offset)) {
                () throws(ClusterError) in try backend.registeredServers(limit: 10)
            }
            #expect(servers.map(\.name) == ["pool-1"])
        }
        #expect(backend.reads == 1)
        _ = try list.servers(limit: 10, now: start + .milliseconds(2000)) { () throws(ClusterError) in
            try backend.registeredServers(limit: 10)
        }
        #expect(backend.reads == 2)
    }

    @Test func aLongerListIsReadAgain() throws {
        let backend = MemoryServerBackend()
        let list = SharedServerList()
        let now = ContinuousClock.now
        _ = try list.servers(limit: 5, now: now) { () throws(ClusterError) in try backend.registeredServers(limit: 5) }
        _ = try list.servers(limit: 3, now: now) { () throws(ClusterError) in try backend.registeredServers(limit: 3) }
        #expect(backend.reads == 1)
        _ = try list.servers(limit: 100, now: now) { () throws(ClusterError) in
            try backend.registeredServers(limit: 100)
        }
        #expect(backend.reads == 2)
    }

    @Test func aFailedReadIsNotKept() {
        let backend = MemoryServerBackend()
        backend.failure = ClusterError(.unavailable, detail: "both nodes down")
        let list = SharedServerList()
        let now = ContinuousClock.now
        for _ in 0..<2 {
            #expect(throws: ClusterError.self) {
                try list.servers(limit: 10, now: now) { () throws(ClusterError) in
                    try backend.registeredServers(limit: 10)
                }
            }
        }
        #expect(backend.reads == 2)
        backend.failure = nil
        backend.servers = [Self.pool]
        let servers = try? list.servers(limit: 10, now: now) { () throws(ClusterError) in
            try backend.registeredServers(limit: 10)
        }
        #expect(servers?.count == 1)
    }
}
