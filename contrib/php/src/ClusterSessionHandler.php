<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * A PHP session save handler for the two-node session cluster (see README.md of contrib/php).
 *
 * It shares `php_session` with the Swift responder and follows docs/PROTOCOL.md: a hybrid logical
 * clock, a random origin per handler instance (HybridLogicalClock), reads of every usable node
 * with its standing (the nodes that *decide* say what the session is: SessionSnapshot), a
 * compare-and-set on a leader then a follower (the node that stands alone, guarded, when exactly
 * one does; else node A, then B), changes to one node alone only once it stands alone (with the
 * outbox twin), a fence on every change, tombstones for destroy (the statements: Statements; the
 * connections, health and standing: NodeLinks). `php_session` holds live rows only: a destroyed
 * id is a row of `php_session_tombstone`, which the node's triggers keep final (no live row is
 * taken for its id, and writing it removes the live row).
 *
 * PHP hands write() the whole new session, not a change. When the compare-and-set loses to another
 * writer, the handler re-reads and merges at the level of top-level session variables (see
 * PhpSessionMerge): the variables this request added, changed or removed are applied onto the
 * stored session, the others keep their stored values. So PHP and the responder writing one
 * session at once never lose each other's changes, unless they changed the same variable (then the
 * later writer's value of that variable wins).
 *
 *     session_set_save_handler(new \SessionCluster\ClusterSessionHandler(
 *         'host=10.0.0.1 port=5432 dbname=cluster_session_a user=webuser password=…',
 *         ['host' => '10.0.0.2', 'dbname' => 'cluster_session_b', 'user' => 'webuser', 'password' => '…'],
 *         lifetime: 1440, touchInterval: 60), true);
 *     ini_set('session.use_strict_mode', '1');
 *     session_start();
 */
final class ClusterSessionHandler implements
    \SessionHandlerInterface,
    \SessionIdInterface,
    \SessionUpdateTimestampHandlerInterface
{
    private const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,-';

    /** The two nodes: connections, health, standing. */
    private NodeLinks $links;

    /** The clock of this instance's versions, and its origin (writer id). */
    private HybridLogicalClock $clock;

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
        float $connectTimeout = 2.0,
        float $queryTimeout = 2.0,
        private float $conflictWindow = 2.0,
        int $statementTimeout = 5,
        private int $tombstoneTtl = 604800,
        ?string $downMemoDir = '',
        float $downMemoSeconds = 5.0,
    ) {
        if (!extension_loaded('pgsql')) {
            throw new \RuntimeException('ClusterSessionHandler needs the pgsql extension');
        }
        if ($lifetime < 1 || $touchInterval < 0) {
            throw new \InvalidArgumentException('lifetime must be positive and touchInterval not negative');
        }
        $this->links = new NodeLinks($nodeA, $nodeB, $connectTimeout, $queryTimeout, $statementTimeout,
            $downMemoDir, $downMemoSeconds, function (string $why): void {
                $this->lastError = $why;
            });
        $this->clock = new HybridLogicalClock();
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
        return $this->clock->origin();
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
            [Statements::PURGE_SQL_LIVE, $this->lifetime],
            [Statements::PURGE_SQL_TOMBSTONES, max($this->lifetime, $this->tombstoneTtl)],
        ];
        $deleted = 0;
        try {
            foreach ($statements as [$sql, $age]) {
                $nodes = $this->links->usableNodes();
                for ($batch = 0; $batch < 50 && $nodes !== []; $batch++) {
                    $results = $this->links->onAll($nodes, $sql, [$age, 1000]);
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
        $results = $this->links->onAll(
            $this->links->usableNodes(), Statements::READ_SQL, [$id, $this->lifetime, $this->links->freshness()]);
        $copies = $rows = [];
        foreach (NodeLinks::NODES as $node) {
            $row = isset($results[$node]) ? pg_fetch_row($results[$node]) : false;
            if ($row !== false) {
                $copies[$node] = $this->copyOf($node, $row);
                $rows[$node] = $row;
            }
        }
        return SessionSnapshot::decide($copies, $rows, isset($this->created[$id]));
    }

    /**
     * One node's copy in a READ_SQL row, with its standing; observes its clock value and
     * measures the node's clock (for the fences of the writes that follow).
     *
     * @return array{version: ?array, deleted: bool, alone: bool, holds: bool}
     */
    private function copyOf(string $node, array $row): array
    {
        $copy = SessionSnapshot::copyOf($row);
        if ($copy['version'] !== null) {
            $this->clock->observe($copy['version'][0]);
        }
        $this->links->measureClock($node, $row[8]);
        return $copy;
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
            $nodes = $this->links->usableNodes();
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
            $nodesNow = $this->links->usableNodes();
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
        $hlc = $this->clock->next();
        $row = [$id, '\x' . bin2hex($data), $hlc, $this->clock->origin()];
        $mine = [$hlc, $this->clock->origin()];
        if ($snapshot['version'] === null) {
            return $this->insertNew($nodes, $row) ? $mine : null;
        }
        if (!$snapshot['writable']) {
            throw new ClusterSessionUnavailable('changes wait until a node can prove it holds every write');
        }
        // The compare-and-set of each node, with the fence counted when it is sent.
        $cas = fn (string $node): array
            => [...$row, $snapshot['version'][0], $snapshot['version'][1], $this->links->fence($node)];
        $copy = fn (string $node): array => [...$row, null, $this->links->fence($node)];

        if (count($nodes) === 1) {
            // One node usable: it must stand alone; its guarded twin queues the row for the other.
            $node = $nodes[0];
            $this->links->standAlone($node);
            $result = $this->links->on($node, Statements::alone(Statements::cas(guarded: true)), $cas($node));
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
        $lead = $standing ? Statements::guarded(Statements::cas(guarded: true)) : Statements::cas(guarded: false);
        $led = $this->links->on($leader, $lead, $cas($leader));
        if ($led === null || pg_num_rows($led) !== 1) {
            // Lost on the leader (another writer came first), or it failed (it is down now, and the
            // next attempt goes to the other node alone, which must stand alone; a late commit here
            // is fenced): read again.
            return null;
        }
        $followed = $this->links->on($follower, Statements::cas(guarded: false), $cas($follower));
        if ($followed === null) {
            // Written on the leader only: queued there, and the leader must stand alone.
            $this->links->keepAlone($leader, $id, claim: true);
            return $mine;
        }
        if (pg_num_rows($followed) === 1) {
            return $mine;
        }
        if ($standing) {
            // The node that stands alone decided; the other holds something else (a late row no one
            // acknowledged, or it missed a copy): the leader's catch-up, forced, brings this row there.
            $this->links->keepAlone($leader, $id, claim: false);
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
        $sql = count($nodes) === 1 ? Statements::alone(Statements::INSERT_SQL) : Statements::INSERT_SQL;
        $results = $this->links->send($nodes, $sql, $row);
        if ($results === []) {
            return false;
        }
        foreach ($results as $result) {
            if (pg_num_rows($result) !== 1) {
                return false;  // the id is taken there
            }
        }
        if (count($results) < count($nodes)) {
            $this->links->keepAlone((string) array_key_first($results), $row[0], claim: false);
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
        $deciding = SessionSnapshot::deciding($snapshot['copies']);
        $data = '\x' . bin2hex($snapshot['data']);
        foreach ($nodes as $node) {
            $copy = $snapshot['copies'][$node];
            if ($copy['version'] === $snapshot['version'] && !$copy['deleted']) {
                continue;
            }
            if (in_array($node, $deciding, true)) {
                $settle = [$id, $data, $hlc, $origin, null, $this->links->fence($node)];
                if ($this->links->on($node, Statements::put(guarded: false), $settle) === null) {
                    return false;
                }
                continue;
            }
            $seen = $copy['version'];
            $replaced = $this->links->on($node, Statements::replaceIf(),
                [$id, $data, $hlc, $origin, $seen[0] ?? null, $seen[1] ?? null, $this->links->fence($node)]);
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
        $result = $this->links->on($node, Statements::READ_SQL, [$id, $this->lifetime, $this->links->freshness()]);
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
                $undo = [$id, '\x' . $row[0], $theirHlc, $theirOrigin, $mine[0], $mine[1], $this->links->fence($first)];
                if ($this->links->on($first, Statements::replaceIf(), $undo) !== null) {
                    return false;
                }
            } elseif ($theirs['version'] !== null && $mine <= $theirs['version']) {
                return true;  // this write or a later one is there
            } elseif ($this->links->on($node, Statements::put(guarded: false), $copy($node)) !== null) {
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
        $nodes = $this->links->usableNodes();
        $hlc = $this->clock->next();
        $tombstone = fn (string $node): array => [$id, $hlc, $this->clock->origin(), $this->links->fence($node)];
        if (count($nodes) === 1) {
            $this->links->standAlone($nodes[0]);
            if ($this->links->on($nodes[0], Statements::alone(Statements::bury(guarded: true)), $tombstone($nodes[0])) === null) {
                throw new ClusterSessionUnavailable("node {$nodes[0]} failed: the session may not be destroyed");
            }
            return;
        }
        $results = $this->links->send($nodes, Statements::bury(guarded: false), $tombstone);
        if ($results === []) {
            throw new ClusterSessionUnavailable('no node answered: the session may not be destroyed');
        }
        if (count($results) === 1 && pg_num_rows(reset($results)) > 0) {
            $this->links->keepAlone((string) array_key_first($results), $id, claim: true);
        }
    }
}
