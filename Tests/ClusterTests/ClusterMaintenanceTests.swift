import Cluster
import Foundation
import Postgres
import Testing

extension ClusterDatabase {
    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
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
            defer { try? TestCluster.catchUp() }
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
            #expect(
                try TestCluster.scalar(
                    .b, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
                    == "k|s:1:\"v\";")
            #expect(try TestCluster.scalar(.b, "SELECT name FROM items WHERE id = $1", [.int(item.id)]) == "queued")
            #expect(try TestCluster.scalar(.b, "SELECT count(*) FROM items WHERE id = $1", [.int(doomed.id)]) == "0")
            #expect(
                try TestCluster.scalar(.b, "SELECT count(*) FROM items_tombstone WHERE id = $1", [.int(doomed.id)])
                    == "1")
            let ids: [Int64] = [item.id, doomed.id]
            #expect(try AntiEntropyTests.rowDigest(.a, ids) == (try AntiEntropyTests.rowDigest(.b, ids)))
        }
    }

    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct GarbageCollectionTests {
        /// Inserts a session row (or its tombstone) on both nodes whose last write was `ageSeconds` ago.
        static func insertAged(_ id: String, ageSeconds: Int64, deleted: Bool = false) throws {
            let hlc = (HybridLogicalClock.physical() >> 16 - ageSeconds * 1000) << 16
            for node in NodeName.allCases {
                _ = try TestCluster.connect(node).query(
                    deleted
                        ? """
                        INSERT INTO php_session_tombstone (id, hlc, origin, deleted_at)
                        VALUES ($1, $2, 1, to_timestamp(($2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
                        """
                        : """
                        INSERT INTO php_session (id, data, hlc, origin, date_change)
                        VALUES ($1, '\\x', $2, 1, to_timestamp(($2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
                        """, [.text(id), .int(hlc)], deadline: TestCluster.deadline())
            }
        }

        /// The rows of the session on a node, live and tombstone.
        static func count(_ node: NodeName, _ id: String) throws -> String? {
            try TestCluster.scalar(
                node,
                "SELECT (SELECT count(*) FROM php_session WHERE id = $1) + (SELECT count(*) FROM php_session_tombstone WHERE id = $1)",
                [.text(id)])
        }

        @Test func expiredSessionsLeaveBothNodesAndLiveOnesStay() throws {
            let client = TestCluster.client()
            let expired = TestCluster.uniqueID()
            let live = TestCluster.uniqueID()
            let freshTombstone = TestCluster.uniqueID()
            try Self.insertAged(expired, ageSeconds: 1440 + 60)
            try Self.insertAged(live, ageSeconds: 1440 - 60)
            try Self.insertAged(freshTombstone, ageSeconds: 1440 + 60, deleted: true)
            let oldTombstone = TestCluster.uniqueID()
            try Self.insertAged(oldTombstone, ageSeconds: 604_800 + 60, deleted: true)
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
                        && (try Self.count(.a, oldTombstone)) == "0" && (try Self.count(.b, oldTombstone)) == "0"
                })
            for node in NodeName.allCases {
                #expect(try Self.count(node, live) == "1", "a live session stays on node \(node)")
                #expect(try Self.count(node, freshTombstone) == "1", "a tombstone stays for the tombstone TTL")
            }
        }
    }

    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct AntiEntropyTests {
        static func rowDigest(_ node: NodeName, _ ids: [Int64]) throws -> String? {
            try TestCluster.scalar(
                node,
                """
                SELECT md5(string_agg(row, ',' ORDER BY row)) FROM (
                    SELECT id || name || content || hlc || origin || updated_at AS row FROM items WHERE id = ANY($1::bigint[])
                    UNION ALL
                    SELECT id || 'tombstone' || hlc || origin || deleted_at FROM items_tombstone WHERE id = ANY($1::bigint[])) r
                """, [.text("{" + ids.map(String.init).joined(separator: ",") + "}")])
        }

        @Test func nodesThatDivergedBehindTheStoresBackConverge() throws {
            let client = TestCluster.client()
            let items = ItemStore(client: client)
            let edited = try items.create(name: "edited on B", content: "")
            let lostOnA = try items.create(name: "lost on A", content: "")
            let deletedOnB = try items.create(name: "deleted on B only", content: "")
            let a = try TestCluster.connect(.a)
            let b = try TestCluster.connect(.b)
            let deadline = TestCluster.deadline()
            // A manual edit on B with a newer clock, a row lost on A (a restore), a tombstone on B alone.
            _ = try b.query(
                "UPDATE items SET name = 'newer on B', hlc = hlc + 65536 WHERE id = $1", [.int(edited.id)],
                deadline: deadline)
            _ = try a.query("DELETE FROM items WHERE id = $1", [.int(lostOnA.id)], deadline: deadline)
            _ = try b.query(
                """
                INSERT INTO items_tombstone (id, hlc, origin, deleted_at)
                SELECT id, hlc + 65536, origin, updated_at FROM items WHERE id = $1
                """, [.int(deletedOnB.id)], deadline: deadline)
            #expect(
                try TestCluster.scalar(.b, "SELECT count(*) FROM items WHERE id = $1", [.int(deletedOnB.id)]) == "0")
            // A session on A alone (a crash between the two writes).
            let sessionID = TestCluster.uniqueID()
            _ = try a.query(
                "INSERT INTO php_session (id, data, hlc, origin) VALUES ($1, '\\x', $2, 7)",
                [.text(sessionID), .int(client.clock.next())], deadline: deadline)

            let maintenance = ClusterMaintenance(
                configuration: client.configuration, health: client.health, clock: client.clock,
                logger: TestCluster.logger)
            let ids = [edited.id, lostOnA.id, deletedOnB.id]
            #expect(
                try ClusterMaintenanceTests.eventually {
                    _ = maintenance.repair(client)  // another process may hold the pass for a moment
                    return try Self.rowDigest(.a, ids) == (try Self.rowDigest(.b, ids))
                        && (try TestCluster.scalar(
                            .b, "SELECT count(*) FROM php_session WHERE id = $1", [.text(sessionID)])) == "1"
                })
            #expect(
                try TestCluster.scalar(.a, "SELECT name FROM items WHERE id = $1", [.int(edited.id)]) == "newer on B")
            #expect(
                try TestCluster.scalar(.a, "SELECT count(*) FROM items WHERE id = $1", [.int(deletedOnB.id)]) == "0")
            #expect(
                try TestCluster.scalar(.a, "SELECT count(*) FROM items_tombstone WHERE id = $1", [.int(deletedOnB.id)])
                    == "1")
            #expect(
                try TestCluster.scalar(.a, "SELECT name FROM items WHERE id = $1", [.int(lostOnA.id)]) == "lost on A")
            #expect(maintenance.snapshot.lastRepairAt != nil)
        }
    }

    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct RecentRepairTests {
        @Test func aWriteThatReachedOnlyTheFirstNodeIsCopiedByTheRecentPass() throws {
            let client = TestCluster.client()
            // As if a process died between its two writes: the rows exist on A only.
            let a = try TestCluster.connect(.a)
            let sessionID = TestCluster.uniqueID() + ",x"
            _ = try a.query(
                "INSERT INTO php_session (id, data, hlc, origin, date_change) VALUES ($1, '\\x', $2, 9, now() AT TIME ZONE 'UTC')",
                [.text(sessionID), .int(client.clock.next())], deadline: TestCluster.deadline())
            let itemID = try #require(
                try a.query(
                    """
                    INSERT INTO items (name, content, hlc, origin, updated_at) VALUES ('half-written', '', $1, 9,
                        now() AT TIME ZONE 'UTC') RETURNING id
                    """, [.int(client.clock.next())], deadline: TestCluster.deadline()
                ).int64(0, 0))
            let maintenance = ClusterMaintenance(
                configuration: client.configuration, health: client.health, clock: client.clock,
                logger: TestCluster.logger)
            #expect(
                try ClusterMaintenanceTests.eventually {
                    _ = maintenance.repair(client, scope: .recent)
                    return try TestCluster.scalar(
                        .b, "SELECT count(*) FROM php_session WHERE id = $1", [.text(sessionID)]) == "1"
                        && (try TestCluster.scalar(.b, "SELECT name FROM items WHERE id = $1", [.int(itemID)]))
                            == "half-written"
                })
        }
    }
}
