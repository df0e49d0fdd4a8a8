import Postgres

/// Sessions on both nodes (docs/PROTOCOL.md): read the deciding copy, write with a
/// compare-and-set on every node that is up, a tombstone on destroy. Races are settled by the
/// caller, which re-reads and re-applies its change when `write` reports a lost race.
///
/// While both nodes are up, the compare-and-set runs on node A and then on B, whatever any
/// responder believes about the nodes' health; a node that stands alone decides instead (its
/// writes are queued for the other). While one node is away, the other takes changes only when
/// it stands alone (`ClusterClient.standAlone`), so responders that judge the nodes differently
/// never decide on different nodes.
public struct SessionStore {
    public let client: ClusterClient

    public init(client: ClusterClient) { self.client = client }

    /// The live session with this id, or nil when it is unknown, destroyed or expired.
    ///
    /// Throws `.unavailable` when the only node that answered cannot prove that it holds every
    /// acknowledged write and has no live copy: the session may exist on the other node, so
    /// that is no proof that it is unknown (a new session would log the user out).
    public func read(id: String) throws(ClusterError) -> SessionSnapshot? {
        let results: [NodeName: PostgresResult]
        if let decided = try readDecidingNodeFirst(id) {
            results = decided
        } else {
            results = try client.readAll(.sessionRead, readValues(id))
        }
        var copies: [NodeName: SessionSnapshot.NodeCopy] = [:]
        for (node, result) in results where result.rowCount == 1 {
            var copy = Self.copy(of: result)
            copy.clockOffset = client.measureClockOffset(of: node, nodeClock: result.string(0, "node_clock"))
            // Every copy is observed, so the next write orders after a late one too.
            if let version = copy.version { client.clock.observe(version.hlc) }
            copies[node] = copy
        }
        let deciding = SessionSnapshot.NodeCopy.deciding(copies)
        let counted = SessionSnapshot.NodeCopy.counted(copies, deciding: deciding)
        if counted.contains(where: { copies[$0]?.deleted == true }) { return nil }
        let newest = counted.compactMap { node in copies[node]?.version.map { (node: node, version: $0) } }
            .max { $0.version < $1.version }
        guard let newest, let result = results[newest.node] else {
            if deciding.isEmpty {
                throw ClusterError(.unavailable, detail: "the node that answered cannot prove the session is unknown")
            }
            return nil
        }
        if result.bool(0, "expired") == true {
            // An expired copy on a node that does not decide proves nothing either.
            if deciding.isEmpty {
                throw ClusterError(.unavailable, detail: "the node that answered cannot prove the session expired")
            }
            return nil
        }
        var snapshot = SessionSnapshot(
            id: id, data: result.bytes(0, "data") ?? [], hlc: newest.version.hlc, origin: newest.version.origin,
            ageSeconds: result.int64(0, "age") ?? 0)
        snapshot.copies = copies
        snapshot.isWritable = !deciding.isEmpty
        return snapshot
    }

    /// While both nodes are up, node A decides every write unless B stands alone
    /// (docs/PROTOCOL.md, "Reading"): when A holds every acknowledged write (then B does not stand
    /// alone) and has a copy of the row, A's copy is the row, and B is not asked. When A cannot
    /// prove that, or has no copy (a new row B took while A was away for its writer may be queued
    /// there), B is asked as well and both answers count as one read of both. Nil when this does
    /// not apply (a node is not up, or no recent clock offset of B is known for the fence of the
    /// write that may follow): the caller reads every node at once.
    private func readDecidingNodeFirst(_ id: String) throws(ClusterError) -> [NodeName: PostgresResult]? {
        guard client.health.a.state == .up, client.health.b.state == .up, client.rememberedOffset(of: .b) != nil
        else { return nil }
        let first: PostgresResult
        do throws(ClusterError) {
            first = try client.run(.sessionRead, readValues(id), on: .a)
        } catch {
            if error.code == .timedOut { throw error }
            return nil  // node A is marked down: read what is usable
        }
        if first.rowCount == 1, first.bool(0, "holds_everything") == true, first.int64(0, "hlc") != nil {
            return [.a: first]
        }
        var results = client.sendAndCollect(.sessionRead, readValues(id), on: [.b]).results
        results[.a] = first
        return results
    }

    /// The parameters of `sessionRead`.
    private func readValues(_ id: String) -> [PostgresValue] {
        [.text(id), .int(client.configuration.sessionLifetime), .text(String(client.freshnessSeconds))]
    }

    /// A node's copy in a `sessionRead` row.
    private static func copy(of row: PostgresResult) -> SessionSnapshot.NodeCopy {
        var copy = SessionSnapshot.NodeCopy()
        if let hlc = row.int64(0, "hlc"), let origin = row.int64(0, "origin") {
            copy.version = .init(hlc: hlc, origin: Int32(truncatingIfNeeded: origin))
            copy.deleted = row.bool(0, "deleted") ?? false
        }
        copy.standsAlone = row.bool(0, "stands_alone") ?? false
        copy.holdsEverything = row.bool(0, "holds_everything") ?? false
        return copy
    }

    private var origin: String { String(client.configuration.writerID) }

    /// Stores a brand-new session under `id` on every node that is up; false when the id is
    /// taken anywhere. A new row needs no node that stands alone.
    public func insertNew(id: String, data: [UInt8]) throws(ClusterError) -> Bool {
        let hlc = client.clock.next()
        let results = try client.writeEverywhere(
            .sessionInsertNew, [.text(id), .bytes(data), .int(hlc), .text(origin)], key: id, changesExistingRow: false)
        return results.values.allSatisfy { $0.rowCount == 1 }
    }

    /// Replaces the session's data if nobody changed it since `snapshot`; false when a race was
    /// lost (the caller reads again and re-applies its change).
    public func write(_ snapshot: SessionSnapshot, data: [UInt8]) throws(ClusterError) -> Bool {
        guard snapshot.isWritable else {
            throw ClusterError(.unavailable, detail: "changes wait until a node can prove it holds every write")
        }
        try client.checkRequestDeadline()
        let nodes = client.usableNodes
        guard let first = nodes.first else { throw ClusterError(.unavailable, detail: "no node is up") }
        let hlc = client.clock.next()
        let values = { (node: NodeName) -> [PostgresValue] in
            [
                .text(snapshot.id), .bytes(data), .int(hlc), .text(origin), .int(snapshot.hlc),
                .text(String(snapshot.origin)),
                client.fence(offset: snapshot.copies[node]?.clockOffset ?? client.rememberedOffset(of: node)),
            ]
        }
        if nodes.count == 1 {
            // Alone: the node must stand alone; its alone twin queues the row for the other.
            try client.standAlone(on: first)
            let collected = client.sendAndCollect(.sessionCompareAndSetAlone, on: [first], values: values)
            guard let result = collected.results[first] else {
                throw ClusterError(
                    collected.unconfirmed.isEmpty ? .unavailable : .indeterminate, detail: "write unconfirmed")
            }
            return result.rowCount == 1
        }
        let mine = SessionSnapshot.Version(hlc: hlc, origin: client.configuration.writerID)
        // Both nodes decide in a fixed order: the node that stands alone first (guarded, so that
        // its standing cannot end meanwhile), else A; the other follows. A write that won on A is
        // in the history (every later writer builds on what A holds), so a lost race on B only
        // means that B holds this write's row already, or a later one built on it, unless B
        // began to stand alone since the read (a responder that sees A away writes B alone):
        // then B decides. A node that lacks the deciding copy gets it first.
        guard try bringLaggingCopies(snapshot, on: nodes) else { return false }
        let standing = nodes.filter { snapshot.copies[$0]?.standsAlone == true }
        let leader = standing.count == 1 ? standing[0] : .a
        let follower = leader.other
        let decided = client.sendAndCollect(
            standing.count == 1 ? .sessionCompareAndSetGuarded : .sessionCompareAndSet, on: [leader], values: values)
        guard let decision = decided.results[leader] else {
            // The deciding node failed (it is down now): the caller reads again and writes on the
            // other node, which must stand alone; a late commit here is fenced.
            return false
        }
        guard decision.rowCount == 1 else { return false }
        client.measureClockOffset(of: leader, nodeClock: decision.string(0, "node_clock"))
        let followed = client.sendAndCollect(.sessionCompareAndSet, on: [follower], values: values)
        guard let follow = followed.results[follower] else {
            try client.keepAlone(table: "php_session", key: snapshot.id, on: leader, changesExistingRow: true)
            return true
        }
        if follow.rowCount == 1 {
            client.measureClockOffset(of: follower, nodeClock: follow.string(0, "node_clock"))
            return true
        }
        if standing.count == 1 {
            // The node that stands alone decided; the other holds something else (a late row no one
            // acknowledged, or it missed a copy): its catch-up, forced, brings this row there.
            try client.keepAlone(table: "php_session", key: snapshot.id, on: leader, changesExistingRow: false)
            return true
        }
        do {
            return try settleFollower(
                snapshot.id, data: data, mine: mine, first: leader,
                firstFence: client.fence(offset: snapshot.copies[leader]?.clockOffset), on: follower)
        } catch {
            // This write is on the first node only and may stay there: its outcome is unknown.
            throw ClusterError(.indeterminate, detail: "settling the second node failed: \(error.detail)")
        }
    }

    /// Before the compare-and-set, each node must hold the deciding version: a deciding node that
    /// lacks it gets it under the settlement rule; a node that does not decide (the other stands
    /// alone) gets it only if it still holds what the read saw, so that nothing newer is ever
    /// overwritten. False when such a node changed meanwhile (the caller reads again).
    private func bringLaggingCopies(_ snapshot: SessionSnapshot, on nodes: [NodeName]) throws(ClusterError) -> Bool {
        let deciding = SessionSnapshot.NodeCopy.deciding(snapshot.copies)
        for node in nodes {
            guard let copy = snapshot.copies[node] else { continue }
            if copy.version == snapshot.version && !copy.deleted { continue }
            let fence = client.fence(offset: copy.clockOffset)
            if deciding.contains(node) {
                _ = try client.run(
                    .sessionPut,
                    [
                        .text(snapshot.id), .bytes(snapshot.data), .int(snapshot.hlc), .text(String(snapshot.origin)),
                        .null, fence,
                    ], on: node)
            } else {
                let seen = copy.version
                let replaced = try client.run(
                    .sessionReplaceIf,
                    [
                        .text(snapshot.id), .bytes(snapshot.data), .int(snapshot.hlc), .text(String(snapshot.origin)),
                        seen.map { .int($0.hlc) } ?? .null, seen.map { .text(String($0.origin)) } ?? .null, fence,
                    ], on: node)
                if replaced.rowCount != 1 { return false }
            }
        }
        return true
    }

    /// This write won on `first` and lost on `node`. When `node` now stands alone (a responder
    /// that sees `first` away began it), `node` decides: this write is undone on `first` (its row
    /// replaced by `node`'s, if `first` still holds this write) and the caller retries. Otherwise
    /// `node` holds this write's row, or a later one built on it (every writer decides on `first`
    /// first), or an older one, which this row then replaces.
    private func settleFollower(
        _ id: String, data: [UInt8], mine: SessionSnapshot.Version, first: NodeName, firstFence: PostgresValue,
        on node: NodeName
    ) throws(ClusterError) -> Bool {
        let current = try client.run(.sessionRead, readValues(id), on: node)
        var copy = current.rowCount == 1 ? Self.copy(of: current) : SessionSnapshot.NodeCopy()
        copy.clockOffset = client.measureClockOffset(of: node, nodeClock: current.string(0, "node_clock"))
        if copy.deleted { return true }  // destroyed meanwhile: the destroy is the later change
        if copy.standsAlone {
            if let theirs = copy.version {
                _ = try client.run(
                    .sessionReplaceIf,
                    [
                        .text(id), .bytes(current.bytes(0, "data") ?? []), .int(theirs.hlc),
                        .text(String(theirs.origin)),
                        .int(mine.hlc), .text(String(mine.origin)), firstFence,
                    ], on: first)
            }
            return false
        }
        if let theirs = copy.version, mine <= theirs { return true }
        _ = try client.run(
            .sessionPut,
            [.text(id), .bytes(data), .int(mine.hlc), .text(origin), .null, client.fence(offset: copy.clockOffset)],
            on: node)
        return true
    }

    /// Removes the session on every node that is up: writes its tombstone (the node's trigger
    /// removes the live row), so that a late copy cannot bring it back; alone, only a node that
    /// stands alone may.
    public func destroy(id: String) throws(ClusterError) {
        let hlc = client.clock.next()
        _ = try client.writeEverywhere(
            .sessionDelete, [.text(id), .int(hlc), .text(origin), .null], key: id, changesExistingRow: true)
    }
}
