-- What one `GET /` asks of node A (Sources/Cluster/Statement.swift, docs/PROTOCOL.md): the
-- session read (sessionRead; the responder reads both nodes at once), then the compare-and-set
-- write of the new data (sessionCompareAndSet) with the next clock value. Each statement is its
-- own transaction, as the responder sends them. Client N works on session N.
SELECT data, hlc AS seen_hlc, origin AS seen_origin, deleted,
       date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => 1440) AS expired,
       extract(epoch FROM (now() AT TIME ZONE 'UTC') - date_change)::bigint AS age
FROM bench_pgbench_session WHERE id = :client_id::text \gset
\set new_hlc :seen_hlc + 65536
UPDATE bench_pgbench_session
   SET data = convert_to('visits|i:2;bench|s:10:"wrkconn1x1z";', 'UTF8'), hlc = :new_hlc, origin = 7,
       date_change = (to_timestamp((:new_hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
 WHERE id = :client_id::text AND hlc = :seen_hlc AND origin = :seen_origin AND NOT deleted RETURNING id;
