<?php

declare(strict_types=1);

namespace SessionCluster\Tests;

use SessionCluster\ClusterSessionHandler;
use SessionCluster\PhpSessionDocument;

/**
 * The handler under PHP's own session functions (session_start(), session_regenerate_id(),
 * session_destroy(), session_encode()). Each test runs in a process of its own: PHP allows one
 * session per request, and its session settings only before any output.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class SessionFunctionsTest extends DatabaseTestCase
{
    private ?ClusterSessionHandler $handler = null;

    private function start(?string $id): ClusterSessionHandler
    {
        ini_set('session.use_cookies', '0');
        ini_set('session.use_only_cookies', '0');
        ini_set('session.use_strict_mode', '1');
        ini_set('session.cache_limiter', '');
        ini_set('session.serialize_handler', 'php');
        ini_set('session.gc_probability', '0');
        $this->handler = TestCluster::handler();
        self::assertTrue(session_set_save_handler($this->handler, true));
        if ($id !== null) {
            session_id($id);
        }
        self::assertTrue(session_start(), 'session_start: ' . $this->handler->lastError());
        return $this->handler;
    }

    public function testStrictModeGivesANewIdForAnUnknownOne(): void
    {
        $unknown = self::freshId();
        $this->start($unknown);
        $id = session_id();
        self::assertNotSame($unknown, $id, 'PHP does not adopt an id no node has');
        self::assertSame([], $_SESSION);
        $_SESSION['visits'] = 1;
        session_write_close();
        self::assertOnBothNodes('absent', $unknown, 'the unknown id');
        self::assertOnBothNodes('live', $id, 'the new session');
        self::assertSame('visits|i:1;', TestCluster::liveRow('a', $id)['data']);
        TestCluster::handler()->destroy($id);
    }

    public function testRegenerateIdMovesTheSessionAndBuriesTheOldIdOnBothNodes(): void
    {
        $h = TestCluster::handler();
        $old = $h->create_sid();
        $h->read($old);
        self::assertTrue($h->write($old, 'user|s:5:"alice";visits|i:4;'));

        $this->start($old);
        self::assertSame($old, session_id(), 'a live id is adopted');
        self::assertSame(['user' => 'alice', 'visits' => 4], $_SESSION);
        $_SESSION['visits']++;
        self::assertTrue(session_regenerate_id(true), (string) $this->handler->lastError());
        $new = session_id();
        self::assertNotSame($old, $new);
        session_write_close();

        self::assertOnBothNodes('tombstone', $old, 'the old id');
        self::assertOnBothNodes('live', $new, 'the new id');
        self::assertSame('user|s:5:"alice";visits|i:5;', TestCluster::liveRow('b', $new)['data']);
        TestCluster::handler()->destroy($new);
    }

    public function testSessionDestroyLeavesATombstoneOnBothNodes(): void
    {
        $this->start(null);
        $id = session_id();
        $_SESSION['x'] = 1;
        session_write_close();
        self::assertOnBothNodes('live', $id, 'written');

        $this->start($id);
        self::assertSame(['x' => 1], $_SESSION);
        self::assertTrue(session_destroy(), (string) $this->handler->lastError());
        self::assertOnBothNodes('tombstone', $id, 'destroyed');
    }

    public function testWhatPhpEncodesRoundTripsThroughTheCodecAndTheNodes(): void
    {
        $this->start(null);
        $id = session_id();
        $shared = new \stdClass();
        $shared->name = 'shared';
        $_SESSION['int'] = PHP_INT_MAX;
        $_SESSION['float'] = 0.1 + 0.2;
        $_SESSION['inf'] = -INF;
        $_SESSION['text'] = "caf\u{e9}|;\"\0";
        $_SESSION['list'] = [1, [2, [3]], 'k' => null, 'b' => false];
        $_SESSION['object'] = $shared;
        $_SESSION['again'] = $shared;                  // a shared object: r:
        $_SESSION['ref'] = &$_SESSION['list'];         // a PHP reference: R:
        $encoded = session_encode();
        self::assertIsString($encoded);

        $doc = PhpSessionDocument::parse($encoded);
        self::assertNotNull($doc, "the codec parses PHP's encoding");
        self::assertSame(['int', 'float', 'inf', 'text', 'list', 'object', 'again', 'ref'], array_column($doc->vars, 'name'));
        $text = '';
        foreach ($doc->vars as $var) {
            $text .= $var['name'] . '|' . $var['text'];
        }
        self::assertSame($encoded, $text, 'reassembled byte for byte');
        session_write_close();

        // Stored on both nodes as PHP encoded it, and decoded by PHP from a node to the same values.
        self::assertSame($encoded, TestCluster::liveRow('a', $id)['data']);
        self::assertSame($encoded, TestCluster::liveRow('b', $id)['data']);
        $this->start($id);
        self::assertSame($encoded, session_encode(), 'read back and encoded again: the same bytes');
        self::assertSame(PHP_INT_MAX, $_SESSION['int']);
        self::assertSame(0.1 + 0.2, $_SESSION['float']);
        self::assertSame("caf\u{e9}|;\"\0", $_SESSION['text']);
        self::assertSame($_SESSION['object'], $_SESSION['again'], 'the shared object is one object');
        $_SESSION['ref'][] = 'through the reference';
        self::assertSame('through the reference', end($_SESSION['list']), 'the reference is one');
        session_destroy();
    }
}
