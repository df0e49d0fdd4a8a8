import Synchronization

/// php-fpm's pool figures: accepted requests, active workers and the most seen at once.
public final class FastCGIStatistics: Sendable {
    private struct Counts {
        var accepted = 0
        var active = 0
        var maxActive = 0
    }

    private let counts = Mutex(Counts())

    public init() {}

    func begin() {
        counts.withLock {
            $0.accepted += 1
            $0.active += 1
            $0.maxActive = max($0.maxActive, $0.active)
        }
    }

    func end() { counts.withLock { $0.active -= 1 } }

    /// Requests accepted since start.
    public var accepted: Int { counts.withLock { $0.accepted } }
    /// Workers inside a request now.
    public var active: Int { counts.withLock { $0.active } }
    /// The most workers inside a request at once since start.
    public var maxActive: Int { counts.withLock { $0.maxActive } }
}
