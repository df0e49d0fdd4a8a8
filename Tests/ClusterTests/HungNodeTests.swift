import Cluster
import Foundation
import Postgres
import Testing

extension ClusterDatabase {
    /// A node that hangs (here: the backend serving this client, stopped with SIGSTOP) costs a
    /// request that node's own query time, and the other node's answer is still taken. Found by
    /// the multi-host test: with one deadline shared by both nodes, the healthy node was judged
    /// timed out as well, and requests failed with both nodes marked down.
    @Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
    struct HungNodeTests {
        /// Stops the backend that serves `applicationName` on `node` until the returned closure runs.
        static func stopBackend(on node: NodeName, applicationName: String) throws -> () -> Void {
            let pidText = try TestCluster.scalar(
                node, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", [.text(applicationName)])
            let pid = try #require(pidText.flatMap { Int32($0) }, "the client has a connection on node \(node)")
            try #require(kill(pid, SIGSTOP) == 0, "SIGSTOP needs the rights of root or the postgres user")
            return { _ = kill(pid, SIGCONT) }
        }

        @Test(arguments: [NodeName.a, .b])
        func aReadIsAnsweredByTheOtherNode(hung: NodeName) throws {
            let name = "hung-read-" + TestCluster.uniqueID()
            let client = TestCluster.client(applicationName: name)
            let store = SessionStore(client: client)
            let id = TestCluster.uniqueID()
            let data = Array("n|i:1;".utf8)
            #expect(try store.insertNew(id: id, data: data))  // opens a connection on each node
            let resume = try Self.stopBackend(on: hung, applicationName: name)
            defer {
                resume()
                try? TestCluster.catchUp()
            }

            let started = ContinuousClock.now
            let snapshot = try #require(try store.read(id: id))
            #expect(snapshot.data == data)
            #expect(ContinuousClock.now - started < .milliseconds(3500), "one query time (2 s), not more")
            #expect(client.health[hung].state == .down)
            #expect(client.health[hung.other].state == .up, "the node that answered is not blamed")
            // The node that answered takes the write alone (it is current: the cluster beats it).
            #expect(try store.write(snapshot, data: Array("n|i:2;".utf8)))
            #expect(
                try TestCluster.scalar(
                    hung.other, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
                    == "n|i:2;")
        }

        @Test(arguments: [NodeName.a, .b])
        func aWriteIsTakenByTheOtherNodeAndQueuedForTheHungOne(hung: NodeName) throws {
            let name = "hung-write-" + TestCluster.uniqueID()
            let client = TestCluster.client(applicationName: name)
            let store = SessionStore(client: client)
            #expect(try store.insertNew(id: TestCluster.uniqueID(), data: Array("n|i:1;".utf8)))
            let resume = try Self.stopBackend(on: hung, applicationName: name)
            defer { resume() }

            let id = TestCluster.uniqueID()
            let started = ContinuousClock.now
            #expect(try store.insertNew(id: id, data: Array("w|i:2;".utf8)))
            #expect(ContinuousClock.now - started < .milliseconds(3500))
            #expect(client.health[hung].state == .down)
            #expect(client.health[hung.other].state == .up)
            #expect(
                try TestCluster.scalar(
                    hung.other, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
                    == "w|i:2;")
            // Queued for the hung node; the running cluster's maintenance may already have replayed it
            // (the node is hung for this client only).
            let queued = try TestCluster.scalar(
                hung.other, "SELECT count(*) FROM replication_outbox WHERE row_key = $1", [.text(id)])
            let replayed = try TestCluster.scalar(
                hung, "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = $1", [.text(id)])
            #expect(queued == "1" || replayed == "w|i:2;", "the row is queued for the hung node")
        }
    }
}
