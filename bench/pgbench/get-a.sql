-- What one `GET /` asks of node A, the primary (Sources/Cluster/Statement.swift,
-- docs/PROTOCOL.md): the compare-and-set write of the new data (sessionCompareAndSet), expecting
-- the version the request read from node B. Its own transaction, as the responder sends it.
-- Client N works on session N; the version it expects is the one its last write left
-- (bench/run starts every client at the version setup.sql gives every row, `-D seen_hlc=…`).
\set new_hlc :seen_hlc + 65536
UPDATE bench_pgbench_session
   SET data = convert_to('visits|i:2;bench|s:10:"wrkconn1x1z";', 'UTF8'), hlc = :new_hlc, origin = 7,
       date_change = (to_timestamp((:new_hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
 WHERE id = :client_id::text AND hlc = :seen_hlc AND origin = 7 RETURNING hlc AS seen_hlc \gset
