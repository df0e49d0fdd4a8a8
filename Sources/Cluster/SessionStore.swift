import Postgres

/// Sessions on both nodes: read the newest copy, write with compare-and-set on the primary,
/// copy to the other node, tombstone on destroy. Races are settled by the caller, which
/// re-reads and re-applies its change when `write` reports a lost race.
public struct SessionStore {
    public let client: ClusterClient

    public init(client: ClusterClient) { self.client = client }

    /// The live session with this id, or nil when it is unknown, destroyed or expired.
    public func read(id: String) throws(ClusterError) -> SessionSnapshot? {
        let results = try client.readAll(.sessionRead, readValues(id))
        // The primary after the read: a node that failed to answer it is down by now, and the
        // write must be decided by the node that did answer.
        let primary = client.health.primary
        var newest: (version: SessionSnapshot.Version, result: PostgresResult)?
        var primaryVersion: SessionSnapshot.Version?
        for (node, result) in results where result.rowCount == 1 {
            if result.bool(0, 3) == true { return nil }  // a tombstone anywhere is final
            guard let version = Self.version(of: result) else { continue }
            if node == primary, result.bool(0, 3) == false { primaryVersion = version }
            if newest == nil || newest!.version < version { newest = (version, result) }
        }
        guard let newest else { return nil }
        client.clock.observe(newest.version.hlc)
        let row = newest.result
        if row.bool(0, 3) == true || row.bool(0, 4) == true { return nil }
        return Self.snapshot(id: id, row: row, version: newest.version, primary: primary, primaryVersion: primaryVersion)
    }

    /// The session as the secondary node holds it, for a request that is about to write it:
    /// one read instead of two. The snapshot's primary version is the secondary's, so the
    /// compare-and-set on the primary succeeds only when the primary holds that same version,
    /// which is the check that reading both nodes makes. Nil when the secondary cannot vouch
    /// for the session (a node is away, it has no live unexpired copy, or it failed): the
    /// caller then reads both nodes with `read(id:)`.
    public func readSecondary(id: String) -> SessionSnapshot? {
        let primary = client.health.primary
        let secondary = primary.other
        guard client.health[primary].isUsable, client.health[secondary].isUsable,
            let row = try? client.run(.sessionRead, readValues(id), on: secondary),
            row.rowCount == 1, row.bool(0, 3) == false, row.bool(0, 4) == false,
            let version = Self.version(of: row), client.health.primary == primary
        else { return nil }
        client.clock.observe(version.hlc)
        var snapshot = Self.snapshot(id: id, row: row, version: version, primary: primary, primaryVersion: version)
        snapshot.primaryVersionAssumed = true
        return snapshot
    }

    /// The parameters of `sessionRead`.
    private func readValues(_ id: String) -> [PostgresValue] {
        [.text(id), .int(client.configuration.sessionLifetime)]
    }

    /// The version of a `sessionRead` row.
    private static func version(of row: PostgresResult) -> SessionSnapshot.Version? {
        guard let hlc = row.int64(0, 1), let origin = row.int64(0, 2) else { return nil }
        return SessionSnapshot.Version(hlc: hlc, origin: Int32(truncatingIfNeeded: origin))
    }

    /// The snapshot a `sessionRead` row gives.
    private static func snapshot(
        id: String, row: PostgresResult, version: SessionSnapshot.Version, primary: NodeName,
        primaryVersion: SessionSnapshot.Version?
    ) -> SessionSnapshot {
        SessionSnapshot(
            id: id, data: row.bytes(0, 0) ?? [], hlc: version.hlc, origin: version.origin,
            ageSeconds: row.int64(0, 5) ?? 0, primary: primary, primaryVersion: primaryVersion)
    }

    /// Stores a brand-new session under `id` on both nodes; false when the id is taken anywhere.
    public func insertNew(id: String, data: [UInt8]) throws(ClusterError) -> Bool {
        let hlc = client.clock.next()
        let origin = client.configuration.writerID
        let results = try client.writeAll(.sessionInsertNew, [.text(id), .bytes(data), .int(hlc), .text(String(origin))])
        return results.values.allSatisfy { $0.rowCount == 1 }
    }

    /// Replaces the session's data if nobody changed it since `snapshot`; false when a race was lost.
    public func write(_ snapshot: SessionSnapshot, data: [UInt8]) throws(ClusterError) -> Bool {
        guard client.health[snapshot.primary].isUsable else { return false }
        let hlc = client.clock.next()
        let origin = String(client.configuration.writerID)
        let values: [PostgresValue]
        let decide: Statement
        if let expected = snapshot.primaryVersion {
            decide = .sessionCompareAndSet
            values = [
                .text(snapshot.id), .bytes(data), .int(hlc), .text(origin), .int(expected.hlc),
                .text(String(expected.origin)),
            ]
        } else {
            // The primary lacks the row (it was away): the newest copy comes from the other node.
            decide = .sessionInsertNew
            values = [.text(snapshot.id), .bytes(data), .int(hlc), .text(origin)]
        }
        let result: PostgresResult
        do {
            result = try client.decideThenCopy(on: snapshot.primary, decide, values) { _ in
                (.sessionPut, [.text(snapshot.id), .bytes(data), .int(hlc), .text(origin), .bool(false), .null])
            }
        } catch where error.code == .unavailable && !client.health.allDown {
            return false  // the primary fell away; the caller re-reads with the other node deciding
        }
        return result.rowCount == 1
    }

    /// Removes the session on both nodes, leaving a tombstone so a late copy cannot bring it back.
    public func destroy(id: String) throws(ClusterError) {
        let hlc = client.clock.next()
        try client.writeAll(
            .sessionPut,
            [.text(id), .bytes([]), .int(hlc), .text(String(client.configuration.writerID)), .bool(true), .null])
    }
}
