-- The tables the pgbench reference works on: copies of php_session's and php_session_tombstone's
-- definitions (same columns, same indexes), with php_session's trigger on a live insert (it
-- takes the key's lock and looks for a tombstone: the cost every insert of a session pays), in
-- the node's own database, so the responder's anti-entropy and garbage collection never see
-- these rows. One session per pgbench client (ids '0'..'63'), all at one clock value,
-- `start_hlc` (psql -v): bench/run passes the same value to the compare-and-set script as
-- `-D seen_hlc=…`.
DROP TABLE IF EXISTS bench_pgbench_session;
DROP TABLE IF EXISTS bench_pgbench_session_tombstone;
CREATE TABLE bench_pgbench_session (LIKE php_session INCLUDING ALL);
CREATE TABLE bench_pgbench_session_tombstone (LIKE php_session_tombstone INCLUDING ALL);
CREATE OR REPLACE FUNCTION bench_pgbench_session_refuse_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.deleted AND EXISTS (SELECT 1 FROM bench_pgbench_session_tombstone WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bench_pgbench_session_refuse_deleted BEFORE INSERT ON bench_pgbench_session
    FOR EACH ROW EXECUTE FUNCTION bench_pgbench_session_refuse_deleted();
INSERT INTO bench_pgbench_session (id, data, date_change, hlc, origin)
SELECT g::text, convert_to('visits|i:1;bench|s:10:"wrkconn1x1z";', 'UTF8'), now() AT TIME ZONE 'UTC',
       :start_hlc, 7
FROM generate_series(0, 63) AS g;
VACUUM ANALYZE bench_pgbench_session;
