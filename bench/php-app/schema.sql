-- Tables of the php-fpm reference (bench/php-app), as a plain PHP guide creates them.
-- bench/run applies this to a database of its own (bench_php) on each node, so the
-- reference never touches the responder's tables. Safe to apply again.
CREATE TABLE IF NOT EXISTS php_session (
    id varchar(256) PRIMARY KEY,
    data text NOT NULL DEFAULT '',
    date_change timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX IF NOT EXISTS php_session_date_change_idx ON php_session (date_change);

CREATE TABLE IF NOT EXISTS items (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    content text NOT NULL DEFAULT '',
    updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- The pools the index page lists: the two php-fpm pools of the bench and two more, so that
-- the table has the four rows of the responder's (bench/run runs four pools).
CREATE TABLE IF NOT EXISTS servers (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    host text NOT NULL,
    port integer NOT NULL,
    active boolean NOT NULL DEFAULT true,
    last_seen timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
INSERT INTO servers (name, host, port) VALUES
    ('php-fpm-pg', '127.0.0.1', 9101), ('php-fpm-redis', '127.0.0.1', 9102),
    ('php-fpm-3', '127.0.0.1', 9103), ('php-fpm-4', '127.0.0.1', 9104)
ON CONFLICT (name) DO NOTHING;
