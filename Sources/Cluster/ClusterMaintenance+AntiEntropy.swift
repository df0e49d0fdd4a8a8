import Foundation
import Postgres

/// Anti-entropy: the nodes compare digests of key ranges and copy what differs, so that nodes
/// that diverged for any reason (a restore, a manual edit, a crash between two writes) converge.
///
/// Each table is cut into 256 buckets by a hash of the key. A bucket's digest is the XOR of a
/// 64-bit hash of every row's `(key, hlc, origin, deleted)`, an aggregate that needs no sort.
/// Only buckets whose digests differ are read row by row; for each differing key the winner by
/// the settlement rule (tombstone first, then the greater `(hlc, origin)`) is copied to the other
/// node with the same conditional upsert the replay uses. Rows past their lifetime are left out:
/// garbage collection removes them on each node on its own schedule.
extension ClusterMaintenance {
    /// The advisory lock key held on node A during a pass: one pass at a time cluster-wide.
    static let repairLockKey: Int64 = 0x5345_5353_5245_5052

    static let bucketCount = 256

    /// A table as anti-entropy sees it.
    struct RepairedTable {
        let name: String
        /// SQL giving the row's key as text.
        let key: String
        /// The column that moves with every write (derived from `hlc`), indexed.
        let changedAt: String
        /// The array type for a list of keys (`text[]`, `bigint[]`).
        let keyArray: String
        /// A filter leaving out rows garbage collection may already have removed on one node.
        let liveFilter: String
    }

    var repairedTables: [RepairedTable] {
        [
            RepairedTable(
                name: "php_session", key: "id", changedAt: "date_change", keyArray: "text[]",
                liveFilter: """
                    (deleted OR date_change >= (now() AT TIME ZONE 'UTC') - make_interval(secs => \(configuration.sessionLifetime)))
                    AND (NOT deleted OR date_change >= (now() AT TIME ZONE 'UTC')
                        - make_interval(secs => \(max(configuration.sessionLifetime, configuration.tombstoneTTL))))
                    """),
            RepairedTable(
                name: "items", key: "id::text", changedAt: "updated_at", keyArray: "bigint[]",
                liveFilter: """
                    (NOT deleted OR updated_at >= (now() AT TIME ZONE 'UTC') - make_interval(secs => \(configuration.tombstoneTTL)))
                    """),
        ]
    }

    /// Which rows a pass compares.
    public enum RepairScope: Sendable {
        /// Rows written in the last seconds, through the indexes: cheap, run every few seconds,
        /// it heals a crash between the two writes of a request soon after it happened.
        case recent
        /// Every row, bucket by bucket: heals any divergence (a restore, a manual edit).
        case full
    }

    /// One anti-entropy pass over both tables; returns the rows copied, or nil when another
    /// process holds the pass or a node failed.
    @discardableResult
    public func repair(_ client: ClusterClient, scope: RepairScope = .full) -> Int? {
        let a = client.link(.a)
        let b = client.link(.b)
        let deadline = ContinuousClock.now + configuration.queryTimeout * 15
        do {
            let locked = try a.query("SELECT pg_try_advisory_lock($1::bigint)", [.int(Self.repairLockKey)], deadline: deadline)
            guard locked.bool(0, 0) == true else { return nil }
            defer {
                _ = try? a.query(
                    "SELECT pg_advisory_unlock($1::bigint)", [.int(Self.repairLockKey)],
                    deadline: ContinuousClock.now + configuration.queryTimeout)
            }
            // While a node stands alone (or one is not yet confirmed current), the newest clock
            // is no proof: the other node may hold a late write no one acknowledged. Catch-up
            // settles those rows first.
            let standingA = try Self.standing(of: a, deadline: deadline)
            let standingB = try Self.standing(of: b, deadline: deadline)
            guard !standingA.standsAlone, !standingB.standsAlone, standingA.current, standingB.current else {
                return nil
            }
            var copied = 0
            for table in repairedTables {
                switch scope {
                case .full: copied += try repair(table, a: a, b: b, deadline: deadline)
                case .recent: copied += try repairRecent(table, a: a, b: b, deadline: deadline)
                }
            }
            if scope == .full || copied > 0 { recordRepair(rows: copied) }
            if copied > 0 {
                logger.notice("anti-entropy copied rows that differed between the nodes", metadata: ["rows": "\(copied)"])
            }
            return copied
        } catch {
            a.close()
            b.close()
            logger.warning("anti-entropy pass interrupted", metadata: ["db.error": "\(String(reflecting: error))"])
            return nil
        }
    }

    /// Claims a pass on node A: true when no process ran `name` in the last `seconds`. One pass
    /// per interval runs cluster-wide, however many pools there are.
    func claim(_ name: String, everySeconds seconds: Int, _ client: ClusterClient) -> Bool {
        let a = client.link(.a)
        do {
            let result = try a.query(
                """
                UPDATE maintenance_runs SET last_run = now() AT TIME ZONE 'UTC'
                WHERE name = $1 AND last_run < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int)
                RETURNING 1
                """, [.text(name), .int(seconds)], deadline: ContinuousClock.now + configuration.queryTimeout)
            return result.rowCount == 1
        } catch {
            a.close()
            return false
        }
    }

    /// Seconds of recent writes a `.recent` pass compares.
    static let recentWindowSeconds = 20

    private func repairRecent(_ table: RepairedTable, a: NodeLink, b: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> Int
    {
        // Rows of the last second are left out: a request may be between its two writes, and
        // copying its row first would make its own insert on the second node find a conflict.
        let window = try a.query(
            """
            SELECT ((now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int))::text,
                   ((now() AT TIME ZONE 'UTC') - interval '1 second')::text
            """, [.int(Self.recentWindowSeconds)], deadline: deadline)
        let since = window.string(0, 0) ?? "-infinity"
        let until = window.string(0, 1) ?? "-infinity"
        let digestSQL = """
            SELECT coalesce(bit_xor(hashtextextended(\(table.key) || ':' || hlc || ':' || origin || ':' || deleted, 0)), 0)
                   || '/' || count(*)
            FROM \(table.name) WHERE \(table.changedAt) >= $1::timestamp AND \(table.changedAt) < $2::timestamp
            """
        let bounds: [PostgresValue] = [.text(since), .text(until)]
        let digestA = try a.query(digestSQL, bounds, deadline: deadline).string(0, 0)
        let digestB = try b.query(digestSQL, bounds, deadline: deadline).string(0, 0)
        if digestA == digestB { return 0 }
        let rowsSQL = """
            SELECT \(table.key), hlc, origin, deleted FROM \(table.name)
            WHERE \(table.changedAt) >= $1::timestamp AND \(table.changedAt) < $2::timestamp
            """
        var rowsA = Self.versions(try a.query(rowsSQL, bounds, deadline: deadline))
        var rowsB = Self.versions(try b.query(rowsSQL, bounds, deadline: deadline))
        // A key recent on one node may be old (or absent) on the other: read those by key.
        let onlyA = Set(rowsA.keys).subtracting(rowsB.keys)
        let onlyB = Set(rowsB.keys).subtracting(rowsA.keys)
        let keySQL = "SELECT \(table.key), hlc, origin, deleted FROM \(table.name) WHERE \(table.key) = ANY($1::text[])"
        if !onlyA.isEmpty {
            rowsB.merge(Self.versions(try b.query(keySQL, [.text(Self.arrayLiteral(onlyA))], deadline: deadline))) { $1 }
        }
        if !onlyB.isEmpty {
            rowsA.merge(Self.versions(try a.query(keySQL, [.text(Self.arrayLiteral(onlyB))], deadline: deadline))) { $1 }
        }
        return try reconcile(table, rowsA, rowsB, a: a, b: b, deadline: deadline)
    }

    /// A PostgreSQL array literal of text keys, every element quoted.
    static func arrayLiteral(_ keys: Set<String>) -> String {
        "{" + keys.map(ReplicatedRows.quoted).joined(separator: ",") + "}"
    }

    private func bucketDigests(_ table: RepairedTable, _ link: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> [Int: String]
    {
        let result = try link.query(
            """
            SELECT (hashtext(\(table.key)) & \(Self.bucketCount - 1)) AS bucket,
                   bit_xor(hashtextextended(\(table.key) || ':' || hlc || ':' || origin || ':' || deleted, 0)) || '/'
                       || count(*)
            FROM \(table.name) WHERE \(table.liveFilter) GROUP BY 1
            """, deadline: deadline)
        var digests: [Int: String] = [:]
        for row in 0..<result.rowCount {
            if let bucket = result.int64(row, 0), let digest = result.string(row, 1) { digests[Int(bucket)] = digest }
        }
        return digests
    }

    private struct Version: Equatable {
        let hlc: Int64
        let origin: Int64
        let deleted: Bool

        /// The settlement rule: a tombstone is final, then the greater `(hlc, origin)` wins.
        func beats(_ other: Version) -> Bool {
            if deleted != other.deleted { return deleted }
            return (hlc, origin) > (other.hlc, other.origin)
        }
    }

    private func versions(_ table: RepairedTable, bucket: Int, _ link: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> [String: Version]
    {
        Self.versions(
            try link.query(
                """
                SELECT \(table.key), hlc, origin, deleted FROM \(table.name)
                WHERE (hashtext(\(table.key)) & \(Self.bucketCount - 1)) = $1 AND \(table.liveFilter)
                """, [.int(bucket)], deadline: deadline))
    }

    private static func versions(_ result: PostgresResult) -> [String: Version] {
        var rows: [String: Version] = [:]
        for row in 0..<result.rowCount {
            guard let key = result.string(row, 0), let hlc = result.int64(row, 1), let origin = result.int64(row, 2)
            else { continue }
            rows[key] = Version(hlc: hlc, origin: origin, deleted: result.bool(row, 3) ?? false)
        }
        return rows
    }

    private func repair(_ table: RepairedTable, a: NodeLink, b: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> Int
    {
        let digestsA = try bucketDigests(table, a, deadline: deadline)
        let digestsB = try bucketDigests(table, b, deadline: deadline)
        var copied = 0
        for bucket in 0..<Self.bucketCount where digestsA[bucket] != digestsB[bucket] {
            let rowsA = try versions(table, bucket: bucket, a, deadline: deadline)
            let rowsB = try versions(table, bucket: bucket, b, deadline: deadline)
            copied += try reconcile(table, rowsA, rowsB, a: a, b: b, deadline: deadline)
        }
        return copied
    }

    /// Copies, for every key whose versions differ, the winner to the other node.
    private func reconcile(
        _ table: RepairedTable, _ rowsA: [String: Version], _ rowsB: [String: Version], a: NodeLink, b: NodeLink,
        deadline: ContinuousClock.Instant
    ) throws(PostgresError) -> Int {
        var copied = 0
        for key in Set(rowsA.keys).union(rowsB.keys) {
            let inA = rowsA[key]
            let inB = rowsB[key]
            if inA == inB { continue }
            let fromA: Bool
            switch (inA, inB) {
            case (.some(let va), .some(let vb)): fromA = va.beats(vb)
            case (.some, .none): fromA = true
            default: fromA = false
            }
            try copyRows(table: table.name, keys: [key], from: fromA ? a : b, to: fromA ? b : a, deadline: deadline)
            copied += 1
        }
        return copied
    }
}
