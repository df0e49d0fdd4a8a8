-- What one `GET /` asks of node B, the secondary (Sources/Cluster/Statement.swift,
-- docs/PROTOCOL.md): the session read (sessionRead: the live row and the tombstone of the id; a
-- request that writes reads this node only and lets the compare-and-set on A check the
-- version), then, after A's write, the copy of the new row with the settlement upsert
-- (sessionPut; php_session's trigger runs on it, see setup.sql). Each statement is its own
-- transaction. Client N works on session N.
SELECT p.data, COALESCE(t.hlc, p.hlc) AS seen_hlc, COALESCE(t.origin, p.origin) AS seen_origin,
       t.id IS NOT NULL AS deleted,
       p.date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => 1440) AS expired,
       extract(epoch FROM (now() AT TIME ZONE 'UTC') - p.date_change)::bigint AS age
FROM node_standing s LEFT JOIN bench_pgbench_session p ON p.id = :client_id::text
    LEFT JOIN bench_pgbench_session_tombstone t ON t.id = :client_id::text \gset
\set new_hlc :seen_hlc + 65536
INSERT INTO bench_pgbench_session AS s (id, data, hlc, origin, date_change)
SELECT :client_id::text, convert_to('visits|i:2;bench|s:10:"wrkconn1x1z";', 'UTF8'), :new_hlc, 7,
       COALESCE(NULL::timestamp, (to_timestamp((:new_hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC'))
ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
    date_change = EXCLUDED.date_change
WHERE (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin)
RETURNING id;
