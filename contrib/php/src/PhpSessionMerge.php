<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * The three-way merge of one session at the level of its top-level variables.
 *
 * Given what the request read (`$base`), what it wants to write (`$mine`) and what is stored now
 * (`$current`, written by someone else in between):
 *
 *  - a variable the request added or changed (its serialized value differs from the one it read)
 *    takes the request's value; a variable the request removed is removed;
 *  - every other variable keeps its stored value, including variables the other writer added,
 *    changed or removed;
 *  - stored variables keep their order; variables the request added go at the end;
 *  - back-references between variables (PHP references and shared objects) are kept: a variable
 *    taken from one side brings the variables it points into along from the same side when the
 *    other side's copy differs; back-reference numbers are rewritten for the merged order.
 *
 * When the request and the other writer changed the same variable, the request (the later
 * writer) wins for that variable. When a side cannot be parsed, or references across variables
 * cannot be kept consistent, the request's data is written whole (last writer wins).
 */
final class PhpSessionMerge
{
    /** @return string the merged session text */
    public static function merge(string $base, string $mine, string $current): string
    {
        $b = PhpSessionDocument::parse($base);
        $n = PhpSessionDocument::parse($mine);
        $c = PhpSessionDocument::parse($current);
        if ($b === null || $n === null || $c === null) {
            return $mine;
        }
        $changed = [];
        foreach ($n->vars as $i => $var) {
            $name = $var['name'];
            if (!isset($b->index[$name]) || $b->canonical($b->index[$name]) !== $n->canonical($i)) {
                $changed[$name] = true;
            }
        }
        $removed = [];
        foreach ($b->vars as $var) {
            if (!isset($n->index[$var['name']])) {
                $removed[$var['name']] = true;
            }
        }

        // The merged list: [name, side] with side 'n' (the request's) or 'c' (stored).
        $entries = [];
        foreach ($c->vars as $var) {
            $name = $var['name'];
            if (isset($removed[$name])) {
                continue;
            }
            $entries[] = [$name, isset($changed[$name]) ? 'n' : 'c'];
        }
        foreach ($n->vars as $var) {
            if (isset($changed[$var['name']]) && !isset($c->index[$var['name']])) {
                $entries[] = [$var['name'], 'n'];
            }
        }

        $docs = ['n' => $n, 'c' => $c];
        $limit = 2 * (count($n->vars) + count($c->vars)) + 2;
        for ($round = 0; ; $round++) {
            if ($round > $limit) {
                return $mine;
            }
            $problem = self::findBrokenLink($entries, $docs);
            if ($problem === null) {
                break;
            }
            [$at, $target] = $problem;
            [$name, $side] = $entries[$at];
            if ($side === 'n') {
                // The request's variable points into $target: bring the request's $target along,
                // placed before it.
                $entries = self::place($entries, $target, 'n', $at);
            } elseif (isset($n->index[$name])) {
                // A stored variable points into one the request changed: take the request's view
                // of the pointing variable too.
                $entries[$at] = [$name, 'n'];
            } else {
                // Added by the other writer and pointing into a variable the request changed:
                // the stored target is kept.
                $entries = self::place($entries, $target, 'c', $at);
            }
        }
        $merged = self::emit($entries, $docs);
        return PhpSessionDocument::parse($merged) === null ? $mine : $merged;
    }

    /**
     * The first back-reference of the merged list that does not land where its side meant it:
     * [index of the entry, name of the variable it points into], or null when all are sound.
     */
    private static function findBrokenLink(array $entries, array $docs): ?array
    {
        $position = [];
        foreach ($entries as $i => [$name]) {
            $position[$name] = $i;
        }
        foreach ($entries as $i => [$name, $side]) {
            $doc = $docs[$side];
            foreach ($doc->dependencies($doc->index[$name]) as $target) {
                if (!isset($position[$target]) || $position[$target] >= $i) {
                    return [$i, $target];
                }
                [, $targetSide] = $entries[$position[$target]];
                $targetDoc = $docs[$targetSide];
                $here = $targetDoc->vars[$targetDoc->index[$target]];
                $meant = $doc->vars[$doc->index[$target]];
                // The target must have the same slot layout as on the side that wrote the pointer.
                if ($targetSide !== $side && $targetDoc->canonical($targetDoc->index[$target]) !== $doc->canonical($doc->index[$target])) {
                    return [$i, $target];
                }
                if ($here['slots'] !== $meant['slots']) {
                    return [$i, $target];
                }
            }
        }
        return null;
    }

    /** $entries with $name taken from $side, at its place if before $before, else just before it. */
    private static function place(array $entries, string $name, string $side, int $before): array
    {
        foreach ($entries as $i => [$existing]) {
            if ($existing === $name) {
                if ($i < $before) {
                    $entries[$i] = [$name, $side];
                    return $entries;
                }
                array_splice($entries, $i, 1);
                break;
            }
        }
        array_splice($entries, $before, 0, [[$name, $side]]);
        return $entries;
    }

    /** The session text of the merged list, back-references renumbered. */
    private static function emit(array $entries, array $docs): string
    {
        $start = [];
        $slot = 1;
        foreach ($entries as [$name, $side]) {
            $doc = $docs[$side];
            $start[$name] = $slot;
            $slot += $doc->vars[$doc->index[$name]]['slots'];
        }
        $out = '';
        foreach ($entries as [$name, $side]) {
            $doc = $docs[$side];
            $var = $doc->vars[$doc->index[$name]];
            $text = '';
            $at = 0;
            foreach ($var['refs'] as $ref) {
                $targetName = $doc->vars[$ref['var']]['name'];
                $text .= substr($var['text'], $at, $ref['pos'] - $at) . ($start[$targetName] + $ref['offset']);
                $at = $ref['pos'] + $ref['len'];
            }
            $out .= $name . '|' . $text . substr($var['text'], $at);
        }
        return $out;
    }
}
