import Postgres

/// Items on both nodes. Ids come from the deciding node's sequence (odd on A, even on B), so
/// they never collide; updates and deletes write whole rows on both nodes at once, conditionally
/// on the clock, so the order in which two writes reach a node does not matter.
public struct ItemStore {
    public let client: ClusterClient

    public init(client: ClusterClient) { self.client = client }

    /// Column order of `Statement.itemColumns`.
    private struct Row {
        var item: Item
        var hlc: Int64
        var origin: Int32
        var deleted: Bool
        var rawUpdatedAt: String

        init?(_ result: PostgresResult, _ row: Int) {
            guard let id = result.int64(row, 0), let hlc = result.int64(row, 4), let origin = result.int64(row, 5)
            else { return nil }
            item = Item(
                id: id, name: result.string(row, 1) ?? "", content: result.string(row, 2) ?? "",
                updatedAt: result.string(row, 3) ?? "")
            self.hlc = hlc
            self.origin = Int32(truncatingIfNeeded: origin)
            deleted = result.bool(row, 6) ?? false
            rawUpdatedAt = result.string(row, 7) ?? ""
        }

        var putValues: [PostgresValue] {
            [
                .int(item.id), .text(item.name), .text(item.content), .text(rawUpdatedAt), .int(hlc),
                .text(String(origin)), .bool(deleted),
            ]
        }
    }

    private var origin: PostgresValue { .text(String(client.configuration.writerID)) }

    /// Creates an item; its id comes from the primary node.
    ///
    /// When the primary fails during the call (it is being stopped), the insert goes to the other
    /// node instead: a node that is shutting down aborts the statement, so this creates one item.
    public func create(name: String, content: String) throws(ClusterError) -> Item {
        var lastError = ClusterError(.unavailable, detail: "no node is up")
        for _ in 0..<2 {
            let primary = client.health.primary
            guard client.health[primary].isUsable else { break }
            let hlc = client.clock.next()
            do throws(ClusterError) {
                let result = try client.decideThenCopy(
                    on: primary, .itemInsert, [.text(name), .text(content), .int(hlc), origin]
                ) { result in
                    guard let row = Row(result, 0) else { return nil }
                    return (.itemPut, row.putValues)
                }
                guard let row = Row(result, 0) else { throw ClusterError(.unavailable, detail: "insert returned no row") }
                return row.item
            } catch {
                lastError = error
                guard error.code == .unavailable, !client.health[primary].isUsable else { throw error }
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

    /// Deletes an item, leaving a tombstone on both nodes. Throws `.notFound` for no live item.
    public func delete(id: Int64) throws(ClusterError) {
        _ = try replace(id: id) { row in
            row.item.name = ""
            row.item.content = ""
            row.deleted = true
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

    /// The newest copy of a row across the usable nodes; a tombstone anywhere wins.
    private func newest(id: Int64) throws(ClusterError) -> Row? {
        let rows = try client.readAll(.itemGet, [.int(id)]).values.compactMap { Row($0, 0) }
        if let tombstone = rows.first(where: { $0.deleted }) { return tombstone }
        return rows.max(by: { ($0.hlc, $0.origin) < ($1.hlc, $1.origin) })
    }

    /// Reads the newest live row, changes it, and writes the whole row to every usable node at
    /// once under a newer clock value. Full rows (not field patches) keep the nodes identical
    /// whatever order concurrent writes reach them in; the latest write wins.
    private func replace(id: Int64, _ change: (inout Row) -> Void) throws(ClusterError) -> Item {
        for _ in 0..<5 {
            guard var row = try newest(id: id), !row.deleted else { throw ClusterError(.notFound) }
            client.clock.observe(row.hlc)
            change(&row)
            row.hlc = client.clock.next()
            row.origin = client.configuration.writerID
            let results = try client.writeAll(.itemPut, row.putValues)
            if let written = results.values.lazy.compactMap({ Row($0, 0) }).first {
                return written.item
            }
            // Every node holds something newer (a concurrent write or a delete): read again.
        }
        throw ClusterError(.conflict, detail: "item \(id) kept changing")
    }
}
