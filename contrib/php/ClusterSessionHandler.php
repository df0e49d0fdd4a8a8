<?php

declare(strict_types=1);

/**
 * A PHP session save handler for the two-node session cluster (see README.md next to this file).
 *
 * It shares `php_session` with the Swift responder and follows docs/PROTOCOL.md: a hybrid logical
 * clock, a random origin per handler instance, reads of every usable node with its standing (the
 * nodes that *decide* say what the session is), a compare-and-set on a leader then a follower
 * (the node that stands alone, guarded, when exactly one does; else node A, then B), changes to
 * one node alone only once it stands alone (with the outbox twin), a fence on every change,
 * tombstones for destroy. `php_session` holds live rows only: a destroyed id is a row of
 * `php_session_tombstone`, which the node's triggers keep final (no live row is taken for its id,
 * and writing it removes the live row).
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

    /**
     * $1 id, $2 lifetime seconds, $3 freshness seconds. Always one row: the session's columns
     * (NULL when the node has no row; a tombstone shows as a copy with the tombstone's version,
     * marked deleted), whether the node stands alone, whether it holds every acknowledged write
     * (it stands alone, or is current and fresh), and the node's clock.
     */
    private const READ_SQL = <<<'SQL'
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
    private const INSERT_SQL = 'INSERT INTO php_session (id, data, hlc, origin, date_change)'
        . ' VALUES ($1::varchar, $2::bytea, $3::bigint, $4::int, ' . self::CLOCK_TIME . ')'
        . ' ON CONFLICT (id) DO NOTHING RETURNING id';

    /**
     * $1 freshness seconds. The node begins (or goes on) standing alone when it already does, or
     * when it is current and fresh; answers the seconds since it began, or no row.
     */
    private const CLAIM_SQL = <<<'SQL'
        UPDATE node_standing SET solo_since = COALESCE(solo_since, clock_timestamp()), claimed_at = clock_timestamp()
        WHERE solo_since IS NOT NULL OR (current AND clock_timestamp() - seen_at < make_interval(secs => $1::float8)
            AND seen_start = pg_postmaster_start_time())
        RETURNING extract(epoch FROM clock_timestamp() - solo_since)::float8
        SQL;

    /** Seconds a node must have stood alone before it takes a change alone (soloSettleSeconds). */
    private const SOLO_SETTLE_SECONDS = 1;

    /** $1 age in seconds, $2 batch size: expired sessions go outright (no tombstone) */
    private const PURGE_SQL_LIVE = "DELETE FROM php_session WHERE id IN (SELECT id FROM php_session"
        . " WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int)"
        . ' ORDER BY date_change LIMIT $2)';

    private const PURGE_SQL_TOMBSTONES = "DELETE FROM php_session_tombstone WHERE id IN (SELECT id FROM php_session_tombstone"
        . " WHERE deleted_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => \$1::int)"
        . ' ORDER BY deleted_at LIMIT $2)';

    private const OUTBOX_ADD_SQL = "INSERT INTO replication_outbox (table_name, row_key) VALUES ('php_session', \$1)";

    private const IDENTITY_SQL = 'SELECT name FROM cluster_node';

    private const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,-';

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

    /** The last hybrid logical clock value given out or seen. */
    private int $clock = 0;

    /** This handler instance's writer id: a random positive 31-bit integer. */
    private int $origin;

    /** @var array<string, array> what read() returned per id, with the copies it saw */
    private array $snapshots = [];

    /** @var array<string, array> snapshots taken by validateId(), handed to the read() that follows */
    private array $validated = [];

    /** @var array<string, true> ids this instance made (create_sid): known to be new */
    private array $created = [];

    /** Why validateId() could not tell whether its id exists (the read() that follows then fails), or null. */
    private ?string $unvalidated = null;

    private ?string $lastError = null;

    /** @var array{lost_races: int, merges: int} */
    private array $stats = ['lost_races' => 0, 'merges' => 0];

    /**
     * @param string|array $nodeA libpq connection string or ['host'=>…, 'port'=>…, 'dbname'=>…,
     *     'user'=>…, 'password'=>…] of node A
     * @param string|array $nodeB the same for node B
     * @param int $lifetime seconds without a write or refresh before a session expires (SESSION_LIFETIME)
     * @param int $touchInterval least seconds between two refreshes of an unchanged session (SESSION_TOUCH_INTERVAL)
     * @param float $connectTimeout seconds to connect to a node (DB_CONNECT_TIMEOUT)
     * @param float $queryTimeout client-side deadline of one database call (DB_QUERY_TIMEOUT: the
     *     responders' value, as the standing's freshness and the fences are counted from it)
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
            if ($this->unvalidated !== null) {
                // validateId() could not tell whether the id PHP was given exists: starting a new
                // session in its place would log the user out. session_start() fails instead.
                throw new ClusterSessionUnavailable($this->unvalidated);
            }
            $snapshot = $this->validated[$id] ?? $this->load($id);
            unset($this->validated[$id]);
            $this->snapshots[$id] = $snapshot;
            return $snapshot['live'] ? $snapshot['data'] : '';
        } catch (ClusterSessionUnavailable $e) {
            $this->unvalidated = null;
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
        $this->created[$id] = true;
        return $id;
    }

    // ------------------------------------------------------------------ SessionUpdateTimestampHandlerInterface

    /**
     * Strict mode: only a well-formed id of a live, unexpired session is adopted. When the nodes
     * cannot tell (none answers, or the one that does cannot prove it holds every write and has
     * no live copy), the id is refused and the read() that follows fails, so that session_start()
     * fails instead of starting a new session.
     */
    public function validateId(string $id): bool
    {
        $this->unvalidated = null;
        if (!preg_match('/^[A-Za-z0-9,-]{22,256}$/D', $id)) {
            return false;
        }
        try {
            $snapshot = $this->load($id);
        } catch (ClusterSessionUnavailable $e) {
            $this->lastError = $this->unvalidated = $e->getMessage();
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
     * The session as the nodes hold it (docs/PROTOCOL.md, "Reading"): every usable node is read at
     * once with its standing, every copy's clock is observed, and the *deciding* nodes say what
     * the session is. A tombstone there means it was destroyed; else the newest copy there is the
     * row. When no node decides, a live copy may be shown but not changed (`writable` is false),
     * and an absent (or expired) row proves nothing: ClusterSessionUnavailable, never "unknown",
     * except for an id this instance just made.
     *
     * @return array{live: bool, tombstone: bool, data: string, version: ?array, age: int, writable: bool,
     *     copies: array<string, array{version: ?array, deleted: bool, alone: bool, holds: bool}>}
     */
    private function load(string $id): array
    {
        $results = $this->onAll($this->usableNodes(), self::READ_SQL, [$id, $this->lifetime, $this->freshness()]);
        $copies = $rows = [];
        foreach (self::NODES as $node) {
            $row = isset($results[$node]) ? pg_fetch_row($results[$node]) : false;
            if ($row !== false) {
                $copies[$node] = $this->copyOf($node, $row);
                $rows[$node] = $row;
            }
        }
        $deciding = self::deciding($copies);
        $snapshot = [
            'live' => false, 'tombstone' => false, 'data' => '', 'version' => null, 'age' => 0,
            'writable' => $deciding !== [], 'copies' => $copies,
        ];
        // The copies that count: the deciding ones, or (none deciding) those that may be shown;
        // when no deciding node has a row at all, every copy (a new row the other node took while
        // the deciding one was away, queued for it and not yet copied, is still the row).
        $counted = $deciding === [] ? array_keys($copies) : $deciding;
        $any = false;
        foreach ($counted as $node) {
            $any = $any || $copies[$node]['version'] !== null;
        }
        if (!$any) {
            $counted = array_keys($copies);
        }
        $newest = null;
        foreach ($counted as $node) {
            if ($copies[$node]['deleted']) {
                $snapshot['tombstone'] = true;
                return $snapshot;  // a tombstone is final
            }
            $version = $copies[$node]['version'];
            if ($version !== null && ($newest === null || $copies[$newest]['version'] < $version)) {
                $newest = $node;
            }
        }
        if ($newest !== null) {
            $row = $rows[$newest];
            $snapshot['version'] = $copies[$newest]['version'];
            $snapshot['age'] = (int) $row[5];
            $snapshot['data'] = (string) hex2bin($row[0]);
            $snapshot['live'] = $row[4] !== 't';
        }
        if ($deciding === [] && !$snapshot['live'] && !isset($this->created[$id])) {
            throw new ClusterSessionUnavailable(
                'the node that answered cannot prove it holds every write, and it has no live copy of the session');
        }
        return $snapshot;
    }

    /**
     * One node's copy in a READ_SQL row, with its standing; observes its clock value and
     * measures the node's clock (for the fences of the writes that follow).
     *
     * @return array{version: ?array, deleted: bool, alone: bool, holds: bool}
     */
    private function copyOf(string $node, array $row): array
    {
        $version = $row[1] === null ? null : [(int) $row[1], (int) $row[2]];
        if ($version !== null) {
            $this->observe($version[0]);
        }
        if ($row[8] !== null && isset($this->sentAt[$node])) {
            // The node read its clock after the statement was sent, however long the answer waited.
            $this->clockOffset[$node] = (float) $row[8] - $this->sentAt[$node];
        }
        return ['version' => $version, 'deleted' => $row[3] === 't', 'alone' => $row[6] === 't', 'holds' => $row[7] === 't'];
    }

    /**
     * Which of the nodes that answered decide what a row is. Both answered: the one that stands
     * alone, when only one does (the other may lack writes, or hold a late one no one
     * acknowledged); else both. One answered: that node if it holds every acknowledged write; else none.
     *
     * @return list<string>
     */
    private static function deciding(array $copies): array
    {
        if (count($copies) >= 2) {
            $alone = array_keys(array_filter($copies, fn (array $copy): bool => $copy['alone']));
            return count($alone) === 1 ? $alone : array_keys($copies);
        }
        return array_keys(array_filter($copies, fn (array $copy): bool => $copy['holds']));
    }

    // ------------------------------------------------------------------ writing

    /** write() and updateTimestamp(): the session read-modify-write, merging after lost races. */
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
                if ($attempt > 0) {
                    $this->putTombstone($id);  // in case an earlier attempt of ours inserted a row
                }
                return false;
            }
            $unchanged = $snapshot['live'] && $target === $snapshot['data'];
            if ($unchanged && ($snapshot['age'] < $this->touchInterval || !$snapshot['writable'])) {
                // Nothing changed, and refreshed recently (or no node that answers may take a change now).
                $this->remember($id, $snapshot);
                return true;
            }
            $nodes = $this->usableNodes();
            $sameNodes = $nodes === array_keys($snapshot['copies']);
            $version = $sameNodes ? $this->attempt($id, $snapshot, $target, $nodes) : null;
            if ($version !== null) {
                foreach ($snapshot['copies'] as &$copy) {
                    $copy['version'] = $version;
                }
                unset($copy);
                $this->remember($id, ['live' => true, 'data' => $target, 'version' => $version, 'age' => 0] + $snapshot);
                return true;
            }
            $attempt++;
            $nodesNow = $this->usableNodes();
            if (count($nodesNow) < count($nodes)) {
                // Not a lost race: a node fell away (its query time is spent). The nodes left
                // decide now, with a window of their own.
                $deadline = microtime(true) + $this->conflictWindow;
            } else {
                if ($sameNodes && $nodesNow === $nodes) {
                    $this->stats['lost_races']++;
                    if ($unchanged) {
                        return true;  // a refresh lost to another write, which refreshed the session anyway
                    }
                }
                if (microtime(true) >= $deadline) {
                    $this->lastError = 'a concurrent change to the session could not be settled in time';
                    return false;
                }
                if ($attempt > 2) {
                    usleep(random_int(1000, 5000 * min($attempt, 8)));
                }
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
     * One write attempt on $nodes, the nodes the snapshot was read from (docs/PROTOCOL.md,
     * "Session read-modify-write", steps 2 to 4), or the insert of a new session. Returns the new
     * version, or null when another writer came first or a node failed (the caller reads again).
     * Throws ClusterSessionUnavailable when the change may not be made now, or when it reached one
     * node only and could not be kept there (its outcome is then unknown).
     */
    private function attempt(string $id, array $snapshot, string $data, array $nodes): ?array
    {
        $hlc = $this->next();
        $row = [$id, '\x' . bin2hex($data), $hlc, $this->origin];
        $mine = [$hlc, $this->origin];
        if ($snapshot['version'] === null) {
            return $this->insertNew($nodes, $row) ? $mine : null;
        }
        if (!$snapshot['writable']) {
            throw new ClusterSessionUnavailable('changes wait until a node can prove it holds every write');
        }
        // The compare-and-set of each node, with the fence counted when it is sent.
        $cas = fn (string $node): array => [...$row, $snapshot['version'][0], $snapshot['version'][1], $this->fence($node)];
        $copy = fn (string $node): array => [...$row, null, $this->fence($node)];

        if (count($nodes) === 1) {
            // One node usable: it must stand alone; its guarded twin queues the row for the other.
            $node = $nodes[0];
            $this->standAlone($node);
            $result = $this->on($node, self::alone(self::cas(guarded: true)), $cas($node));
            return $result !== null && pg_num_rows($result) === 1 ? $mine : null;
        }

        // Both nodes decide, in a fixed order whatever anyone believes about the nodes' health: the
        // node that stands alone, when exactly one does, leads with the guarded compare-and-set (its
        // standing cannot end under the write); else A leads. The other follows. A node that lacks
        // the deciding copy gets it first (bringLaggingCopies).
        if (!$this->bringLaggingCopies($id, $snapshot, $nodes)) {
            return null;  // a node that does not decide changed meanwhile, or a node failed: read again
        }
        $alone = array_keys(array_filter($snapshot['copies'], fn (array $c): bool => $c['alone']));
        $standing = count($alone) === 1;
        $leader = $standing ? $alone[0] : 'a';
        $follower = $leader === 'a' ? 'b' : 'a';
        $led = $this->on($leader, $standing ? self::guarded(self::cas(guarded: true)) : self::cas(guarded: false), $cas($leader));
        if ($led === null || pg_num_rows($led) !== 1) {
            // Lost on the leader (another writer came first), or it failed (it is down now, and the
            // next attempt goes to the other node alone, which must stand alone; a late commit here
            // is fenced): read again.
            return null;
        }
        $followed = $this->on($follower, self::cas(guarded: false), $cas($follower));
        if ($followed === null) {
            // Written on the leader only: queued there, and the leader must stand alone.
            $this->keepAlone($leader, $id, claim: true);
            return $mine;
        }
        if (pg_num_rows($followed) === 1) {
            return $mine;
        }
        if ($standing) {
            // The node that stands alone decided; the other holds something else (a late row no one
            // acknowledged, or it missed a copy): the leader's catch-up, forced, brings this row there.
            $this->keepAlone($leader, $id, claim: false);
            return $mine;
        }
        // A write that won on A is in the history (every writer changes A first), so a lost race on
        // B means that B holds this write, a later one built on it, or an older one, unless B has
        // begun to stand alone meanwhile (settleFollower).
        return $this->settleFollower($id, $copy, $mine, $leader, $follower) ? $mine : null;
    }

    /**
     * A new session: inserted on every usable node with ON CONFLICT DO NOTHING (alone, with the
     * outbox twin: a new row needs no standing). False when the id is taken on a node, or no node
     * answered. When one node failed and the other took the row, it is queued there.
     */
    private function insertNew(array $nodes, array $row): bool
    {
        $results = $this->send($nodes, count($nodes) === 1 ? self::alone(self::INSERT_SQL) : self::INSERT_SQL, $row);
        if ($results === []) {
            return false;
        }
        foreach ($results as $result) {
            if (pg_num_rows($result) !== 1) {
                return false;  // the id is taken there
            }
        }
        if (count($results) < count($nodes)) {
            $this->keepAlone((string) array_key_first($results), $row[0], claim: false);
        }
        return true;
    }

    /**
     * Before the compare-and-set on both nodes, each must hold the version the read decided on. A
     * deciding node whose copy differs (it was away, or a write reached it late) gets it with the
     * settlement copy; a node that does not decide (the other stands alone) gets it only if it
     * still holds what the read saw (replaceIf()), so that nothing newer is ever overwritten.
     * False when such a node changed meanwhile (a lost race), or a node failed: the caller reads again.
     */
    private function bringLaggingCopies(string $id, array $snapshot, array $nodes): bool
    {
        [$hlc, $origin] = $snapshot['version'];
        $deciding = self::deciding($snapshot['copies']);
        $data = '\x' . bin2hex($snapshot['data']);
        foreach ($nodes as $node) {
            $copy = $snapshot['copies'][$node];
            if ($copy['version'] === $snapshot['version'] && !$copy['deleted']) {
                continue;
            }
            if (in_array($node, $deciding, true)) {
                if ($this->on($node, self::put(guarded: false), [$id, $data, $hlc, $origin, null, $this->fence($node)]) === null) {
                    return false;
                }
                continue;
            }
            $seen = $copy['version'];
            $replaced = $this->on($node, self::replaceIf(), [$id, $data, $hlc, $origin, $seen[0] ?? null, $seen[1] ?? null, $this->fence($node)]);
            if ($replaced === null || pg_num_rows($replaced) !== 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * This write won on $first (A) and lost on $node (B). When B stands alone now (a writer that
     * saw A away began it), B decides: this write is undone on A (A's row replaced by B's, only if
     * A still holds this write) and the caller reads again (false). Otherwise B holds this write, a
     * later one built on it (every writer changes A first), or an older one, which this row then
     * replaces (settlement copy). When B cannot be read or written, or A cannot be put back, the
     * write is on A only and may stay there: its outcome is unknown (throws).
     *
     * @param \Closure(string): array $copy the settlement copy of this write to a node
     */
    private function settleFollower(string $id, \Closure $copy, array $mine, string $first, string $node): bool
    {
        $result = $this->on($node, self::READ_SQL, [$id, $this->lifetime, $this->freshness()]);
        $row = $result === null ? false : pg_fetch_row($result);
        if ($row !== false) {
            $theirs = $this->copyOf($node, $row);
            if ($theirs['deleted']) {
                return true;  // destroyed meanwhile: the destroy is the later change
            }
            if ($theirs['alone']) {
                if ($theirs['version'] === null) {
                    return false;  // B decides, and holds no row: nothing to put back on A
                }
                [$theirHlc, $theirOrigin] = $theirs['version'];
                $undo = [$id, '\x' . $row[0], $theirHlc, $theirOrigin, $mine[0], $mine[1], $this->fence($first)];
                if ($this->on($first, self::replaceIf(), $undo) !== null) {
                    return false;
                }
            } elseif ($theirs['version'] !== null && $mine <= $theirs['version']) {
                return true;  // this write or a later one is there
            } elseif ($this->on($node, self::put(guarded: false), $copy($node)) !== null) {
                return true;
            }
        }
        throw new ClusterSessionUnavailable("written on node $first only, node $node failed: the outcome of the write is unknown");
    }

    /**
     * Destroy: the tombstone on every usable node (the node's trigger removes the live row). No
     * row returned where a newer tombstone is already there: destroyed all the same. When one node
     * failed and the other took it, it is queued there and that node must stand alone; alone, the
     * node must stand alone first and takes the guarded twin.
     */
    private function putTombstone(string $id): void
    {
        $nodes = $this->usableNodes();
        $hlc = $this->next();
        $tombstone = fn (string $node): array => [$id, $hlc, $this->origin, $this->fence($node)];
        if (count($nodes) === 1) {
            $this->standAlone($nodes[0]);
            if ($this->on($nodes[0], self::alone(self::bury(guarded: true)), $tombstone($nodes[0])) === null) {
                throw new ClusterSessionUnavailable("node {$nodes[0]} failed: the session may not be destroyed");
            }
            return;
        }
        $results = $this->send($nodes, self::bury(guarded: false), $tombstone);
        if ($results === []) {
            throw new ClusterSessionUnavailable('no node answered: the session may not be destroyed');
        }
        if (count($results) === 1 && pg_num_rows(reset($results)) > 0) {
            $this->keepAlone((string) array_key_first($results), $id, claim: true);
        }
    }

    /**
     * Makes $node stand alone, so that it may take changes while the other node is away: it must
     * already stand alone, or be current and fresh. Waits until the standing is
     * SOLO_SETTLE_SECONDS old: meanwhile the other node's beats, if it is reachable at all, mark it
     * not current. Throws when the node cannot prove that it holds every acknowledged write.
     */
    private function standAlone(string $node): void
    {
        $result = $this->on($node, self::CLAIM_SQL, [$this->freshness()]);
        $row = $result === null ? false : pg_fetch_row($result);
        if ($row === false || $row[0] === null) {
            throw new ClusterSessionUnavailable("node $node cannot prove it holds every write while the other is away");
        }
        $wait = self::SOLO_SETTLE_SECONDS - (float) $row[0];
        if ($wait > 0) {
            usleep((int) (($wait + 0.02) * 1e6));
        }
    }

    /**
     * A write that $node confirmed while the other node failed: the row is queued on $node for the
     * other, and for a change to an existing row ($claim) $node must stand alone. Otherwise the
     * outcome of the write is unknown (throws).
     */
    private function keepAlone(string $node, string $id, bool $claim): void
    {
        if ($this->on($node, self::OUTBOX_ADD_SQL, [$id]) === null) {
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

    /** $1 id, $2 data, $3 hlc, $4 origin, $5 expected hlc, $6 expected origin, $7 fence: the compare-and-set */
    private static function cas(bool $guarded): string
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
    private static function put(bool $guarded): string
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
    private static function replaceIf(): string
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
    private static function bury(bool $guarded): string
    {
        return 'INSERT INTO php_session_tombstone AS t (id, hlc, origin, deleted_at)'
            . " SELECT \$1::varchar, \$2::bigint, \$3::int, to_timestamp((\$2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC'"
            . ' WHERE true' . self::fenceOn(4) . ($guarded ? self::GUARD : '')
            . ' ON CONFLICT (id) DO UPDATE SET hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted_at = EXCLUDED.deleted_at'
            . ' WHERE (t.hlc, t.origin) < (EXCLUDED.hlc, EXCLUDED.origin)'
            . ' RETURNING id';
    }

    /** The fence (FENCE) on parameter $param of a statement. */
    private static function fenceOn(int $param): string
    {
        return sprintf(self::FENCE, $param);
    }

    /**
     * A change decided on a node that stands alone while both nodes are up: the guard (the node
     * stands alone, settled, under a share lock so that catch-up cannot end the standing
     * meanwhile), without the outbox (the other node follows in the same request).
     */
    private static function guarded(string $write): string
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
    private static function alone(string $write): string
    {
        return 'WITH standing AS (SELECT 1 FROM node_standing'
            . ' WHERE solo_since <= clock_timestamp() - make_interval(secs => ' . self::SOLO_SETTLE_SECONDS . ') FOR SHARE),'
            . " w AS ($write),"
            . " o AS (INSERT INTO replication_outbox (table_name, row_key) SELECT 'php_session', id::text FROM w)"
            . ' SELECT * FROM w';
    }

    /**
     * The fence of a change sent now to $node: the moment, on the node's own clock, when this
     * handler gives up on the call (one query timeout from now); null (no fence) while the node's
     * clock was not read yet.
     */
    private function fence(string $node): ?string
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
    private function freshness(): string
    {
        return sprintf('%.3F', min(1.5, 0.75 * $this->queryTimeout));
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

    private function isUsable(string $node): bool
    {
        return $this->state[$node] === 'up';
    }

    /** @return non-empty-list<string> the usable nodes, A first; throws when there is none */
    private function usableNodes(): array
    {
        $this->connectAll();
        $nodes = array_values(array_filter(self::NODES, fn (string $node): bool => $this->isUsable($node)));
        if ($nodes === []) {
            throw new ClusterSessionUnavailable("no node is up (node a: {$this->downWhy['a']}; node b: {$this->downWhy['b']})");
        }
        return $nodes;
    }

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
        $results = $this->send($joined, self::IDENTITY_SQL, []);
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

    /** Runs one statement on one node: its result, or null when it failed there. */
    private function on(string $node, string $sql, array $params): ?\PgSql\Result
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
    private function send(array $nodes, string $sql, array|\Closure $params): array
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
