import Cluster
import Foundation
import Logging

/// What every worker of one process shares: settings, node health, counters, templates.
public struct ResponderServices: Sendable {
    public let configuration: ResponderConfiguration
    public let health: ClusterHealth
    public let metrics: ResponderMetrics
    public let servedBy: String
    public let startTime: Date
    public let pid: Int32
    public let logger: Logger
    /// Where the line of every request goes (built by `RequestLogLine`); nil logs no request lines.
    public let requestLog: LogSink?
    public let limits: InputLimits
    public let pages: Pages
    /// Pool figures from the transport (accepted, active, max active, workers).
    public let poolFigures: @Sendable () -> PoolFigures
    /// Outbox and replay figures from the maintenance thread.
    public let replicationFigures: @Sendable () -> ReplicationFigures

    public init(
        configuration: ResponderConfiguration, health: ClusterHealth, metrics: ResponderMetrics, servedBy: String,
        logger: Logger, requestLog: LogSink? = nil, pages: Pages = Pages(), limits: InputLimits? = nil,
        poolFigures: @escaping @Sendable () -> PoolFigures = { PoolFigures() },
        replicationFigures: @escaping @Sendable () -> ReplicationFigures = { ReplicationFigures() }
    ) {
        self.configuration = configuration
        self.health = health
        self.metrics = metrics
        self.servedBy = servedBy
        self.startTime = Date()
        self.pid = getpid()
        self.logger = logger
        self.requestLog = requestLog
        self.pages = pages
        self.limits = limits ?? InputLimits(configuration)
        self.poolFigures = poolFigures
        self.replicationFigures = replicationFigures
    }
}

/// php-fpm's pool figures.
public struct PoolFigures: Sendable {
    public var accepted = 0
    public var active = 0
    public var maxActive = 0
    public var workers = 0
    public init(accepted: Int = 0, active: Int = 0, maxActive: Int = 0, workers: Int = 0) {
        self.accepted = accepted
        self.active = active
        self.maxActive = maxActive
        self.workers = workers
    }
}

/// The outbox as the maintenance thread last measured it.
public struct ReplicationFigures: Sendable {
    public var outboxLength = 0
    public var outboxOldestAgeSeconds = 0
    public var replayedRows = 0
    public var lastReplayAt: Date?
    public var gcRuns = 0
    public var gcDeletedRows = 0
    public var lastGCAt: Date?
    public var repairPasses = 0
    public var repairedRows = 0
    public var lastRepairAt: Date?
    public init(
        outboxLength: Int = 0, outboxOldestAgeSeconds: Int = 0, replayedRows: Int = 0, lastReplayAt: Date? = nil,
        gcRuns: Int = 0, gcDeletedRows: Int = 0, lastGCAt: Date? = nil, repairPasses: Int = 0, repairedRows: Int = 0,
        lastRepairAt: Date? = nil
    ) {
        self.outboxLength = outboxLength
        self.outboxOldestAgeSeconds = outboxOldestAgeSeconds
        self.replayedRows = replayedRows
        self.lastReplayAt = lastReplayAt
        self.gcRuns = gcRuns
        self.gcDeletedRows = gcDeletedRows
        self.lastGCAt = lastGCAt
        self.repairPasses = repairPasses
        self.repairedRows = repairedRows
        self.lastRepairAt = lastRepairAt
    }
}
