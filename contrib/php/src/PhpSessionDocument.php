<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * PHP's `php` session serialize format (`name|<serialized value>name2|<serialized value>…`), read
 * at the level of top-level session variables, and the three-way merge ClusterSessionHandler uses
 * when its compare-and-set write lost a race.
 *
 * Values are never unserialized (no class is loaded, no object is woken up): a small tokenizer
 * finds where each value ends, how many back-reference slots it takes and where its back-references
 * (`R:n;`, `r:n;`) are. PHP numbers the slots of a session across all variables (the first
 * variable's value is slot 1, every value nested or not takes one slot, `R:` takes none), so a
 * back-reference may point into an earlier variable; the merge rewrites those numbers when
 * variables move, exactly as PHP's own encoder would have numbered them.
 *
 * Limitation: the payload of a `C:` value (the deprecated `Serializable` interface) is opaque; its
 * inner back-references are not renumbered.
 */
final class PhpSessionDocument
{
    /**
     * The variables in order: name, serialized text, slot count, first slot, and the
     * back-references in the text (offset and length of the number, absolute target slot,
     * and the target as [variable index, offset within that variable]).
     *
     * @var list<array{name: string, text: string, slots: int, start: int,
     *     refs: list<array{pos: int, len: int, target: int, var: int, offset: int}>}>
     */
    public array $vars = [];

    /** @var array<string, int> variable name → index in $vars */
    public array $index = [];

    /**
     * Parses a session; null when the text is not in the `php` format, holds a back-reference that
     * points nowhere, or names a variable twice.
     */
    public static function parse(string $text): ?self
    {
        $doc = new self();
        $length = strlen($text);
        $pos = 0;
        $slot = 1;
        while ($pos < $length) {
            $bar = strpos($text, '|', $pos);
            if ($bar === false) {
                return null;
            }
            $name = substr($text, $pos, $bar - $pos);
            if (isset($doc->index[$name])) {
                return null;
            }
            $slots = 0;
            $refs = [];
            $end = self::skipValue($text, $bar + 1, $slots, $refs, 0);
            if ($end < 0) {
                return null;
            }
            $valueText = substr($text, $bar + 1, $end - $bar - 1);
            foreach ($refs as &$ref) {
                $ref['pos'] -= $bar + 1;
            }
            unset($ref);
            $doc->index[$name] = count($doc->vars);
            $doc->vars[] = ['name' => $name, 'text' => $valueText, 'slots' => $slots, 'start' => $slot, 'refs' => $refs];
            $slot += $slots;
            $pos = $end;
        }
        // Resolve every back-reference to (variable, offset); it must point at an earlier slot.
        foreach ($doc->vars as $i => &$var) {
            foreach ($var['refs'] as &$ref) {
                $found = null;
                for ($j = $i; $j >= 0; $j--) {
                    $other = $doc->vars[$j];
                    if ($ref['target'] >= $other['start'] && $ref['target'] < $other['start'] + $other['slots']) {
                        $found = $j;
                        break;
                    }
                }
                if ($found === null) {
                    return null;
                }
                $ref['var'] = $found;
                $ref['offset'] = $ref['target'] - $doc->vars[$found]['start'];
            }
            unset($ref);
        }
        unset($var);
        return $doc;
    }

    /**
     * The text of variable $i with its back-references written relative to the variables they
     * point into: two variables of two sessions are "the same" when these forms are equal.
     */
    public function canonical(int $i): string
    {
        $var = $this->vars[$i];
        $out = '';
        $at = 0;
        foreach ($var['refs'] as $ref) {
            $target = $ref['var'] === $i ? '' : $this->vars[$ref['var']]['name'];
            $out .= substr($var['text'], $at, $ref['pos'] - $at) . '@' . strlen($target) . ':' . $target . '+' . $ref['offset'];
            $at = $ref['pos'] + $ref['len'];
        }
        return $out . substr($var['text'], $at);
    }

    /** Names of the variables that variable $i points into (itself excluded). */
    public function dependencies(int $i): array
    {
        $names = [];
        foreach ($this->vars[$i]['refs'] as $ref) {
            if ($ref['var'] !== $i) {
                $names[$this->vars[$ref['var']]['name']] = $ref['offset'];
            }
        }
        return array_keys($names);
    }

    /**
     * Skips one serialized value at $p; returns the offset after it, or -1 when it is malformed.
     * Counts the slots it takes and records its back-references.
     */
    private static function skipValue(string $s, int $p, int &$slots, array &$refs, int $depth): int
    {
        if ($depth > 4096 || $p >= strlen($s)) {
            return -1;
        }
        $m = [];
        switch ($s[$p]) {
            case 'N':
                if (substr($s, $p, 2) !== 'N;') {
                    return -1;
                }
                $slots++;
                return $p + 2;
            case 'b':
            case 'i':
            case 'd':
                if (!preg_match('/\G(?:b:[01]|i:[+-]?[0-9]+|d:(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF|-INF|NAN));/', $s, $m, 0, $p)) {
                    return -1;
                }
                $slots++;
                return $p + strlen($m[0]);
            case 's':
                if (!preg_match('/\Gs:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $end = $p + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $end + 2;
            case 'S':
                if (!preg_match('/\GS:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $q = $p + strlen($m[0]);
                for ($n = (int) $m[1]; $n > 0; $n--) {
                    if ($q >= strlen($s)) {
                        return -1;
                    }
                    if ($s[$q] === '\\') {
                        if (!ctype_xdigit(substr($s, $q + 1, 2)) || strlen(substr($s, $q + 1, 2)) !== 2) {
                            return -1;
                        }
                        $q += 3;
                    } else {
                        $q++;
                    }
                }
                if (substr($s, $q, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $q + 2;
            case 'r':
            case 'R':
                if (!preg_match('/\G[rR]:([0-9]+);/', $s, $m, 0, $p)) {
                    return -1;
                }
                $refs[] = ['pos' => $p + 2, 'len' => strlen($m[1]), 'target' => (int) $m[1], 'var' => -1, 'offset' => 0];
                if ($s[$p] === 'r') {
                    $slots++;
                }
                return $p + strlen($m[0]);
            case 'E':
                if (!preg_match('/\GE:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $end = $p + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 2) !== '";') {
                    return -1;
                }
                $slots++;
                return $end + 2;
            case 'C':
                if (!preg_match('/\GC:([0-9]+):"/', $s, $m, 0, $p)) {
                    return -1;
                }
                $q = $p + strlen($m[0]) + (int) $m[1];
                if (!preg_match('/\G":([0-9]+):\{/', $s, $m, 0, $q)) {
                    return -1;
                }
                $end = $q + strlen($m[0]) + (int) $m[1];
                if (substr($s, $end, 1) !== '}') {
                    return -1;
                }
                $slots++;
                return $end + 1;
            case 'a':
            case 'O':
                if ($s[$p] === 'a') {
                    if (!preg_match('/\Ga:([0-9]+):\{/', $s, $m, 0, $p)) {
                        return -1;
                    }
                    $q = $p + strlen($m[0]);
                    $count = (int) $m[1];
                } else {
                    if (!preg_match('/\GO:([0-9]+):"/', $s, $m, 0, $p)) {
                        return -1;
                    }
                    $q = $p + strlen($m[0]) + (int) $m[1];
                    if (!preg_match('/\G":([0-9]+):\{/', $s, $m, 0, $q)) {
                        return -1;
                    }
                    $q += strlen($m[0]);
                    $count = (int) $m[1];
                }
                $slots++;
                for ($n = 0; $n < $count; $n++) {
                    // Keys (int or string) take no slot and hold no reference.
                    $keySlots = 0;
                    $keyRefs = [];
                    if ($q >= strlen($s) || !in_array($s[$q], ['i', 's', 'S'], true)) {
                        return -1;
                    }
                    $q = self::skipValue($s, $q, $keySlots, $keyRefs, $depth + 1);
                    if ($q < 0) {
                        return -1;
                    }
                    $q = self::skipValue($s, $q, $slots, $refs, $depth + 1);
                    if ($q < 0) {
                        return -1;
                    }
                }
                if (substr($s, $q, 1) !== '}') {
                    return -1;
                }
                return $q + 1;
            default:
                return -1;
        }
    }
}
