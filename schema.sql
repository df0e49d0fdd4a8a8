-- Schema of one node. Apply to each node with its name:
--   psql -v ON_ERROR_STOP=1 -v node=a -f schema.sql   (node B: -v node=b)
-- Every statement is safe to run again.
\if :{?node}
\else
\echo 'schema.sql: pass -v node=a or -v node=b'
\quit
\endif

SET client_min_messages = warning;

SELECT CASE :'node' WHEN 'a' THEN 1 WHEN 'b' THEN 2 END AS node_index \gset
\if :{?node_index}
\else
\echo 'schema.sql: node must be a or b'
\quit
\endif

-- Which node this database is; the responder checks it on connect so DB1/DB2 cannot be swapped.
CREATE TABLE IF NOT EXISTS cluster_node (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name char(1) NOT NULL CHECK (name IN ('a', 'b'))
);
INSERT INTO cluster_node (name) VALUES (:'node') ON CONFLICT (singleton) DO NOTHING;

-- Sessions, in PHP's `php` serialize format. `data` is bytea because PHP strings are bytes
-- (NUL and non-UTF-8 allowed); `date_change` is the UTC time of the last write or refresh.
CREATE TABLE IF NOT EXISTS php_session (
    id varchar(256) PRIMARY KEY,
    data bytea NOT NULL DEFAULT '\x',
    date_change timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
-- Replication: hybrid logical clock of the last write and the writer that made it.
ALTER TABLE php_session ADD COLUMN IF NOT EXISTS hlc bigint NOT NULL DEFAULT 0;
ALTER TABLE php_session ADD COLUMN IF NOT EXISTS origin integer NOT NULL DEFAULT 0;
-- Always false. Kept so that responders and PHP handlers of the previous layout, which marked a
-- delete with `deleted = true` in place, keep working during a rolling upgrade: the triggers
-- below turn such a row into a tombstone at once.
ALTER TABLE php_session ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS php_session_date_change_idx ON php_session (date_change);

-- Item ids interleave between nodes (A odd, B even) so they never collide.
SELECT :node_index AS seq_start \gset
CREATE SEQUENCE IF NOT EXISTS items_id_seq AS bigint START WITH :seq_start INCREMENT BY 2;

CREATE TABLE IF NOT EXISTS items (
    id bigint PRIMARY KEY DEFAULT nextval('items_id_seq'),
    name text NOT NULL,
    content text NOT NULL DEFAULT '',
    updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
ALTER SEQUENCE items_id_seq OWNED BY items.id;
ALTER TABLE items ADD COLUMN IF NOT EXISTS hlc bigint NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN IF NOT EXISTS origin integer NOT NULL DEFAULT 0;
-- Always false; kept for writers of the previous layout, as in php_session.
ALTER TABLE items ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
DROP INDEX IF EXISTS items_live_id_idx;
DROP INDEX IF EXISTS items_tombstone_idx;

-- Tombstones (docs/PROTOCOL.md, "Rows and versions"). `php_session` and `items` hold live rows only, so
-- that a reader that knows only their own columns sees exactly the live data; what replication
-- must remember of a delete (key, clock, writer, and when) lives here until TOMBSTONE_TTL.
-- A tombstone is final: no live row is ever taken for its key.
CREATE TABLE IF NOT EXISTS php_session_tombstone (
    id varchar(256) PRIMARY KEY,
    hlc bigint NOT NULL,
    origin integer NOT NULL,
    deleted_at timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS php_session_tombstone_deleted_at_idx ON php_session_tombstone (deleted_at);
CREATE TABLE IF NOT EXISTS items_tombstone (
    id bigint PRIMARY KEY,
    hlc bigint NOT NULL,
    origin integer NOT NULL,
    deleted_at timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS items_tombstone_deleted_at_idx ON items_tombstone (deleted_at);

-- The triggers keep a live row and a tombstone of the same key from ever standing together,
-- whatever order concurrent writers commit in, without a lock per row that a bulk import would
-- run out of. Of two writers of one key, the unique index makes the second wait for the first:
--   * a tombstone removes the live row through an upsert of the key (`deleted = true`, a marker
--     the next trigger removes at once): the upsert waits for any live insert of the key in
--     flight and then sees it committed;
--   * a live row inserted after a tombstone is refused before it is written when the tombstone
--     is already visible, else removed right after its statement (an AFTER trigger reads a
--     fresh snapshot: by then a tombstone writer it waited for has committed).
-- A writer of the previous layout that marks a row `deleted` has it turned into a tombstone.
-- The functions are written out per table, not shared through dynamic SQL (EXECUTE format(…)),
-- which would parse and plan a statement on every insert.
CREATE OR REPLACE FUNCTION php_session_refuse_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.deleted AND EXISTS (SELECT 1 FROM php_session_tombstone WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER php_session_refuse_deleted BEFORE INSERT ON php_session
    FOR EACH ROW EXECUTE FUNCTION php_session_refuse_deleted();

CREATE OR REPLACE FUNCTION php_session_drop_if_buried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM php_session_tombstone WHERE id = NEW.id) THEN
        DELETE FROM php_session WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER php_session_drop_if_buried AFTER INSERT ON php_session
    FOR EACH ROW WHEN (NOT NEW.deleted) EXECUTE FUNCTION php_session_drop_if_buried();

CREATE OR REPLACE FUNCTION php_session_remove_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO php_session AS l (id, hlc, origin, deleted) VALUES (NEW.id, NEW.hlc, NEW.origin, true)
    ON CONFLICT (id) DO UPDATE SET deleted = true WHERE NOT l.deleted;
    DELETE FROM php_session WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER php_session_tombstone_removes_live AFTER INSERT OR UPDATE ON php_session_tombstone
    FOR EACH ROW EXECUTE FUNCTION php_session_remove_live();

CREATE OR REPLACE FUNCTION php_session_previous_layout_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO php_session_tombstone AS t (id, hlc, origin, deleted_at)
    VALUES (NEW.id, NEW.hlc, NEW.origin, NEW.date_change)
    ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
        WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin);
    DELETE FROM php_session WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER php_session_previous_layout_delete AFTER INSERT OR UPDATE ON php_session
    FOR EACH ROW WHEN (NEW.deleted) EXECUTE FUNCTION php_session_previous_layout_delete();

CREATE OR REPLACE FUNCTION items_refuse_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.deleted AND EXISTS (SELECT 1 FROM items_tombstone WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER items_refuse_deleted BEFORE INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION items_refuse_deleted();

CREATE OR REPLACE FUNCTION items_drop_if_buried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM items_tombstone WHERE id = NEW.id) THEN
        DELETE FROM items WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER items_drop_if_buried AFTER INSERT ON items
    FOR EACH ROW WHEN (NOT NEW.deleted) EXECUTE FUNCTION items_drop_if_buried();

CREATE OR REPLACE FUNCTION items_remove_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO items AS l (id, name, hlc, origin, deleted) VALUES (NEW.id, '', NEW.hlc, NEW.origin, true)
    ON CONFLICT (id) DO UPDATE SET deleted = true WHERE NOT l.deleted;
    DELETE FROM items WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER items_tombstone_removes_live AFTER INSERT OR UPDATE ON items_tombstone
    FOR EACH ROW EXECUTE FUNCTION items_remove_live();

CREATE OR REPLACE FUNCTION items_previous_layout_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO items_tombstone AS t (id, hlc, origin, deleted_at)
    VALUES (NEW.id, NEW.hlc, NEW.origin, NEW.updated_at)
    ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
        WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin);
    DELETE FROM items WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER items_previous_layout_delete AFTER INSERT OR UPDATE ON items
    FOR EACH ROW WHEN (NEW.deleted) EXECUTE FUNCTION items_previous_layout_delete();

DROP FUNCTION IF EXISTS cluster_key_lock(text, text);

-- Upgrade from the previous layout: its tombstones (rows marked `deleted`) move out of the live
-- tables, in batches that commit on their own (each moved row takes a key lock until commit).
-- Queued outbox entries stay valid: catch-up reads a key from both tables. Running this again
-- finds nothing to move.
DO $$
BEGIN
    LOOP
        WITH gone AS (
            DELETE FROM php_session WHERE id IN (SELECT id FROM php_session WHERE deleted LIMIT 500)
            RETURNING id, hlc, origin, date_change)
        INSERT INTO php_session_tombstone AS t (id, hlc, origin, deleted_at)
        SELECT id, hlc, origin, date_change FROM gone
        ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
            WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin);
        COMMIT;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM php_session WHERE deleted);
    END LOOP;
    LOOP
        WITH gone AS (
            DELETE FROM items WHERE id IN (SELECT id FROM items WHERE deleted LIMIT 500)
            RETURNING id, hlc, origin, updated_at)
        INSERT INTO items_tombstone AS t (id, hlc, origin, deleted_at)
        SELECT id, hlc, origin, updated_at FROM gone
        ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at
            WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin);
        COMMIT;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM items WHERE deleted);
    END LOOP;
END $$;

-- Responders register here on start.
CREATE TABLE IF NOT EXISTS servers (
    id serial PRIMARY KEY,
    name varchar(255) NOT NULL,
    host varchar(255) NOT NULL,
    port integer NOT NULL,
    active boolean NOT NULL DEFAULT true
);
ALTER TABLE servers ADD COLUMN IF NOT EXISTS last_seen timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC');
CREATE UNIQUE INDEX IF NOT EXISTS servers_name_idx ON servers (name);

-- Changes that reached this node while the other was away, replayed to it by the catch-up runner.
CREATE TABLE IF NOT EXISTS replication_outbox (
    seq bigserial PRIMARY KEY,
    table_name text NOT NULL CHECK (table_name IN ('php_session', 'items')),
    row_key text NOT NULL,
    queued_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- What this node may do alone (docs/PROTOCOL.md, "Standing"). `solo_since`: since when it has
-- taken changes while the other node was away (it then holds every acknowledged write; catch-up
-- clears it). `current`: confirmed, while both nodes answered, to hold every acknowledged write;
-- a beat from every responder keeps `seen_at` fresh, and a gap in the beats or a restart of the
-- server (`seen_start`) clears it, so a node that was paused, cut off or restarted must be
-- confirmed against the other node again before it may take changes alone.
CREATE TABLE IF NOT EXISTS node_standing (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    solo_since timestamptz,
    current boolean NOT NULL DEFAULT false,
    seen_at timestamptz NOT NULL DEFAULT '-infinity',
    seen_start timestamptz
);
-- The last time a responder asked to stand alone: catch-up ends a standing only once it is quiet.
ALTER TABLE node_standing ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
INSERT INTO node_standing DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING;

-- Anti-entropy reads recently changed rows through these.
CREATE INDEX IF NOT EXISTS items_updated_at_idx ON items (updated_at);

-- Background passes claim their turn here (on node A), so each runs once per interval cluster-wide.
CREATE TABLE IF NOT EXISTS maintenance_runs (
    name text PRIMARY KEY,
    last_run timestamp NOT NULL DEFAULT '-infinity'
);
INSERT INTO maintenance_runs (name) VALUES ('repair_recent'), ('repair_full'), ('gc') ON CONFLICT (name) DO NOTHING;
