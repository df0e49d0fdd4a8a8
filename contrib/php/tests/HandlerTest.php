<?php

declare(strict_types=1);

namespace SessionCluster\Tests;

/**
 * The handler's methods as PHP's session module calls them, against both nodes: every change
 * reaches both with one version, destroy leaves a tombstone on both and no live row, strict mode
 * adopts only live ids, regenerate moves the data, gc removes what expired.
 */
final class HandlerTest extends DatabaseTestCase
{
    public function testWriteReachesBothNodesAndAnotherHandlerReadsIt(): void
    {
        $h = TestCluster::handler();
        self::assertTrue($h->open('', 'PHPSESSID'));
        $id = $h->create_sid();
        self::assertMatchesRegularExpression('/^[A-Za-z0-9,-]{32}$/D', $id, 'create_sid');
        self::assertSame('', $h->read($id), 'a new id reads as an empty session');
        $data = 'visits|i:1;name|s:5:"caf' . "\u{e9}" . '";';
        self::assertTrue($h->write($id, $data), (string) $h->lastError());
        self::assertTrue($h->close());

        $a = TestCluster::liveRow('a', $id);
        $b = TestCluster::liveRow('b', $id);
        self::assertNotNull($a, 'the row is on node a');
        self::assertSame($data, $a['data'], 'node a holds the data byte for byte');
        self::assertSame($a, $b, 'node b holds the same row, version included');
        self::assertSame($h->origin(), $a['origin'], "the row's origin is the handler's");

        // Another handler (another request) reads it and changes it: both nodes follow.
        $h2 = TestCluster::handler();
        $h2->open('', 'PHPSESSID');
        self::assertSame($data, $h2->read($id));
        $changed = 'visits|i:2;name|s:5:"caf' . "\u{e9}" . '";';
        self::assertTrue($h2->write($id, $changed), (string) $h2->lastError());
        $a2 = TestCluster::liveRow('a', $id);
        self::assertSame($changed, $a2['data']);
        self::assertSame($h2->origin(), $a2['origin']);
        self::assertGreaterThan($a['hlc'], $a2['hlc'], 'the new version is greater');
        self::assertSame($a2, TestCluster::liveRow('b', $id));

        $h3 = TestCluster::handler();
        self::assertSame($changed, $h3->read($id));
        self::assertTrue($h3->destroy($id));
    }

    public function testUnchangedDataIsNotWrittenAgain(): void
    {
        $h = TestCluster::handler();
        $id = $h->create_sid();
        $h->read($id);
        self::assertTrue($h->write($id, 'k|i:1;'));
        $before = TestCluster::liveRow('a', $id);

        $h2 = TestCluster::handler(touchInterval: 60);
        self::assertSame('k|i:1;', $h2->read($id));
        self::assertTrue($h2->updateTimestamp($id, 'k|i:1;'), 'the lazy refresh');
        self::assertSame($before, TestCluster::liveRow('a', $id), 'refreshed recently: not written');
        $h2->destroy($id);
    }

    public function testConcurrentWritersMergeTheirVariables(): void
    {
        $h = TestCluster::handler();
        $id = $h->create_sid();
        $h->read($id);
        self::assertTrue($h->write($id, 'shared|i:0;'));

        // Two requests read the same version; each adds a variable of its own.
        $first = TestCluster::handler();
        $second = TestCluster::handler();
        self::assertSame('shared|i:0;', $first->read($id));
        self::assertSame('shared|i:0;', $second->read($id));
        self::assertTrue($first->write($id, 'shared|i:0;first|b:1;'));
        self::assertTrue($second->write($id, 'shared|i:0;second|b:1;'), (string) $second->lastError());
        self::assertSame(1, $second->stats()['lost_races'], 'the second writer lost the compare-and-set');
        self::assertSame(1, $second->stats()['merges'], 'and merged');

        $merged = 'shared|i:0;first|b:1;second|b:1;';
        self::assertSame($merged, TestCluster::liveRow('a', $id)['data'], 'both variables are kept');
        self::assertSame(TestCluster::liveRow('a', $id), TestCluster::liveRow('b', $id));
        $h->destroy($id);
    }

    public function testDestroyLeavesATombstoneOnBothNodesAndNoLiveRow(): void
    {
        $h = TestCluster::handler();
        $id = $h->create_sid();
        $h->read($id);
        self::assertTrue($h->write($id, 'user|s:3:"bob";'));
        self::assertOnBothNodes('live', $id, 'before destroy');

        self::assertTrue($h->destroy($id), (string) $h->lastError());
        self::assertOnBothNodes('tombstone', $id, 'after destroy');
        self::assertNull(TestCluster::liveRow('a', $id), 'no live row on node a');
        self::assertNull(TestCluster::liveRow('b', $id), 'no live row on node b');
        $tombstone = TestCluster::tombstone('a', $id);
        self::assertSame($h->origin(), $tombstone['origin'], "the tombstone's origin is the handler's");
        self::assertSame($tombstone, TestCluster::tombstone('b', $id), 'the same tombstone on both nodes');

        // The id never comes back: not adopted, read as empty, not written.
        $h2 = TestCluster::handler();
        self::assertFalse($h2->validateId($id), 'strict mode refuses a destroyed id');
        $h3 = TestCluster::handler();
        self::assertSame('', $h3->read($id), 'a destroyed session reads as empty');
        self::assertFalse($h3->write($id, 'user|s:3:"eve";'), 'a write to a destroyed id fails');
        self::assertSame('the session was destroyed', $h3->lastError());
        self::assertOnBothNodes('tombstone', $id, 'after the refused write');
    }

    public function testStrictModeAdoptsOnlyLiveWellFormedIds(): void
    {
        $h = TestCluster::handler();
        $unknown = self::freshId();
        self::assertFalse($h->validateId($unknown), 'an unknown id is refused');
        self::assertNull($h->lastError(), 'refused because it does not exist, not because of a failure');
        self::assertSame('', $h->read($unknown));
        self::assertOnBothNodes('absent', $unknown, 'validateId and read write nothing');

        foreach (['short', str_repeat('x', 257), 'has space in it 0123456789', "nul\0byte0123456789012345", '../../etc/passwd0123456789'] as $bad) {
            self::assertFalse(TestCluster::handler()->validateId($bad), 'a malformed id is refused: ' . json_encode($bad));
        }

        $id = $h->create_sid();
        $h->read($id);
        self::assertTrue($h->write($id, 'a|i:1;'));
        $h2 = TestCluster::handler();
        self::assertTrue($h2->validateId($id), 'a live id is adopted');
        self::assertSame('a|i:1;', $h2->read($id), 'the read that follows uses what validateId read');
        $h2->destroy($id);
    }

    public function testRegenerateMovesTheDataAndBuriesTheOldId(): void
    {
        // session_regenerate_id(true) as PHP's session module runs it: destroy the old id, make
        // a new one, validate it (strict mode: it must not exist), read it, write the data there.
        $h = TestCluster::handler();
        $old = $h->create_sid();
        $h->read($old);
        self::assertTrue($h->write($old, 'cart|a:1:{i:0;s:4:"book";}'));

        $h2 = TestCluster::handler();
        self::assertTrue($h2->validateId($old));
        $data = $h2->read($old);
        self::assertTrue($h2->destroy($old));
        $new = $h2->create_sid();
        self::assertNotSame($old, $new);
        self::assertFalse($h2->validateId($new), 'the new id does not exist yet');
        self::assertSame('', $h2->read($new));
        self::assertTrue($h2->write($new, $data), (string) $h2->lastError());

        self::assertOnBothNodes('tombstone', $old, 'the old id');
        self::assertOnBothNodes('live', $new, 'the new id');
        self::assertSame('cart|a:1:{i:0;s:4:"book";}', TestCluster::liveRow('b', $new)['data']);
        $h2->destroy($new);
    }

    public function testGcRemovesExpiredSessionsAndOldTombstonesFromBothNodes(): void
    {
        $h = TestCluster::handler();
        $expired = $h->create_sid();
        $h->read($expired);
        self::assertTrue($h->write($expired, 'old|b:1;'));
        $fresh = $h->create_sid();
        $h->read($fresh);
        self::assertTrue($h->write($fresh, 'new|b:1;'));
        $oldTombstone = $h->create_sid();
        $h->read($oldTombstone);
        self::assertTrue($h->write($oldTombstone, 'gone|b:1;'));
        self::assertTrue($h->destroy($oldTombstone));
        $freshTombstone = $h->create_sid();
        $h->read($freshTombstone);
        self::assertTrue($h->write($freshTombstone, 'gone|b:1;'));
        self::assertTrue($h->destroy($freshTombstone));
        foreach (['a', 'b'] as $node) {
            TestCluster::query($node, "UPDATE php_session SET date_change = date_change - interval '2 days' WHERE id = \$1", [$expired]);
            TestCluster::query($node, "UPDATE php_session_tombstone SET deleted_at = deleted_at - interval '30 days' WHERE id = \$1",
                [$oldTombstone]);
        }

        $h2 = TestCluster::handler(lifetime: 1440);
        self::assertFalse($h2->validateId($expired), 'an expired session is not adopted');
        $deleted = $h2->gc(1440);
        self::assertIsInt($deleted, (string) $h2->lastError());
        // The responders' own collection may have been first for some of the four rows.
        self::assertGreaterThanOrEqual(0, $deleted);
        self::assertOnBothNodes('absent', $expired, 'the expired session (no tombstone left)');
        self::assertOnBothNodes('absent', $oldTombstone, 'the tombstone older than the TTL');
        self::assertOnBothNodes('live', $fresh, 'a fresh session');
        self::assertOnBothNodes('tombstone', $freshTombstone, 'a fresh tombstone');
        $h2->destroy($fresh);
    }

    public function testTheHandlerRefusesASwappedPairOfNodes(): void
    {
        $h = new \SessionCluster\ClusterSessionHandler(TestCluster::node('b'), TestCluster::node('a'), downMemoDir: null);
        self::assertFalse($h->read(self::freshId()), 'no node is what it is said to be: read fails');
        self::assertStringContainsString('cluster_node', (string) $h->lastError());
    }
}
