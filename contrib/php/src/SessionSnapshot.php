<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * The version protocol of a read (docs/PROTOCOL.md, "Reading"), as Sources/Cluster/SessionSnapshot.swift
 * is for the responder: each node's copy of a session with its standing, which nodes *decide*
 * what the session is, and the snapshot they make of it.
 *
 * A version is the list `[hlc, origin]`; of two live versions the greater wins, a tombstone is
 * final. A snapshot is an array:
 *
 *     ['live' => bool, 'tombstone' => bool, 'data' => string, 'version' => ?array, 'age' => int,
 *      'writable' => bool, 'copies' => array<string, copy>]
 *
 * and a copy `['version' => ?array, 'deleted' => bool, 'alone' => bool, 'holds' => bool]`.
 */
final class SessionSnapshot
{
    /**
     * One node's copy in a Statements::READ_SQL row, with its standing.
     *
     * @return array{version: ?array, deleted: bool, alone: bool, holds: bool}
     */
    public static function copyOf(array $row): array
    {
        $version = $row[1] === null ? null : [(int) $row[1], (int) $row[2]];
        return ['version' => $version, 'deleted' => $row[3] === 't', 'alone' => $row[6] === 't', 'holds' => $row[7] === 't'];
    }

    /**
     * Which of the nodes that answered decide what a row is. Both answered: the one that stands
     * alone, when only one does (the other may lack writes, or hold a late one no one
     * acknowledged); else both. One answered: that node if it holds every acknowledged write; else none.
     *
     * @param array<string, array{version: ?array, deleted: bool, alone: bool, holds: bool}> $copies
     * @return list<string>
     */
    public static function deciding(array $copies): array
    {
        if (count($copies) >= 2) {
            $alone = array_keys(array_filter($copies, fn (array $copy): bool => $copy['alone']));
            return count($alone) === 1 ? $alone : array_keys($copies);
        }
        return array_keys(array_filter($copies, fn (array $copy): bool => $copy['holds']));
    }

    /**
     * The session as the copies say (their READ_SQL rows in $rows, by node). A tombstone on a
     * deciding node means it was destroyed; else the newest copy there is the row. When no node
     * decides, a live copy may be shown but not changed (`writable` is false), and an absent (or
     * expired) row proves nothing: ClusterSessionUnavailable, unless $knownNew (an id the caller
     * just made).
     *
     * @param array<string, array{version: ?array, deleted: bool, alone: bool, holds: bool}> $copies
     * @param array<string, array> $rows
     * @return array{live: bool, tombstone: bool, data: string, version: ?array, age: int, writable: bool,
     *     copies: array<string, array{version: ?array, deleted: bool, alone: bool, holds: bool}>}
     */
    public static function decide(array $copies, array $rows, bool $knownNew): array
    {
        $deciding = self::deciding($copies);
        $snapshot = [
            'live' => false, 'tombstone' => false, 'data' => '', 'version' => null, 'age' => 0,
            'writable' => $deciding !== [], 'copies' => $copies,
        ];
        // The copies that count: the deciding ones, or (none deciding) those that may be shown;
        // when no deciding node has a row at all, every copy (a new row the other node took while
        // the deciding one was away, queued for it and not yet copied, is still the row).
        $counted = $deciding === [] ? array_keys($copies) : $deciding;
        $any = false;
        foreach ($counted as $node) {
            $any = $any || $copies[$node]['version'] !== null;
        }
        if (!$any) {
            $counted = array_keys($copies);
        }
        $newest = null;
        foreach ($counted as $node) {
            if ($copies[$node]['deleted']) {
                $snapshot['tombstone'] = true;
                return $snapshot;  // a tombstone is final
            }
            $version = $copies[$node]['version'];
            if ($version !== null && ($newest === null || $copies[$newest]['version'] < $version)) {
                $newest = $node;
            }
        }
        if ($newest !== null) {
            $row = $rows[$newest];
            $snapshot['version'] = $copies[$newest]['version'];
            $snapshot['age'] = (int) $row[5];
            $snapshot['data'] = (string) hex2bin($row[0]);
            $snapshot['live'] = $row[4] !== 't';
        }
        if ($deciding === [] && !$snapshot['live'] && !$knownNew) {
            throw new ClusterSessionUnavailable(
                'the node that answered cannot prove it holds every write, and it has no live copy of the session');
        }
        return $snapshot;
    }
}
