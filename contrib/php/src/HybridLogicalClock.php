<?php

declare(strict_types=1);

namespace SessionCluster;

/**
 * The hybrid logical clock of one handler instance, and its writer id (docs/PROTOCOL.md, "Rows
 * and versions"): milliseconds since 1970 in the high 48 bits, a counter in the low 16.
 *
 * Every change carries a version `(hlc, origin)`: a value of next() and this instance's origin.
 * Every clock value read from a node is observe()d, so that the next change of this instance
 * orders after it even when this host's clock is behind. Between two live versions the greater
 * `(hlc, origin)` wins; versions are compared as the lists `[hlc, origin]` (PHP compares two
 * lists of the same length element by element).
 */
final class HybridLogicalClock
{
    /** The last value given out or seen. */
    private int $clock = 0;

    /** This instance's writer id: a random positive 31-bit integer. */
    private int $origin;

    public function __construct()
    {
        $this->origin = random_int(1, 0x7fffffff);
    }

    /** This instance's origin (writer id). */
    public function origin(): int
    {
        return $this->origin;
    }

    /** A new value, greater than every value this clock gave or observed. */
    public function next(): int
    {
        [$fraction, $seconds] = explode(' ', microtime());
        $physical = ((int) $seconds * 1000 + (int) ((float) $fraction * 1000)) << 16;
        $this->clock = max($this->clock + 1, $physical);
        return $this->clock;
    }

    /** A clock value read from a node: the next value orders after it. */
    public function observe(int $seen): void
    {
        $this->clock = max($this->clock, $seen);
    }

    /** The last value given out or seen (0 before the first). */
    public function last(): int
    {
        return $this->clock;
    }
}
