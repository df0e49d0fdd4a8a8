-- bench/run --scale: fills one node. Run on both nodes with the same variables, so both hold
-- identical rows (same clock values and origin: anti-entropy finds nothing to copy).
--   :t0         the seeding time, UTC ('YYYY-MM-DD HH24:MI:SS'), the same for both nodes
--   :rows       sessions (1000000): the first half live (last written 60..1199 s before t0),
--               the second half expiring :expire_in seconds after t0 (date_change =
--               t0 - lifetime + expire_in), so that garbage collection has work from then on
--   :lifetime   SESSION_LIFETIME of the pools
--   :items      items (100000), ids 10000001, 10000003, … (odd: as if created on node A; the
--               node sequences stay far below them)
\set ON_ERROR_STOP on
SET synchronous_commit = off;
INSERT INTO php_session (id, data, date_change, hlc, origin, deleted)
SELECT s.id, s.data, s.changed, (floor(extract(epoch FROM s.changed) * 1000)::bigint << 16), 1, false
FROM (
    SELECT 'scale' || lpad(g::text, 27, '0') AS id,
           convert_to('visits|i:' || (g % 97) || ';color|s:4:"blue";', 'UTF8') AS data,
           CASE WHEN g <= :rows / 2
                THEN :'t0'::timestamp - make_interval(secs => 60 + g % 1140)
                ELSE :'t0'::timestamp - make_interval(secs => :lifetime - :expire_in)
           END AS changed
    FROM generate_series(1, :rows) AS g
) AS s
ON CONFLICT (id) DO NOTHING;
INSERT INTO items (id, name, content, updated_at, hlc, origin, deleted)
SELECT 10000001 + 2 * g, 'item ' || g, repeat('content of item ' || g || '. ', 4), :'t0'::timestamp,
       (floor(extract(epoch FROM :'t0'::timestamp) * 1000)::bigint << 16), 1, false
FROM generate_series(0, :items - 1) AS g
ON CONFLICT (id) DO NOTHING;
