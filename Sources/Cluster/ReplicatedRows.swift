import Postgres

/// How catch-up and anti-entropy read rows of one replicated table from a node and write them to
/// the other: a batch read by key, then one multi-row upsert (under the settlement rule, or
/// forced), so a catch-up of thousands of rows costs a few round trips per batch, not several
/// per row.
struct ReplicatedRows {
    /// The fetch: `$1` an array of keys; the key first, then the row's columns, then its version.
    let fetch: String
    /// The SQL type of each column of the upsert, in order.
    let casts: [String]
    private let insert: String
    private let settle: String

    /// The number of row columns after the key (the version follows them).
    var columns: Int { casts.count }

    init?(table: String) {
        switch table {
        case "php_session":
            fetch = """
                SELECT id, id, data, hlc, origin, deleted, date_change::text, hlc || '/' || origin
                FROM php_session WHERE id = ANY($1::text[])
                """
            casts = ["varchar", "bytea", "bigint", "int", "boolean", "timestamp"]
            insert = """
                INSERT INTO php_session AS s (id, data, hlc, origin, deleted, date_change) VALUES
                """
            settle = """
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change
                """
        case "items":
            fetch = """
                SELECT id::text, id, name, content, updated_at::text, hlc, origin, deleted, hlc || '/' || origin
                FROM items WHERE id = ANY($1::text[]::bigint[])
                """
            casts = ["bigint", "text", "text", "timestamp", "bigint", "int", "boolean"]
            insert = "INSERT INTO items AS s (id, name, content, updated_at, hlc, origin, deleted) VALUES"
            settle = """
                ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, content = EXCLUDED.content,
                    updated_at = EXCLUDED.updated_at, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    deleted = EXCLUDED.deleted
                """
        default:
            return nil
        }
    }

    /// The upsert of `tuples` (`($1::…, …)`): the settlement rule (a tombstone is final, then the
    /// greater version wins), or `forced`.
    func put(_ tuples: [String], forced: Bool) -> String {
        insert + " " + tuples.joined(separator: ", ") + "\n" + settle
            + (forced ? "" : "\nWHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))")
    }

    /// The upsert's values of one fetched row (bytes for `bytea`, text for the rest).
    func values(_ rows: PostgresResult, _ row: Int) -> [PostgresValue] {
        casts.enumerated().map { column, type in
            let index = column + 1
            if rows.isNull(row, index) { return .null }
            return type == "bytea" ? .bytes(rows.bytes(row, index) ?? []) : .text(rows.string(row, index) ?? "")
        }
    }
}
