<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * The handler's links to nodes A and B (as Sources/Cluster/NodeLink.swift and NodeHealth.swift are
 * for the responder): the `pgsql` connections, opened on first use, both at once, each checking
 * the node's identity (`cluster_node`); which node is usable; one statement sent to several nodes
 * at once, each within the query timeout; the down memo; each node's clock as the last read
 * measured it (for the fences); and the nodes' standing (standAlone(), keepAlone()).
 *
 * A node that cannot be reached within the connect timeout (or stops answering within the query
 * timeout) is skipped for the rest of the request, and, through a small file in the down memo
 * directory, by the requests of the next seconds, so that they do not each wait for the timeout.
 * Every failure is told to the $report function of the owner (the handler's lastError()).
 */
final class NodeLinks
{
    /** The nodes, A first. */
    public const NODES = ['a', 'b'];

    /** @var array<string, string> libpq connection strings of nodes a and b */
    private array $conninfo;

    /** @var array<string, \PgSql\Connection|null> */
    private array $connections = ['a' => null, 'b' => null];

    /** @var array<string, string> 'unknown' (not tried yet), 'up' or 'down' */
    private array $state = ['a' => 'unknown', 'b' => 'unknown'];

    /** @var array<string, float> when each node was marked down */
    private array $downAt = ['a' => 0.0, 'b' => 0.0];

    /** @var array<string, string> why each node was marked down last */
    private array $downWhy = ['a' => '-', 'b' => '-'];

    /** @var array<string, float> when the last statement was sent to each node (this host's clock) */
    private array $sentAt = [];

    /** @var array<string, float> how far each node's clock is ahead of this host's, as the last read found it */
    private array $clockOffset = [];

    /**
     * @param string|array $nodeA libpq connection string (or URI) or ['host'=>…, 'port'=>…,
     *     'dbname'=>…, 'user'=>…, 'password'=>…] of node A
     * @param string|array $nodeB the same for node B
     * @param float $connectTimeout seconds to connect to a node
     * @param float $queryTimeout client-side deadline of one database call
     * @param int $statementTimeout server-side statement_timeout in seconds
     * @param string|null $downMemoDir where a node found unreachable is remembered ('' : the system
     *     temp directory; null disables the memo)
     * @param float $downMemoSeconds how long a node found unreachable is skipped
     * @param \Closure(string): void $report told why, at every failure
     */
    public function __construct(
        string|array $nodeA,
        string|array $nodeB,
        private float $connectTimeout,
        private float $queryTimeout,
        private int $statementTimeout,
        private ?string $downMemoDir,
        private float $downMemoSeconds,
        private \Closure $report,
    ) {
        $this->conninfo = ['a' => $this->conninfoOf($nodeA), 'b' => $this->conninfoOf($nodeB)];
        if ($this->downMemoDir === '') {
            $this->downMemoDir = sys_get_temp_dir();
        }
    }

    public function isUsable(string $node): bool
    {
        return $this->state[$node] === 'up';
    }

    /** @return non-empty-list<string> the usable nodes, A first; throws when there is none */
    public function usableNodes(): array
    {
        $this->connectAll();
        $nodes = array_values(array_filter(self::NODES, fn (string $node): bool => $this->isUsable($node)));
        if ($nodes === []) {
            throw new ClusterSessionUnavailable("no node is up (node a: {$this->downWhy['a']}; node b: {$this->downWhy['b']})");
        }
        return $nodes;
    }

    /**
     * Runs one statement on each of $nodes at once, each within the query timeout. A node that
     * fails is marked down and left out; throws when none answered.
     *
     * @return array<string, \PgSql\Result>
     */
    public function onAll(array $nodes, string $sql, array $params): array
    {
        $results = $this->send($nodes, $sql, $params);
        if ($results === [] && $nodes !== []) {
            throw new ClusterSessionUnavailable('no node answered');
        }
        return $results;
    }

    /** Runs one statement on one node: its result, or null when it failed there. */
    public function on(string $node, string $sql, array $params): ?\PgSql\Result
    {
        return $this->send([$node], $sql, $params)[$node] ?? null;
    }

    /**
     * Sends one statement to each of $nodes at once and collects the answers, each within the
     * query timeout: the results of the nodes that answered. A node that fails is marked down
     * (an SQL error leaves it up) and left out.
     *
     * @param array|\Closure(string): array $params the parameters, or a function of the node giving them
     * @return array<string, \PgSql\Result>
     */
    public function send(array $nodes, string $sql, array|\Closure $params): array
    {
        $waiting = [];
        foreach ($nodes as $node) {
            $connection = $this->connections[$node] ?? null;
            if ($connection === null || !$this->isUsable($node)) {
                continue;
            }
            $this->sentAt[$node] = microtime(true);
            if (!@pg_send_query_params($connection, $sql, $params instanceof \Closure ? $params($node) : $params)) {
                $this->markDown($node, 'connection lost');
                continue;
            }
            $waiting[$node] = null;  // the first result, once there
        }
        $deadline = microtime(true) + $this->queryTimeout;
        $results = [];
        while ($waiting !== []) {
            $read = [];
            foreach ($waiting as $node => $first) {
                $connection = $this->connections[$node];
                if (!@pg_consume_input($connection)) {
                    $this->markDown($node, 'connection lost');
                    unset($waiting[$node]);
                    continue;
                }
                while (!pg_connection_busy($connection)) {
                    $result = pg_get_result($connection);
                    if ($result !== false) {
                        $waiting[$node] ??= $result;
                        continue;
                    }
                    // The statement is complete.
                    $first = $waiting[$node];
                    unset($waiting[$node]);
                    if ($first === null) {
                        $this->markDown($node, 'connection lost');
                        break;
                    }
                    $status = pg_result_status($first);
                    if ($status === PGSQL_COMMAND_OK || $status === PGSQL_TUPLES_OK) {
                        $results[$node] = $first;
                    } elseif (pg_connection_status($connection) !== PGSQL_CONNECTION_OK) {
                        $this->markDown($node, 'connection lost');
                    } else {
                        // An SQL error: the node stays up; the statement failed there.
                        ($this->report)("statement failed on node $node (SQLSTATE "
                            . (string) pg_result_error_field($first, PGSQL_DIAG_SQLSTATE) . ')');
                    }
                    break;
                }
                if (array_key_exists($node, $waiting)) {
                    $read[$node] = pg_socket($connection);
                }
            }
            if ($read === []) {
                break;
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                foreach (array_keys($waiting) as $node) {
                    $this->markDown($node, 'query timeout');
                }
                break;
            }
            $write = $except = null;
            @stream_select($read, $write, $except, (int) $left, (int) (($left - (int) $left) * 1e6));
        }
        return $results;
    }

    /**
     * The node's clock, read by a statement sent by send() (READ_SQL's last column): how far it
     * is ahead of this host's is kept for the fences of the changes that follow. The node read
     * its clock after the statement was sent, however long the answer waited.
     */
    public function measureClock(string $node, ?string $nodeClock): void
    {
        if ($nodeClock !== null && isset($this->sentAt[$node])) {
            $this->clockOffset[$node] = (float) $nodeClock - $this->sentAt[$node];
        }
    }

    /**
     * The fence of a change sent now to $node: the moment, on the node's own clock, when this
     * handler gives up on the call (one query timeout from now); null (no fence) while the node's
     * clock was not read yet.
     */
    public function fence(string $node): ?string
    {
        if (!isset($this->clockOffset[$node])) {
            return null;
        }
        return sprintf('%.6F', microtime(true) + $this->clockOffset[$node] + $this->queryTimeout);
    }

    /**
     * Seconds within which a node must have been beaten to count as fresh: min(1.5 s, 0.75 × the
     * query timeout), less than the time it takes to judge a hung node away.
     */
    public function freshness(): string
    {
        return sprintf('%.3F', min(1.5, 0.75 * $this->queryTimeout));
    }

    // ------------------------------------------------------------------ standing

    /**
     * Makes $node stand alone, so that it may take changes while the other node is away: it must
     * already stand alone, or be current and fresh. Waits until the standing is
     * SOLO_SETTLE_SECONDS old: meanwhile the other node's beats, if it is reachable at all, mark it
     * not current. Throws when the node cannot prove that it holds every acknowledged write.
     */
    public function standAlone(string $node): void
    {
        $result = $this->on($node, Statements::CLAIM_SQL, [$this->freshness()]);
        $row = $result === null ? false : pg_fetch_row($result);
        if ($row === false || $row[0] === null) {
            throw new ClusterSessionUnavailable("node $node cannot prove it holds every write while the other is away");
        }
        $wait = Statements::SOLO_SETTLE_SECONDS - (float) $row[0];
        if ($wait > 0) {
            usleep((int) (($wait + 0.02) * 1e6));
        }
    }

    /**
     * A write that $node confirmed while the other node failed: the row is queued on $node for the
     * other, and for a change to an existing row ($claim) $node must stand alone. Otherwise the
     * outcome of the write is unknown (throws).
     */
    public function keepAlone(string $node, string $id, bool $claim): void
    {
        if ($this->on($node, Statements::OUTBOX_ADD_SQL, [$id]) === null) {
            throw new ClusterSessionUnavailable("written on node $node only, and not queued: the outcome of the write is unknown");
        }
        if ($claim) {
            try {
                $this->standAlone($node);
            } catch (ClusterSessionUnavailable $e) {
                throw new ClusterSessionUnavailable("written on node $node only ({$e->getMessage()}): the outcome of the write is unknown");
            }
        }
    }

    // ------------------------------------------------------------------ connections and health

    /**
     * Connects the nodes not tried yet (and retries a node found down a while ago), both at once,
     * each within the connect timeout. A connected node checks its identity (`cluster_node`).
     */
    private function connectAll(): void
    {
        $pending = [];
        foreach (self::NODES as $node) {
            if ($this->state[$node] === 'down' && microtime(true) - $this->downAt[$node] >= $this->downMemoSeconds) {
                $this->state[$node] = 'unknown';
            }
            if ($this->state[$node] !== 'unknown') {
                continue;
            }
            if ($this->memoSaysDown($node)) {
                $this->markDown($node, 'recently unreachable', memo: false);
                continue;
            }
            $connection = @pg_connect($this->conninfo[$node], PGSQL_CONNECT_FORCE_NEW | PGSQL_CONNECT_ASYNC);
            if ($connection === false) {
                $this->markDown($node, 'cannot connect');
                continue;
            }
            // Just after the start, libpq wants the socket writable.
            $pending[$node] = ['connection' => $connection, 'status' => PGSQL_POLLING_WRITING];
        }
        if ($pending === []) {
            return;
        }
        $newlyUp = [];
        $deadline = microtime(true) + $this->connectTimeout;
        while ($pending !== []) {
            $read = $write = [];
            foreach ($pending as $node => $p) {
                if ($p['status'] === PGSQL_POLLING_READING) {
                    $read[$node] = pg_socket($p['connection']);
                } else {
                    $write[$node] = pg_socket($p['connection']);
                }
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                foreach ($pending as $node => $p) {
                    @pg_close($p['connection']);  // no statement is pending while connecting
                    $this->markDown($node, 'connect timeout');
                }
                break;
            }
            $except = null;
            $ready = @stream_select($read, $write, $except, (int) $left, (int) (($left - (int) $left) * 1e6));
            if ($ready === false) {
                usleep(1000);
            }
            foreach ($pending as $node => $p) {
                if ($ready !== false && !isset($read[$node]) && !isset($write[$node])) {
                    continue;  // not ready yet
                }
                $status = pg_connect_poll($p['connection']);
                if ($status === PGSQL_POLLING_OK) {
                    $this->connections[$node] = $p['connection'];
                    $this->state[$node] = 'up';
                    $newlyUp[$node] = true;
                    unset($pending[$node]);
                } elseif ($status === PGSQL_POLLING_FAILED) {
                    @pg_close($p['connection']);
                    $this->markDown($node, 'cannot connect');
                    unset($pending[$node]);
                } else {
                    $pending[$node]['status'] = $status;
                }
            }
        }
        // A node joined: its identity.
        $joined = array_keys($newlyUp);
        if ($joined === []) {
            return;
        }
        $results = $this->send($joined, Statements::IDENTITY_SQL, []);
        foreach ($joined as $node) {
            $row = isset($results[$node]) ? pg_fetch_row($results[$node]) : false;
            if ($row === false) {
                if ($this->isUsable($node)) {
                    $this->markDown($node, 'no answer to the identity check');
                }
                continue;
            }
            if ($row[0] !== $node) {
                $this->markDown($node, "database is not node $node (cluster_node)", memo: false);
                $this->downAt[$node] = INF;  // a configuration error: never used
                continue;
            }
            $this->memoClear($node);
        }
    }

    private function markDown(string $node, string $why, bool $memo = true): void
    {
        $this->state[$node] = 'down';
        $this->downAt[$node] = microtime(true);
        $this->downWhy[$node] = $why;
        if (($this->connections[$node] ?? null) !== null) {
            self::abandon($this->connections[$node]);
        }
        $this->connections[$node] = null;
        ($this->report)("node $node: $why");
        if ($memo) {
            $this->memoSetDown($node);
        }
    }

    /**
     * Closes a connection that may still wait for an answer. PHP's pg_close() first waits for
     * every pending result, forever on a hung node; shutting the socket down makes libpq see the
     * end of the connection at once. Without the sockets extension, PQreset (pg_connection_reset)
     * drops the pending state instead, at the cost of one connect attempt.
     */
    private static function abandon(\PgSql\Connection $connection): void
    {
        if (@pg_connection_busy($connection)) {
            $stream = @pg_socket($connection);
            $socket = $stream !== false && function_exists('socket_import_stream') ? @socket_import_stream($stream) : false;
            if ($socket !== false && $socket !== null) {
                @socket_shutdown($socket, 2);
            } else {
                @pg_connection_reset($connection);
            }
        }
        @pg_close($connection);
    }

    // A node found unreachable is remembered for a few seconds in a file, so that the requests
    // that follow skip it at once instead of each waiting for the connect timeout.

    private function memoPath(string $node): ?string
    {
        if ($this->downMemoDir === null) {
            return null;
        }
        return $this->downMemoDir . '/cluster-session-down-' . substr(sha1($this->conninfo[$node]), 0, 16);
    }

    private function memoSaysDown(string $node): bool
    {
        $path = $this->memoPath($node);
        if ($path === null) {
            return false;
        }
        clearstatcache(true, $path);
        $mtime = @filemtime($path);
        return $mtime !== false && time() - $mtime < $this->downMemoSeconds;
    }

    private function memoSetDown(string $node): void
    {
        $path = $this->memoPath($node);
        if ($path !== null) {
            @touch($path);
        }
    }

    private function memoClear(string $node): void
    {
        $path = $this->memoPath($node);
        if ($path !== null && file_exists($path)) {
            @unlink($path);
        }
    }

    /** A libpq connection string from a string or an array, with the handler's timeouts. */
    private function conninfoOf(string|array $node): string
    {
        if (is_array($node)) {
            $parts = [];
            foreach ($node as $key => $value) {
                if ($value === null) {
                    continue;
                }
                $key = ['name' => 'dbname', 'database' => 'dbname', 'username' => 'user'][$key] ?? $key;
                $parts[$key] = "$key='" . addcslashes((string) $value, "'\\") . "'";
            }
            $conninfo = implode(' ', $parts);
        } else {
            $conninfo = trim($node);
        }
        $extra = [
            'connect_timeout' => (string) max(1, (int) ceil($this->connectTimeout)),
            'options' => '-c statement_timeout=' . ($this->statementTimeout * 1000) . ' -c TimeZone=UTC',
            'application_name' => 'php-cluster-session',
        ];
        if (preg_match('~^postgres(ql)?://~', $conninfo)) {
            // A URI: the settings go into its query string.
            foreach ($extra as $key => $value) {
                if (!preg_match('/[?&]' . $key . '=/', $conninfo)) {
                    $conninfo .= (str_contains($conninfo, '?') ? '&' : '?') . $key . '=' . rawurlencode($value);
                }
            }
            return $conninfo;
        }
        foreach ($extra as $key => $value) {
            if (!preg_match('/(^|\s)' . $key . '\s*=/', $conninfo)) {
                $conninfo .= " $key='" . addcslashes($value, "'\\") . "'";
            }
        }
        return $conninfo;
    }
}
