import Synchronization

/// Counters shared by every worker of the process, shown by `/status`.
public final class ResponderMetrics: Sendable {
    private struct Counts {
        var slowRequests = 0
        var decodeFailures = 0
        var casRetries = 0
        var conflicts = 0
        var terminated = 0
    }

    private let counts = Mutex(Counts())

    public init() {}

    public func slowRequest() { counts.withLock { $0.slowRequests += 1 } }
    public func decodeFailure() { counts.withLock { $0.decodeFailures += 1 } }
    public func casRetry() { counts.withLock { $0.casRetries += 1 } }
    public func conflict() { counts.withLock { $0.conflicts += 1 } }
    public func terminatedRequest() { counts.withLock { $0.terminated += 1 } }

    public var slowRequests: Int { counts.withLock { $0.slowRequests } }
    public var decodeFailures: Int { counts.withLock { $0.decodeFailures } }
    public var casRetries: Int { counts.withLock { $0.casRetries } }
    public var conflicts: Int { counts.withLock { $0.conflicts } }
    public var terminatedRequests: Int { counts.withLock { $0.terminated } }
}
