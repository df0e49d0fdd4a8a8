import Cluster
import Foundation
import Postgres
import Testing

@Suite(.serialized, .enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
struct SessionStoreTests {
    @Test func newSessionLandsOnBothNodes() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("visits|i:1;".utf8)))
        try expectBothNodes(id, "visits|i:1;")
        let snapshot = try #require(try store.read(id: id))
        #expect(snapshot.data == Array("visits|i:1;".utf8))
        #expect(snapshot.primaryVersion != nil)
    }

    @Test func newIdNeverTakesOverAnExistingRow() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("a|i:1;".utf8)))
        #expect(try store.insertNew(id: id, data: Array("b|i:2;".utf8)) == false)
        #expect(try store.read(id: id)?.data == Array("a|i:1;".utf8))
    }

    @Test func compareAndSetLosesToAConcurrentWriter() throws {
        let first = SessionStore(client: TestCluster.client())
        let second = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try first.insertNew(id: id, data: Array("n|i:0;".utf8)))
        let seenByFirst = try #require(try first.read(id: id))
        let seenBySecond = try #require(try second.read(id: id))
        #expect(try second.write(seenBySecond, data: Array("n|i:1;".utf8)))
        #expect(try first.write(seenByFirst, data: Array("n|i:1;".utf8)) == false)
        let fresh = try #require(try first.read(id: id))
        #expect(try first.write(fresh, data: Array("n|i:2;".utf8)))
        try expectBothNodes(id, "n|i:2;")
    }

    @Test func destroyedSessionNeverComesBack() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("x|i:1;".utf8)))
        let stale = try #require(try store.read(id: id))
        try store.destroy(id: id)
        #expect(try store.read(id: id) == nil)
        // A late write from before the destroy, and a late copy with a newer clock, both lose.
        #expect(try store.write(stale, data: Array("x|i:2;".utf8)) == false)
        let late = try TestCluster.connect(.b)
        let result = try late.query(
            """
            INSERT INTO php_session AS s (id, data, hlc, origin, deleted) VALUES ($1, '\\x', $2, 1, false)
            ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, deleted = EXCLUDED.deleted
            WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
            """, [.text(id), .int(Int64.max)], deadline: TestCluster.deadline())
        #expect(result.affectedRows == 0)
        #expect(try store.read(id: id) == nil)
        for node in NodeName.allCases {
            #expect(try TestCluster.scalar(node, "SELECT deleted FROM php_session WHERE id = $1", [.text(id)]) == "t")
        }
    }

    @Test func readTakesTheNewestCopyAcrossNodes() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("v|i:1;".utf8)))
        // Node B alone holds a newer version (as after an outage of A).
        try Self.makeNewer(on: .b, id, "v|i:9;")
        let snapshot = try #require(try store.read(id: id))
        #expect(snapshot.data == Array("v|i:9;".utf8))
        #expect(try store.write(snapshot, data: Array("v|i:10;".utf8)))
        try expectBothNodes(id, "v|i:10;")
    }

    /// A request that will write reads node B only; the compare-and-set on A checks that A holds
    /// the version B showed, so a write based on one node's copy lands only when both agree.
    @Test func oneReadWritesOnlyWhenBothNodesHoldTheSameVersion() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("v|i:1;".utf8)))
        let agreed = try #require(store.readSecondary(id: id))
        #expect(agreed.primaryVersionAssumed && agreed.primary == .a)
        #expect(try store.write(agreed, data: Array("v|i:2;".utf8)))
        try expectBothNodes(id, "v|i:2;")

        // B alone holds a newer version (A missed it): B's version cannot pass A's check.
        try Self.makeNewer(on: .b, id, "v|i:9;")
        let fromB = try #require(store.readSecondary(id: id))
        #expect(fromB.data == Array("v|i:9;".utf8))
        #expect(try store.write(fromB, data: Array("v|i:10;".utf8)) == false)
        #expect(try Self.sessionText(.a, id) == "v|i:2;")
        #expect(try Self.sessionText(.b, id) == "v|i:9;")
        let both = try #require(try store.read(id: id))
        #expect(both.primaryVersionAssumed == false && both.data == Array("v|i:9;".utf8))
        #expect(try store.write(both, data: Array("v|i:10;".utf8)))
        try expectBothNodes(id, "v|i:10;")

        // A alone holds a newer version (B missed it): B's older version fails on A, nothing changes.
        try Self.makeNewer(on: .a, id, "v|i:20;")
        let stale = try #require(store.readSecondary(id: id))
        #expect(try store.write(stale, data: Array("v|i:11;".utf8)) == false)
        #expect(try Self.sessionText(.a, id) == "v|i:20;")

        // B without the row, or with a tombstone: B cannot vouch, the caller reads both.
        _ = try TestCluster.connect(.b).query("DELETE FROM php_session WHERE id = $1", [.text(id)], deadline: TestCluster.deadline())
        #expect(store.readSecondary(id: id) == nil)
        #expect(try store.read(id: id)?.data == Array("v|i:20;".utf8))
    }

    /// The session's data on one node, as text.
    static func sessionText(_ node: NodeName, _ id: String) throws -> String? {
        try TestCluster.scalar(node, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
    }

    /// Gives one node alone a newer version of the session (as when the other missed a write).
    static func makeNewer(on node: NodeName, _ id: String, _ data: String) throws {
        _ = try TestCluster.connect(node).query(
            "UPDATE php_session SET data = $2, hlc = hlc + 1000 WHERE id = $1", [.text(id), .bytes(Array(data.utf8))],
            deadline: TestCluster.deadline())
    }

    private func expectBothNodes(_ id: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for node in NodeName.allCases {
            let data = try Self.sessionText(node, id)
            #expect(data == expected, "node \(node)", sourceLocation: sourceLocation)
        }
    }

    @Test func bytesSurviveExactly() throws {
        let store = SessionStore(client: TestCluster.client())
        let id = TestCluster.uniqueID()
        let data: [UInt8] = Array("s|s:4:\"".utf8) + [0, 0xFF, 0xFE, 0x80] + Array("\";".utf8)
        #expect(try store.insertNew(id: id, data: data))
        #expect(try store.read(id: id)?.data == data)
    }
}

@Suite(.serialized, .enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
struct RequestDeadlineTests {
    @Test func aRequestPastItsDeadlineIsCutOffCancelledAndBlamesNoNode() throws {
        let name = "deadline-test-" + TestCluster.uniqueID()
        let client = TestCluster.client(applicationName: name)
        let store = SessionStore(client: client)
        let id = TestCluster.uniqueID()
        #expect(try store.insertNew(id: id, data: Array("n|i:1;".utf8)))
        let snapshot = try #require(try store.read(id: id))
        // Another transaction holds the row on node B, so the copy to B waits on its lock.
        let blocker = try TestCluster.connect(.b)
        _ = try blocker.query("BEGIN", deadline: TestCluster.deadline())
        _ = try blocker.query("SELECT 1 FROM php_session WHERE id = $1 FOR UPDATE", [.text(id)], deadline: TestCluster.deadline())

        let started = ContinuousClock.now
        client.beginRequest(deadline: started + .milliseconds(500))
        // The decisive write on A commits; the copy to B is cut off at the deadline, cancelled on
        // the server and queued in A's outbox instead.
        #expect(try store.write(snapshot, data: Array("n|i:2;".utf8)))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(2), "cut off at the request's deadline, not the query timeout")
        #expect(client.requestExpired)
        #expect(throws: ClusterError.self) { _ = try store.read(id: id) }  // nothing more runs for this request
        #expect(client.health.b.state == .up, "a request's own deadline does not mark the node down")
        #expect(
            try ClusterMaintenanceTests.eventually(seconds: 2) {
                try TestCluster.scalar(
                    .b,
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = $1",
                    [.text(name)]) == "0"
            }, "the waiting statement was cancelled on the server")
        #expect(
            try TestCluster.scalar(
                .a, "SELECT count(*) FROM replication_outbox WHERE row_key = $1", [.text(id)]) != "0"
                || (try SessionStoreTests.sessionText(.b, id)) == "n|i:2;",
            "the copy is queued for B (or already replayed)")
        _ = try blocker.query("ROLLBACK", deadline: TestCluster.deadline())
        client.beginRequest(deadline: nil)
    }
}
