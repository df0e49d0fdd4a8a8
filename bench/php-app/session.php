<?php
// GET /session: the session as JSON. POST /session: key=K&value=V (form) or a JSON object.
declare(strict_types=1);
require __DIR__ . '/lib.php';

start_session();
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $fields = request_fields();
    if (isset($fields['key'])) {
        $fields = [(string) $fields['key'] => $fields['value'] ?? ''];
    }
    foreach ($fields as $key => $value) {
        if ($key === 'visits' || !preg_match('/^[A-Za-z0-9_.-]{1,128}$/', (string) $key)) {
            send_json(422, ['error' => 'A key is invalid.']);
            exit;
        }
        $_SESSION[$key] = $value;
    }
}
send_json(200, session_state());
