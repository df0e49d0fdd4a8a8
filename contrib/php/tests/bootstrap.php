<?php

declare(strict_types=1);

// The classes: Composer's autoloader when `composer install` ran here, else a PSR-4 loader of
// the two namespaces composer.json names (no Composer needed: Debian's phpunit is enough).
if (is_file(__DIR__ . '/../vendor/autoload.php')) {
    require __DIR__ . '/../vendor/autoload.php';
} else {
    spl_autoload_register(static function (string $class): void {
        foreach (['SessionCluster\\Tests\\' => __DIR__ . '/', 'SessionCluster\\' => __DIR__ . '/../src/'] as $prefix => $dir) {
            if (str_starts_with($class, $prefix)) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
                return;
            }
        }
    });
}
