import Cluster
import Foundation
import Postgres
import Testing

extension ClusterDatabase {
    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct SessionStoreTests {
        @Test func newSessionLandsOnBothNodes() throws {
            let store = SessionStore(client: TestCluster.client())
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("visits|i:1;".utf8)))
            try expectBothNodes(id, "visits|i:1;")
            let snapshot = try #require(try store.read(id: id))
            #expect(snapshot.data == Array("visits|i:1;".utf8))
            #expect(snapshot.isWritable)
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
                INSERT INTO php_session AS s (id, data, hlc, origin) VALUES ($1, '\\x', $2, 1)
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc
                WHERE (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
                """, [.text(id), .int(Int64.max)], deadline: TestCluster.deadline())
            #expect(result.affectedRows == 0, "the node's trigger refuses a live row for a destroyed id")
            #expect(try store.read(id: id) == nil)
            for node in NodeName.allCases {
                #expect(
                    try TestCluster.scalar(node, "SELECT count(*) FROM php_session WHERE id = $1", [.text(id)]) == "0")
                #expect(
                    try TestCluster.scalar(
                        node, "SELECT count(*) FROM php_session_tombstone WHERE id = $1", [.text(id)]) == "1")
            }
        }

        /// When A cannot prove that it holds every acknowledged write (here: its beats are never
        /// fresh enough for this responder), both nodes are read and the newest copy counts.
        @Test func readTakesTheNewestCopyAcrossNodes() throws {
            let store = SessionStore(client: TestCluster.client(freshness: .zero))
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("v|i:1;".utf8)))
            // Node B alone holds a newer version (as after an outage of A).
            try Self.makeNewer(on: .b, id, "v|i:9;")
            let snapshot = try #require(try store.read(id: id))
            #expect(snapshot.data == Array("v|i:9;".utf8))
            #expect(try store.write(snapshot, data: Array("v|i:10;".utf8)))
            try expectBothNodes(id, "v|i:10;")
        }

        /// While both nodes are up and A holds every acknowledged write, a read asks A alone
        /// (docs/PROTOCOL.md, "Reading"): B's connection runs nothing for it. The write that follows
        /// still lands on both nodes, B's with a fence from B's clock as last measured.
        @Test func aReadAsksNodeAAloneWhileItHoldsEveryWrite() throws {
            let name = "read-alone-" + TestCluster.uniqueID()
            let store = SessionStore(client: TestCluster.client(applicationName: name))
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("r|i:1;".utf8)))
            try TestCluster.catchUp()
            let first = try #require(try store.read(id: id))  // both nodes: no clock of B measured yet
            #expect(try store.write(first, data: Array("r|i:2;".utf8)))
            let activityOnB = "SELECT state_change::text FROM pg_stat_activity WHERE application_name = $1"
            let before = try TestCluster.scalar(.b, activityOnB, [.text(name)])
            #expect(before != nil, "the store keeps a connection to B")
            let second = try #require(try store.read(id: id))
            #expect(second.data == Array("r|i:2;".utf8))
            #expect(try TestCluster.scalar(.b, activityOnB, [.text(name)]) == before, "B was not asked")
            #expect(try store.write(second, data: Array("r|i:3;".utf8)))
            try expectBothNodes(id, "r|i:3;")
            #expect(try TestCluster.scalar(.b, activityOnB, [.text(name)]) != before, "the write reached B")
        }

        /// A session that A, although it holds every acknowledged write, has no copy of (created on
        /// B alone while A was away for its writer; queued there, not yet copied) is found on B.
        @Test func aSessionThatNodeALacksIsFoundOnB() throws {
            let store = SessionStore(client: TestCluster.client())
            let warm = TestCluster.uniqueID()
            #expect(try store.insertNew(id: warm, data: Array("w|i:1;".utf8)))
            try TestCluster.catchUp()
            _ = try store.read(id: warm)  // B's clock measured: later reads ask A first
            let id = TestCluster.uniqueID()
            try Self.insertBehindTheStore(on: .b, id, "b|i:1;")
            let snapshot = try #require(try store.read(id: id), "found on B, not unknown")
            #expect(snapshot.data == Array("b|i:1;".utf8))
            #expect(try store.write(snapshot, data: Array("b|i:2;".utf8)))
            try expectBothNodes(id, "b|i:2;")
        }

        /// Two responders that judge the nodes differently (one sees A away and writes B alone, the
        /// other sees both) both start from the same version: exactly one write counts, and the
        /// other re-applies its change on top of it. Before, each decided on its own "primary" and
        /// both increments were acknowledged with the same value.
        @Test func writersThatJudgeTheNodesDifferentlyCannotBothWin() throws {
            let both = SessionStore(client: TestCluster.client())
            let health = ClusterHealth()
            let onlyB = SessionStore(client: TestCluster.client(health: health))
            let id = TestCluster.uniqueID()
            #expect(try both.insertNew(id: id, data: Array("n|i:0;".utf8)))
            try TestCluster.confirmStanding()
            let seenByBoth = try #require(try both.read(id: id))
            health.a.recordFailure("test: this responder sees A away")
            let seenByB = try #require(try onlyB.read(id: id))
            #expect(try onlyB.write(seenByB, data: Array("n|i:1;".utf8)), "B stands alone and takes the write")
            #expect(try Self.sessionText(.b, id) == "n|i:1;")
            #expect(try both.write(seenByBoth, data: Array("n|i:1;".utf8)) == false, "lost: B stood alone and decided")
            // B's copy decides while it stands alone, and after (its queue reaches A first).
            #expect(try Self.writeAsTheCallerDoes(both, id, seeing: "n|i:1;", data: "n|i:2;"))
            try expectBothNodes(id, "n|i:2;")
            try TestCluster.catchUp()
        }

        /// A node that answers alone and cannot prove it holds every acknowledged write (here: its
        /// last beat is never fresh enough for this responder) serves what it has, takes new sessions, and refuses changes; an id it
        /// does not know is no proof that the session is unknown.
        @Test func aNodeThatCannotProveItHoldsEveryWriteRefusesChanges() throws {
            let store = SessionStore(client: TestCluster.client())
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("k|i:1;".utf8)))
            try TestCluster.catchUp()
            let health = ClusterHealth()
            let alone = SessionStore(client: TestCluster.client(health: health, freshness: .zero))
            health.b.recordFailure("test: B is away")
            defer { try? TestCluster.catchUp() }
            let snapshot = try #require(try alone.read(id: id))
            #expect(snapshot.data == Array("k|i:1;".utf8))
            #expect(snapshot.isWritable == false)
            #expect(throws: ClusterError.self) { _ = try alone.write(snapshot, data: Array("k|i:2;".utf8)) }
            #expect(throws: ClusterError.self) { try alone.destroy(id: id) }
            #expect(throws: ClusterError.self) { _ = try alone.read(id: TestCluster.uniqueID()) }
            let fresh = TestCluster.uniqueID()
            #expect(try alone.insertNew(id: fresh, data: Array("new|b:1;".utf8)), "new rows go on")
            // Queued on A for B (the test cluster's pools replay it soon).
            #expect(
                try ClusterMaintenanceTests.eventually {
                    try Self.sessionText(.b, fresh) == "new|b:1;"
                })
            try expectBothNodes(id, "k|i:1;")
        }

        /// A late write that no one acknowledged (a paused node commits it after the responder gave
        /// up) carries a greater clock than the write that was acknowledged on the node that stood
        /// alone: the node that stood alone still decides, and the next write replaces the late row.
        @Test func aLateUnacknowledgedWriteNeverBeatsTheNodeThatStoodAlone() throws {
            let store = SessionStore(client: TestCluster.client())
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("v|i:1;".utf8)))
            #expect(try Self.writeWhileAIsAway(id, "v|i:2;"), "B stands alone and takes the write")
            // A commits a losing write late, with a clock far ahead.
            try Self.makeNewer(on: .a, id, "v|late;")
            #expect(try Self.writeAsTheCallerDoes(store, id, seeing: "v|i:2;", data: "v|i:3;"))
            try expectBothNodes(id, "v|i:3;")
            try TestCluster.catchUp()
        }

        /// A session that only the node that does not decide holds (created there while the other
        /// was away; queued, not yet copied) is still found and can be written: it is not "unknown",
        /// which would start a new session and log the user out.
        @Test func aNewRowOnlyOnTheNodeThatDoesNotDecideIsStillTheSession() throws {
            let store = SessionStore(client: TestCluster.client())
            let other = TestCluster.uniqueID()
            #expect(try store.insertNew(id: other, data: Array("o|i:1;".utf8)))
            #expect(try Self.writeWhileAIsAway(other, "o|i:2;"), "B now stands alone")
            // A session that A alone holds, as one created there alone would be.
            let id = TestCluster.uniqueID()
            try Self.insertBehindTheStore(on: .a, id, "n|i:1;")
            #expect(try Self.writeAsTheCallerDoes(store, id, seeing: "n|i:1;", data: "n|i:2;"))
            try expectBothNodes(id, "n|i:2;")
            try TestCluster.catchUp()
        }

        /// A compare-and-set that a node runs only after the responder gave up on it (here: it
        /// waits on a row lock past the query time, as behind a paused node) changes nothing: its
        /// fence, on the node's own clock, has passed. Without the fence it committed late.
        @Test func aWriteRunAfterItsFenceChangesNothing() throws {
            let store = SessionStore(client: TestCluster.client())
            let id = TestCluster.uniqueID()
            #expect(try store.insertNew(id: id, data: Array("f|i:1;".utf8)))
            let snapshot = try #require(try store.read(id: id))
            let blocker = try TestCluster.connect(.a)
            _ = try blocker.query("BEGIN", deadline: TestCluster.deadline())
            _ = try blocker.query(
                "SELECT 1 FROM php_session WHERE id = $1 FOR UPDATE", [.text(id)], deadline: TestCluster.deadline())
            #expect(try store.write(snapshot, data: Array("f|late;".utf8)) == false, "A did not answer in time")
            #expect(store.client.health.a.state == .down)
            Thread.sleep(forTimeInterval: 0.5)
            // The lock holder changes the row (so the waiting statement checks its condition again) and commits.
            _ = try blocker.query(
                "UPDATE php_session SET hlc = hlc WHERE id = $1", [.text(id)], deadline: TestCluster.deadline())
            _ = try blocker.query("COMMIT", deadline: TestCluster.deadline())
            Thread.sleep(forTimeInterval: 0.5)
            try expectBothNodes(id, "f|i:1;")
        }

        /// Writes a session through a responder that sees node A away, once both nodes are
        /// confirmed: B stands alone and takes the write.
        static func writeWhileAIsAway(_ id: String, _ data: String) throws -> Bool {
            try TestCluster.confirmStanding()
            let health = ClusterHealth()
            let onlyB = SessionStore(client: TestCluster.client(health: health))
            health.a.recordFailure("test: A is away")
            let seen = try #require(try onlyB.read(id: id))
            return try onlyB.write(seen, data: Array(data.utf8))
        }

        /// Reads the session and writes `data` over it as the responder does: a lost race (here:
        /// the test cluster's pools end B's standing alone between the read and the write, once
        /// B's queue has reached A) reads again and writes again. Every read must find `seeing`,
        /// and the session, never "unknown". False when no write won in five rounds.
        static func writeAsTheCallerDoes(
            _ store: SessionStore, _ id: String, seeing expected: String, data: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> Bool {
            for _ in 0..<5 {
                let read = try #require(try store.read(id: id), "the session is found", sourceLocation: sourceLocation)
                #expect(read.data == Array(expected.utf8), sourceLocation: sourceLocation)
                if try store.write(read, data: Array(data.utf8)) { return true }
            }
            return false
        }

        /// The session's data on one node, as text.
        static func sessionText(_ node: NodeName, _ id: String) throws -> String? {
            try TestCluster.scalar(
                node, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
        }

        /// A session row on one node only, written behind the store's back (as a new session
        /// taken by that node alone, not yet copied).
        static func insertBehindTheStore(on node: NodeName, _ id: String, _ data: String) throws {
            _ = try TestCluster.connect(node).query(
                "INSERT INTO php_session (id, data, hlc, origin) VALUES ($1, $2, $3, 1)",
                [.text(id), .bytes(Array(data.utf8)), .int(HybridLogicalClock.physical())],
                deadline: TestCluster.deadline())
        }

        /// Gives one node alone a newer version of the session (as when the other missed a write).
        static func makeNewer(on node: NodeName, _ id: String, _ data: String) throws {
            _ = try TestCluster.connect(node).query(
                "UPDATE php_session SET data = $2, hlc = hlc + (1000::bigint << 16) WHERE id = $1",
                [.text(id), .bytes(Array(data.utf8))],
                deadline: TestCluster.deadline())
        }

        private func expectBothNodes(
            _ id: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
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

    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
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
            _ = try blocker.query(
                "SELECT 1 FROM php_session WHERE id = $1 FOR UPDATE", [.text(id)], deadline: TestCluster.deadline())

            let started = ContinuousClock.now
            client.beginRequest(deadline: started + .milliseconds(500))
            // The write on A commits; on B it is cut off at the deadline and cancelled on the server.
            // A keeps it queued for B, but the outcome is unknown (504): A could not stand alone.
            #expect(throws: ClusterError.self) { _ = try store.write(snapshot, data: Array("n|i:2;".utf8)) }
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
                "the row is queued for B (or already replayed)")
            _ = try blocker.query("ROLLBACK", deadline: TestCluster.deadline())
            client.beginRequest(deadline: nil)
        }
    }
}
