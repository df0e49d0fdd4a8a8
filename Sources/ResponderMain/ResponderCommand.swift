import ArgumentParser
import Cluster
import FastCGI
import Foundation
import Logging
import Responder
import WebCore

#if canImport(Glibc)
    import Glibc
#endif

/// The responder process: a pool of FastCGI worker threads serving the routes from two nodes.
@main
struct ResponderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responder",
        abstract: "FastCGI responder keeping PHP sessions and items on two PostgreSQL nodes.",
        discussion: """
            Settings come from the environment (DB1_HOST, DB1_PORT, DB1_NAME, DB1_USER, DB1_PASSWORD, DB2_*,
            RESPONDER_NAME, WORKERS, SESSION_NAME, SESSION_LIFETIME, SESSION_TOUCH_INTERVAL, MAX_BODY_BYTES,
            DB_CONNECT_TIMEOUT, DB_QUERY_TIMEOUT, DB_STATEMENT_TIMEOUT, REQUEST_SLOWLOG_TIMEOUT,
            REQUEST_TERMINATE_TIMEOUT, TOMBSTONE_TTL, LOG_FILE, and the input limits MAX_FORM_FIELDS,
            MAX_FIELD_BYTES, MAX_JSON_MEMBERS, MAX_JSON_DEPTH, MAX_HEADER_BYTES, MAX_COOKIE_BYTES, MAX_COOKIES,
            MAX_SESSION_BYTES). Under spawn-fcgi the FastCGI socket is
            file descriptor 0; alone, pass --listen.
            """)

    @Option(name: .long, help: "Listen on HOST:PORT instead of the socket spawn-fcgi hands over as fd 0.")
    var listen: String?

    @Flag(name: .long, help: "Validate the settings and exit.")
    var checkConfig = false

    func run() throws {
        let settings: ResponderConfiguration
        do {
            settings = try ResponderConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            Self.fail("responder: \(error)")
        }
        if checkConfig {
            print("responder: configuration is valid")
            return
        }
        let sink: LogSink
        do {
            sink = try LogSink(path: settings.logFile)
        } catch {
            Self.fail("responder: \(error)")
        }
        LoggingSystem.bootstrap { label in SinkLogHandler(label: label, sink: sink) }
        let logger = Logger(label: "responder")
        signal(SIGPIPE, SIG_IGN)

        do {
            try FastCGIServer.initialize()
        } catch {
            Self.fail("responder: \(error)")
        }
        let socket: Int32
        if let listen {
            do {
                socket = try FastCGIServer.listen(on: listen)
            } catch {
                Self.fail("responder: \(error)")
            }
        } else {
            guard FastCGIServer.inheritedSocketIsListening() else {
                Self.fail("responder: no FastCGI socket on fd 0; start it under spawn-fcgi or pass --listen HOST:PORT")
            }
            socket = FastCGIServer.inheritedSocket
        }
        let address = FastCGIServer.localAddress(of: socket) ?? "unknown:0"
        let servedBy = settings.responderName ?? address

        // Block the signals handled here before any thread starts, so only `sigwait` below sees
        // them: SIGTERM and SIGINT stop the pool, SIGUSR1 reopens LOG_FILE (log rotation).
        var handledSignals = sigset_t()
        sigemptyset(&handledSignals)
        sigaddset(&handledSignals, SIGTERM)
        sigaddset(&handledSignals, SIGINT)
        sigaddset(&handledSignals, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &handledSignals, nil)

        let cluster = ClusterConfiguration(
            nodeA: settings.nodeA, nodeB: settings.nodeB, queryTimeout: .seconds(settings.dbQueryTimeout),
            sessionLifetime: settings.sessionLifetime, tombstoneTTL: settings.tombstoneTTL,
            writerID: Int32.random(in: 1...Int32.max))
        let health = ClusterHealth()
        // A node's fall and return are the operator's business: logged here, once per change.
        health.onTransition { [logger] change in
            var metadata: Logger.Metadata = [
                "db.node": "\(change.node.rawValue)", "db.from": "\(change.from.rawValue)",
                "db.to": "\(change.to.rawValue)",
            ]
            if !change.detail.isEmpty { metadata["db.error"] = "\(change.detail)" }
            switch change.to {
            case .down: logger.warning("node down", metadata: metadata)
            case .catchingUp: logger.notice("node answers again; catching up", metadata: metadata)
            case .up: logger.notice("node up", metadata: metadata)
            }
        }
        let clock = HybridLogicalClock()
        let maintenance = ClusterMaintenance(configuration: cluster, health: health, clock: clock, logger: logger)
        let server = FastCGIServer(
            listenSocket: socket, workers: settings.workers, maxBodyBytes: settings.maxBodyBytes, logger: logger)
        let statistics = server.statistics
        let workers = settings.workers
        let services = ResponderServices(
            configuration: settings, health: health, metrics: ResponderMetrics(pool: servedBy), servedBy: servedBy,
            logger: logger, requestLog: sink,
            poolFigures: {
                PoolFigures(
                    accepted: statistics.accepted, active: statistics.active, maxActive: statistics.maxActive,
                    workers: workers)
            },
            replicationFigures: {
                let counters = maintenance.snapshot
                return ReplicationFigures(
                    outboxLength: counters.outboxLength.values.reduce(0, +),
                    outboxOldestAgeSeconds: counters.outboxOldestAgeSeconds.values.max() ?? 0,
                    replayedRows: counters.replayedRows, lastReplayAt: counters.lastReplayAt, gcRuns: counters.gcRuns,
                    gcDeletedRows: counters.gcDeletedRows, lastGCAt: counters.lastGCAt,
                    repairPasses: counters.repairPasses, repairedRows: counters.repairedRows,
                    lastRepairAt: counters.lastRepairAt)
            })

        let registrar = ClusterClient(configuration: cluster, health: health, clock: clock, logger: logger)
        let (host, port) = Self.split(address)
        registrar.registerServer(name: servedBy, host: host, port: port, active: true)

        maintenance.start()
        let serverList = SharedServerList()
        do {
            try server.start { _ in
                let client = ClusterClient(configuration: cluster, health: health, clock: clock, logger: logger)
                return WorkerHandler(
                    application: Application(
                        services: services, sessions: SessionStore(client: client), items: ItemStore(client: client),
                        servers: SharedServerBackend(list: serverList, backend: client), deadlineScope: client))
            }
        } catch {
            Self.fail("responder: \(error)")
        }
        logger.notice(
            "responder started",
            metadata: [
                "responder.pool": "\(servedBy)", "responder.workers": "\(settings.workers)",
                "responder.listen": "\(address)",
            ])

        var received: Int32 = 0
        while sigwait(&handledSignals, &received) == 0, received == SIGUSR1 {
            do {
                try sink.reopen()
                logger.notice("log file reopened", metadata: ["process.signal": "\(received)"])
            } catch {
                logger.warning("log file not reopened", metadata: ["log.error": "\(error)"])
            }
        }
        logger.notice("stopping: finishing requests in flight", metadata: ["process.signal": "\(received)"])
        let finished = server.stop(timeout: .seconds(settings.requestTerminateTimeout))
        maintenance.stop()
        registrar.registerServer(name: servedBy, host: host, port: port, active: false)
        logger.notice("stopped", metadata: ["process.clean_stop": "\(finished)"])
    }

    /// Prints one line to standard error and exits 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(1)
    }

    static func split(_ address: String) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":") else { return (address, 0) }
        return (String(address[..<colon]), Int(address[address.index(after: colon)...]) ?? 0)
    }
}

/// Adapts the application to the FastCGI worker protocol.
final class WorkerHandler: FastCGIHandler {
    let application: Application
    /// `GET /health`'s answers as CGI text, encoded once.
    private let healthAnswers: [[UInt8]]

    init(application: Application) {
        self.application = application
        healthAnswers = application.preparedHealthAnswers.map { CGIResponseText.bytes(of: $0, includeBody: true) }
    }

    func respond(to request: HTTPRequest) -> HTTPResponse { application.respond(to: request) }

    let preparedPaths = [Array("/health".utf8)]

    func preparedAnswer(to request: BareGet) -> [UInt8]? {
        guard
            let index = application.preparedHealthIndex(
                longestHeaderValue: request.longestHeaderValue, cookieBytes: request.cookieBytes,
                cookies: request.cookies)
        else { return nil }
        return healthAnswers[index]
    }

    func shutdown() {}
}
