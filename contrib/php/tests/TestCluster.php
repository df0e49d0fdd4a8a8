<?php

declare(strict_types=1);

namespace SessionCluster\Tests;

use SessionCluster\ClusterSessionHandler;

/**
 * The test cluster's two nodes, as deploy/run-tests names them: TEST_DB1_HOST, _PORT, _NAME,
 * _USER, _PASSWORD for node A and TEST_DB2_* for node B. Handlers on them, and direct queries
 * to look at the rows a handler left on each node.
 */
final class TestCluster
{
    /** @var array<string, \PgSql\Connection> */
    private static array $connections = [];

    /** Whether the nodes are named (TEST_DB1_HOST is set). */
    public static function configured(): bool
    {
        return (string) getenv('TEST_DB1_HOST') !== '';
    }

    /** Node 'a' or 'b' as the handler takes it. */
    public static function node(string $node): array
    {
        $n = $node === 'a' ? 1 : 2;
        $value = static fn (string $key, string $default): string
            => (string) getenv("TEST_DB{$n}_$key") !== '' ? (string) getenv("TEST_DB{$n}_$key") : $default;
        return [
            'host' => $value('HOST', '127.0.0.1'),
            'port' => $value('PORT', $node === 'a' ? '54321' : '54322'),
            'dbname' => $value('NAME', $node === 'a' ? 'cluster_session_a' : 'cluster_session_b'),
            'user' => $value('USER', 'webuser'),
            'password' => $value('PASSWORD', 'change_me'),
        ];
    }

    /** A new handler on both nodes (no down memo: a test never skips a node another one saw down). */
    public static function handler(int $lifetime = 1440, int $touchInterval = 60): ClusterSessionHandler
    {
        return new ClusterSessionHandler(self::node('a'), self::node('b'),
            lifetime: $lifetime, touchInterval: $touchInterval, downMemoDir: null);
    }

    /** @return list<array<int, ?string>> the rows of a query on a node */
    public static function query(string $node, string $sql, array $params = []): array
    {
        if (!isset(self::$connections[$node])) {
            $conninfo = '';
            foreach (self::node($node) as $key => $value) {
                $conninfo .= "$key='" . addcslashes($value, "'\\") . "' ";
            }
            $connection = pg_connect($conninfo . "connect_timeout='5'", PGSQL_CONNECT_FORCE_NEW);
            if ($connection === false) {
                throw new \RuntimeException("cannot connect to node $node");
            }
            self::$connections[$node] = $connection;
        }
        $result = pg_query_params(self::$connections[$node], $sql, $params);
        if ($result === false) {
            throw new \RuntimeException("query failed on node $node: " . pg_last_error(self::$connections[$node]));
        }
        return pg_fetch_all($result, PGSQL_NUM);
    }

    /** Where a session id is on a node: 'live', 'tombstone', 'absent' or 'live+tombstone' (never allowed). */
    public static function keyState(string $node, string $id): string
    {
        $rows = self::query($node, 'SELECT EXISTS (SELECT 1 FROM php_session WHERE id = $1),'
            . ' EXISTS (SELECT 1 FROM php_session_tombstone WHERE id = $1)', [$id]);
        [$live, $tombstone] = [$rows[0][0] === 't', $rows[0][1] === 't'];
        return match (true) {
            $live && $tombstone => 'live+tombstone',
            $live => 'live',
            $tombstone => 'tombstone',
            default => 'absent',
        };
    }

    /** @return array{data: string, hlc: int, origin: int}|null the session's live row on a node */
    public static function liveRow(string $node, string $id): ?array
    {
        $rows = self::query($node, "SELECT encode(data, 'hex'), hlc, origin FROM php_session WHERE id = \$1", [$id]);
        if ($rows === []) {
            return null;
        }
        return ['data' => (string) hex2bin((string) $rows[0][0]), 'hlc' => (int) $rows[0][1], 'origin' => (int) $rows[0][2]];
    }

    /** @return array{hlc: int, origin: int}|null the session's tombstone on a node */
    public static function tombstone(string $node, string $id): ?array
    {
        $rows = self::query($node, 'SELECT hlc, origin FROM php_session_tombstone WHERE id = $1', [$id]);
        return $rows === [] ? null : ['hlc' => (int) $rows[0][0], 'origin' => (int) $rows[0][1]];
    }
}
