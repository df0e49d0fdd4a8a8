import Postgres

/// Items on both nodes. Ids come from the sequence of a node that is up (odd on A, even on B), so
/// they never collide; updates write whole rows on both nodes at once, conditionally on the
/// clock, and deletes write a tombstone, so the order in which two writes reach a node does not
/// matter.
public struct ItemStore {
    public let client: ClusterClient

    public init(client: ClusterClient) { self.client = client }

    /// A copy of an item as a statement returned it (`Statement.itemColumns`): a live row, or
    /// (from `itemGet`) a tombstone, which has a version and no fields.
    private struct Row {
        var item: Item
        var hlc: Int64
        var origin: Int32
        var deleted: Bool
        var rawUpdatedAt: String

        init?(_ result: PostgresResult, _ row: Int, id: Int64? = nil) {
            guard let hlc = result.int64(row, "hlc"), let origin = result.int64(row, "origin") else { return nil }
            deleted = result.bool(row, "deleted") ?? false
            guard let id = result.int64(row, "id") ?? id, deleted || !result.isNull(row, "id") else { return nil }
            item = Item(
                id: id, name: result.string(row, "name") ?? "", content: result.string(row, "content") ?? "",
                updatedAt: result.string(row, "updated_at") ?? "")
            self.hlc = hlc
            self.origin = Int32(truncatingIfNeeded: origin)
            rawUpdatedAt = result.string(row, "updated_at_raw") ?? ""
        }

        /// The values of `itemPut`, with the write's fence.
        func putValues(fence: PostgresValue) -> [PostgresValue] {
            [
                .int(item.id), .text(item.name), .text(item.content), .text(rawUpdatedAt), .int(hlc),
                .text(String(origin)), fence,
            ]
        }
    }

    private var origin: PostgresValue { .text(String(client.configuration.writerID)) }

    /// Creates an item. Its id is fixed first (from the sequence of a node that is up: odd on A,
    /// even on B), and the row goes to every node that is up under that id, so a write that one
    /// node commits late and the other took lands as one row.
    public func create(name: String, content: String) throws(ClusterError) -> Item {
        let id = try nextID()
        let hlc = client.clock.next()
        let results = try client.writeEverywhere(
            .itemInsert, [.int(id), .text(name), .text(content), .int(hlc), origin], key: String(id),
            changesExistingRow: false)
        guard let row = results.values.lazy.compactMap({ Row($0, 0) }).first else {
            throw ClusterError(.unavailable, detail: "insert of item \(id) returned no row")
        }
        return row.item
    }

    /// A new id from the first node that answers.
    private func nextID() throws(ClusterError) -> Int64 {
        var lastError = ClusterError(.unavailable, detail: "no node is up")
        for node in client.usableNodes {
            do {
                if let id = try client.run(.itemNextID, [], on: node).int64(0, 0) { return id }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Changes the fields given; nil leaves a field as it was. Throws `.notFound` for no live item.
    public func update(id: Int64, name: String?, content: String?) throws(ClusterError) -> Item {
        try replace(id: id) { row in
            if let name { row.item.name = name }
            if let content { row.item.content = content }
        }
    }

    /// Deletes an item: its tombstone goes to every node that is up (the node's trigger removes
    /// the live row), under a clock newer than every copy read. Throws `.notFound` for no live item.
    public func delete(id: Int64) throws(ClusterError) {
        let (found, offsets) = try read(id: id)
        guard let row = found, !row.deleted else { throw ClusterError(.notFound) }
        client.clock.observe(row.hlc)
        let hlc = client.clock.next()
        _ = try client.writeEverywhere(.itemDelete, key: String(id), changesExistingRow: true) { node in
            [.int(id), .int(hlc), origin, client.fence(offset: offsets[node])]
        }
    }

    /// One live item, or nil.
    public func get(id: Int64) throws(ClusterError) -> Item? {
        guard let row = try newest(id: id), !row.deleted else { return nil }
        return row.item
    }

    /// Live items, newest id first, at most `limit`, with ids below `before`.
    public func list(limit: Int, before: Int64 = .max) throws(ClusterError) -> [Item] {
        var lastError = ClusterError(.unavailable, detail: "no node is up")
        for node in client.usableNodes {
            do {
                let result = try client.run(.itemList, [.int(limit), .int(before)], on: node)
                return (0..<result.rowCount).compactMap { Row(result, $0)?.item }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The deciding copy of a row across the nodes that answered (`NodeCopy.deciding`); a
    /// tombstone there wins. Throws `.unavailable` when no node that answered decides and none
    /// has a live copy (the item may exist on the node that is away).
    private func newest(id: Int64) throws(ClusterError) -> Row? {
        try read(id: id).row
    }

    /// The deciding row, and how far each answering node's clock is ahead (for a write's fence).
    private func read(id: Int64) throws(ClusterError) -> (row: Row?, clockOffsets: [NodeName: Double]) {
        let results = try client.readAll(.itemGet, [.int(id), .text(String(client.freshnessSeconds))])
        var rows: [NodeName: Row] = [:]
        var copies: [NodeName: SessionSnapshot.NodeCopy] = [:]
        var offsets: [NodeName: Double] = [:]
        for (node, result) in results where result.rowCount == 1 {
            offsets[node] = client.measureClockOffset(of: node, nodeClock: result.string(0, "node_clock"))
            var copy = SessionSnapshot.NodeCopy(standsAlone: result.bool(0, "stands_alone") ?? false)
            copy.holdsEverything = result.bool(0, "holds_everything") ?? false
            if let row = Row(result, 0, id: id) {
                // Every copy is observed, so the next write orders after a late one too.
                client.clock.observe(row.hlc)
                rows[node] = row
                copy.version = .init(hlc: row.hlc, origin: row.origin)
                copy.deleted = row.deleted
            }
            copies[node] = copy
        }
        let deciding = SessionSnapshot.NodeCopy.deciding(copies)
        let counted = SessionSnapshot.NodeCopy.counted(copies, deciding: deciding).compactMap { rows[$0] }
        if let tombstone = counted.first(where: { $0.deleted }) { return (tombstone, offsets) }
        if counted.isEmpty && deciding.isEmpty {
            throw ClusterError(.unavailable, detail: "the node that answered cannot prove item \(id) is unknown")
        }
        return (counted.max(by: { ($0.hlc, $0.origin) < ($1.hlc, $1.origin) }), offsets)
    }

    /// Reads the deciding row, changes it, and writes the whole row to every node that is up at
    /// once under a newer clock value. Full rows (not field patches) keep the nodes identical
    /// whatever order concurrent writes reach them in; the latest write wins.
    private func replace(id: Int64, _ change: (inout Row) -> Void) throws(ClusterError) -> Item {
        for _ in 0..<5 {
            let (found, offsets) = try read(id: id)
            guard var row = found, !row.deleted else { throw ClusterError(.notFound) }
            client.clock.observe(row.hlc)
            change(&row)
            row.hlc = client.clock.next()
            row.origin = client.configuration.writerID
            let written = row
            let results = try client.writeEverywhere(.itemPut, key: String(id), changesExistingRow: true) { node in
                written.putValues(fence: client.fence(offset: offsets[node]))
            }
            if let written = results.values.lazy.compactMap({ Row($0, 0) }).first {
                return written.item
            }
            // Every node holds something newer (a concurrent write or a delete): read again.
        }
        throw ClusterError(.conflict, detail: "item \(id) kept changing")
    }
}
