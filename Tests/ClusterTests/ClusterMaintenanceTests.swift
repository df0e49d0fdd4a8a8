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
