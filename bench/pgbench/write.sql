-- What one minimal write (POST /session key=k&value=v<N>) asks of a node, run by pgbench on node
-- A and node B at once (bench/run, `-M prepared`), each statement its own transaction, with the
-- SQL of Sources/Cluster/Statement.swift (standingColumns, nodeClock, fence and
-- ReplicatedTable.clockTime written out; `:name` where the responder sends `$n`), against
-- setup.sql's copies of php_session and php_session_tombstone and the node's real node_standing:
--   * with `-D read_first=1`, the session read (sessionRead): the responder reads node A alone
--     while A holds every acknowledged write and has the row (SessionStore.readDecidingNodeFirst,
--     docs/PROTOCOL.md "Node A first"), both nodes at once otherwise;
--   * the compare-and-set (sessionCompareAndSet, not guarded), on node A, then on node B.
-- Client N works on session N, alone. The version its compare-and-set expects is the one its
-- last write left: the read returns it (\gset, as the responder takes it from its read); without
-- a read it is carried from the last write (bench/run starts it at setup.sql's, `-D seen_hlc`).
-- The fence comes from the node's clock as the last statement returned it (the responder's
-- measured offset; bench/run starts it at the machine's clock, `-D seen_node_clock`) plus the
-- query timeout (DB_QUERY_TIMEOUT, 2 s: ClusterClient.fence). It writes the session's data back
-- (`-D seen_data`, the read's copy when it reads): an UPDATE writes a whole new row version
-- whatever it holds, and the version and date_change change on every write. A compare-and-set
-- that changes no row returns none, which \gset takes for an error; bench/run also counts the
-- rows they changed (each client's version moved on by one step per write).
\set lifetime 1440
\set freshness 1.5
\set origin 7
\if :read_first
SELECT p.data, COALESCE(t.hlc, p.hlc) AS hlc, COALESCE(t.origin, p.origin) AS origin,
       t.id IS NOT NULL AS deleted,
       p.date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => :lifetime::int) AS expired,
       extract(epoch FROM (now() AT TIME ZONE 'UTC') - p.date_change)::bigint AS age,
       s.solo_since IS NOT NULL AS stands_alone,
       s.solo_since IS NOT NULL OR (s.current AND clock_timestamp() - s.seen_at < make_interval(secs => :freshness::float8)
           AND s.seen_start = pg_postmaster_start_time()) AS holds_everything,
       extract(epoch FROM clock_timestamp())::float8 AS node_clock
FROM node_standing s LEFT JOIN bench_pgbench_session p ON p.id = :client_id::varchar
    LEFT JOIN bench_pgbench_session_tombstone t ON t.id = :client_id::varchar \gset seen_
\endif
-- The writer's next clock value (one millisecond on) and the write's fence.
\set new_hlc :seen_hlc + 65536
\set fence :seen_node_clock + 2.0
UPDATE bench_pgbench_session SET data = :seen_data::bytea, hlc = :new_hlc::bigint, origin = :origin::int,
    date_change = (to_timestamp((:new_hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
WHERE id = :client_id::varchar AND hlc = :seen_hlc::bigint AND origin = :seen_origin::int
    AND (:fence::float8 IS NULL OR extract(epoch FROM clock_timestamp()) < :fence::float8)
RETURNING id, extract(epoch FROM clock_timestamp())::float8 AS node_clock \gset seen_
\set seen_hlc :new_hlc
\set seen_origin :origin
