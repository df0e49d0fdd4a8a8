-- What one `GET /` asks of node B, the secondary (Sources/Cluster/Statement.swift,
-- docs/PROTOCOL.md): the session read (sessionRead; a request that writes reads this node only
-- and lets the compare-and-set on A check the version), then, after A's write, the copy of the
-- new row with the settlement upsert (sessionPut). Each statement is its own transaction. Client N works on session N.
SELECT data, hlc AS seen_hlc, origin AS seen_origin, deleted,
       date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => 1440) AS expired,
       extract(epoch FROM (now() AT TIME ZONE 'UTC') - date_change)::bigint AS age
FROM bench_pgbench_session WHERE id = :client_id::text \gset
\set new_hlc :seen_hlc + 65536
INSERT INTO bench_pgbench_session AS s (id, data, hlc, origin, deleted, date_change)
VALUES (:client_id::text, convert_to('visits|i:2;bench|s:10:"wrkconn1x1z";', 'UTF8'), :new_hlc, 7, false,
        COALESCE(NULL::timestamp, (to_timestamp((:new_hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')))
ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
    deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change
WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
RETURNING id;
