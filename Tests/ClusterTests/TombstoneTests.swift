import Cluster
import Foundation
import Postgres
import Testing

extension ClusterDatabase {
    /// The node's triggers (`schema.sql`) keep a tombstone final and the live tables free of deleted
    /// rows, whatever order concurrent writers commit in.
    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct TombstoneTests {
        static let insertLive = """
            INSERT INTO php_session (id, data, hlc, origin, date_change)
            VALUES ($1, '\\x01', $2, 1, now() AT TIME ZONE 'UTC')
            """
        static let insertTombstone = """
            INSERT INTO php_session_tombstone (id, hlc, origin, deleted_at) VALUES ($1, $2, 1, now() AT TIME ZONE 'UTC')
            """

        static func counts(_ id: String) throws -> String? {
            try TestCluster.scalar(
                .a,
                """
                SELECT (SELECT count(*) FROM php_session WHERE id = $1) || '/'
                    || (SELECT count(*) FROM php_session_tombstone WHERE id = $1)
                """, [.text(id)])
        }

        /// `first` runs in an open transaction; `second` is sent meanwhile on another connection and
        /// must wait for the first to commit (the live table's unique index), then see what it committed.
        static func race(_ first: String, _ second: String) throws -> String? {
            let id = TestCluster.uniqueID()
            let one = try TestCluster.connect(.a)
            let two = try TestCluster.connect(.a)
            _ = try one.query("BEGIN", deadline: TestCluster.deadline())
            _ = try one.query(first, [.text(id), .int(1)], deadline: TestCluster.deadline())
            try two.sendQuery(second, [.text(id), .int(2)])
            Thread.sleep(forTimeInterval: 0.3)
            _ = try one.query("COMMIT", deadline: TestCluster.deadline())
            _ = try two.receive(deadline: TestCluster.deadline())
            return try counts(id)
        }

        @Test func aTombstoneCommittedWhileALiveInsertWaitsKeepsItOut() throws {
            #expect(try Self.race(Self.insertTombstone, Self.insertLive) == "0/1")
        }

        @Test func aLiveRowCommittedWhileATombstoneWaitsIsRemovedByIt() throws {
            #expect(try Self.race(Self.insertLive, Self.insertTombstone) == "0/1")
        }

        @Test func aWriterOfThePreviousLayoutThatMarksARowDeletedLeavesATombstone() throws {
            let id = TestCluster.uniqueID()
            let node = try TestCluster.connect(.a)
            _ = try node.query(Self.insertLive, [.text(id), .int(5)], deadline: TestCluster.deadline())
            // The statement the responder of the previous layout ran for a destroy.
            _ = try node.query(
                """
                INSERT INTO php_session AS s (id, data, hlc, origin, deleted, date_change)
                SELECT $1::varchar, '\\x'::bytea, $2::bigint, 3, true, now() AT TIME ZONE 'UTC'
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change
                WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
                """, [.text(id), .int(9)], deadline: TestCluster.deadline())
            #expect(try Self.counts(id) == "0/1")
            #expect(
                try TestCluster.scalar(
                    .a, "SELECT hlc || '/' || origin FROM php_session_tombstone WHERE id = $1", [.text(id)]) == "9/3")
            // Nor does a previous-layout insert of a new row marked deleted stay in the live table.
            _ = try node.query(
                "INSERT INTO items (id, name, content, hlc, origin, deleted) VALUES ($1, '', '', 4, 3, true)",
                [.int(Int64(900_000_000_000) + Int64.random(in: 0..<1_000_000_000))], deadline: TestCluster.deadline())
            #expect(try TestCluster.scalar(.a, "SELECT count(*) FROM items WHERE deleted") == "0")
        }

        /// The triggers take no lock per row: one transaction imports 50,000 sessions (a lock per
        /// row ran out of the server's lock table past about 20,000).
        @Test func aBulkImportInOneTransactionWorks() throws {
            // Expired at once, so that no other process copies them anywhere meanwhile.
            let prefix = TestCluster.uniqueID() + "-bulk-"
            let node = try TestCluster.connect(.a)
            let deadline = ContinuousClock.now + .seconds(60)
            _ = try node.query("BEGIN", deadline: deadline)
            _ = try node.query(
                """
                INSERT INTO php_session (id, data, hlc, origin, date_change)
                SELECT $1 || g, '\\x', 1, 1, (now() AT TIME ZONE 'UTC') - interval '2 days' FROM generate_series(1, 50000) g
                """, [.text(prefix)], deadline: deadline)
            _ = try node.query("COMMIT", deadline: deadline)
            let like: [PostgresValue] = [.text(prefix + "%")]
            #expect(try TestCluster.scalar(.a, "SELECT count(*) FROM php_session WHERE id LIKE $1", like) == "50000")
            _ = try node.query("DELETE FROM php_session WHERE id LIKE $1", like, deadline: deadline)
        }

        @Test func anOlderTombstoneNeverLowersANewerOne() throws {
            let id = TestCluster.uniqueID()
            let node = try TestCluster.connect(.a)
            _ = try node.query(Self.insertTombstone, [.text(id), .int(100)], deadline: TestCluster.deadline())
            _ = try node.query(
                """
                INSERT INTO php_session_tombstone AS t (id, hlc, origin, deleted_at) VALUES ($1, $2, 1, now() AT TIME ZONE 'UTC')
                ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
                """, [.text(id), .int(50)], deadline: TestCluster.deadline())
            #expect(
                try TestCluster.scalar(.a, "SELECT hlc FROM php_session_tombstone WHERE id = $1", [.text(id)]) == "100")
        }
    }
}
