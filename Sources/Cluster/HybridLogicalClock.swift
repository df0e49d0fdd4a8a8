import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A hybrid logical clock: milliseconds since 1970 in the high 48 bits, a counter in the low 16.
///
/// Every write carries one value; a value read from a node is `observe`d so that the next write
/// of this process orders after it even when this host's clock is behind. Writes made a second
/// apart on hosts whose clocks agree within a second are ordered as they happened.
public final class HybridLogicalClock: Sendable {
    private let last = Mutex<Int64>(0)

    public init() {}

    /// Physical milliseconds since the epoch, shifted into the clock's high bits.
    public static func physical() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let milliseconds = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
        return milliseconds << 16
    }

    /// A new value, greater than every value this clock gave or observed.
    public func next() -> Int64 {
        let physical = Self.physical()
        return last.withLock { value in
            value = max(value + 1, physical)
            return value
        }
    }

    /// Takes note of a value seen elsewhere so that later values order after it.
    public func observe(_ remote: Int64) {
        last.withLock { value in value = max(value, remote) }
    }

    /// The wall-clock milliseconds of a clock value.
    public static func milliseconds(of value: Int64) -> Int64 { value >> 16 }
}
