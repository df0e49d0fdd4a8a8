/// Every SQL statement the responder runs, prepared once per connection.
///
/// Values always travel as `$n` parameters; no statement is ever built from request data.
/// Settlement rule of every replicated row: a tombstone is final (nothing deleted comes back);
/// between two live versions the greater `(hlc, origin)` wins. Applying writes in any order
/// therefore leaves both nodes with the same row.
///
/// Each write has an `…Outbox` twin that also queues the row for the other node in the same
/// statement (one implicit transaction), used while that node is away.
enum Statement: String, CaseIterable, Sendable {
    case sessionRead
    case sessionCompareAndSet
    case sessionCompareAndSetOutbox
    case sessionInsertNew
    case sessionInsertNewOutbox
    case sessionPut
    case sessionPutOutbox
    case sessionFetchRow
    case itemInsert
    case itemInsertOutbox
    case itemPut
    case itemPutOutbox
    case itemGet
    case itemList
    case outboxAdd
    case serverRegister
    case serverList

    /// The time of a clock value, identical on both nodes because it comes from the value itself.
    private static func clockTime(_ parameter: Int) -> String {
        "(to_timestamp(($\(parameter)::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')"
    }

    static let itemColumns =
        "id, name, content, to_char(updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), hlc, origin, deleted,"
        + " updated_at::text"

    var sql: String {
        switch self {
        case .sessionRead:
            // $1 id, $2 lifetime seconds
            return """
                SELECT data, hlc, origin, deleted,
                       date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int) AS expired,
                       extract(epoch FROM (now() AT TIME ZONE 'UTC') - date_change)::bigint AS age
                FROM php_session WHERE id = $1
                """
        case .sessionCompareAndSet:
            // $1 id, $2 data, $3 hlc, $4 origin, $5 expected hlc, $6 expected origin
            return """
                UPDATE php_session SET data = $2, hlc = $3, origin = $4, date_change = \(Self.clockTime(3))
                WHERE id = $1 AND hlc = $5 AND origin = $6 AND NOT deleted RETURNING id
                """
        case .sessionInsertNew:
            // $1 id, $2 data, $3 hlc, $4 origin; never takes over an existing row (or tombstone)
            return """
                INSERT INTO php_session (id, data, hlc, origin, deleted, date_change)
                VALUES ($1, $2, $3, $4, false, \(Self.clockTime(3)))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
        case .sessionPut:
            // $1 id, $2 data, $3 hlc, $4 origin, $5 deleted, $6 date_change or NULL for the clock's time
            return """
                INSERT INTO php_session AS s (id, data, hlc, origin, deleted, date_change)
                VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamp, \(Self.clockTime(3))))
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change
                WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
                RETURNING id
                """
        case .sessionFetchRow:
            return "SELECT id, data, hlc, origin, deleted, date_change::text FROM php_session WHERE id = $1"
        case .itemInsert:
            // $1 name, $2 content, $3 hlc, $4 origin
            return """
                INSERT INTO items (id, name, content, updated_at, hlc, origin, deleted)
                VALUES (nextval('items_id_seq'), $1, $2, \(Self.clockTime(3)), $3, $4, false)
                RETURNING \(Self.itemColumns)
                """
        case .itemPut:
            // $1 id, $2 name, $3 content, $4 updated_at, $5 hlc, $6 origin, $7 deleted
            return """
                INSERT INTO items AS i (id, name, content, updated_at, hlc, origin, deleted)
                VALUES ($1, $2, $3, $4::timestamp, $5, $6, $7)
                ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, content = EXCLUDED.content,
                    updated_at = EXCLUDED.updated_at, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    deleted = EXCLUDED.deleted
                WHERE NOT i.deleted AND (EXCLUDED.deleted OR (i.hlc, i.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
                RETURNING \(Self.itemColumns)
                """
        case .itemGet:
            return "SELECT \(Self.itemColumns) FROM items WHERE id = $1"
        case .itemList:
            // $1 limit, $2 exclusive upper bound of ids (keyset pagination)
            return """
                SELECT \(Self.itemColumns) FROM items WHERE NOT deleted AND id < $2
                ORDER BY id DESC LIMIT $1
                """
        case .outboxAdd:
            // $1 table, $2 key
            return "INSERT INTO replication_outbox (table_name, row_key) VALUES ($1, $2) RETURNING seq"
        case .serverRegister:
            // $1 name, $2 host, $3 port, $4 active
            return """
                INSERT INTO servers (name, host, port, active, last_seen)
                VALUES ($1, $2, $3, $4, now() AT TIME ZONE 'UTC')
                ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port,
                    active = EXCLUDED.active, last_seen = EXCLUDED.last_seen
                RETURNING id
                """
        case .serverList:
            // $1 limit
            return """
                SELECT name, host, port, active, to_char(last_seen, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM servers ORDER BY name LIMIT $1
                """
        case .sessionCompareAndSetOutbox: return Self.withOutbox(.sessionCompareAndSet)
        case .sessionInsertNewOutbox: return Self.withOutbox(.sessionInsertNew)
        case .sessionPutOutbox: return Self.withOutbox(.sessionPut)
        case .itemInsertOutbox: return Self.withOutbox(.itemInsert)
        case .itemPutOutbox: return Self.withOutbox(.itemPut)
        }
    }

    /// The twin of a write that also records it for the other node.
    var outboxTwin: Statement? {
        switch self {
        case .sessionCompareAndSet: .sessionCompareAndSetOutbox
        case .sessionInsertNew: .sessionInsertNewOutbox
        case .sessionPut: .sessionPutOutbox
        case .itemInsert: .itemInsertOutbox
        case .itemPut: .itemPutOutbox
        default: nil
        }
    }

    /// The replicated table a write touches.
    var table: String? {
        switch self {
        case .sessionCompareAndSet, .sessionInsertNew, .sessionPut: "php_session"
        case .itemInsert, .itemPut: "items"
        default: nil
        }
    }

    private static func withOutbox(_ write: Statement) -> String {
        let table = write.table!
        return """
            WITH w AS (\(write.sql)),
                 o AS (INSERT INTO replication_outbox (table_name, row_key) SELECT '\(table)', id::text FROM w)
            SELECT * FROM w
            """
    }
}
