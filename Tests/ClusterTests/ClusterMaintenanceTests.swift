import Cluster
import Foundation
import Postgres
import Testing

@Suite(.serialized, .enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
struct ClusterMaintenanceTests {
    /// Waits until `condition` holds, polling; false after `seconds`.
    static func eventually(seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    @Test func writesMadeWhileBWasAwayReachItWhenItReturns() throws {
        let health = ClusterHealth()
        let client = TestCluster.client(health: health)
        health.b.recordFailure("test: pretend B is away")
        let sessions = SessionStore(client: client)
        let items = ItemStore(client: client)
        let id = TestCluster.uniqueID()
        #expect(try sessions.insertNew(id: id, data: Array("k|s:1:\"v\";".utf8)))
        let item = try items.create(name: "queued", content: "x")
        let doomed = try items.create(name: "doomed", content: "")
        try items.delete(id: doomed.id)

        let maintenance = ClusterMaintenance(
            configuration: client.configuration, health: health, clock: client.clock, logger: TestCluster.logger,
            interval: .milliseconds(50))
        maintenance.start()
        defer { maintenance.stop() }
        #expect(try Self.eventually { health.b.state == .up })
        #expect(try TestCluster.scalar(.b, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)]) == "k|s:1:\"v\";")
        #expect(try TestCluster.scalar(.b, "SELECT name FROM items WHERE id = $1", [.int(item.id)]) == "queued")
        #expect(try TestCluster.scalar(.b, "SELECT deleted FROM items WHERE id = $1", [.int(doomed.id)]) == "t")
        let same = try TestCluster.scalar(
            .a, "SELECT md5(string_agg(id || name || hlc || deleted, ',' ORDER BY id)) FROM items WHERE id = ANY($1::bigint[])",
            [.text("{\(item.id),\(doomed.id)}")])
        let sameB = try TestCluster.scalar(
            .b, "SELECT md5(string_agg(id || name || hlc || deleted, ',' ORDER BY id)) FROM items WHERE id = ANY($1::bigint[])",
            [.text("{\(item.id),\(doomed.id)}")])
        #expect(same == sameB)
    }
}

@Suite(.serialized, .enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
struct GarbageCollectionTests {
    /// Inserts a session row on both nodes whose last write was `ageSeconds` ago.
    static func insertAged(_ id: String, ageSeconds: Int64, deleted: Bool = false) throws {
        let hlc = (HybridLogicalClock.physical() >> 16 - ageSeconds * 1000) << 16
        for node in NodeName.allCases {
            _ = try TestCluster.connect(node).query(
                """
                INSERT INTO php_session (id, data, hlc, origin, deleted, date_change)
                VALUES ($1, '\\x', $2, 1, $3, to_timestamp(($2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
                """, [.text(id), .int(hlc), .bool(deleted)], deadline: TestCluster.deadline())
        }
    }

    static func count(_ node: NodeName, _ id: String) throws -> String? {
        try TestCluster.scalar(node, "SELECT count(*) FROM php_session WHERE id = $1", [.text(id)])
    }

    @Test func expiredSessionsLeaveBothNodesAndLiveOnesStay() throws {
        let client = TestCluster.client()
        let expired = TestCluster.uniqueID()
        let live = TestCluster.uniqueID()
        let freshTombstone = TestCluster.uniqueID()
        try Self.insertAged(expired, ageSeconds: 1440 + 60)
        try Self.insertAged(live, ageSeconds: 1440 - 60)
        try Self.insertAged(freshTombstone, ageSeconds: 1440 + 60, deleted: true)
        let store = SessionStore(client: client)
        #expect(try store.read(id: expired) == nil, "an expired session is never served")
        #expect(try store.read(id: live) != nil)

        let maintenance = ClusterMaintenance(
            configuration: client.configuration, health: client.health, clock: client.clock,
            logger: TestCluster.logger)
        // Another process may hold the lock for a moment: the pass is retried until it ran here.
        #expect(
            try ClusterMaintenanceTests.eventually {
                maintenance.collectGarbage(client)
                return try Self.count(.a, expired) == "0" && (try Self.count(.b, expired)) == "0"
            })
        for node in NodeName.allCases {
            #expect(try Self.count(node, live) == "1", "a live session stays on node \(node)")
            #expect(try Self.count(node, freshTombstone) == "1", "a tombstone stays for the tombstone TTL")
        }
    }
}
