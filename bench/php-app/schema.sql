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
