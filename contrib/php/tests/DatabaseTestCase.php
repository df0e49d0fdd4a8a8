<?php

declare(strict_types=1);

namespace SessionCluster\Tests;

use PHPUnit\Framework\TestCase;

/** A test against the cluster's two nodes: skipped when TEST_DB1_HOST is not set. */
abstract class DatabaseTestCase extends TestCase
{
    protected function setUp(): void
    {
        if (!extension_loaded('pgsql')) {
            self::markTestSkipped('the pgsql extension is not loaded (apt-get install php-pgsql)');
        }
        if (!TestCluster::configured()) {
            self::markTestSkipped('TEST_DB1_HOST is not set: no cluster to test against');
        }
    }

    /** A session id no node has seen: 32 characters of PHP's alphabet. */
    protected static function freshId(): string
    {
        return 'phpunit' . bin2hex(random_bytes(12)) . 'x';
    }

    protected static function assertOnBothNodes(string $state, string $id, string $what): void
    {
        foreach (['a', 'b'] as $node) {
            self::assertSame($state, TestCluster::keyState($node, $id), "$what: node $node");
        }
    }
}
