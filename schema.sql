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
-- Replication: hybrid logical clock of the last write, the writer that made it, and a tombstone flag.
ALTER TABLE php_session ADD COLUMN IF NOT EXISTS hlc bigint NOT NULL DEFAULT 0;
ALTER TABLE php_session ADD COLUMN IF NOT EXISTS origin integer NOT NULL DEFAULT 0;
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
ALTER TABLE items ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS items_live_id_idx ON items (id) WHERE NOT deleted;
CREATE INDEX IF NOT EXISTS items_tombstone_idx ON items (updated_at) WHERE deleted;

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
