-- The tables the pgbench reference (write.sql) works on: copies of php_session's and
-- php_session_tombstone's definitions (same columns, same indexes) with the triggers that
-- schema.sql gives them (below), in the node's own database, so that the
-- responder's anti-entropy and garbage collection never see these rows. One session per pgbench
-- client (ids '0'..'63'), all at one clock value, `start_hlc`, holding `data` (psql -v: bench/run
-- passes write.sql the same values), what a session of the write scenario holds: its
-- connection's tag and one value.
DROP TABLE IF EXISTS bench_pgbench_session;
DROP TABLE IF EXISTS bench_pgbench_session_tombstone;
CREATE TABLE bench_pgbench_session (LIKE php_session INCLUDING ALL);
CREATE TABLE bench_pgbench_session_tombstone (LIKE php_session_tombstone INCLUDING ALL);

-- php_session's and php_session_tombstone's triggers as this node has them (schema.sql), with
-- their functions, made again for the copies: every name containing `php_session` renamed, so
-- that the copies pay for each write what the live tables pay, and follow schema.sql when it
-- changes. (Built once here; the functions themselves run no dynamic SQL.) Today: a live insert
-- is refused when the key has a tombstone, and removed again right after its statement when a
-- tombstone committed meanwhile; a row of the previous layout marked `deleted` becomes a
-- tombstone (on a compare-and-set, only that trigger's WHEN is evaluated); a tombstone removes
-- the live row (never fired by write.sql).
DO $$
DECLARE
    source text;
BEGIN
    FOR source IN
        SELECT pg_get_functiondef(f) FROM (
            SELECT DISTINCT tgfoid AS f FROM pg_trigger
            WHERE tgrelid IN ('php_session'::regclass, 'php_session_tombstone'::regclass) AND NOT tgisinternal) AS fs
        UNION ALL
        SELECT pg_get_triggerdef(oid) FROM pg_trigger
        WHERE tgrelid IN ('php_session'::regclass, 'php_session_tombstone'::regclass) AND NOT tgisinternal
    LOOP
        EXECUTE replace(source, 'php_session', 'bench_pgbench_session');
    END LOOP;
END $$;

INSERT INTO bench_pgbench_session (id, data, date_change, hlc, origin)
SELECT g::text, convert_to(:'data', 'UTF8'), now() AT TIME ZONE 'UTC', :start_hlc, 7
FROM generate_series(0, 63) AS g;
VACUUM ANALYZE bench_pgbench_session;
