import Cluster
import Foundation
import Postgres
import Testing

extension ClusterDatabase {
    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct ItemStoreTests {
        /// The item's live row, or its tombstone (`tombstone|hlc`), on one node.
        static func row(_ node: NodeName, _ id: Int64) throws -> String? {
            try TestCluster.scalar(
                node,
                """
                SELECT name || '|' || content || '|' || hlc FROM items WHERE id = $1
                UNION ALL SELECT 'tombstone|' || hlc FROM items_tombstone WHERE id = $1
                """, [.int(id)])
        }

        @Test func createdItemHasTheSameRowOnBothNodes() throws {
            let store = ItemStore(client: TestCluster.client())
            let item = try store.create(name: "first", content: "hello")
            #expect(item.id % 2 == 1, "ids from node A are odd")
            let a = try Self.row(.a, item.id)
            #expect(a != nil)
            #expect(a == (try Self.row(.b, item.id)))
            #expect(item.updatedAt.hasSuffix("Z"))
        }

        @Test func updateKeepsAbsentFieldsAndReachesBothNodes() throws {
            let store = ItemStore(client: TestCluster.client())
            let item = try store.create(name: "n", content: "c")
            let updated = try store.update(id: item.id, name: nil, content: "c2")
            #expect(updated.name == "n")
            #expect(updated.content == "c2")
            #expect(try Self.row(.a, item.id) == (try Self.row(.b, item.id)))
            #expect(try Self.row(.a, item.id)?.hasPrefix("n|c2|") == true)
        }

        @Test func deleteLeavesOnlyATombstoneAndUnknownIdsAreNotFound() throws {
            let store = ItemStore(client: TestCluster.client())
            let item = try store.create(name: "gone", content: "")
            try store.delete(id: item.id)
            #expect(try store.get(id: item.id) == nil)
            for node in NodeName.allCases {
                #expect(
                    try TestCluster.scalar(node, "SELECT count(*) FROM items WHERE id = $1", [.int(item.id)]) == "0")
                #expect(try Self.row(node, item.id)?.hasPrefix("tombstone|") == true, "node \(node)")
            }
            #expect(try Self.row(.a, item.id) == (try Self.row(.b, item.id)), "the same tombstone on both nodes")
            #expect(try store.list(limit: 1000).contains { $0.id == item.id } == false)
            #expect(throws: ClusterError.self) { try store.delete(id: item.id) }
            #expect(throws: ClusterError.self) { _ = try store.update(id: 999_999_999_999, name: "x", content: nil) }
        }

        @Test func nodeBAloneHandsOutEvenIds() throws {
            let health = ClusterHealth()
            health.a.recordFailure("test: pretend A is away")
            let store = ItemStore(client: TestCluster.client(health: health))
            let item = try store.create(name: "while A is away", content: "")
            #expect(item.id % 2 == 0)
            #expect(try Self.row(.b, item.id) != nil)
            // The store wrote node B only; the row reaches A through B's outbox, replayed by the
            // maintenance of whichever process runs it (the test cluster's pools run it too).
            let maintenance = ClusterMaintenance(
                configuration: store.client.configuration, health: ClusterHealth(), clock: HybridLogicalClock(),
                logger: TestCluster.logger, interval: .milliseconds(50))
            maintenance.start()
            defer { maintenance.stop() }
            #expect(try ClusterMaintenanceTests.eventually { try Self.row(.a, item.id) != nil })
            #expect(try Self.row(.a, item.id) == (try Self.row(.b, item.id)))
        }

        /// A create that node A commits late (its insert waits on a lock past the query time, the
        /// responder moves on and B takes the row) ends as one row with one id on both nodes: the
        /// id is fixed before the first statement. Before, B inserted a second row with its own id.
        @Test func aCreateThatOneNodeCommitsLateIsOneRow() throws {
            let client = TestCluster.client()
            let store = ItemStore(client: client)
            let blocker = try TestCluster.connect(.a)
            _ = try blocker.query("BEGIN", deadline: TestCluster.deadline())
            _ = try blocker.query("LOCK TABLE items IN SHARE MODE", deadline: TestCluster.deadline())
            let name = "late-" + TestCluster.uniqueID()
            let item = try store.create(name: name, content: "once")
            #expect(client.health.a.state == .down, "A did not answer within the query time")
            _ = try blocker.query("COMMIT", deadline: TestCluster.deadline())
            let count = "SELECT count(*) || ':' || min(id) FROM items WHERE name = $1"
            #expect(
                try ClusterMaintenanceTests.eventually {
                    try TestCluster.scalar(.a, count, [.text(name)]) == "1:\(item.id)"
                })
            #expect(try TestCluster.scalar(.b, count, [.text(name)]) == "1:\(item.id)")
            #expect(try ClusterMaintenanceTests.eventually { try Self.row(.a, item.id) == (try Self.row(.b, item.id)) })
        }

        @Test func listIsNewestIdFirstAndPages() throws {
            let store = ItemStore(client: TestCluster.client())
            let first = try store.create(name: "p1", content: "")
            let second = try store.create(name: "p2", content: "")
            let page = try store.list(limit: 1, before: .max)
            #expect(page.count == 1)
            let older = try store.list(limit: 10, before: second.id)
            #expect(older.contains { $0.id == first.id })
            #expect(!older.contains { $0.id == second.id })
        }
    }
}
