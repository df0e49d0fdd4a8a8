import Postgres

extension ClusterClient {
    /// A write that one node must decide before the other may copy it (a compare-and-set, or
    /// an insert that takes an id from the deciding node's sequence).
    ///
    /// Runs `decide` on `primary` (its outbox twin when the other node is away); when it touched
    /// a row, sends the copy that `follow` makes of the result to the other node. When the copy
    /// fails the row is queued on the primary. Returns the primary's result.
    func decideThenCopy(
        on primary: NodeName, _ decide: Statement, _ values: [PostgresValue],
        follow: (PostgresResult) -> (Statement, [PostgresValue])?
    ) throws(ClusterError) -> PostgresResult {
        let other = primary.other
        let otherUsable = health[other].isUsable
        let statement = otherUsable ? decide : (decide.outboxTwin ?? decide)
        let result = try run(statement, values, on: primary)
        guard otherUsable, result.rowCount > 0, let (copy, copyValues) = follow(result) else { return result }
        let link = link(other)
        do {
            _ = try link.run(copy, copyValues, deadline: deadline())
        } catch {
            fail(link, error)
            if let table = decide.table { queue(table: table, keysOf: result, on: primary) }
        }
        return result
    }
}
