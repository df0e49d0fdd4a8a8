<?php
// GET /health: constant; touches no database.
header('Content-Type: application/json');
echo "{\"status\":\"ok\"}\n";
