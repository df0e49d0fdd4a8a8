<?php

declare(strict_types=1);

/**
 * A PHP session save handler for the two-node session cluster (see README.md next to this file).
 *
 * It shares `php_session` with the Swift responder and follows docs/PROTOCOL.md: a hybrid logical
 * clock, a random origin per handler instance, reads from both nodes (a tombstone anywhere wins,
 * else the newest version), a compare-and-set write on the primary node, a copy to the other node
 * with the settlement upsert, the outbox twin while a node is away, tombstones for destroy.
 *
 * PHP hands write() the whole new session, not a change. When the compare-and-set loses to another
 * writer, the handler re-reads and merges at the level of top-level session variables (see
 * PhpSessionMerge below): the variables this request added, changed or removed are applied onto
 * the stored session, the others keep their stored values. So PHP and the responder writing one
 * session at once never lose each other's changes, unless they changed the same variable (then the
 * later writer's value of that variable wins).
 *
 *     session_set_save_handler(new ClusterSessionHandler(
 *         'host=10.0.0.1 port=5432 dbname=cluster_session_a user=webuser password=…',
 *         ['host' => '10.0.0.2', 'dbname' => 'cluster_session_b', 'user' => 'webuser', 'password' => '…'],
 *         lifetime: 1440, touchInterval: 60), true);
 *     ini_set('session.use_strict_mode', '1');
 *     session_start();
 */
final class ClusterSessionHandler implements
    SessionHandlerInterface,
    SessionIdInterface,
    SessionUpdateTimestampHandlerInterface
{
    private const NODES = ['a', 'b'];

    private const READ_SQL = <<<'SQL'
        SELECT encode(data, 'hex'), hlc, origin, deleted,
               date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int) AS expired,
               extract(epoch FROM (now() AT TIME ZONE 'UTC') - date_change)::bigint AS age
        FROM php_session WHERE id = $1
        SQL;

    private const CLOCK_TIME = "(to_timestamp((\$3::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')";

    /** $1 id, $2 data, $3 hlc, $4 origin, $5 expected hlc, $6 expected origin */
    private const CAS_SQL = 'UPDATE php_session SET data = $2::bytea, hlc = $3, origin = $4, date_change = '
        . self::CLOCK_TIME
        . ' WHERE id = $1 AND hlc = $5 AND origin = $6 AND NOT deleted RETURNING id';

    /** $1 id, $2 data, $3 hlc, $4 origin: never takes over an existing row or tombstone */
    private const INSERT_SQL = 'INSERT INTO php_session (id, data, hlc, origin, deleted, date_change)'
        . ' VALUES ($1, $2::bytea, $3, $4, false, ' . self::CLOCK_TIME . ')'
        . ' ON CONFLICT (id) DO NOTHING RETURNING id';

    /** $1 id, $2 data, $3 hlc, $4 origin, $5 deleted, $6 date_change or NULL: the settlement upsert */
    private const PUT_SQL = 'INSERT INTO php_session AS s (id, data, hlc, origin, deleted, date_change)'
        . ' VALUES ($1, $2::bytea, $3, $4, $5, COALESCE($6::timestamp, ' . self::CLOCK_TIME . '))'
        . ' ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,'
        . ' deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change'
        . ' WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))'
        . ' RETURNING id';

    /** $1 age in seconds, $2 batch size */
    private const PURGE_SQL_LIVE = "DELETE FROM php_session WHERE id IN (SELECT id FROM php_session"
        . " WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int) AND NOT deleted"
        . ' ORDER BY date_change LIMIT $2)';

    private const PURGE_SQL_TOMBSTONES = "DELETE FROM php_session WHERE id IN (SELECT id FROM php_session"
        . " WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int) AND deleted"
        . ' ORDER BY date_change LIMIT $2)';

    private const OUTBOX_ADD_SQL = "INSERT INTO replication_outbox (table_name, row_key) VALUES ('php_session', \$1)";

    private const IDENTITY_SQL = 'SELECT name, EXISTS (SELECT 1 FROM replication_outbox) FROM cluster_node';

    private const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,-';

    /** @var array<string, string> libpq connection strings of nodes a and b */
    private array $conninfo;

    /** @var array<string, \PgSql\Connection|null> */
    private array $connections = ['a' => null, 'b' => null];

    /** @var array<string, string> 'unknown' (not tried yet), 'up', 'catching_up' or 'down' */
    private array $state = ['a' => 'unknown', 'b' => 'unknown'];

    /** @var array<string, float> when each node was marked down */
    private array $downAt = ['a' => 0.0, 'b' => 0.0];

    /** @var array<string, string> why each node was marked down last */
    private array $downWhy = ['a' => '-', 'b' => '-'];

    /** The last hybrid logical clock value given out or seen. */
    private int $clock = 0;

    /** This handler instance's writer id: a random positive 31-bit integer. */
    private int $origin;

    /** @var array<string, array> what read() returned per id, with the versions it saw */
    private array $snapshots = [];

    /** @var array<string, array> snapshots taken by validateId(), handed to the read() that follows */
    private array $validated = [];

    private ?string $lastError = null;

    /** @var array{lost_races: int, merges: int} */
    private array $stats = ['lost_races' => 0, 'merges' => 0];

    /**
     * @param string|array $nodeA libpq connection string or ['host'=>…, 'port'=>…, 'dbname'=>…,
     *     'user'=>…, 'password'=>…] of node A (the preferred primary)
     * @param string|array $nodeB the same for node B
     * @param int $lifetime seconds without a write or refresh before a session expires (SESSION_LIFETIME)
     * @param int $touchInterval least seconds between two refreshes of an unchanged session (SESSION_TOUCH_INTERVAL)
     * @param float $connectTimeout seconds to connect to a node (DB_CONNECT_TIMEOUT)
     * @param float $queryTimeout client-side deadline of one database call (DB_QUERY_TIMEOUT)
     * @param float $conflictWindow how long write() keeps re-reading and merging after losing races
     * @param int $statementTimeout server-side statement_timeout in seconds (DB_STATEMENT_TIMEOUT)
     * @param int $tombstoneTtl seconds gc() keeps tombstones (TOMBSTONE_TTL)
     * @param string|null $downMemoDir where a node found unreachable is remembered for $downMemoSeconds,
     *     so that the next requests skip it without waiting; null disables the memo
     * @param float $downMemoSeconds how long a node found unreachable is skipped
     */
    public function __construct(
        string|array $nodeA,
        string|array $nodeB,
        private int $lifetime = 1440,
        private int $touchInterval = 60,
        private float $connectTimeout = 2.0,
        private float $queryTimeout = 2.0,
        private float $conflictWindow = 2.0,
        private int $statementTimeout = 5,
        private int $tombstoneTtl = 604800,
        private ?string $downMemoDir = '',
        private float $downMemoSeconds = 5.0,
    ) {
        if (!extension_loaded('pgsql')) {
            throw new RuntimeException('ClusterSessionHandler needs the pgsql extension');
        }
        if ($lifetime < 1 || $touchInterval < 0) {
            throw new InvalidArgumentException('lifetime must be positive and touchInterval not negative');
        }
        $this->conninfo = ['a' => $this->conninfoOf($nodeA), 'b' => $this->conninfoOf($nodeB)];
        if ($this->downMemoDir === '') {
            $this->downMemoDir = sys_get_temp_dir();
        }
        $this->origin = random_int(1, 0x7fffffff);
    }

    /** The reason of the last failure (no SQL, no password), or null. */
    public function lastError(): ?string
    {
        return $this->lastError;
    }

    /** How many compare-and-set writes of this instance lost a race, and how many merges followed. */
    public function stats(): array
    {
        return $this->stats;
    }

    /** This instance's origin (writer id). */
    public function origin(): int
    {
        return $this->origin;
    }

    // ------------------------------------------------------------------ SessionHandlerInterface

    public function open(string $path, string $name): bool
    {
        // The responder reads and writes PHP's `php` format only; any other would not be shared.
        if (ini_get('session.serialize_handler') !== 'php') {
            $this->lastError = 'session.serialize_handler must be "php" to share sessions with the responder';
            trigger_error('ClusterSessionHandler: ' . $this->lastError, E_USER_WARNING);
            return false;
        }
        return true;  // nodes are connected on first use
    }

    public function close(): bool
    {
        $this->snapshots = [];
        $this->validated = [];
        return true;  // connections stay open for a later session_start() of this request
    }

    public function read(string $id): string|false
    {
        try {
            $snapshot = $this->validated[$id] ?? $this->load($id);
            unset($this->validated[$id]);
            $this->snapshots[$id] = $snapshot;
            return $snapshot['live'] ? $snapshot['data'] : '';
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $e->getMessage();
            return false;
        }
    }

    public function write(string $id, string $data): bool
    {
        try {
            return $this->store($id, $data);
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $e->getMessage();
            return false;
        }
    }

    public function destroy(string $id): bool
    {
        try {
            unset($this->snapshots[$id], $this->validated[$id]);
            $this->putTombstone($id);
            return true;
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $e->getMessage();
            return false;
        }
    }

    /**
     * Deletes, on each node, the sessions expired for the handler's lifetime (not PHP's
     * gc_maxlifetime, so that PHP and the responder agree) and the tombstones older than
     * max(lifetime, tombstone TTL), in batches of 1000 like the responder's own collection.
     */
    public function gc(int $max_lifetime): int|false
    {
        $statements = [
            [self::PURGE_SQL_LIVE, $this->lifetime],
            [self::PURGE_SQL_TOMBSTONES, max($this->lifetime, $this->tombstoneTtl)],
        ];
        $deleted = 0;
        try {
            foreach ($statements as [$sql, $age]) {
                $nodes = $this->usableNodes();
                for ($batch = 0; $batch < 50 && $nodes !== []; $batch++) {
                    $results = $this->onAll($nodes, $sql, [$age, 1000]);
                    $nodes = [];
                    foreach ($results as $node => $result) {
                        $n = pg_affected_rows($result);
                        $deleted += $n;
                        if ($n >= 1000) {
                            $nodes[] = $node;  // more to do there
                        }
                    }
                }
            }
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $e->getMessage();
            return $deleted > 0 ? $deleted : false;
        }
        return $deleted;
    }

    // ------------------------------------------------------------------ SessionIdInterface

    /** 32 characters of PHP's alphabet `[A-Za-z0-9,-]`: 192 random bits. */
    public function create_sid(): string
    {
        $id = '';
        foreach (str_split(random_bytes(32)) as $byte) {
            $id .= self::ID_ALPHABET[ord($byte) & 63];
        }
        return $id;
    }

    // ------------------------------------------------------------------ SessionUpdateTimestampHandlerInterface

    /** Strict mode: only a well-formed id of a live, unexpired session is adopted. */
    public function validateId(string $id): bool
    {
        if (!preg_match('/^[A-Za-z0-9,-]{22,256}$/D', $id)) {
            return false;
        }
        try {
            $snapshot = $this->load($id);
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $e->getMessage();
            return false;
        }
        $this->validated = [$id => $snapshot];
        return $snapshot['live'];
    }

    /** The lazy refresh: PHP calls it instead of write() when the data did not change. */
    public function updateTimestamp(string $id, string $data): bool
    {
        return $this->write($id, $data);
    }

    // ------------------------------------------------------------------ reading

    /**
     * The session as the nodes hold it: step 1 of the protocol.
     *
     * @return array{live: bool, tombstone: bool, data: string, version: ?array, age: int,
     *     primary: string, primaryVersion: ?array}
     */
    private function load(string $id): array
    {
        $primary = $this->primary();
        $results = $this->onAll($this->usableNodes(), self::READ_SQL, [$id, $this->lifetime]);
        $snapshot = [
            'live' => false, 'tombstone' => false, 'data' => '', 'version' => null, 'age' => 0,
            'primary' => $primary, 'primaryVersion' => null,
        ];
        $newest = null;
        foreach ($results as $node => $result) {
            $row = pg_fetch_row($result);
            if ($row === false) {
                continue;
            }
            $version = [(int) $row[1], (int) $row[2]];
            $this->observe($version[0]);
            if ($row[3] === 't') {
                $snapshot['tombstone'] = true;
                continue;
            }
            if ($node === $primary) {
                $snapshot['primaryVersion'] = $version;
            }
            if ($newest === null || $newest['version'] < $version) {
                $newest = ['version' => $version, 'row' => $row];
            }
        }
        if ($snapshot['tombstone']) {
            return $snapshot;  // a tombstone anywhere is final
        }
        if ($newest !== null) {
            $snapshot['version'] = $newest['version'];
            $snapshot['age'] = (int) $newest['row'][5];
            if ($newest['row'][4] !== 't') {
                $snapshot['live'] = true;
                $snapshot['data'] = (string) hex2bin($newest['row'][0]);
            }
        }
        return $snapshot;
    }

    // ------------------------------------------------------------------ writing

    /** write() and updateTimestamp(): steps 2 to 4 of the protocol, merging after lost races. */
    private function store(string $id, string $data): bool
    {
        if (strlen($id) > 256 || $id === '') {
            $this->lastError = 'session id longer than 256 characters';
            return false;
        }
        $snapshot = $this->snapshots[$id] ?? null;
        if ($snapshot === null) {
            // write() without read() (not PHP's own flow): what is stored now counts as read.
            $snapshot = $this->load($id);
        }
        $base = $snapshot['live'] ? $snapshot['data'] : '';
        $deadline = microtime(true) + $this->conflictWindow;
        $target = $data;
        $attempt = 0;
        while (true) {
            if ($snapshot['tombstone']) {
                $this->lastError = 'the session was destroyed';
                $this->putTombstone($id);  // in case an earlier attempt of ours inserted a row
                return false;
            }
            if ($snapshot['live'] && $target === $snapshot['data'] && $snapshot['age'] < $this->touchInterval) {
                $this->remember($id, $snapshot);
                return true;  // nothing changed and refreshed recently: write nothing
            }
            $result = $this->attempt($id, $snapshot, $target);
            if ($result !== null) {
                $this->remember($id, [
                    'live' => true, 'tombstone' => false, 'data' => $target, 'version' => $result, 'age' => 0,
                    'primary' => $snapshot['primary'], 'primaryVersion' => $result,
                ]);
                return true;
            }
            $this->stats['lost_races']++;
            if ($snapshot['live'] && $target === $snapshot['data']) {
                return true;  // a refresh lost to another write, which refreshed the session anyway
            }
            if (microtime(true) >= $deadline) {
                $this->lastError = 'a concurrent change to the session could not be settled in time';
                return false;
            }
            if (++$attempt > 2) {
                usleep(random_int(1000, 5000 * min($attempt, 8)));
            }
            $snapshot = $this->load($id);
            if ($snapshot['live']) {
                $target = PhpSessionMerge::merge($base, $data, $snapshot['data']);
                $this->stats['merges']++;
            } else {
                $target = $data;
            }
        }
    }

    private function remember(string $id, array $snapshot): void
    {
        $this->snapshots[$id] = $snapshot;
    }

    /**
     * One write attempt: the compare-and-set (or insert) on the primary, then the copy to the other
     * node; for a brand-new session an insert on every usable node. Returns the new version, or
     * null when another writer came first (or the primary fell away).
     */
    private function attempt(string $id, array $snapshot, string $data): ?array
    {
        $hlc = $this->next();
        $bytes = '\x' . bin2hex($data);
        $version = [$hlc, $this->origin];
        if ($snapshot['version'] === null) {
            // No row on any node: insert with ON CONFLICT DO NOTHING everywhere.
            $nodes = $this->usableNodes();
            $sql = count($nodes) === 1 ? self::withOutbox(self::INSERT_SQL) : self::INSERT_SQL;
            $results = $this->onAll($nodes, $sql, [$id, $bytes, $hlc, $this->origin]);
            $inserted = 0;
            foreach ($results as $result) {
                $inserted += pg_num_rows($result);
            }
            if (count($results) < count($nodes) && $inserted === count($results)) {
                // A node failed during the call: queue the row for it.
                $this->queueFor(array_keys($results)[0], $id);
            }
            return $inserted === count($results) ? $version : null;
        }

        $primary = $snapshot['primary'];
        if (!$this->isUsable($primary)) {
            return null;
        }
        $other = $primary === 'a' ? 'b' : 'a';
        $otherUsable = $this->isUsable($other);
        if ($snapshot['primaryVersion'] !== null) {
            $sql = self::CAS_SQL;
            $params = [$id, $bytes, $hlc, $this->origin, $snapshot['primaryVersion'][0], $snapshot['primaryVersion'][1]];
        } else {
            $sql = self::INSERT_SQL;  // the primary lacks the row (it was away)
            $params = [$id, $bytes, $hlc, $this->origin];
        }
        if (!$otherUsable) {
            $sql = self::withOutbox($sql);
        }
        try {
            $result = $this->onAll([$primary], $sql, $params)[$primary] ?? null;
        } catch (ClusterSessionUnavailable $e) {
            if ($this->usableNodes() === []) {
                throw $e;
            }
            return null;  // the primary fell away: re-read with the other node deciding
        }
        if ($result === null || pg_num_rows($result) !== 1) {
            return null;
        }
        if ($otherUsable) {
            $this->copy($other, $primary, [$id, $bytes, $hlc, $this->origin, 'f', null]);
        }
        return $version;
    }

    /** Destroy: the settlement upsert of a tombstone on every usable node. */
    private function putTombstone(string $id): void
    {
        $nodes = $this->usableNodes();
        $sql = count($nodes) === 1 ? self::withOutbox(self::PUT_SQL) : self::PUT_SQL;
        $params = [$id, '\x', $this->next(), $this->origin, 't', null];
        $results = $this->onAll($nodes, $sql, $params);
        if (count($nodes) === 2 && count($results) === 1) {
            $this->queueFor(array_keys($results)[0], $id);
        }
    }

    /** Copies a row to $node with the settlement upsert; queues it on $source when that fails. */
    private function copy(string $node, string $source, array $params): void
    {
        try {
            $this->onAll([$node], self::PUT_SQL, $params);
            if ($this->isUsable($node)) {
                return;
            }
        } catch (ClusterSessionUnavailable) {
            // queued below
        }
        $this->queueFor($source, $params[0]);
    }

    /** Records the session in $node's outbox for the other node (which failed mid-call). */
    private function queueFor(string $node, string $id): void
    {
        try {
            $this->onAll([$node], self::OUTBOX_ADD_SQL, [$id]);
        } catch (ClusterSessionUnavailable) {
            // both nodes away now: nothing more can be done
        }
    }

    private static function withOutbox(string $write): string
    {
        return "WITH w AS ($write),"
            . " o AS (INSERT INTO replication_outbox (table_name, row_key) SELECT 'php_session', id::text FROM w)"
            . ' SELECT * FROM w';
    }

    // ------------------------------------------------------------------ clock

    private function next(): int
    {
        [$fraction, $seconds] = explode(' ', microtime());
        $physical = ((int) $seconds * 1000 + (int) ((float) $fraction * 1000)) << 16;
        $this->clock = max($this->clock + 1, $physical);
        return $this->clock;
    }

    private function observe(int $seen): void
    {
        $this->clock = max($this->clock, $seen);
    }

    // ------------------------------------------------------------------ nodes

    /** The primary: A when A is up, else B when B is up, else whichever is usable. */
    private function primary(): string
    {
        $this->connectAll();
        foreach (self::NODES as $node) {
            if ($this->state[$node] === 'up') {
                return $node;
            }
        }
        foreach (self::NODES as $node) {
            if ($this->isUsable($node)) {
                return $node;
            }
        }
        throw new ClusterSessionUnavailable("no node is up (node a: {$this->downWhy['a']}; node b: {$this->downWhy['b']})");
    }

    private function isUsable(string $node): bool
    {
        return $this->state[$node] === 'up' || $this->state[$node] === 'catching_up';
    }

    /** @return list<string> the usable nodes, primary first */
    private function usableNodes(): array
    {
        $primary = $this->primary();
        $other = $primary === 'a' ? 'b' : 'a';
        return $this->isUsable($other) ? [$primary, $other] : [$primary];
    }

    /**
     * Connects the nodes not tried yet (and retries a node found down a while ago), both at once,
     * each within the connect timeout. A connected node checks its identity (`cluster_node`); a
     * node with rows queued for it in the other node's outbox has not caught up yet: it is written
     * but does not decide (`catching_up`), as in the responder.
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
        // A node joined: identity of the new ones, and who is catching up, on all connected nodes.
        $connected = array_values(array_filter(self::NODES, fn ($n) => $this->isUsable($n)));
        if ($connected === []) {
            return;
        }
        $results = $this->send($connected, self::IDENTITY_SQL, []);
        $queued = [];
        foreach ($connected as $node) {
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
            $queued[$node] = $row[1] === 't';
            $this->memoClear($node);
        }
        foreach ($queued as $node => $unused) {
            // Rows queued on the other node are for this one: it has not caught up yet.
            $other = $node === 'a' ? 'b' : 'a';
            $this->state[$node] = ($queued[$other] ?? false) ? 'catching_up' : 'up';
        }
    }

    /**
     * Runs one statement on each of $nodes at once, each within the query timeout. A node that
     * fails is marked down and left out; throws when none answered.
     *
     * @return array<string, \PgSql\Result>
     */
    private function onAll(array $nodes, string $sql, array $params): array
    {
        $results = $this->send($nodes, $sql, $params);
        if ($results === [] && $nodes !== []) {
            throw new ClusterSessionUnavailable('no node answered');
        }
        return $results;
    }

    /** @return array<string, \PgSql\Result> */
    private function send(array $nodes, string $sql, array $params): array
    {
        $waiting = [];
        foreach ($nodes as $node) {
            $connection = $this->connections[$node] ?? null;
            if ($connection === null || !$this->isUsable($node)) {
                continue;
            }
            if (!@pg_send_query_params($connection, $sql, $params)) {
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
                        $this->lastError = "statement failed on node $node (SQLSTATE "
                            . (string) pg_result_error_field($first, PGSQL_DIAG_SQLSTATE) . ')';
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

    private function markDown(string $node, string $why, bool $memo = true): void
    {
        $this->state[$node] = 'down';
        $this->downAt[$node] = microtime(true);
        $this->downWhy[$node] = $why;
        if (($this->connections[$node] ?? null) !== null) {
            self::abandon($this->connections[$node]);
        }
        $this->connections[$node] = null;
        $this->lastError = "node $node: $why";
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

/** Both nodes unreachable (or the one left failed): the handler method returns false. */
final class ClusterSessionUnavailable extends RuntimeException
{
}

/**
 * PHP's `php` session serialize format (`name|<serialized value>name2|<serialized value>…`), read
 * at the level of top-level session variables, and the three-way merge ClusterSessionHandler uses
 * when its compare-and-set write lost a race.
 *
 * Values are never unserialized (no class is loaded, no object is woken up): a small tokenizer
 * finds where each value ends, how many back-reference slots it takes and where its back-references
 * (`R:n;`, `r:n;`) are. PHP numbers the slots of a session across all variables (the first
 * variable's value is slot 1, every value nested or not takes one slot, `R:` takes none), so a
 * back-reference may point into an earlier variable; the merge rewrites those numbers when
 * variables move, exactly as PHP's own encoder would have numbered them.
 *
 * Limitation: the payload of a `C:` value (the deprecated `Serializable` interface) is opaque; its
 * inner back-references are not renumbered.
 */
final class PhpSessionDocument
{
    /**
     * The variables in order: name, serialized text, slot count, first slot, and the
     * back-references in the text (offset and length of the number, absolute target slot,
     * and the target as [variable index, offset within that variable]).
     *
     * @var list<array{name: string, text: string, slots: int, start: int,
     *     refs: list<array{pos: int, len: int, target: int, var: int, offset: int}>}>
     */
    public array $vars = [];

    /** @var array<string, int> variable name → index in $vars */
    public array $index = [];

    /**
     * Parses a session; null when the text is not in the `php` format, holds a back-reference that
     * points nowhere, or names a variable twice.
     */
    public static function parse(string $text): ?self
    {
        $doc = new self();
        $length = strlen($text);
        $pos = 0;
        $slot = 1;
        while ($pos < $length) {
            $bar = strpos($text, '|', $pos);
            if ($bar === false) {
                return null;
            }
            $name = substr($text, $pos, $bar - $pos);
            if (isset($doc->index[$name])) {
                return null;
            }
            $slots = 0;
            $refs = [];
            $end = self::skipValue($text, $bar + 1, $slots, $refs, 0);
            if ($end < 0) {
                return null;
            }
            $valueText = substr($text, $bar + 1, $end - $bar - 1);
            foreach ($refs as &$ref) {
                $ref['pos'] -= $bar + 1;
            }
            unset($ref);
            $doc->index[$name] = count($doc->vars);
            $doc->vars[] = ['name' => $name, 'text' => $valueText, 'slots' => $slots, 'start' => $slot, 'refs' => $refs];
            $slot += $slots;
            $pos = $end;
        }
        // Resolve every back-reference to (variable, offset); it must point at an earlier slot.
        foreach ($doc->vars as $i => &$var) {
            foreach ($var['refs'] as &$ref) {
                $found = null;
                for ($j = $i; $j >= 0; $j--) {
                    $other = $doc->vars[$j];
                    if ($ref['target'] >= $other['start'] && $ref['target'] < $other['start'] + $other['slots']) {
                        $found = $j;
                        break;
                    }
                }
                if ($found === null) {
                    return null;
                }
                $ref['var'] = $found;
                $ref['offset'] = $ref['target'] - $doc->vars[$found]['start'];
            }
            unset($ref);
        }
        unset($var);
        return $doc;
    }

    /**
     * The text of variable $i with its back-references written relative to the variables they
     * point into: two variables of two sessions are "the same" when these forms are equal.
     */
    public function canonical(int $i): string
    {
        $var = $this->vars[$i];
        $out = '';
        $at = 0;
        foreach ($var['refs'] as $ref) {
            $target = $ref['var'] === $i ? '' : $this->vars[$ref['var']]['name'];
            $out .= substr($var['text'], $at, $ref['pos'] - $at) . '@' . strlen($target) . ':' . $target . '+' . $ref['offset'];
            $at = $ref['pos'] + $ref['len'];
        }
        return $out . substr($var['text'], $at);
    }

    /** Names of the variables that variable $i points into (itself excluded). */
    public function dependencies(int $i): array
    {
        $names = [];
        foreach ($this->vars[$i]['refs'] as $ref) {
            if ($ref['var'] !== $i) {
                $names[$this->vars[$ref['var']]['name']] = $ref['offset'];
            }
        }
        return array_keys($names);
    }

    /**
     * Skips one serialized value at $p; returns the offset after it, or -1 when it is malformed.
     * Counts the slots it takes and records its back-references.
     */
    private static function skipValue(string $s, int $p, int &$slots, array &$refs, int $depth): int
    {
        if ($depth > 4096 || $p >= strlen($s)) {
            return -1;
        }
        $m = [];
        switch ($s[$p]) {
            case 'N':
                if (substr($s, $p, 2) !== 'N;') {
                    return -1;
                }
                $slots++;
                return $p + 2;
            case 'b':
            case 'i':
            case 'd':
                if (!preg_match('/\G(?:b:[01]|i:[+-]?[0-9]+|d:(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF|-INF|NAN));/', $s, $m, 0, $p)) {
                    return -1;
                }
                $slots++;
                return $p + strlen($m[0]);
            case 's':
                if (!preg_match('/\Gs:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $end = $p + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $end + 2;
            case 'S':
                if (!preg_match('/\GS:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $q = $p + strlen($m[0]);
                for ($n = (int) $m[1]; $n > 0; $n--) {
                    if ($q >= strlen($s)) {
                        return -1;
                    }
                    if ($s[$q] === '\\') {
                        if (!ctype_xdigit(substr($s, $q + 1, 2)) || strlen(substr($s, $q + 1, 2)) !== 2) {
                            return -1;
                        }
                        $q += 3;
                    } else {
                        $q++;
                    }
                }
                if (substr($s, $q, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $q + 2;
            case 'r':
            case 'R':
                if (!preg_match('/\G[rR]:([0-9]+);/', $s, $m, 0, $p)) {
                    return -1;
                }
                $refs[] = ['pos' => $p + 2, 'len' => strlen($m[1]), 'target' => (int) $m[1], 'var' => -1, 'offset' => 0];
                if ($s[$p] === 'r') {
                    $slots++;
                }
                return $p + strlen($m[0]);
            case 'E':
                if (!preg_match('/\GE:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $end = $p + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $end + 2;
            case 'C':
                if (!preg_match('/\GC:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $q = $p + strlen($m[0]) + (int) $m[1];
                if (!preg_match('/\G":([0-9]+):\{/', $s, $m, 0, $q)) {
                    return -1;
                }
                $end = $q + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 1) !== '}') {
                    return -1;
                }
                $slots++;
                return $end + 1;
            case 'a':
            case 'O':
                if ($s[$p] === 'a') {
                    if (!preg_match('/\Ga:([0-9]+):\{/', $s, $m, 0, $p)) {
                        return -1;
                    }
                    $q = $p + strlen($m[0]);
                    $count = (int) $m[1];
                } else {
                    if (!preg_match('/\GO:([0-9]+):"/', $s, $m, 0, $p)) {
                        return -1;
                    }
                    $q = $p + strlen($m[0]) + (int) $m[1];
                    if (!preg_match('/\G":([0-9]+):\{/', $s, $m, 0, $q)) {
                        return -1;
                    }
                    $q += strlen($m[0]);
                    $count = (int) $m[1];
                }
                $slots++;
                for ($n = 0; $n < $count; $n++) {
                    // Keys (int or string) take no slot and hold no reference.
                    $keySlots = 0;
                    $keyRefs = [];
                    if ($q >= strlen($s) || !in_array($s[$q], ['i', 's', 'S'], true)) {
                        return -1;
                    }
                    $q = self::skipValue($s, $q, $keySlots, $keyRefs, $depth + 1);
                    if ($q < 0) {
                        return -1;
                    }
                    $q = self::skipValue($s, $q, $slots, $refs, $depth + 1);
                    if ($q < 0) {
                        return -1;
                    }
                }
                if (substr($s, $q, 1) !== '}') {
                    return -1;
                }
                return $q + 1;
            default:
                return -1;
        }
    }
}

/**
 * The three-way merge of one session at the level of its top-level variables.
 *
 * Given what the request read (`$base`), what it wants to write (`$mine`) and what is stored now
 * (`$current`, written by someone else in between):
 *
 *  - a variable the request added or changed (its serialized value differs from the one it read)
 *    takes the request's value; a variable the request removed is removed;
 *  - every other variable keeps its stored value, including variables the other writer added,
 *    changed or removed;
 *  - stored variables keep their order; variables the request added go at the end;
 *  - back-references between variables (PHP references and shared objects) are kept: a variable
 *    taken from one side brings the variables it points into along from the same side when the
 *    other side's copy differs; back-reference numbers are rewritten for the merged order.
 *
 * When the request and the other writer changed the same variable, the request (the later
 * writer) wins for that variable. When a side cannot be parsed, or references across variables
 * cannot be kept consistent, the request's data is written whole (last writer wins).
 */
final class PhpSessionMerge
{
    /** @return string the merged session text */
    public static function merge(string $base, string $mine, string $current): string
    {
        $b = PhpSessionDocument::parse($base);
        $n = PhpSessionDocument::parse($mine);
        $c = PhpSessionDocument::parse($current);
        if ($b === null || $n === null || $c === null) {
            return $mine;
        }
        $changed = [];
        foreach ($n->vars as $i => $var) {
            $name = $var['name'];
            if (!isset($b->index[$name]) || $b->canonical($b->index[$name]) !== $n->canonical($i)) {
                $changed[$name] = true;
            }
        }
        $removed = [];
        foreach ($b->vars as $var) {
            if (!isset($n->index[$var['name']])) {
                $removed[$var['name']] = true;
            }
        }

        // The merged list: [name, side] with side 'n' (the request's) or 'c' (stored).
        $entries = [];
        foreach ($c->vars as $var) {
            $name = $var['name'];
            if (isset($removed[$name])) {
                continue;
            }
            $entries[] = [$name, isset($changed[$name]) ? 'n' : 'c'];
        }
        foreach ($n->vars as $var) {
            if (isset($changed[$var['name']]) && !isset($c->index[$var['name']])) {
                $entries[] = [$var['name'], 'n'];
            }
        }

        $docs = ['n' => $n, 'c' => $c];
        $limit = 2 * (count($n->vars) + count($c->vars)) + 2;
        for ($round = 0; ; $round++) {
            if ($round > $limit) {
                return $mine;
            }
            $problem = self::findBrokenLink($entries, $docs);
            if ($problem === null) {
                break;
            }
            [$at, $target] = $problem;
            [$name, $side] = $entries[$at];
            if ($side === 'n') {
                // The request's variable points into $target: bring the request's $target along,
                // placed before it.
                $entries = self::place($entries, $target, 'n', $at);
            } elseif (isset($n->index[$name])) {
                // A stored variable points into one the request changed: take the request's view
                // of the pointing variable too.
                $entries[$at] = [$name, 'n'];
            } else {
                // Added by the other writer and pointing into a variable the request changed:
                // the stored target is kept.
                $entries = self::place($entries, $target, 'c', $at);
            }
        }
        $merged = self::emit($entries, $docs);
        return PhpSessionDocument::parse($merged) === null ? $mine : $merged;
    }

    /**
     * The first back-reference of the merged list that does not land where its side meant it:
     * [index of the entry, name of the variable it points into], or null when all are sound.
     */
    private static function findBrokenLink(array $entries, array $docs): ?array
    {
        $position = [];
        foreach ($entries as $i => [$name]) {
            $position[$name] = $i;
        }
        foreach ($entries as $i => [$name, $side]) {
            $doc = $docs[$side];
            foreach ($doc->dependencies($doc->index[$name]) as $target) {
                if (!isset($position[$target]) || $position[$target] >= $i) {
                    return [$i, $target];
                }
                [, $targetSide] = $entries[$position[$target]];
                $targetDoc = $docs[$targetSide];
                $here = $targetDoc->vars[$targetDoc->index[$target]];
                $meant = $doc->vars[$doc->index[$target]];
                // The target must have the same slot layout as on the side that wrote the pointer.
                if ($targetSide !== $side && $targetDoc->canonical($targetDoc->index[$target]) !== $doc->canonical($doc->index[$target])) {
                    return [$i, $target];
                }
                if ($here['slots'] !== $meant['slots']) {
                    return [$i, $target];
                }
            }
        }
        return null;
    }

    /** $entries with $name taken from $side, at its place if before $before, else just before it. */
    private static function place(array $entries, string $name, string $side, int $before): array
    {
        foreach ($entries as $i => [$existing]) {
            if ($existing === $name) {
                if ($i < $before) {
                    $entries[$i] = [$name, $side];
                    return $entries;
                }
                array_splice($entries, $i, 1);
                break;
            }
        }
        array_splice($entries, $before, 0, [[$name, $side]]);
        return $entries;
    }

    /** The session text of the merged list, back-references renumbered. */
    private static function emit(array $entries, array $docs): string
    {
        $start = [];
        $slot = 1;
        foreach ($entries as [$name, $side]) {
            $doc = $docs[$side];
            $start[$name] = $slot;
            $slot += $doc->vars[$doc->index[$name]]['slots'];
        }
        $out = '';
        foreach ($entries as [$name, $side]) {
            $doc = $docs[$side];
            $var = $doc->vars[$doc->index[$name]];
            $text = '';
            $at = 0;
            foreach ($var['refs'] as $ref) {
                $targetName = $doc->vars[$ref['var']]['name'];
                $text .= substr($var['text'], $at, $ref['pos'] - $at) . ($start[$targetName] + $ref['offset']);
                $at = $ref['pos'] + $ref['len'];
            }
            $out .= $name . '|' . $text . substr($var['text'], $at);
        }
        return $out;
    }
}
