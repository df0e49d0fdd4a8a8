<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * Every SQL statement the handler runs, in one place (as Sources/Cluster/Statement.swift is for
 * the responder). Values always travel as `$n` parameters; no statement is built from request data.
 *
 * Settlement rule of every row (docs/PROTOCOL.md): a tombstone is final (the nodes' triggers skip
 * a live row whose id has one, and writing the tombstone removes the live row); between two live
 * versions the greater `(hlc, origin)` wins. A write made while the other node is away has an
 * *alone* twin (alone()): it also queues the row for the other node in the same statement, and a
 * change to an existing row is taken only by a node that stands alone (`node_standing`:
 * `solo_since` set at least SOLO_SETTLE_SECONDS ago, GUARD). Every change carries a fence (FENCE).
 */
final class Statements
{
    /**
     * $1 id, $2 lifetime seconds, $3 freshness seconds. Always one row: the session's columns
     * (NULL when the node has no row; a tombstone shows as a copy with the tombstone's version,
     * marked deleted), whether the node stands alone, whether it holds every acknowledged write
     * (it stands alone, or is current and fresh), and the node's clock.
     * Columns: 0 data (hex), 1 hlc, 2 origin, 3 deleted, 4 expired, 5 age, 6 alone, 7 holds,
     * 8 the node's clock (epoch seconds).
     */
    public const READ_SQL = <<<'SQL'
        SELECT encode(p.data, 'hex'), COALESCE(t.hlc, p.hlc), COALESCE(t.origin, p.origin), t.id IS NOT NULL,
               p.date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int) AS expired,
               extract(epoch FROM (now() AT TIME ZONE 'UTC') - p.date_change)::bigint AS age,
               s.solo_since IS NOT NULL,
               s.solo_since IS NOT NULL OR (s.current AND clock_timestamp() - s.seen_at < make_interval(secs => $3::float8)
                   AND s.seen_start = pg_postmaster_start_time()),
               extract(epoch FROM clock_timestamp())::float8
        FROM node_standing s LEFT JOIN php_session p ON p.id = $1::varchar
            LEFT JOIN php_session_tombstone t ON t.id = $1::varchar
        SQL;

    private const CLOCK_TIME = "(to_timestamp((\$3::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')";

    /**
     * A change that the node runs only after this moment of its own clock (parameter %1$d) changes
     * nothing; see fenceOn().
     */
    private const FENCE = ' AND ($%1$d::float8 IS NULL OR extract(epoch FROM clock_timestamp()) < $%1$d::float8)';

    /** A change to an existing row on one node alone: only while the node stands alone (see alone()). */
    private const GUARD = ' AND EXISTS (SELECT 1 FROM standing)';

    /**
     * $1 id, $2 data, $3 hlc, $4 origin: never takes over an existing row, nor a tombstone (the
     * node's trigger skips a live row whose id has one: no row returned either way)
     */
    public const INSERT_SQL = 'INSERT INTO php_session (id, data, hlc, origin, date_change)'
        . ' VALUES ($1::varchar, $2::bytea, $3::bigint, $4::int, ' . self::CLOCK_TIME . ')'
        . ' ON CONFLICT (id) DO NOTHING RETURNING id';

    /**
     * $1 freshness seconds. The node begins (or goes on) standing alone when it already does, or
     * when it is current and fresh; answers the seconds since it began, or no row.
     */
    public const CLAIM_SQL = <<<'SQL'
        UPDATE node_standing SET solo_since = COALESCE(solo_since, clock_timestamp()), claimed_at = clock_timestamp()
        WHERE solo_since IS NOT NULL OR (current AND clock_timestamp() - seen_at < make_interval(secs => $1::float8)
            AND seen_start = pg_postmaster_start_time())
        RETURNING extract(epoch FROM clock_timestamp() - solo_since)::float8
        SQL;

    /** Seconds a node must have stood alone before it takes a change alone (soloSettleSeconds). */
    public const SOLO_SETTLE_SECONDS = 1;

    /** $1 age in seconds, $2 batch size: expired sessions go outright (no tombstone) */
    public const PURGE_SQL_LIVE = "DELETE FROM php_session WHERE id IN (SELECT id FROM php_session"
        . " WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int)"
        . ' ORDER BY date_change LIMIT $2)';

    public const PURGE_SQL_TOMBSTONES = "DELETE FROM php_session_tombstone WHERE id IN (SELECT id FROM php_session_tombstone"
        . " WHERE deleted_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int)"
        . ' ORDER BY deleted_at LIMIT $2)';

    public const OUTBOX_ADD_SQL = "INSERT INTO replication_outbox (table_name, row_key) VALUES ('php_session', \$1)";

    public const IDENTITY_SQL = 'SELECT name FROM cluster_node';

    /** $1 id, $2 data, $3 hlc, $4 origin, $5 expected hlc, $6 expected origin, $7 fence: the compare-and-set */
    public static function cas(bool $guarded): string
    {
        return 'UPDATE php_session SET data = $2::bytea, hlc = $3::bigint, origin = $4::int, date_change = ' . self::CLOCK_TIME
            . ' WHERE id = $1::varchar AND hlc = $5::bigint AND origin = $6::int'
            . self::fenceOn(7) . ($guarded ? self::GUARD : '') . ' RETURNING id';
    }

    /**
     * $1 id, $2 data, $3 hlc, $4 origin, $5 date_change or NULL, $6 fence: the settlement copy of a
     * live row (between two live versions the greater (hlc, origin) wins; a tombstone is final: the
     * node's trigger skips a live row whose id has one)
     */
    public static function put(bool $guarded): string
    {
        return 'INSERT INTO php_session AS s (id, data, hlc, origin, date_change)'
            . ' SELECT $1::varchar, $2::bytea, $3::bigint, $4::int, COALESCE($5::timestamp, ' . self::CLOCK_TIME . ')'
            . ' WHERE true' . self::fenceOn(6) . ($guarded ? self::GUARD : '')
            . ' ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,'
            . ' date_change = EXCLUDED.date_change'
            . ' WHERE (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin)'
            . ' RETURNING id';
    }

    /**
     * $1 id, $2 data, $3 hlc, $4 origin, $5 and $6 the version the node was seen to hold (NULL: no
     * row, then only the insert can happen), $7 fence: the row is replaced only if the node still
     * holds that version (bringing a node that does not decide to the deciding copy, or undoing a
     * write that the other node, standing alone, did not take). No row returned: it changed meanwhile
     * (or the id has a tombstone there, which the node's trigger keeps final).
     */
    public static function replaceIf(): string
    {
        return 'INSERT INTO php_session AS s (id, data, hlc, origin, date_change)'
            . ' SELECT $1::varchar, $2::bytea, $3::bigint, $4::int, ' . self::CLOCK_TIME
            . ' WHERE true' . self::fenceOn(7)
            . ' ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,'
            . ' date_change = EXCLUDED.date_change'
            . ' WHERE (s.hlc, s.origin) = ($5::bigint, $6::int)'
            . ' RETURNING id';
    }

    /**
     * $1 id, $2 hlc, $3 origin, $4 fence: the tombstone, final (the node's trigger removes the live
     * row, and no live row is taken for the id again); an older tombstone is raised, a newer one
     * stays (then no row is returned)
     */
    public static function bury(bool $guarded): string
    {
        return 'INSERT INTO php_session_tombstone AS t (id, hlc, origin, deleted_at)'
            . " SELECT \$1::varchar, \$2::bigint, \$3::int, to_timestamp((\$2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC'"
            . ' WHERE true' . self::fenceOn(4) . ($guarded ? self::GUARD : '')
            . ' ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at'
            . ' WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin)'
            . ' RETURNING id';
    }

    /**
     * A change decided on a node that stands alone while both nodes are up: the guard (the node
     * stands alone, settled, under a share lock so that catch-up cannot end the standing
     * meanwhile), without the outbox (the other node follows in the same request).
     */
    public static function guarded(string $write): string
    {
        return 'WITH standing AS (SELECT 1 FROM node_standing'
            . ' WHERE solo_since <= clock_timestamp() - make_interval(secs => ' . self::SOLO_SETTLE_SECONDS . ') FOR SHARE) '
            . $write;
    }

    /**
     * The alone twin of a write made while the other node is away: the rows it wrote are queued
     * for the other node in the same statement, and `standing` (the node stands alone, settled,
     * under a share lock so that catch-up cannot end the standing meanwhile) is there for GUARD.
     */
    public static function alone(string $write): string
    {
        return 'WITH standing AS (SELECT 1 FROM node_standing'
            . ' WHERE solo_since <= clock_timestamp() - make_interval(secs => ' . self::SOLO_SETTLE_SECONDS . ') FOR SHARE),'
            . " w AS ($write),"
            . " o AS (INSERT INTO replication_outbox (table_name, row_key) SELECT 'php_session', id::text FROM w)"
            . ' SELECT * FROM w';
    }

    /** The fence (FENCE) on parameter $param of a statement. */
    private static function fenceOn(int $param): string
    {
        return sprintf(self::FENCE, $param);
    }
}
