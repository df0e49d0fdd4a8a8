<?php

declare(strict_types=1);

namespace SessionCluster\Tests;

use PHPUnit\Framework\TestCase;
use SessionCluster\PhpSessionDocument;
use SessionCluster\PhpSessionMerge;

/**
 * The session codec (PhpSessionDocument: PHP's `php` session format, read at the level of
 * top-level variables, never unserialized) and the three-way merge built on it. No database.
 */
final class CodecTest extends TestCase
{
    /** Sessions as PHP's `php` serialize handler writes them (session_encode()). */
    public static function sessions(): array
    {
        return [
            'empty' => [''],
            'scalars' => ['i|i:-42;f|d:0.1;t|b:1;n|N;s|s:5:"a|b;c";'],
            'unicode and bytes' => ['u|s:9:"caf' . "\u{e9} \u{2603}" . '";bin|s:3:"' . "\0\xff\n" . '";'],
            'special floats' => ['inf|d:INF;ninf|d:-INF;nan|d:NAN;e|d:1.0E+25;'],
            'nested arrays' => ['cart|a:2:{i:0;a:2:{s:2:"id";i:7;s:3:"qty";i:2;}s:4:"note";s:0:"";}visits|i:3;'],
            'objects' => ['o|O:8:"stdClass":2:{s:1:"a";i:1;s:1:"b";O:8:"stdClass":0:{}}x|i:1;'],
            // $_SESSION['p'] = $obj; $_SESSION['q'] = $obj (shared object: slot 1 is p's value).
            'shared object across variables' => ['p|O:8:"stdClass":1:{s:1:"v";i:1;}q|r:1;'],
            // $_SESSION['b'] = &$_SESSION['a'] (a PHP reference across variables).
            'reference across variables' => ['a|a:1:{i:0;i:5;}b|R:1;c|i:9;'],
            'reference inside a variable' => ['arr|a:2:{i:0;s:1:"x";i:1;R:2;}'],
            'enum' => ['suit|E:11:"Suit:Hearts";'],
        ];
    }

    /** @dataProvider sessions */
    public function testParseAndReassembleGivesTheSameBytes(string $session): void
    {
        $doc = PhpSessionDocument::parse($session);
        self::assertNotNull($doc, 'the session parses');
        $text = '';
        foreach ($doc->vars as $i => $var) {
            self::assertSame($i, $doc->index[$var['name']]);
            $text .= $var['name'] . '|' . $var['text'];
        }
        self::assertSame($session, $text, 'its variables put together are the session, byte for byte');
    }

    /** @dataProvider sessions */
    public function testMergeWithoutAConcurrentChangeIsTheIdentity(string $session): void
    {
        self::assertSame($session, PhpSessionMerge::merge($session, $session, $session));
        self::assertSame($session, PhpSessionMerge::merge('', $session, ''), 'nothing stored: the request whole');
        self::assertSame($session, PhpSessionMerge::merge($session, $session . '', $session));
    }

    public function testMalformedSessionsAreRejected(): void
    {
        foreach (['novalue', 'a|i:1', 'a|s:5:"abc";', 'a|i:1;a|i:2;', 'a|R:5;', 'a|a:1:{i:0;i:1;', 'a|X:1;'] as $bad) {
            self::assertNull(PhpSessionDocument::parse($bad), 'refused: ' . $bad);
        }
    }

    public function testTheRequestsChangesGoOntoTheStoredSession(): void
    {
        $base = 'visits|i:1;cart|a:0:{}';
        $mine = 'visits|i:1;cart|a:1:{i:0;s:4:"book";}';           // the request adds to the cart
        $current = 'visits|i:2;cart|a:0:{}theme|s:4:"dark";';      // meanwhile: visits++, a new variable
        self::assertSame('visits|i:2;cart|a:1:{i:0;s:4:"book";}theme|s:4:"dark";',
            PhpSessionMerge::merge($base, $mine, $current));
    }

    public function testARemovedVariableStaysRemovedAndTheRequestWinsOnTheSameVariable(): void
    {
        $base = 'a|i:1;b|i:1;c|i:1;';
        $mine = 'a|i:2;c|i:1;';                  // changes a, removes b
        $current = 'a|i:3;b|i:1;c|i:4;';         // the other writer changed a and c
        self::assertSame('a|i:2;c|i:4;', PhpSessionMerge::merge($base, $mine, $current));
    }

    public function testBackReferencesAreRenumberedForTheMergedOrder(): void
    {
        // The request adds an object and a second variable pointing at it (slots 2 and 3 in its
        // own order); the stored session gained a variable first, so they move by one slot.
        $base = 'x|i:1;';
        $mine = 'x|i:1;o|O:8:"stdClass":0:{}p|r:2;';
        $current = 'x|i:1;y|i:5;';
        $merged = PhpSessionMerge::merge($base, $mine, $current);
        self::assertSame('x|i:1;y|i:5;o|O:8:"stdClass":0:{}p|r:3;', $merged);
        self::assertNotNull(PhpSessionDocument::parse($merged));
    }

    public function testUnparsableStoredDataLeavesTheRequestsDataWhole(): void
    {
        self::assertSame('a|i:2;', PhpSessionMerge::merge('a|i:1;', 'a|i:2;', 'garbage'));
    }
}
