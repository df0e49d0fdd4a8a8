-- bench/run --scale: fills one node. Run on both nodes with the same variables, so both hold
-- identical rows (same clock values and origin: anti-entropy finds nothing to copy).
--   :t0         the seeding time, UTC ('YYYY-MM-DD HH24:MI:SS'), the same for both nodes
--   :rows       sessions (1000000): the first half live (last written 60..1199 s before t0),
--               the second half expiring :expire_in seconds after t0 (date_change =
--               t0 - lifetime + expire_in), so that garbage collection has work from then on
--   :lifetime   SESSION_LIFETIME of the pools
--   :items      items (100000), ids 10000001, 10000003, … (odd: as if created on node A; the
--               node sequences stay far below them)
-- The rows go in by statements of 10,000 (\gexec), each its own transaction, which keeps each
-- statement's queue of AFTER-trigger events (schema.sql: one per live insert) small.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SELECT format($sql$
INSERT INTO php_session (id, data, date_change, hlc, origin)
SELECT s.id, s.data, s.changed, (floor(extract(epoch FROM s.changed) * 1000)::bigint << 16), 1
FROM (
    SELECT 'scale' || lpad(g::text, 27, '0') AS id,
           convert_to('visits|i:' || (g %% 97) || ';color|s:4:"blue";', 'UTF8') AS data,
           CASE WHEN g <= %s / 2
                THEN %L::timestamp - make_interval(secs => 60 + g %% 1140)
                ELSE %L::timestamp - make_interval(secs => %s - %s)
           END AS changed
    FROM generate_series(%s, %s) AS g
) AS s
ON CONFLICT (id) DO NOTHING$sql$, :rows, :'t0', :'t0', :lifetime, :expire_in, lo, least(lo + 9999, :rows))
FROM generate_series(1, :rows, 10000) AS lo \gexec
SELECT format($sql$
INSERT INTO items (id, name, content, updated_at, hlc, origin)
SELECT 10000001 + 2 * g, 'item ' || g, repeat('content of item ' || g || '. ', 4), %L::timestamp,
       (floor(extract(epoch FROM %L::timestamp) * 1000)::bigint << 16), 1
FROM generate_series(%s, %s) AS g
ON CONFLICT (id) DO NOTHING$sql$, :'t0', :'t0', lo, least(lo + 9999, :items - 1))
FROM generate_series(0, :items - 1, 10000) AS lo \gexec
