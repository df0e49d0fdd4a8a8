import Synchronization

/// What this process believes about one node; shared by every worker of the process.
///
/// A circuit breaker: after a failure the node is `down` and requests skip it at once; the
/// maintenance thread probes it and moves it to `catchingUp` when it answers, then to `up` once
/// the other node's outbox holds nothing for it and it is confirmed current (`node_standing`).
public final class NodeHealth: Sendable {
    public enum State: String, Sendable {
        case up
        case catchingUp = "catching_up"
        case down
    }

    private struct Guarded {
        var state: State = .up
        var latencyMilliseconds: Double = 0
        var failures: Int = 0
        var lastError: String = ""
        var generation: Int = 0
        var standsAlone = false
        var current = false
        var standingAt: ContinuousClock.Instant?
    }

    public let name: NodeName
    private let guarded = Mutex(Guarded())
    /// Told of every change of state, outside the lock (`ClusterHealth.onTransition`).
    private let observer = Mutex<(@Sendable (NodeTransition) -> Void)?>(nil)

    public init(name: NodeName) { self.name = name }

    public var state: State { guarded.withLock { $0.state } }

    /// True when requests should use this node.
    public var isUsable: Bool { state != .down }

    /// Smoothed round-trip time of recent calls, in milliseconds.
    public var latencyMilliseconds: Double { guarded.withLock { $0.latencyMilliseconds } }

    public var failureCount: Int { guarded.withLock { $0.failures } }

    /// Counts the times the node went down; a connection opened before the last fall is stale.
    public var generation: Int { guarded.withLock { $0.generation } }

    /// Records a successful call and its duration.
    public func recordSuccess(milliseconds: Double) {
        guarded.withLock { value in
            value.latencyMilliseconds =
                value.latencyMilliseconds == 0 ? milliseconds : value.latencyMilliseconds * 0.9 + milliseconds * 0.1
        }
    }

    /// The node's standing as the last beat found it (`node_standing`).
    public var standing: (standsAlone: Bool, current: Bool) { guarded.withLock { ($0.standsAlone, $0.current) } }

    /// True when a beat within `maxAge` found the node standing alone.
    func knownToStandAlone(maxAge: Duration) -> Bool {
        guarded.withLock { value in
            guard value.standsAlone, let at = value.standingAt else { return false }
            return ContinuousClock.now - at < maxAge
        }
    }

    /// Records what a beat found.
    func recordStanding(standsAlone: Bool, current: Bool) {
        guarded.withLock { value in
            value.standsAlone = standsAlone
            value.current = current
            value.standingAt = .now
        }
    }

    /// Marks the node down; returns true when it was not down before.
    @discardableResult
    public func recordFailure(_ detail: String) -> Bool {
        let previous = guarded.withLock { value in
            value.failures += 1
            value.lastError = detail
            let previous = value.state
            if previous != .down { value.generation += 1 }
            value.state = .down
            return previous
        }
        guard previous != .down else { return false }
        report(NodeTransition(node: name, from: previous, to: .down, detail: detail))
        return true
    }

    /// Moves the node to a new state; returns the previous one.
    @discardableResult
    public func set(_ state: State) -> State {
        let previous = guarded.withLock { value in
            let previous = value.state
            value.state = state
            return previous
        }
        if previous != state { report(NodeTransition(node: name, from: previous, to: state, detail: "")) }
        return previous
    }

    func observe(_ handler: @escaping @Sendable (NodeTransition) -> Void) { observer.withLock { $0 = handler } }

    private func report(_ transition: NodeTransition) {
        if let handler = observer.withLock({ $0 }) { handler(transition) }
    }
}

/// A node's change of state as this process sees it.
public struct NodeTransition: Sendable {
    public let node: NodeName
    public let from: NodeHealth.State
    public let to: NodeHealth.State
    /// Why the node went down (the error), or empty.
    public let detail: String
}

/// The health of both nodes as one shared value.
public final class ClusterHealth: Sendable {
    public let a = NodeHealth(name: .a)
    public let b = NodeHealth(name: .b)

    public init() {}

    public subscript(name: NodeName) -> NodeHealth { name == .a ? a : b }

    /// Calls `handler` on every change of a node's state (down, catching up, up). This module
    /// logs only at `debug` (swift-log's guidance for libraries): the application decides how
    /// loudly a node's fall and return are reported.
    public func onTransition(_ handler: @escaping @Sendable (NodeTransition) -> Void) {
        a.observe(handler)
        b.observe(handler)
    }

    /// The node asked first (locks of background passes, reads of one node): A while it is fully up, else B, else A.
    public var preferred: NodeName {
        if a.state == .up { return .a }
        if b.state == .up { return .b }
        if a.isUsable { return .a }
        return .b
    }

    /// How many nodes are usable now.
    public var usableCount: Int { (a.isUsable ? 1 : 0) + (b.isUsable ? 1 : 0) }

    /// True when no node is usable.
    public var allDown: Bool { !a.isUsable && !b.isUsable }
}
