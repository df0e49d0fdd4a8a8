import Postgres

/// One replicated table, the one place that knows it: its key, its columns, its tombstones and
/// its version. Catch-up, anti-entropy, garbage collection and deletes build their SQL from it,
/// and read the rows it returns by column name (docs/PROTOCOL.md, "Rows and versions").
///
/// The live table holds live rows only; a delete is a row of `tombstones` (key, `hlc`, `origin`,
/// `deleted_at`), which the node's triggers keep final (`schema.sql`).
struct ReplicatedTable: Sendable {
    /// A column and its SQL type.
    struct Column: Sendable {
        let name: String
        let type: String
        init(_ name: String, _ type: String) {
            self.name = name
            self.type = type
        }
        /// `bytea` travels as hex in an array literal.
        var isBytes: Bool { type == "bytea" }
    }

    let name: String
    let tombstones: String
    let key: Column
    /// The columns a write carries besides the key, the version and `changedAt`.
    let fields: [Column]
    /// The time of the last write, derived from `hlc` (so it is the same on both nodes); indexed.
    let changedAt: String
    /// Rows expire `SESSION_LIFETIME` seconds after `changedAt` (sessions).
    let expires: Bool
    /// The statements that copy rows of this table (prepared once per connection).
    let fetch: Statement
    let put: Statement
    let force: Statement
    let bury: Statement

    static let sessions = ReplicatedTable(
        name: "php_session", tombstones: "php_session_tombstone", key: Column("id", "varchar"),
        fields: [Column("data", "bytea")], changedAt: "date_change", expires: true,
        fetch: .sessionFetchBatch, put: .sessionPutBatch, force: .sessionForceBatch, bury: .sessionBuryBatch)

    static let items = ReplicatedTable(
        name: "items", tombstones: "items_tombstone", key: Column("id", "bigint"),
        fields: [Column("name", "text"), Column("content", "text")], changedAt: "updated_at", expires: false,
        fetch: .itemFetchBatch, put: .itemPutBatch, force: .itemForceBatch, bury: .itemBuryBatch)

    static let all = [sessions, items]

    /// The table an outbox row names.
    static func named(_ name: String) -> ReplicatedTable? { all.first { $0.name == name } }

    /// The time of a clock value `$n`, identical on both nodes because it comes from the value.
    static func clockTime(_ parameter: Int) -> String {
        "(to_timestamp(($\(parameter)::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')"
    }

    /// `$n` (a text array of keys) as an array of the key's type.
    func keys(_ parameter: Int) -> String { "$\(parameter)::text[]::\(key.type)[]" }

    // MARK: Copying rows (catch-up, anti-entropy)

    /// The current copy of each key in `$1`: its live row or its tombstone, with the columns
    /// `key`, `deleted`, `hlc`, `origin`, `changed_at` and the fields (NULL in a tombstone).
    var fetchSQL: String {
        let fieldList = fields.map(\.name).joined(separator: ", ")
        let nulls = fields.map { "NULL::\($0.type) AS \($0.name)" }.joined(separator: ", ")
        return """
            SELECT \(key.name)::text AS key, false AS deleted, hlc, origin, \(changedAt)::text AS changed_at, \(fieldList)
            FROM \(name) WHERE \(key.name) = ANY(\(keys(1)))
            UNION ALL
            SELECT \(key.name)::text, true, hlc, origin, deleted_at::text, \(nulls)
            FROM \(tombstones) WHERE \(key.name) = ANY(\(keys(1)))
            """
    }

    /// Live rows, one array per column (`$1` keys, `$2` hlc, `$3` origin, `$4` changed at, then
    /// the fields), under the settlement rule, or `forced` as they are (from a node that stands
    /// alone). Neither brings back a key that has a tombstone (the trigger skips it).
    func putSQL(forced: Bool) -> String {
        let columns = [key.name, "hlc", "origin", changedAt] + fields.map(\.name)
        let types = [key.type, "bigint", "int", "timestamp"] + fields.map(\.type)
        let arrays = types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")
        let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO \(name) AS l (\(columns.joined(separator: ", ")))
            SELECT * FROM unnest(\(arrays))
            ON CONFLICT (\(key.name)) DO UPDATE SET \(updates)
            \(forced ? "" : "WHERE (l.hlc, l.origin) < (EXCLUDED.hlc, EXCLUDED.origin)")
            """
    }

    /// Tombstones, one array per column (`$1` keys, `$2` hlc, `$3` origin, `$4` deleted at); the
    /// trigger removes the live rows.
    var burySQL: String {
        """
        INSERT INTO \(tombstones) AS t (\(key.name), hlc, origin, deleted_at)
        SELECT * FROM unnest($1::\(key.type)[], $2::bigint[], $3::int[], $4::timestamp[])
        ON CONFLICT (\(key.name)) DO \(Self.raiseTombstone)
        """
    }

    /// A newer tombstone replaces an older one's version (both mean the same: the row is gone).
    static let raiseTombstone = """
        UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
            WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
        """

    /// One delete from a request: `$1` key, `$2` hlc, `$3` origin, `$4` fence; `condition` adds
    /// the guard of a change taken alone. Answers the key, or no row when a newer tombstone was
    /// there already (the row is gone either way).
    func deleteSQL(fence: String, condition: String) -> String {
        """
        INSERT INTO \(tombstones) AS t (\(key.name), hlc, origin, deleted_at)
        SELECT $1::\(key.type), $2::bigint, $3::int, \(Self.clockTime(2))
        WHERE true \(fence) \(condition)
        ON CONFLICT (\(key.name)) DO \(Self.raiseTombstone)
        RETURNING \(key.name)
        """
    }

    // MARK: Comparing the nodes (anti-entropy)

    /// Every copy (live or tombstone) that `liveFilter` and `tombstoneFilter` keep, as `key`,
    /// `hlc`, `origin`, `deleted`.
    func versionsSQL(liveFilter: String, tombstoneFilter: String) -> String {
        """
        SELECT \(key.name)::text AS key, hlc, origin, false AS deleted FROM \(name) WHERE \(liveFilter)
        UNION ALL
        SELECT \(key.name)::text, hlc, origin, true FROM \(tombstones) WHERE \(tombstoneFilter)
        """
    }

    /// The copies anti-entropy compares: live rows that have not expired, and tombstones that
    /// garbage collection keeps (a row gone on one node only by collection is no difference).
    func retainedVersionsSQL(lifetime: Int, tombstoneTTL: Int) -> String {
        versionsSQL(
            liveFilter: expires ? "\(changedAt) >= \(Self.ago(seconds: lifetime))" : "true",
            tombstoneFilter:
                "deleted_at >= \(Self.ago(seconds: tombstoneAge(lifetime: lifetime, tombstoneTTL: tombstoneTTL)))")
    }

    /// Copies changed in `[$1, $2)`.
    var recentVersionsSQL: String {
        versionsSQL(
            liveFilter: "\(changedAt) >= $1::timestamp AND \(changedAt) < $2::timestamp",
            tombstoneFilter: "deleted_at >= $1::timestamp AND deleted_at < $2::timestamp")
    }

    /// The copies of the keys in `$1`.
    var keyedVersionsSQL: String {
        versionsSQL(liveFilter: "\(key.name) = ANY(\(keys(1)))", tombstoneFilter: "\(key.name) = ANY(\(keys(1)))")
    }

    // MARK: Garbage collection

    /// How long a tombstone is kept: the tombstone TTL, and for rows that expire at least their
    /// lifetime, so that no live copy that could still be served outlives it.
    func tombstoneAge(lifetime: Int, tombstoneTTL: Int) -> Int { expires ? max(lifetime, tombstoneTTL) : tombstoneTTL }

    /// The statements that remove what is no longer kept, at most `$1` rows each, with the age
    /// (seconds) each takes: expired live rows (they leave no tombstone), then old tombstones.
    func purgeStatements(lifetime: Int, tombstoneTTL: Int) -> [(sql: String, age: Int)] {
        var statements: [(String, Int)] = []
        if expires {
            statements.append((Self.purge(name, key: key.name, by: changedAt), lifetime))
        }
        statements.append(
            (
                Self.purge(tombstones, key: key.name, by: "deleted_at"),
                tombstoneAge(lifetime: lifetime, tombstoneTTL: tombstoneTTL)
            ))
        return statements
    }

    /// `$1` age in seconds, `$2` batch size; through the index on `column`.
    private static func purge(_ table: String, key: String, by column: String) -> String {
        """
        DELETE FROM \(table) WHERE \(key) IN (
            SELECT \(key) FROM \(table) WHERE \(column) < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int)
            ORDER BY \(column) LIMIT $2)
        """
    }

    private static func ago(seconds: Int) -> String {
        "(now() AT TIME ZONE 'UTC') - make_interval(secs => \(seconds))"
    }
}

/// Rows of one table fetched from a node (`ReplicatedTable.fetchSQL`), turned into the arrays of
/// the batch statements, so that a catch-up of thousands of rows costs a few round trips per
/// batch, not several per row.
struct FetchedRows {
    let table: ReplicatedTable
    let result: PostgresResult
    /// The live rows' and the tombstones' row numbers (`partition`).
    private let live: [Int]
    private let buried: [Int]

    init(table: ReplicatedTable, result: PostgresResult) {
        self.table = table
        self.result = result
        (live, buried) = Self.partition(result)
    }

    /// The version (`hlc/origin`, and `deleted`) of each fetched key; a tombstone wins over a live
    /// row of the same key.
    var versions: [String: String] {
        var versions: [String: String] = [:]
        for row in 0..<result.rowCount {
            guard let key = result.string(row, "key"), let hlc = result.string(row, "hlc"),
                let origin = result.string(row, "origin")
            else { continue }
            let deleted = result.bool(row, "deleted") == true
            if versions[key]?.hasSuffix("/deleted") == true { continue }
            versions[key] = hlc + "/" + origin + (deleted ? "/deleted" : "")
        }
        return versions
    }

    /// The live rows' and the tombstones' row numbers, in key order (writers of many rows take
    /// their keys' locks in the same order); a key with a tombstone is a tombstone only.
    private static func partition(_ result: PostgresResult) -> (live: [Int], buried: [Int]) {
        var buriedKeys = Set<String>()
        for row in 0..<result.rowCount where result.bool(row, "deleted") == true {
            if let key = result.string(row, "key") { buriedKeys.insert(key) }
        }
        var live: [(String, Int)] = []
        var buried: [(String, Int)] = []
        for row in 0..<result.rowCount {
            guard let key = result.string(row, "key") else { continue }
            if result.bool(row, "deleted") == true {
                buried.append((key, row))
            } else if !buriedKeys.contains(key) {
                live.append((key, row))
            }
        }
        return (live.sorted { $0.0 < $1.0 }.map(\.1), buried.sorted { $0.0 < $1.0 }.map(\.1))
    }

    /// The parameters of the live rows' upsert (`putSQL`), or nil when there is none.
    var liveArrays: [PostgresValue]? {
        let rows = live
        guard !rows.isEmpty else { return nil }
        let byteFields = Set(table.fields.filter(\.isBytes).map(\.name))
        let columns = ["key", "hlc", "origin", "changed_at"] + table.fields.map(\.name)
        return columns.map { array(column: $0, rows: rows, bytes: byteFields.contains($0)) }
    }

    /// The parameters of the tombstones' upsert (`burySQL`), or nil when there is none.
    var tombstoneArrays: [PostgresValue]? {
        let rows = buried
        guard !rows.isEmpty else { return nil }
        return ["key", "hlc", "origin", "changed_at"].map { array(column: $0, rows: rows, bytes: false) }
    }

    /// One array literal of a column over `rows`.
    private func array(column name: String, rows: [Int], bytes: Bool) -> PostgresValue {
        let elements = rows.map { row -> String in
            if result.isNull(row, name) { return "NULL" }
            if bytes { return "\"\\\\x" + Self.hex(result.bytes(row, name) ?? []) + "\"" }
            return Self.quoted(result.string(row, name) ?? "")
        }
        return .text("{" + elements.joined(separator: ",") + "}")
    }

    /// An element of an array literal, quoted.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A PostgreSQL array literal of text keys, every element quoted, in order.
    static func arrayLiteral<S: Sequence<String>>(_ keys: S) -> String {
        "{" + keys.sorted().map(quoted).joined(separator: ",") + "}"
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
