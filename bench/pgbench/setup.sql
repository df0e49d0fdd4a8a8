-- The tables the pgbench reference (write.sql) works on: copies of php_session's and
-- php_session_tombstone's definitions (same columns, same indexes) with the triggers that
-- schema.sql gives them, written for the copies, in the node's own database, so that the
-- responder's anti-entropy and garbage collection never see these rows. One session per pgbench
-- client (ids '0'..'63'), all at one clock value, `start_hlc`, holding `data` (psql -v: bench/run
-- passes write.sql the same values), what a session of the write scenario holds: its
-- connection's tag and one value.
DROP TABLE IF EXISTS bench_pgbench_session;
DROP TABLE IF EXISTS bench_pgbench_session_tombstone;
CREATE TABLE bench_pgbench_session (LIKE php_session INCLUDING ALL);
CREATE TABLE bench_pgbench_session_tombstone (LIKE php_session_tombstone INCLUDING ALL);

-- schema.sql's triggers of php_session: a live insert is refused when the key has a tombstone
-- (BEFORE INSERT: the tombstone's index looked up on every insert), and removed again right after
-- its statement when a tombstone committed meanwhile (AFTER INSERT, for a live row: the same
-- lookup, in a fresh snapshot); a row of the previous layout marked `deleted` becomes a tombstone
-- (AFTER INSERT OR UPDATE, WHEN deleted: on a compare-and-set, only its condition is evaluated).
CREATE OR REPLACE FUNCTION bench_pgbench_session_refuse_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.deleted AND EXISTS (SELECT 1 FROM bench_pgbench_session_tombstone WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bench_pgbench_session_refuse_deleted BEFORE INSERT ON bench_pgbench_session
    FOR EACH ROW EXECUTE FUNCTION bench_pgbench_session_refuse_deleted();

CREATE OR REPLACE FUNCTION bench_pgbench_session_drop_if_buried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM bench_pgbench_session_tombstone WHERE id = NEW.id) THEN
        DELETE FROM bench_pgbench_session WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_pgbench_session_drop_if_buried AFTER INSERT ON bench_pgbench_session
    FOR EACH ROW WHEN (NOT NEW.deleted) EXECUTE FUNCTION bench_pgbench_session_drop_if_buried();

CREATE OR REPLACE FUNCTION bench_pgbench_session_previous_layout_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_pgbench_session_tombstone AS t (id, hlc, origin, deleted_at)
    VALUES (NEW.id, NEW.hlc, NEW.origin, NEW.date_change)
    ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
        WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin);
    DELETE FROM bench_pgbench_session WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_pgbench_session_previous_layout_delete AFTER INSERT OR UPDATE ON bench_pgbench_session
    FOR EACH ROW WHEN (NEW.deleted) EXECUTE FUNCTION bench_pgbench_session_previous_layout_delete();

-- And the tombstone table's: a tombstone removes the live row (never fired by write.sql).
CREATE OR REPLACE FUNCTION bench_pgbench_session_remove_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_pgbench_session AS l (id, hlc, origin, deleted) VALUES (NEW.id, NEW.hlc, NEW.origin, true)
    ON CONFLICT (id) DO UPDATE SET deleted = true WHERE NOT l.deleted;
    DELETE FROM bench_pgbench_session WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_pgbench_session_tombstone_removes_live AFTER INSERT OR UPDATE ON bench_pgbench_session_tombstone
    FOR EACH ROW EXECUTE FUNCTION bench_pgbench_session_remove_live();

INSERT INTO bench_pgbench_session (id, data, date_change, hlc, origin)
SELECT g::text, convert_to(:'data', 'UTF8'), now() AT TIME ZONE 'UTC', :start_hlc, 7
FROM generate_series(0, 63) AS g;
VACUUM ANALYZE bench_pgbench_session;
