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

    /// Starts the maintenance thread and one beat thread per node.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "cluster-maintenance"
        thread.start()
        for node in NodeName.allCases {
            let beat = Thread { [self] in beatLoop(node) }
            beat.name = "cluster-beat-\(node.rawValue)"
            beat.start()
        }
    }

    /// How often each process beats each node.
    static let beatInterval: Duration = .milliseconds(200)

    /// Beats one node for as long as the process runs: `node_standing.seen_at` shows that the
    /// node answered, and `current` falls when it did not for a while, when the server restarted,
    /// or when the other node stands alone. A thread of its own per node, so that a hung node
    /// never holds up the beats of the other. A failed beat judges nothing (requests do).
    private func beatLoop(_ node: NodeName) {
        let client = ClusterClient(configuration: configuration, health: health, clock: clock, logger: logger)
        let link = client.link(node)
        while !stopped.load(ordering: .relaxed) {
            let started = ContinuousClock.now
            do {
                let deadline = started + configuration.queryTimeout
                // A beat lost in a crash only makes the node look less fresh: it needs no flush.
                _ = try link.query("SET synchronous_commit = off", deadline: deadline)
                let peerAlone = health[node.other].knownToStandAlone(maxAge: .milliseconds(600))
                let result = try link.run(
                    .standingBeat, [.bool(peerAlone), .text(String(client.freshnessSeconds))], deadline: deadline)
                health[node].recordStanding(
                    standsAlone: result.bool(0, "stands_alone") ?? false, current: result.bool(0, "current") ?? false)
            } catch {
                link.close()
            }
            let rest = Self.beatInterval - (ContinuousClock.now - started)
            if rest > .zero {
                Thread.sleep(
                    forTimeInterval: Double(rest.components.attoseconds) / 1e18 + Double(rest.components.seconds))
            }
        }
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func run() {
        let client = ClusterClient(configuration: configuration, health: health, clock: clock, logger: logger)
        while !stopped.load(ordering: .relaxed) {
            tick(client)
            Thread.sleep(
                forTimeInterval: Double(interval.components.attoseconds) / 1e18
                    + Double(interval.components.seconds))
        }
    }

    /// One round: probe, replay, promote, measure.
    public func tick(_ client: ClusterClient) {
        for node in NodeName.allCases where health[node].state == .down {
            probe(node, client)
        }
        for target in NodeName.allCases {
            let source = target.other
            guard health[source].isUsable, health[target].isUsable else { continue }
            replay(from: source, to: target, client)
        }
        if health.a.isUsable, health.b.isUsable { confirmStanding(client) }
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
    /// node in bounded batches through the `date_change` and `deleted_at` indexes. One process at a
    /// time across all pools (advisory lock on the primary); requests never wait for it.
    public func collectGarbage(_ client: ClusterClient) {
        let primary = health.preferred
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
            if removed > 0 { logger.debug("garbage collected", metadata: ["db.rows": "\(removed)"]) }
        } catch {
            lockLink.close()
            logger.debug("garbage collection interrupted", metadata: ["db.error": "\(error.debugDescription)"])
        }
    }

    /// Expired sessions go without a trace; tombstones stay the tombstone TTL (and for sessions
    /// at least their lifetime), so a late copy of a destroyed session or a deleted item cannot
    /// bring it back. Statements from `ReplicatedTable.purgeStatements`, in bounded batches.
    private func purge(_ link: NodeLink, deadline: ContinuousClock.Instant) throws(PostgresError) -> Int {
        var removed = 0
        for table in ReplicatedTable.all {
            let statements = table.purgeStatements(
                lifetime: configuration.sessionLifetime, tombstoneTTL: configuration.tombstoneTTL)
            for (sql, age) in statements {
                for _ in 0..<50 {  // at most 50 batches per statement and pass
                    let result = try link.query(sql, [.int(age), .int(Self.gcBatchSize)], deadline: deadline)
                    removed += result.affectedRows
                    if result.affectedRows < Self.gcBatchSize { break }
                }
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
            logger.debug("node answers again; catching up", metadata: ["db.node": "\(node.rawValue)"])
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
            // A source that stands alone holds every acknowledged write: its rows go over the
            // target's as they are (the target may hold a late row no one acknowledged).
            let forced = try Self.standing(of: sourceLink, deadline: deadline).standsAlone
            var total = 0
            while total < 5000, ContinuousClock.now < deadline {
                let batch = try sourceLink.query(
                    "SELECT seq, table_name, row_key FROM replication_outbox ORDER BY seq LIMIT 200",
                    deadline: deadline)
                if batch.rowCount == 0 { break }
                var done: [String] = []
                var keys: [String: Set<String>] = [:]
                for row in 0..<batch.rowCount {
                    guard let seq = batch.string(row, "seq"), let table = batch.string(row, "table_name"),
                        let key = batch.string(row, "row_key")
                    else { continue }
                    keys[table, default: []].insert(key)
                    done.append(seq)
                }
                for (table, tableKeys) in keys {
                    try copyRows(
                        table: table, keys: tableKeys, from: sourceLink, to: targetLink, forced: forced,
                        deadline: deadline)
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
                logger.debug(
                    "replayed outbox",
                    metadata: [
                        "db.from": "\(source.rawValue)", "db.to": "\(target.rawValue)",
                        "db.rows": "\(total)",
                    ])
            }
            if health[target].state == .catchingUp {
                let pending = try sourceLink.query(
                    "SELECT EXISTS (SELECT 1 FROM replication_outbox)", deadline: deadline)
                if pending.bool(0, 0) == false, health[target].standing.current {
                    health[target].set(.up)
                    logger.debug("node caught up", metadata: ["db.node": "\(target.rawValue)"])
                }
            }
        } catch {
            // Whichever side failed is marked down by its own next call; drop both connections.
            sourceLink.close()
            targetLink.close()
            logger.debug("replay interrupted", metadata: ["db.error": "\(error.debugDescription)"])
        }
    }

    /// Copies the source's current copies of `keys` (live rows and tombstones) to the target, in
    /// one statement each way and kind: under the settlement rule, or `forced` as they are (from a
    /// node that stands alone: the target may hold a late row no one acknowledged, with a greater
    /// clock). A forced copy reads the source again and copies again the rows that changed
    /// meanwhile: while a node stands alone, every writer changes it before the other, so a row
    /// the copy put back under a newer one on the target is seen changed on the source and copied
    /// again. No copy brings back a key the target holds a tombstone of (the node's trigger).
    func copyRows(
        table name: String, keys: Set<String>, from source: NodeLink, to target: NodeLink, forced: Bool = false,
        deadline: ContinuousClock.Instant
    ) throws(PostgresError) {
        guard let table = ReplicatedTable.named(name), !keys.isEmpty else { return }
        func fetch(_ keys: some Sequence<String>) throws(PostgresError) -> FetchedRows {
            FetchedRows(
                table: table,
                result: try source.run(table.fetch, [.text(FetchedRows.arrayLiteral(keys))], deadline: deadline))
        }
        var rows = try fetch(keys)
        for _ in 0..<5 {
            if let tombstones = rows.tombstoneArrays { _ = try target.run(table.bury, tombstones, deadline: deadline) }
            if let live = rows.liveArrays {
                _ = try target.run(forced ? table.force : table.put, live, deadline: deadline)
            }
            guard forced else { return }
            let copied = rows.versions
            let again = try fetch(copied.keys)
            let changed = Set(again.versions.filter { copied[$0.key] != $0.value }.keys)
            if changed.isEmpty { return }
            rows = try fetch(changed)
        }
    }

    /// A node's standing, and whether its outbox is empty.
    struct Standing {
        var standsAlone: Bool
        var current: Bool
        var outboxEmpty: Bool
        /// No responder asked to stand alone for `quietStandingSeconds` (or it does not stand alone).
        var settled: Bool
    }

    /// A standing alone is ended no sooner than this after a responder last asked for it (it
    /// sees the other node away, and writes once the standing has settled, a second later): not
    /// for safety (its write's guard would fail and it would ask again), but so that such a
    /// write is not refused and the standing does not flap.
    static let quietStandingSeconds = Statement.soloSettleSeconds + 2

    /// Ends a node's standing alone when its outbox is empty, under the standing row's lock: the
    /// lock waits for the writes standing alone in flight (they hold it shared), and the outbox is
    /// read after it, by a statement of its own, so that their queued rows are seen.
    private func endStanding(_ link: NodeLink, deadline: ContinuousClock.Instant) throws(PostgresError) -> Bool {
        _ = try link.query("BEGIN", deadline: deadline)
        do {
            let locked = try link.query(
                """
                SELECT solo_since IS NOT NULL AND claimed_at < clock_timestamp() - make_interval(secs => $1::int)
                FROM node_standing FOR UPDATE
                """, [.int(Self.quietStandingSeconds)], deadline: deadline)
            var ended = false
            if locked.bool(0, 0) == true {
                let result = try link.query(
                    """
                    UPDATE node_standing SET solo_since = NULL, current = true
                    WHERE NOT EXISTS (SELECT 1 FROM replication_outbox) RETURNING 1
                    """, deadline: deadline)
                ended = result.rowCount == 1
            }
            _ = try link.query("COMMIT", deadline: deadline)
            return ended
        } catch {
            link.close()  // the open transaction ends with the connection
            throw error
        }
    }

    static func standing(of link: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> Standing
    {
        let row = try link.query(
            """
            SELECT solo_since IS NOT NULL AS stands_alone, current,
                   NOT EXISTS (SELECT 1 FROM replication_outbox) AS outbox_empty,
                   solo_since IS NULL OR claimed_at IS NULL
                       OR claimed_at < clock_timestamp() - make_interval(secs => $1::int) AS settled
            FROM node_standing
            """, [.int(Self.quietStandingSeconds)], deadline: deadline)
        return Standing(
            standsAlone: row.bool(0, "stands_alone") ?? false, current: row.bool(0, "current") ?? false,
            outboxEmpty: row.bool(0, "outbox_empty") ?? false, settled: row.bool(0, "settled") ?? false)
    }

    /// With both nodes answering: confirms a node as current once the other holds nothing it
    /// lacks (the other's outbox is empty), and ends the other's standing alone then (once no
    /// responder asked for it for `quietStandingSeconds`). No lock is held across the two nodes
    /// (a node that hangs must not hold up the other's beats): should a responder make the other
    /// stand alone again right after, the beats clear `current` again well before that standing
    /// settles (`Statement.soloSettleSeconds`).
    public func confirmStanding(_ client: ClusterClient) {
        let deadline = ContinuousClock.now + configuration.queryTimeout
        for target in NodeName.allCases {
            let peer = target.other
            let targetLink = client.link(target)
            let peerLink = client.link(peer)
            do {
                let mine = try Self.standing(of: targetLink, deadline: deadline)
                let theirs = try Self.standing(of: peerLink, deadline: deadline)
                if mine.current && !theirs.standsAlone { continue }
                guard theirs.outboxEmpty, theirs.settled else { continue }
                if theirs.standsAlone {
                    guard try endStanding(peerLink, deadline: deadline) else { continue }
                    health[peer].recordStanding(standsAlone: false, current: true)
                    logger.debug("node no longer stands alone", metadata: ["db.node": "\(peer.rawValue)"])
                }
                _ = try targetLink.query(
                    """
                    UPDATE node_standing SET current = true, seen_at = clock_timestamp(),
                        seen_start = pg_postmaster_start_time()
                    """, deadline: deadline)
                logger.debug(
                    "node confirmed to hold every acknowledged write", metadata: ["db.node": "\(target.rawValue)"])
            } catch {
                targetLink.close()
                peerLink.close()
                logger.debug("standing confirmation interrupted", metadata: ["db.error": "\(error.debugDescription)"])
            }
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
                    SELECT count(*) AS length,
                           COALESCE(extract(epoch FROM (now() AT TIME ZONE 'UTC') - min(queued_at))::bigint, 0) AS oldest_age
                    FROM replication_outbox
                    """, deadline: ContinuousClock.now + configuration.queryTimeout)
                lengths[node] = Int(result.int64(0, "length") ?? 0)
                ages[node] = Int(result.int64(0, "oldest_age") ?? 0)
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
