import Foundation
import Postgres

/// Anti-entropy: the nodes compare digests of key ranges and copy what differs, so that nodes
/// that diverged for any reason (a restore, a manual edit, a crash between two writes) converge.
///
/// Each table (`ReplicatedTable`: its live rows and its tombstones) is cut into 256 buckets by a
/// hash of the key. A bucket's digest is the XOR of a 64-bit hash of every copy's `(key, hlc,
/// origin, deleted)`, an aggregate that needs no sort. Only buckets whose digests differ are read
/// row by row; for each differing key the winner by the settlement rule (tombstone first, then
/// the greater `(hlc, origin)`) is copied to the other node with the same statements the replay
/// uses. Expired rows and tombstones past their age are left out: garbage collection removes them
/// on each node on its own schedule.
extension ClusterMaintenance {
    /// The advisory lock key held on node A during a pass: one pass at a time cluster-wide.
    static let repairLockKey: Int64 = 0x5345_5353_5245_5052

    static let bucketCount = 256

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
            let locked = try a.query(
                "SELECT pg_try_advisory_lock($1::bigint)", [.int(Self.repairLockKey)], deadline: deadline)
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
            for table in ReplicatedTable.all {
                switch scope {
                case .full: copied += try repair(table, a: a, b: b, deadline: deadline)
                case .recent: copied += try repairRecent(table, a: a, b: b, deadline: deadline)
                }
            }
            if scope == .full || copied > 0 { recordRepair(rows: copied) }
            if copied > 0 {
                logger.debug(
                    "anti-entropy copied rows that differed between the nodes", metadata: ["db.rows": "\(copied)"])
            }
            return copied
        } catch {
            a.close()
            b.close()
            logger.debug("anti-entropy pass interrupted", metadata: ["db.error": "\(String(reflecting: error))"])
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

    private func repairRecent(_ table: ReplicatedTable, a: NodeLink, b: NodeLink, deadline: ContinuousClock.Instant)
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
            SELECT coalesce(bit_xor(hashtextextended(key || ':' || hlc || ':' || origin || ':' || deleted, 0)), 0)
                   || '/' || count(*) AS digest
            FROM (\(table.recentVersionsSQL)) v
            """
        let bounds: [PostgresValue] = [.text(since), .text(until)]
        let digestA = try a.query(digestSQL, bounds, deadline: deadline).string(0, "digest")
        let digestB = try b.query(digestSQL, bounds, deadline: deadline).string(0, "digest")
        if digestA == digestB { return 0 }
        var rowsA = Self.versions(try a.query(table.recentVersionsSQL, bounds, deadline: deadline))
        var rowsB = Self.versions(try b.query(table.recentVersionsSQL, bounds, deadline: deadline))
        // A key recent on one node may be old (or absent) on the other: read those by key.
        let onlyA = Set(rowsA.keys).subtracting(rowsB.keys)
        let onlyB = Set(rowsB.keys).subtracting(rowsA.keys)
        if !onlyA.isEmpty {
            let keys: [PostgresValue] = [.text(FetchedRows.arrayLiteral(onlyA))]
            rowsB.merge(Self.versions(try b.query(table.keyedVersionsSQL, keys, deadline: deadline))) { $1 }
        }
        if !onlyB.isEmpty {
            let keys: [PostgresValue] = [.text(FetchedRows.arrayLiteral(onlyB))]
            rowsA.merge(Self.versions(try a.query(table.keyedVersionsSQL, keys, deadline: deadline))) { $1 }
        }
        return try reconcile(table, rowsA, rowsB, a: a, b: b, deadline: deadline)
    }

    private func retainedVersions(_ table: ReplicatedTable) -> String {
        table.retainedVersionsSQL(lifetime: configuration.sessionLifetime, tombstoneTTL: configuration.tombstoneTTL)
    }

    private func bucketDigests(_ table: ReplicatedTable, _ link: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> [Int: String]
    {
        let result = try link.query(
            """
            SELECT (hashtext(key) & \(Self.bucketCount - 1)) AS bucket,
                   bit_xor(hashtextextended(key || ':' || hlc || ':' || origin || ':' || deleted, 0)) || '/'
                       || count(*) AS digest
            FROM (\(retainedVersions(table))) v GROUP BY 1
            """, deadline: deadline)
        var digests: [Int: String] = [:]
        for row in 0..<result.rowCount {
            if let bucket = result.int64(row, "bucket"), let digest = result.string(row, "digest") {
                digests[Int(bucket)] = digest
            }
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

    private func versions(_ table: ReplicatedTable, bucket: Int, _ link: NodeLink, deadline: ContinuousClock.Instant)
        throws(PostgresError) -> [String: Version]
    {
        Self.versions(
            try link.query(
                "SELECT * FROM (\(retainedVersions(table))) v WHERE (hashtext(key) & \(Self.bucketCount - 1)) = $1",
                [.int(bucket)], deadline: deadline))
    }

    /// The copies a versions statement returned, by key; a tombstone wins over a live row.
    private static func versions(_ result: PostgresResult) -> [String: Version] {
        var rows: [String: Version] = [:]
        for row in 0..<result.rowCount {
            guard let key = result.string(row, "key"), let hlc = result.int64(row, "hlc"),
                let origin = result.int64(row, "origin")
            else { continue }
            let version = Version(hlc: hlc, origin: origin, deleted: result.bool(row, "deleted") ?? false)
            if let known = rows[key], known.beats(version) { continue }
            rows[key] = version
        }
        return rows
    }

    private func repair(_ table: ReplicatedTable, a: NodeLink, b: NodeLink, deadline: ContinuousClock.Instant)
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
        _ table: ReplicatedTable, _ rowsA: [String: Version], _ rowsB: [String: Version], a: NodeLink, b: NodeLink,
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
