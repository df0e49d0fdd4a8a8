import Cluster
import Foundation
import Logging
import Postgres
import Testing

/// Every suite that writes the two nodes, run one test at a time: they share the nodes'
/// standing (a test that makes a node stand alone changes what the next one's reads decide).
@Suite(.serialized) enum ClusterDatabase {}

/// The two real PostgreSQL nodes the test command starts (`TEST_DB1_*`, `TEST_DB2_*`).
enum TestCluster {
    static let environment = ProcessInfo.processInfo.environment

    /// True when the test command gave us databases.
    static let isConfigured = environment["TEST_DB1_HOST"] != nil && environment["TEST_DB2_HOST"] != nil

    static func parameters(_ prefix: String) -> PostgresConnectionParameters {
        PostgresConnectionParameters(
            host: environment["\(prefix)_HOST"] ?? "127.0.0.1", port: Int(environment["\(prefix)_PORT"] ?? "") ?? 5432,
            database: environment["\(prefix)_NAME"] ?? "", user: environment["\(prefix)_USER"] ?? "webuser",
            password: environment["\(prefix)_PASSWORD"] ?? "change_me", connectTimeout: 2, statementTimeout: 5)
    }

    static let logger = Logger(label: "cluster-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A fresh client with its own health, clock and writer id.
    static func client(
        writerID: Int32 = Int32.random(in: 1...Int32.max), health: ClusterHealth = ClusterHealth(),
        applicationName: String = "cluster-tests", freshness: Duration? = nil
    ) -> ClusterClient {
        var nodeA = parameters("TEST_DB1")
        var nodeB = parameters("TEST_DB2")
        nodeA.applicationName = applicationName
        nodeB.applicationName = applicationName
        var configuration = ClusterConfiguration(
            nodeA: nodeA, nodeB: nodeB, queryTimeout: .seconds(2),
            sessionLifetime: 1440, writerID: writerID)
        configuration.freshness = freshness
        return ClusterClient(configuration: configuration, health: health, clock: HybridLogicalClock(), logger: logger)
    }

    /// A direct connection to one node, for checking rows behind the store's back.
    static func connect(_ node: NodeName) throws -> PostgresConnection {
        try PostgresConnection(parameters(node == .a ? "TEST_DB1" : "TEST_DB2"))
    }

    static func deadline() -> ContinuousClock.Instant { .now + .seconds(5) }

    /// Runs SQL on one node and returns the first column of the first row.
    static func scalar(_ node: NodeName, _ sql: String, _ values: [PostgresValue] = []) throws -> String? {
        let connection = try connect(node)
        return try connection.query(sql, values, deadline: deadline()).string(0, 0)
    }

    /// Confirms both nodes current, as a running responder's maintenance does.
    static func confirmStanding() throws {
        let client = client()
        maintenance(client).confirmStanding(client)
    }

    /// Rounds of maintenance (replay, confirmation) until neither node stands alone and both are
    /// current, and still so a beat round later (the beats of the test cluster's pools clear
    /// `current` for up to a beat after the other node stood alone).
    static func catchUp() throws {
        let client = client()
        let maintenance = maintenance(client)
        var settledChecks = 0
        for _ in 0..<100 {
            maintenance.tick(client)
            let state = try NodeName.allCases.map {
                try scalar($0, "SELECT (solo_since IS NULL AND current)::text FROM node_standing")
            }
            settledChecks = state.allSatisfy { $0 == "true" } ? settledChecks + 1 : 0
            if settledChecks >= 8 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    static func maintenance(_ client: ClusterClient) -> ClusterMaintenance {
        ClusterMaintenance(
            configuration: client.configuration, health: client.health, clock: client.clock, logger: logger)
    }

    static func uniqueID() -> String {
        "test" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    }
}

/// Fails the run when the test command promised databases but none were configured, so the
/// database suites can never be skipped silently in CI.
@Suite struct DatabaseSuitesAreEnabled {
    @Test func databasesAreConfiguredWhenRequired() {
        if ProcessInfo.processInfo.environment["REQUIRE_DB_TESTS"] == "1" {
            #expect(TestCluster.isConfigured, "deploy/run-tests must pass TEST_DB1_* and TEST_DB2_*")
        }
    }
}
