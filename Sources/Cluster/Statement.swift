/// Every SQL statement the responder runs, prepared once per connection.
///
/// Values always travel as `$n` parameters; no statement is ever built from request data.
/// Settlement rule of every replicated row: a tombstone is final (nothing deleted comes back);
/// between two live versions the greater `(hlc, origin)` wins. Applying writes in any order
/// therefore leaves both nodes with the same row. The live tables hold live rows only; a delete
/// writes a tombstone (`ReplicatedTable`), and the node's triggers keep it final. Columns are
/// read by the names the statements give them.
///
/// A write made while the other node is away has an `…Alone` twin (docs/PROTOCOL.md): it also
/// queues the row for the other node in the same statement (one implicit transaction), and a
/// change to an existing row is taken only by a node that stands alone (`node_standing`:
/// `solo_since` set at least `soloSettleSeconds` ago), so that no node that may have missed a
/// write ever decides one.
enum Statement: String, CaseIterable, Sendable {
    case sessionRead
    case sessionCompareAndSet
    case sessionCompareAndSetAlone
    case sessionCompareAndSetGuarded
    case sessionInsertNew
    case sessionInsertNewAlone
    case sessionPut
    case sessionReplaceIf
    case sessionDelete
    case sessionDeleteAlone
    case sessionFetchBatch
    case sessionPutBatch
    case sessionForceBatch
    case sessionBuryBatch
    case itemNextID
    case itemInsert
    case itemInsertAlone
    case itemPut
    case itemPutAlone
    case itemDelete
    case itemDeleteAlone
    case itemGet
    case itemFetchBatch
    case itemPutBatch
    case itemForceBatch
    case itemBuryBatch
    case itemList
    case outboxAdd
    case standingBeat
    case standingClaim
    case serverRegister
    case serverList

    /// Seconds a node waits after it began to stand alone before it takes a change alone: the
    /// other node's responders mark it not current within that time (docs/PROTOCOL.md).
    static let soloSettleSeconds = 1

    private static func clockTime(_ parameter: Int) -> String { ReplicatedTable.clockTime(parameter) }

    /// An item's columns: `id`, `name`, `content`, `updated_at` (as the API shows it), `hlc`,
    /// `origin`, `updated_at_raw` (as stored).
    static let itemColumns = """
        i.id AS id, i.name AS name, i.content AS content,
        to_char(i.updated_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at, i.hlc AS hlc, i.origin AS origin,
        i.updated_at::text AS updated_at_raw
        """

    /// Two columns on every read: this node stands alone; this node holds every acknowledged
    /// write (it stands alone, or it is current and fresh: beaten within `$freshness` seconds by
    /// a server that has not restarted since).
    private static func standingColumns(freshness parameter: Int) -> String {
        """
        s.solo_since IS NOT NULL AS stands_alone,
        s.solo_since IS NOT NULL OR (s.current AND clock_timestamp() - s.seen_at < make_interval(secs => $\(parameter)::float8)
            AND s.seen_start = pg_postmaster_start_time()) AS holds_everything
        """
    }

    /// The node's own clock, seconds since 1970: a write's fence is counted from it.
    static let nodeClock = "extract(epoch FROM clock_timestamp())::float8 AS node_clock"

    /// The fence of a write (`$n`): a statement that the node runs only after this moment of its
    /// own clock (it was paused, or cut off, and the responder has given up on it) changes
    /// nothing. NULL for no fence.
    private static func fence(_ parameter: Int) -> String {
        "AND ($\(parameter)::float8 IS NULL OR extract(epoch FROM clock_timestamp()) < $\(parameter)::float8)"
    }

    var sql: String {
        switch self {
        case .sessionRead:
            // $1 id, $2 lifetime seconds, $3 freshness seconds. Always one row: the node's standing,
            // and the session's copy: its live row, or its tombstone (`deleted`, no data), or NULLs.
            return """
                SELECT p.data, COALESCE(t.hlc, p.hlc) AS hlc, COALESCE(t.origin, p.origin) AS origin,
                       t.id IS NOT NULL AS deleted,
                       p.date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int) AS expired,
                       extract(epoch FROM (now() AT TIME ZONE 'UTC') - p.date_change)::bigint AS age,
                       \(Self.standingColumns(freshness: 3)), \(Self.nodeClock)
                FROM node_standing s LEFT JOIN php_session p ON p.id = $1::varchar
                    LEFT JOIN php_session_tombstone t ON t.id = $1::varchar
                """
        case .sessionCompareAndSet: return Self.sessionCompareAndSet(guarded: false)
        case .sessionCompareAndSetAlone: return Self.alone("php_session", Self.sessionCompareAndSet(guarded: true))
        case .sessionCompareAndSetGuarded: return Self.guarded(Self.sessionCompareAndSet(guarded: true))
        case .sessionInsertNew: return Self.sessionInsertNewSQL
        case .sessionInsertNewAlone: return Self.alone("php_session", Self.sessionInsertNewSQL)
        case .sessionPut: return Self.sessionPutSQL
        case .sessionDelete: return Self.delete(.sessions, guarded: false)
        case .sessionDeleteAlone: return Self.alone("php_session", Self.delete(.sessions, guarded: true))
        case .sessionReplaceIf:
            // $1 id, $2 data, $3 hlc, $4 origin, $5 and $6 the version the node was seen to hold
            // (NULL: no row), $7 fence. Brings a node that does not decide to the deciding copy,
            // only if it still holds what the read saw (nothing newer is ever overwritten).
            return """
                INSERT INTO php_session AS s (id, data, hlc, origin, date_change)
                SELECT $1::varchar, $2::bytea, $3::bigint, $4::int, \(Self.clockTime(3))
                WHERE true \(Self.fence(7))
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
                    date_change = EXCLUDED.date_change
                WHERE (s.hlc, s.origin) = ($5::bigint, $6::int)
                RETURNING id
                """
        case .sessionFetchBatch: return ReplicatedTable.sessions.fetchSQL
        case .sessionPutBatch: return ReplicatedTable.sessions.putSQL(forced: false)
        case .sessionForceBatch: return ReplicatedTable.sessions.putSQL(forced: true)
        case .sessionBuryBatch: return ReplicatedTable.sessions.burySQL
        case .itemFetchBatch: return ReplicatedTable.items.fetchSQL
        case .itemPutBatch: return ReplicatedTable.items.putSQL(forced: false)
        case .itemForceBatch: return ReplicatedTable.items.putSQL(forced: true)
        case .itemBuryBatch: return ReplicatedTable.items.burySQL
        case .itemNextID:
            return "SELECT nextval('items_id_seq')"
        case .itemInsert: return Self.itemInsertSQL
        case .itemInsertAlone: return Self.alone("items", Self.itemInsertSQL)
        case .itemPut: return Self.itemPut(guarded: false)
        case .itemPutAlone: return Self.alone("items", Self.itemPut(guarded: true))
        case .itemDelete: return Self.delete(.items, guarded: false)
        case .itemDeleteAlone: return Self.alone("items", Self.delete(.items, guarded: true))
        case .itemGet:
            // $1 id, $2 freshness seconds. Always one row: the standing, and the item's copy: its
            // live row, or its tombstone (`deleted`, no fields), or NULLs.
            return """
                SELECT i.id AS id, i.name AS name, i.content AS content,
                       to_char(i.updated_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at,
                       COALESCE(t.hlc, i.hlc) AS hlc, COALESCE(t.origin, i.origin) AS origin,
                       t.id IS NOT NULL AS deleted, i.updated_at::text AS updated_at_raw,
                       \(Self.standingColumns(freshness: 2)), \(Self.nodeClock)
                FROM node_standing s LEFT JOIN items i ON i.id = $1::bigint LEFT JOIN items_tombstone t ON t.id = $1::bigint
                """
        case .itemList:
            // $1 limit, $2 exclusive upper bound of ids (keyset pagination)
            return """
                SELECT \(Self.itemColumns) FROM items i WHERE i.id < $2
                ORDER BY i.id DESC LIMIT $1
                """
        case .outboxAdd:
            // $1 table, $2 key
            return "INSERT INTO replication_outbox (table_name, row_key) VALUES ($1, $2) RETURNING seq"
        case .standingBeat:
            // $1: the other node is known to stand alone. A gap in the beats longer than $2 seconds,
            // a restart of the server, or the other node standing alone clears `current`.
            return """
                UPDATE node_standing SET
                    current = current AND NOT $1::boolean AND clock_timestamp() - seen_at < make_interval(secs => $2::float8)
                        AND seen_start IS NOT DISTINCT FROM pg_postmaster_start_time(),
                    seen_at = clock_timestamp(), seen_start = pg_postmaster_start_time()
                RETURNING solo_since IS NOT NULL AS stands_alone, current
                """
        case .standingClaim:
            // $1 freshness seconds. The node begins (or goes on) standing alone when it already does,
            // or when it is current and fresh; answers the seconds since it began, or no row.
            return """
                UPDATE node_standing SET solo_since = COALESCE(solo_since, clock_timestamp()), claimed_at = clock_timestamp()
                WHERE solo_since IS NOT NULL OR (current AND clock_timestamp() - seen_at < make_interval(secs => $1::float8)
                    AND seen_start = pg_postmaster_start_time())
                RETURNING extract(epoch FROM clock_timestamp() - solo_since)::float8
                """
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
        }
    }

    /// The condition of a change taken alone: the node stands alone, settled
    /// (`soloSettleSeconds`), under a share lock, so that catch-up cannot end the standing while
    /// the change commits. `alone` defines `standing`.
    private static func guardClause(_ guarded: Bool) -> String { guarded ? "AND EXISTS (SELECT 1 FROM standing)" : "" }

    /// $1 id, $2 data, $3 hlc, $4 origin, $5 expected hlc, $6 expected origin, $7 fence.
    private static func sessionCompareAndSet(guarded: Bool) -> String {
        """
        UPDATE php_session SET data = $2::bytea, hlc = $3::bigint, origin = $4::int, date_change = \(clockTime(3))
        WHERE id = $1::varchar AND hlc = $5::bigint AND origin = $6::int \(fence(7)) \(guardClause(guarded))
        RETURNING id, \(Self.nodeClock)
        """
    }

    /// $1 id, $2 data, $3 hlc, $4 origin; never takes over an existing row (nor a tombstone: the
    /// trigger skips it).
    private static let sessionInsertNewSQL = """
        INSERT INTO php_session (id, data, hlc, origin, date_change)
        VALUES ($1::varchar, $2::bytea, $3::bigint, $4::int, \(clockTime(3)))
        ON CONFLICT (id) DO NOTHING RETURNING id
        """

    /// $1 id, $2 data, $3 hlc, $4 origin, $5 date_change or NULL for the clock's time, $6 fence;
    /// the settlement copy of a live row.
    private static let sessionPutSQL = """
        INSERT INTO php_session AS s (id, data, hlc, origin, date_change)
        SELECT $1::varchar, $2::bytea, $3::bigint, $4::int, COALESCE($5::timestamp, \(clockTime(3)))
        WHERE true \(fence(6))
        ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
            date_change = EXCLUDED.date_change
        WHERE (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
        RETURNING id
        """

    /// $1 key, $2 hlc, $3 origin, $4 fence: the tombstone of a delete.
    private static func delete(_ table: ReplicatedTable, guarded: Bool) -> String {
        table.deleteSQL(fence: fence(4), condition: guardClause(guarded))
    }

    /// $1 id (fixed before the first attempt, so that a repeat on the other node is the same
    /// row), $2 name, $3 content, $4 hlc, $5 origin.
    private static let itemInsertSQL = """
        INSERT INTO items AS i (id, name, content, updated_at, hlc, origin)
        VALUES ($1::bigint, $2::text, $3::text, \(clockTime(4)), $4::bigint, $5::int)
        ON CONFLICT (id) DO NOTHING
        RETURNING \(itemColumns)
        """

    /// $1 id, $2 name, $3 content, $4 updated_at, $5 hlc, $6 origin, $7 fence: the settlement copy.
    private static func itemPut(guarded: Bool) -> String {
        """
        INSERT INTO items AS i (id, name, content, updated_at, hlc, origin)
        SELECT $1::bigint, $2::text, $3::text, $4::timestamp, $5::bigint, $6::int
        WHERE true \(fence(7)) \(guardClause(guarded))
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, content = EXCLUDED.content,
            updated_at = EXCLUDED.updated_at, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin
        WHERE (i.hlc, i.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
        RETURNING \(itemColumns)
        """
    }

    /// A change decided on a node that stands alone while both nodes are up: the guard, without
    /// the outbox (the other node follows in the same request).
    private static func guarded(_ write: String) -> String {
        """
        WITH standing AS (SELECT 1 FROM node_standing
                 WHERE solo_since <= clock_timestamp() - make_interval(secs => \(soloSettleSeconds)) FOR SHARE)
        \(write)
        """
    }

    /// A write made while the other node is away: the rows it wrote are queued for the other
    /// node in the same statement, and `standing` is there for the write's guard.
    private static func alone(_ table: String, _ write: String) -> String {
        """
        WITH standing AS (SELECT 1 FROM node_standing
                 WHERE solo_since <= clock_timestamp() - make_interval(secs => \(soloSettleSeconds)) FOR SHARE),
             w AS (\(write)),
             o AS (INSERT INTO replication_outbox (table_name, row_key) SELECT '\(table)', w.id::text FROM w)
        SELECT * FROM w
        """
    }

    /// The twin of a write made while the other node is away.
    var aloneTwin: Statement? {
        switch self {
        case .sessionCompareAndSet: .sessionCompareAndSetAlone
        case .sessionInsertNew: .sessionInsertNewAlone
        case .sessionDelete: .sessionDeleteAlone
        case .itemInsert: .itemInsertAlone
        case .itemPut: .itemPutAlone
        case .itemDelete: .itemDeleteAlone
        default: nil
        }
    }

    /// The replicated table a write touches.
    var table: String? {
        switch self {
        case .sessionCompareAndSet, .sessionCompareAndSetAlone, .sessionCompareAndSetGuarded, .sessionInsertNew,
            .sessionInsertNewAlone, .sessionPut, .sessionReplaceIf, .sessionDelete, .sessionDeleteAlone,
            .sessionPutBatch, .sessionForceBatch, .sessionBuryBatch:
            ReplicatedTable.sessions.name
        case .itemInsert, .itemInsertAlone, .itemPut, .itemPutAlone, .itemDelete, .itemDeleteAlone, .itemPutBatch,
            .itemForceBatch, .itemBuryBatch:
            ReplicatedTable.items.name
        default: nil
        }
    }
}
