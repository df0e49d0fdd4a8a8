<?php
// GET /manage: the items (JSON with Accept: application/json, else HTML), keyset pages.
// POST /manage action=create: inserts on node A, then the same row on node B.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$nodes = nodes();
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $fields = request_fields();
    $name = trim((string) ($fields['name'] ?? ''));
    if (($fields['action'] ?? '') !== 'create' || !preg_match('/^.{1,200}$/us', $name)) {
        send_json(422, ['error' => 'Only a create with a name is supported here.']);
        exit;
    }
    $content = (string) ($fields['content'] ?? '');
    $st = $nodes['a']->prepare(
        "INSERT INTO items (name, content, updated_at) VALUES (?, ?, now() AT TIME ZONE 'UTC')"
        . ' RETURNING id, name, content, updated_at'
    );
    $st->execute([$name, $content]);
    $row = $st->fetch(PDO::FETCH_ASSOC);
    $nodes['b']?->prepare('INSERT INTO items (id, name, content, updated_at) VALUES (?, ?, ?, ?)')
        ->execute([$row['id'], $row['name'], $row['content'], $row['updated_at']]);
    send_json(201, item_json($row));
    exit;
}
$limit = max(1, min(100, (int) ($_GET['limit'] ?? 50)));
$before = isset($_GET['before']) ? (int) $_GET['before'] : PHP_INT_MAX;
$st = $nodes['a']->prepare('SELECT id, name, content, updated_at FROM items WHERE id < ? ORDER BY id DESC LIMIT ?');
$st->execute([$before, $limit]);
$items = array_map('item_json', $st->fetchAll(PDO::FETCH_ASSOC));
if (wants_json()) {
    send_json(200, ['items' => $items]);
    exit;
}
header('Content-Type: text/html; charset=utf-8');
header('X-Served-By: ' . served_by());
echo "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Items</title></head><body><h1>Items</h1><table>\n";
foreach ($items as $item) {
    echo '<tr><td>', h($item['id']), '</td><td>', h($item['name']), '</td><td>', h($item['updated_at']), "</td></tr>\n";
}
echo "</table></body></html>\n";
