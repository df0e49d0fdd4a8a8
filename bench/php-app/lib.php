<?php
// The php-fpm reference of bench/run: the same pages as the responder, written the way a
// plain PHP guide writes them. Two PostgreSQL nodes through PDO; a session handler that reads
// node A (B when A fails) and writes BOTH nodes on every request; items inserted on A, then
// copied to B with the same id. With BENCH_SESSION=redis, php-fpm's own session handler
// (phpredis, session.save_handler=redis) keeps the sessions and PDO is used for items only.
//
// Settings (php-fpm pool env): DB1_HOST DB1_PORT DB1_NAME DB1_USER DB1_PASSWORD, DB2_* the
// same, RESPONDER_NAME, BENCH_SESSION (pgsql|redis). The FastCGI parameter
// BENCH_PDO_PERSISTENT=0 opens new connections on every request (the default keeps them).

declare(strict_types=1);

function setting(string $name, string $default = ''): string
{
    $value = getenv($name);
    return $value === false || $value === '' ? $default : $value;
}

/** @return array<string, PDO|null> the nodes, connected on first use; null when down */
function nodes(): array
{
    static $nodes = null;
    if ($nodes !== null) {
        return $nodes;
    }
    $persistent = ($_SERVER['BENCH_PDO_PERSISTENT'] ?? setting('BENCH_PDO_PERSISTENT', '1')) !== '0';
    $nodes = [];
    foreach (['a' => 'DB1', 'b' => 'DB2'] as $name => $prefix) {
        $dsn = sprintf(
            'pgsql:host=%s;port=%s;dbname=%s;connect_timeout=2',
            setting("{$prefix}_HOST", '127.0.0.1'),
            setting("{$prefix}_PORT", '5432'),
            setting("{$prefix}_NAME"),
        );
        try {
            $nodes[$name] = new PDO($dsn, setting("{$prefix}_USER"), setting("{$prefix}_PASSWORD"), [
                PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                PDO::ATTR_PERSISTENT => $persistent,
            ]);
        } catch (PDOException $e) {
            error_log("node $name is down: " . $e->getCode());
            $nodes[$name] = null;
        }
    }
    return $nodes;
}

final class DualPdoSessionHandler implements SessionHandlerInterface
{
    public function open(string $path, string $name): bool
    {
        return true;
    }

    public function close(): bool
    {
        return true;
    }

    public function read(string $id): string|false
    {
        foreach (nodes() as $pdo) {
            if ($pdo === null) {
                continue;
            }
            try {
                $st = $pdo->prepare('SELECT data FROM php_session WHERE id = ?');
                $st->execute([$id]);
                $data = $st->fetchColumn();
                return $data === false ? '' : (string) $data;
            } catch (PDOException) {
                continue;
            }
        }
        return '';
    }

    public function write(string $id, string $data): bool
    {
        $written = false;
        foreach (nodes() as $pdo) {
            if ($pdo === null) {
                continue;
            }
            try {
                $st = $pdo->prepare(
                    "INSERT INTO php_session (id, data, date_change) VALUES (?, ?, now() AT TIME ZONE 'UTC')"
                    . ' ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, date_change = EXCLUDED.date_change'
                );
                $st->execute([$id, $data]);
                $written = true;
            } catch (PDOException) {
                continue;
            }
        }
        return $written;
    }

    public function destroy(string $id): bool
    {
        foreach (nodes() as $pdo) {
            try {
                $pdo?->prepare('DELETE FROM php_session WHERE id = ?')->execute([$id]);
            } catch (PDOException) {
            }
        }
        return true;
    }

    public function gc(int $max_lifetime): int|false
    {
        $deleted = 0;
        foreach (nodes() as $pdo) {
            try {
                $st = $pdo?->prepare(
                    "DELETE FROM php_session WHERE date_change < (now() AT TIME ZONE 'UTC') - make_interval(secs => ?)"
                );
                $st?->execute([$max_lifetime]);
                $deleted += $st?->rowCount() ?? 0;
            } catch (PDOException) {
            }
        }
        return $deleted;
    }
}

function start_session(): void
{
    if (setting('BENCH_SESSION', 'pgsql') === 'pgsql') {
        session_set_save_handler(new DualPdoSessionHandler(), true);
    }
    session_start();
}

function served_by(): string
{
    return setting('RESPONDER_NAME', 'php-fpm');
}

function send_json(int $status, mixed $value): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('X-Served-By: ' . served_by());
    echo json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

function session_state(): array
{
    return [
        'id' => session_id(),
        'visits' => $_SESSION['visits'] ?? 0,
        'data' => (object) $_SESSION,
        'served_by' => served_by(),
    ];
}

function wants_json(): bool
{
    return str_contains($_SERVER['HTTP_ACCEPT'] ?? '', 'application/json');
}

/** @return array<string, mixed> a form or JSON body */
function request_fields(): array
{
    if (str_starts_with($_SERVER['CONTENT_TYPE'] ?? '', 'application/json')) {
        $decoded = json_decode((string) file_get_contents('php://input'), true);
        return is_array($decoded) ? $decoded : [];
    }
    return $_POST;
}

function h(mixed $value): string
{
    return htmlspecialchars(is_scalar($value) ? (string) $value : json_encode($value), ENT_QUOTES);
}

function item_json(array $row): array
{
    return [
        'id' => (int) $row['id'],
        'name' => $row['name'],
        'content' => $row['content'],
        'updated_at' => str_replace(' ', 'T', substr((string) $row['updated_at'], 0, 19)) . 'Z',
    ];
}
