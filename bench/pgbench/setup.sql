-- The table the pgbench reference works on: a copy of php_session's definition (same
-- columns, same indexes) in the node's own database, so the responder's anti-entropy and
-- garbage collection never see these rows. One session per pgbench client (ids '0'..'63'),
-- all at one clock value (2027-01-15, 1800000000000 ms << 16): bench/run passes it to the
-- compare-and-set script as `-D seen_hlc=117964800000000000`.
DROP TABLE IF EXISTS bench_pgbench_session;
CREATE TABLE bench_pgbench_session (LIKE php_session INCLUDING ALL);
INSERT INTO bench_pgbench_session (id, data, date_change, hlc, origin, deleted)
SELECT g::text, convert_to('visits|i:1;bench|s:10:"wrkconn1x1z";', 'UTF8'), now() AT TIME ZONE 'UTC',
       117964800000000000, 7, false
FROM generate_series(0, 63) AS g;
VACUUM ANALYZE bench_pgbench_session;
