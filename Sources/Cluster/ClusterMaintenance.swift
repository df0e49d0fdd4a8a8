import Foundation
import Logging
import Postgres
import Synchronization

/// The background work of one process: probes nodes that are down, replays the outbox of one
/// node to the other when both answer (one runner at a time across all pools, by advisory
/// lock), and promotes a returning node to `up` once nothing is queued for it.
public final class ClusterMaintenance: Sendable {
    let configuration: ClusterConfiguration
    private let health: ClusterHealth
    private let clock: HybridLogicalClock
    let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let interval: Duration
    private let counters = Mutex(Counters())

    /// Figures for `/status`.
    public struct Counters: Sendable {
        public var replayedRows = 0
        public var lastReplayAt: Date?
        public var outboxLength: [NodeName: Int] = [:]
        public var outboxOldestAgeSeconds: [NodeName: Int] = [:]
        /// Garbage-collection passes this process ran, and the rows they removed.
        public var gcRuns = 0
        public var gcDeletedRows = 0
        public var lastGCAt: Date?
        /// Anti-entropy passes that compared the nodes, the rows they copied, and the last one.
        public var repairPasses = 0
        public var repairedRows = 0
        public var lastRepairAt: Date?
    }

    /// The advisory lock key taken on the source node while its outbox is replayed.
    static let replayLockKey: Int64 = 0x5345_5353_4341_5450
    /// The advisory lock key taken on the primary while one process collects garbage.
    static let gcLockKey: Int64 = 0x5345_5353_4743_0001
    /// Rows one garbage-collection statement removes at most, so no pass holds locks for long.
    static let gcBatchSize = 1000
    private let gcInterval: Duration = .seconds(10)
    private let lastGC = Mutex<ContinuousClock.Instant?>(nil)
    let antiEntropyInterval: Duration
    private let lastRepair = Mutex<ContinuousClock.Instant?>(nil)

    public init(
        configuration: ClusterConfiguration, health: ClusterHealth, clock: HybridLogicalClock, logger: Logger,
        interval: Duration = .milliseconds(250), antiEntropyInterval: Duration = .seconds(300)
    ) {
        self.configuration = configuration
        self.health = health
        self.clock = clock
        self.logger = logger
        self.interval = interval
        self.antiEntropyInterval = antiEntropyInterval
    }

    /// Records what an anti-entropy pass did.
    func recordRepair(rows: Int) {
        counters.withLock {
            $0.repairPasses += 1
            $0.repairedRows += rows
            $0.lastRepairAt = Date()
        }
    }

    public var snapshot: Counters { counters.withLock { $0 } }

    /// Starts the maintenance thread.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "cluster-maintenance"
        thread.start()
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func run() {
        let client = ClusterClient(configuration: configuration, health: health, clock: clock, logger: logger)
        while !stopped.load(ordering: .relaxed) {
            tick(client)
            Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18
                + Double(interval.components.seconds))
        }
    }

    /// One round: probe, replay, promote, measure.
    func tick(_ client: ClusterClient) {
        for node in NodeName.allCases where health[node].state == .down {
            probe(node, client)
        }
        for target in NodeName.allCases {
            let source = target.other
            guard health[source].isUsable, health[target].isUsable else { continue }
            replay(from: source, to: target, client)
        }
        measureOutbox(client)
        let due = lastGC.withLock { last in
            if let previous = last, ContinuousClock.now - previous < gcInterval { return false }
            last = .now
            return true
        }
        if due { collectGarbage(client) }
        let repairDue = lastRepair.withLock { last in
            if let previous = last, ContinuousClock.now - previous < .seconds(2) { return false }
            last = .now
            return true
        }
        if repairDue, health.a.isUsable, health.b.isUsable {
            if claim("repair_recent", everySeconds: 2, client) { repair(client, scope: .recent) }
            let fullSeconds = Int(antiEntropyInterval.components.seconds)
            if claim("repair_full", everySeconds: fullSeconds, client) { repair(client, scope: .full) }
        }
    }

    /// Removes expired sessions, and tombstones older than the tombstone TTL, from every usable
    /// node in bounded batches through the `date_change` and tombstone indexes. One process at a
    /// time across all pools (advisory lock on the primary); requests never wait for it.
    public func collectGarbage(_ client: ClusterClient) {
        let primary = health.primary
        guard health[primary].isUsable else { return }
        let lockLink = client.link(primary)
        let deadline = ContinuousClock.now + configuration.queryTimeout * 10
        do {
            let locked = try lockLink.query(
                "SELECT pg_try_advisory_lock($1::bigint)", [.int(Self.gcLockKey)], deadline: deadline)
            guard locked.bool(0, 0) == true else { return }
            defer {
                _ = try? lockLink.query(
                    "SELECT pg_advisory_unlock($1::bigint)", [.int(Self.gcLockKey)],
                    deadline: ContinuousClock.now + configuration.queryTimeout)
            }
            var removed = 0
            for node in NodeName.allCases where health[node].isUsable {
                removed += try purge(client.link(node), deadline: deadline)
            }
            counters.withLock {
                $0.gcRuns += 1
                $0.gcDeletedRows += removed
                $0.lastGCAt = Date()
            }
            if removed > 0 { logger.info("garbage collected", metadata: ["rows": "\(removed)"]) }
        } catch {
            lockLink.close()
            logger.warning("garbage collection interrupted", metadata: ["db.error": "\(error.debugDescription)"])
        }
    }

    /// Live sessions expire after the lifetime; tombstones stay at least the tombstone TTL, so a
    /// late copy of a destroyed session or a deleted item cannot bring it back. Each statement
    /// takes its age in seconds as `$1` and the batch size as `$2`.
    static let purgeStatements = [
        """
        DELETE FROM php_session WHERE id IN (
            SELECT id FROM php_session
            WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int) AND NOT deleted
            ORDER BY date_change LIMIT $2)
        """,
        """
        DELETE FROM php_session WHERE id IN (
            SELECT id FROM php_session
            WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int) AND deleted
            ORDER BY date_change LIMIT $2)
        """,
        """
        DELETE FROM items WHERE id IN (
            SELECT id FROM items
            WHERE deleted AND updated_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int)
            ORDER BY updated_at LIMIT $2)
        """,
    ]

    private func purge(_ link: NodeLink, deadline: ContinuousClock.Instant) throws(PostgresError) -> Int {
        let ages = [
            configuration.sessionLifetime, max(configuration.sessionLifetime, configuration.tombstoneTTL),
            configuration.tombstoneTTL,
        ]
        var removed = 0
        for (sql, age) in zip(Self.purgeStatements, ages) {
            for _ in 0..<50 {  // at most 50 batches per statement and pass
                let result = try link.query(sql, [.int(age), .int(Self.gcBatchSize)], deadline: deadline)
                removed += result.affectedRows
                if result.affectedRows < Self.gcBatchSize { break }
            }
        }
        return removed
    }

    private func probe(_ node: NodeName, _ client: ClusterClient) {
        let link = client.link(node)
        link.close()
        do {
            let deadline = ContinuousClock.now + configuration.queryTimeout
            _ = try link.query("SELECT 1", deadline: deadline)
            health[node].set(.catchingUp)
            logger.notice("node answers again; catching up", metadata: ["db.node": "\(node.rawValue)"])
        } catch {
            link.close()
        }
    }

    /// Replays `source`'s outbox to `target` in batches; one runner at a time cluster-wide.
    private func replay(from source: NodeName, to target: NodeName, _ client: ClusterClient) {
        let sourceLink = client.link(source)
        let targetLink = client.link(target)
        let deadline = ContinuousClock.now + configuration.queryTimeout * 4
        do {
            let locked = try sourceLink.query(
                "SELECT pg_try_advisory_lock($1::bigint)", [.int(Self.replayLockKey)], deadline: deadline)
            guard locked.bool(0, 0) == true else { return }
            defer {
                _ = try? sourceLink.query(
                    "SELECT pg_advisory_unlock($1::bigint)", [.int(Self.replayLockKey)],
                    deadline: ContinuousClock.now + configuration.queryTimeout)
            }
            var total = 0
            while total < 5000, ContinuousClock.now < deadline {
                let batch = try sourceLink.query(
                    "SELECT seq, table_name, row_key FROM replication_outbox ORDER BY seq LIMIT 200",
                    deadline: deadline)
                if batch.rowCount == 0 { break }
                var done: [String] = []
                for row in 0..<batch.rowCount {
                    guard let seq = batch.string(row, 0), let table = batch.string(row, 1),
                        let key = batch.string(row, 2)
                    else { continue }
                    try copyRow(table: table, key: key, from: sourceLink, to: targetLink, deadline: deadline)
                    done.append(seq)
                }
                _ = try sourceLink.query(
                    "DELETE FROM replication_outbox WHERE seq = ANY($1::bigint[])",
                    [.text("{" + done.joined(separator: ",") + "}")], deadline: deadline)
                total += done.count
            }
            if total > 0 {
                counters.withLock {
                    $0.replayedRows += total
                    $0.lastReplayAt = Date()
                }
                logger.info(
                    "replayed outbox", metadata: ["db.from": "\(source.rawValue)", "db.to": "\(target.rawValue)",
                    "rows": "\(total)"])
            }
            if health[target].state == .catchingUp {
                let pending = try sourceLink.query(
                    "SELECT EXISTS (SELECT 1 FROM replication_outbox)", deadline: deadline)
                if pending.bool(0, 0) == false {
                    health[target].set(.up)
                    logger.notice("node caught up", metadata: ["db.node": "\(target.rawValue)"])
                }
            }
        } catch {
            // Whichever side failed is marked down by its own next call; drop both connections.
            sourceLink.close()
            targetLink.close()
            logger.warning("replay interrupted", metadata: ["db.error": "\(error.debugDescription)"])
        }
    }

    func copyRow(
        table: String, key: String, from source: NodeLink, to target: NodeLink, deadline: ContinuousClock.Instant
    ) throws(PostgresError) {
        switch table {
        case "php_session":
            let row = try source.run(.sessionFetchRow, [.text(key)], deadline: deadline)
            guard row.rowCount == 1 else { return }
            _ = try target.run(
                .sessionPut,
                [
                    .text(key), .bytes(row.bytes(0, 1) ?? []), .text(row.string(0, 2) ?? "0"),
                    .text(row.string(0, 3) ?? "0"), .bool(row.bool(0, 4) ?? false),
                    row.string(0, 5).map { .text($0) } ?? .null,
                ], deadline: deadline)
        case "items":
            guard let id = Int64(key) else { return }
            let row = try source.run(.itemGet, [.int(id)], deadline: deadline)
            guard row.rowCount == 1 else { return }
            _ = try target.run(
                .itemPut,
                [
                    .int(id), .text(row.string(0, 1) ?? ""), .text(row.string(0, 2) ?? ""),
                    .text(row.string(0, 7) ?? ""), .text(row.string(0, 4) ?? "0"), .text(row.string(0, 5) ?? "0"),
                    .bool(row.bool(0, 6) ?? false),
                ], deadline: deadline)
        default:
            return
        }
    }

    private func measureOutbox(_ client: ClusterClient) {
        var lengths: [NodeName: Int] = [:]
        var ages: [NodeName: Int] = [:]
        for node in NodeName.allCases where health[node].isUsable {
            let link = client.link(node)
            do {
                let result = try link.query(
                    """
                    SELECT count(*), COALESCE(extract(epoch FROM (now() AT TIME ZONE 'UTC') - min(queued_at))::bigint, 0)
                    FROM replication_outbox
                    """, deadline: ContinuousClock.now + configuration.queryTimeout)
                lengths[node] = Int(result.int64(0, 0) ?? 0)
                ages[node] = Int(result.int64(0, 1) ?? 0)
            } catch {
                link.failed(error)
            }
        }
        counters.withLock {
            $0.outboxLength = lengths
            $0.outboxOldestAgeSeconds = ages
        }
    }
}
