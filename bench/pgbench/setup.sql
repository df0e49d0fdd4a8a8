-- The table the pgbench reference works on: a copy of php_session's definition (same
-- columns, same indexes) in the node's own database, so the responder's anti-entropy and
-- garbage collection never see these rows. One session per pgbench client (ids '0'..'63'),
-- all at one clock value, `start_hlc` (psql -v): bench/run passes the same value to the
-- compare-and-set script as `-D seen_hlc=…`.
DROP TABLE IF EXISTS bench_pgbench_session;
CREATE TABLE bench_pgbench_session (LIKE php_session INCLUDING ALL);
INSERT INTO bench_pgbench_session (id, data, date_change, hlc, origin, deleted)
SELECT g::text, convert_to('visits|i:1;bench|s:10:"wrkconn1x1z";', 'UTF8'), now() AT TIME ZONE 'UTC',
       :start_hlc, 7, false
FROM generate_series(0, 63) AS g;
VACUUM ANALYZE bench_pgbench_session;
