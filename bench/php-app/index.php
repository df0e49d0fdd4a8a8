<?php
// GET /: starts the session, counts the visit, shows the session and a form.
declare(strict_types=1);
require __DIR__ . '/lib.php';

start_session();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
header('Content-Type: text/html; charset=utf-8');
header('X-Served-By: ' . served_by());
$nodes = setting('BENCH_SESSION', 'pgsql') === 'pgsql' ? nodes() : [];
?>
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Session</title></head>
<body>
<h1>Your session</h1>
<p>Visits in this session: <strong id="visits"><?= h($_SESSION['visits']) ?></strong>.
This page was served by <strong id="served-by"><?= h(served_by()) ?></strong>.</p>
<h2>Database nodes</h2>
<ul>
<?php foreach ($nodes as $name => $pdo): ?>
<li>Node <?= h($name) ?>: <?= $pdo === null ? 'down' : 'up' ?></li>
<?php endforeach; ?>
</ul>
<h2>Session values</h2>
<table><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody>
<?php foreach ($_SESSION as $key => $value): ?>
<tr><td><?= h($key) ?></td><td><?= h($value) ?></td></tr>
<?php endforeach; ?>
</tbody></table>
<form method="post" action="/session">
<label for="key">Key</label> <input id="key" name="key" required maxlength="128">
<label for="value">Value</label> <input id="value" name="value">
<button type="submit">Set value</button>
</form>
<p><a href="/manage">Manage items</a></p>
</body>
</html>
