<?php
// GET /: starts the session, counts the visit, and shows the responder's index page: the
// visits, the pools that served this session (a cookie, as the responder keeps it), the
// session's values with their forms, the nodes, the session's fingerprint and the pools from
// the `servers` table. A PHP page keeps nothing between requests, so it reads `servers` on
// every request (the responder reads it every 2 s in its maintenance thread).
declare(strict_types=1);
require __DIR__ . '/lib.php';

start_session();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
$me = served_by();

// The pools that served this session: percent-encoded names joined by '|', at most 32.
$seen = [];
foreach (explode('|', $_COOKIE['served_by_pools'] ?? '') as $part) {
    if ($part !== '') {
        $seen[] = rawurldecode($part);
    }
}
if (!in_array($me, $seen, true)) {
    $seen = array_slice([...$seen, $me], -32);
}
setcookie('served_by_pools', implode('|', array_map('rawurlencode', $seen)), [
    'path' => '/', 'httponly' => true, 'samesite' => 'Lax',
]);
header('Content-Type: text/html; charset=utf-8');
header('Cache-Control: no-store');
header('X-Served-By: ' . $me);

// The pools, from the first node that answers; its time is that node's latency.
$pools = [];
$latency = [];
foreach (nodes() as $name => $pdo) {
    if ($pdo === null || $pools !== []) {
        continue;
    }
    try {
        $started = hrtime(true);
        $st = $pdo->prepare('SELECT name, host, port, active, last_seen FROM servers ORDER BY name LIMIT 64');
        $st->execute();
        $pools = $st->fetchAll(PDO::FETCH_ASSOC);
        $latency[$name] = (hrtime(true) - $started) / 1e6;
    } catch (PDOException) {
        continue;
    }
}
// The values besides the visit counter, which the page shows above.
$values = [];
foreach ($_SESSION as $key => $value) {
    if ($key !== 'visits') {
        $values[] = [(string) $key, is_scalar($value) ? (string) $value : json_encode($value), true];
    }
}
$fingerprint = substr(hash('fnv1a64', session_id()), 0, 11);
?>
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Your session · Session cluster</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20viewBox='0%200%2032%2032'%3E%3Crect%20width='32'%20height='32'%20rx='7'%20fill='%231d4ed8'/%3E%3Ccircle%20cx='11'%20cy='16'%20r='5'%20fill='%23fff'/%3E%3Ccircle%20cx='21'%20cy='16'%20r='5'%20fill='%23fff'%20fill-opacity='.65'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar"><a class="brand" href="/">Session cluster</a>
<nav aria-label="Main"><a href="/" aria-current="page">Session</a>
<a href="/manage">Items</a></nav></header>
<main id="main">
<h1>Your session</h1>
<dl class="stats">
<div><dt>Visits</dt><dd><strong id="visits"><?= h($_SESSION['visits']) ?></strong></dd></div>
<div><dt>This request was served by</dt><dd><strong id="served-by"><?= h($me) ?></strong></dd></div>
<div><dt>Pools that served this session</dt><dd><strong id="pool-count"><?= count($seen) ?></strong></dd></div>
</dl>
<p class="pool-names">Seen by this session: <span id="session-pools"><?php foreach ($seen as $pool): ?><span class="tag"><?= h($pool) ?></span> <?php endforeach; ?></span></p>
<div class="grid">
<div class="column">
<section class="card" aria-labelledby="values-title">
<h2 id="values-title">Session values</h2>
<?php if ($values === []): ?>
<p class="muted" id="values">No values yet: add one below.</p>
<?php else: ?>
<table id="values">
<thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
<tbody>
<?php foreach ($values as [$key, $value, $removable]): ?>
<tr><th scope="row" class="wrap"><code><?= h($key) ?></code></th><td class="value wrap"><?= h($value) ?></td>
<td class="actions"><?php if ($removable): ?><form method="post" action="/session"><input type="hidden" name="action" value="remove"><input type="hidden" name="key" value="<?= h($key) ?>"><button type="submit" class="secondary" aria-label="Remove <?= h($key) ?>">Remove</button></form><?php endif; ?></td></tr>
<?php endforeach; ?>
</tbody>
</table>
<?php endif; ?>
<h3>Add or change a value</h3>
<form method="post" action="/session" class="fields" id="set-value">
<div class="field"><label for="key">Key</label>
<input id="key" name="key" required maxlength="128" pattern="[A-Za-z0-9_.\-]+" autocomplete="off" list="known-keys" aria-describedby="key-hint">
<small id="key-hint">Letters, digits, <code>_</code> <code>.</code> <code>-</code>. An existing key is replaced.</small></div>
<div class="field"><label for="value">Value</label>
<input id="value" name="value" autocomplete="off"></div>
<div class="field submit"><button type="submit">Save value</button></div>
</form>
<datalist id="known-keys"><?php foreach ($values as [$key, , $removable]): ?><?php if ($removable): ?><option value="<?= h($key) ?>"></option><?php endif; ?><?php endforeach; ?></datalist>
</section>
</div>
<div class="column">
<section class="card" aria-labelledby="nodes-title">
<h2 id="nodes-title">Database nodes</h2>
<table id="nodes">
<thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Latency</th></tr></thead>
<tbody>
<?php foreach (nodes() as $name => $pdo): ?>
<tr><th scope="row">Node <?= h(strtoupper($name)) ?></th><td><span class="state <?= $pdo === null ? 'down">down' : 'up">up' ?></span></td><td><?= isset($latency[$name]) ? h(number_format($latency[$name], 1)) . ' ms' : ($pdo === null ? '<span class="muted">not reached</span>' : '<span class="muted">not measured</span>') ?></td></tr>
<?php endforeach; ?>
</tbody>
</table>
<p id="queued">Changes queued for a node that was away: <strong>0</strong>.</p>
</section>
<section class="card" aria-labelledby="session-title">
<h2 id="session-title">Session id</h2>
<p>Fingerprint: <code id="fingerprint"><?= h($fingerprint) ?></code>. It is a hash of the id, which stays in an HttpOnly cookie.</p>
<div class="buttons">
<form method="post" action="/session/regenerate"><button type="submit" id="regenerate">New session id</button></form>
<form method="post" action="/session"><input type="hidden" name="action" value="destroy"><button type="submit" class="danger" id="destroy">End session</button></form>
</div>
<p class="muted">A new id keeps the values; ending the session removes it from both nodes.</p>
</section>
</div>
</div>
<section class="card" aria-labelledby="pools-title">
<h2 id="pools-title">Responder pools</h2>
<table id="pools" class="collapse">
<thead><tr><th scope="col">Pool</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Last seen</th><th scope="col">This session</th></tr></thead>
<tbody>
<?php foreach ($pools as $pool): $current = $pool['name'] === $me; $lastSeen = substr((string) $pool['last_seen'], 0, 19); ?>
<tr<?= $current ? ' class="current"' : '' ?>><th scope="row" class="wrap"><?= h($pool['name']) ?><?= $current ? ' <small>(this page)</small>' : '' ?></th><td data-label="Address"><?= h($pool['host'] . ':' . $pool['port']) ?></td><td data-label="State"><span class="state <?= $pool['active'] ? 'up">active' : 'down">inactive' ?></span></td><td data-label="Last seen"><time datetime="<?= h(str_replace(' ', 'T', $lastSeen)) ?>Z"><?= h(substr($lastSeen, 0, 16)) ?> UTC</time></td><td data-label="This session"><?= in_array($pool['name'], $seen, true) ? 'served it' : '<span class="muted">not yet</span>' ?></td></tr>
<?php endforeach; ?>
</tbody>
</table>
</section>
</main>
<footer class="bar"><span>Served by <strong><?= h($me) ?></strong></span>
<span>Sessions and items on two PostgreSQL nodes</span></footer>
</body>
</html>
