<?php

declare(strict_types=1);

/**
 * The session handler without Composer: `require` this file, then use `ClusterSessionHandler`
 * (or `\SessionCluster\ClusterSessionHandler`). It loads the classes of src/ (the package's PSR-4
 * namespace `SessionCluster\`, see composer.json and README.md) and gives the handler, its
 * exception and the session codec their former global names, so code written for the one-file
 * handler keeps working unchanged.
 */

foreach ([
    'ClusterSessionUnavailable',
    'HybridLogicalClock',
    'PhpSessionDocument',
    'PhpSessionMerge',
    'Statements',
    'SessionSnapshot',
    'NodeLinks',
    'ClusterSessionHandler',
] as $sessionClusterClass) {
    if (!class_exists('SessionCluster\\' . $sessionClusterClass, false)) {
        require __DIR__ . '/src/' . $sessionClusterClass . '.php';
    }
}
foreach (['ClusterSessionHandler', 'ClusterSessionUnavailable', 'PhpSessionDocument', 'PhpSessionMerge'] as $sessionClusterClass) {
    if (!class_exists($sessionClusterClass, false)) {
        class_alias('SessionCluster\\' . $sessionClusterClass, $sessionClusterClass);
    }
}
unset($sessionClusterClass);
