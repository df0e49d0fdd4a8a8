internal import CFastCGI
import Foundation
import Logging
import Synchronization
import WebCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a worker thread does with each request. One instance per worker, made on that thread,
/// so it may own non-`Sendable` resources such as database connections.
public protocol FastCGIHandler: AnyObject {
    /// Answers one request. Must not throw: the handler turns its own errors into responses.
    func respond(to request: HTTPRequest) -> HTTPResponse
    /// The paths (`REQUEST_URI`, exactly) that `preparedAnswer(to:)` may answer.
    var preparedPaths: [[UInt8]] { get }
    /// The complete CGI answer, kept ready, to a bare `GET` of one of `preparedPaths`, or nil
    /// to build the request and call `respond(to:)`. It must be the bytes `respond(to:)` would give.
    func preparedAnswer(to request: BareGet) -> [UInt8]?
    /// Called once when the worker stops.
    func shutdown()
}

extension FastCGIHandler {
    public var preparedPaths: [[UInt8]] { [] }
    public func preparedAnswer(to request: BareGet) -> [UInt8]? { nil }
}

/// Why the server could not start.
public struct FastCGIServerError: Error, CustomStringConvertible {
    public let description: String
}

/// `workers` threads, each owning one `FCGX_Request`, as in libfcgi's threaded model (fcgi2's
/// `examples/threaded.c`); but connections are accepted and watched by `ConnectionWatch`, so a
/// connection the front end keeps open pins no thread between its requests. libfcgi still reads
/// every request (`FCGX_Accept_r` on the connection handed to it) and writes every answer.
public final class FastCGIServer: Sendable {
    private let listenSocket: Int32
    private let workerCount: Int
    private let maxBodyBytes: Int
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    /// Set by `start`; `stop` wakes the workers waiting on it.
    private let watch = Mutex<ConnectionWatch?>(nil)
    /// Counts for `/status`, shared by all workers.
    public let statistics = FastCGIStatistics()

    /// The socket spawn-fcgi hands over is file descriptor 0.
    public static let inheritedSocket: Int32 = 0

    /// The answer to a request that came without CGI parameters.
    static let noParameters = HTTPResponse.json(
        .object([("error", .string("The request came without its parameters."))]), status: 400)

    public init(listenSocket: Int32, workers: Int, maxBodyBytes: Int, logger: Logger) {
        self.listenSocket = listenSocket
        self.workerCount = workers
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    /// Initialises libfcgi; call once before anything else.
    public static func initialize() throws(FastCGIServerError) {
        guard FCGX_Init() == 0 else { throw FastCGIServerError(description: "FCGX_Init failed") }
    }

    /// Opens a listening socket on `HOST:PORT` (for running without spawn-fcgi).
    public static func listen(on address: String, backlog: Int32 = 1024) throws(FastCGIServerError) -> Int32 {
        let fd = FCGX_OpenSocket(address, backlog)
        guard fd >= 0 else { throw FastCGIServerError(description: "cannot listen on \(address)") }
        return fd
    }

    /// True when descriptor 0 is a listening socket (started by spawn-fcgi).
    public static func inheritedSocketIsListening() -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting == 1
    }

    /// `host:port` of a listening socket, for the default responder name.
    public static func localAddress(of socket: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard ok == 0 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo(
                    $0, length, &host, socklen_t(host.count), &port, socklen_t(port.count),
                    NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return nil }
        return "\(String(cString: host)):\(String(cString: port))"
    }

    /// How long a connection may send or take nothing before it is dropped. Linux copies these
    /// options from the listening socket to every accepted one, so a client that connects and
    /// stalls (or stops reading) holds a worker, and the accept lock, at most this long.
    public static let idleTimeoutSeconds = 10

    /// Sets the receive and send timeouts on the listening socket (inherited by accepted ones).
    public static func applyIdleTimeout(to socket: Int32, seconds: Int = idleTimeoutSeconds) {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        let size = socklen_t(MemoryLayout<timeval>.size)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, size)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, size)
    }

    /// Starts the worker threads; each calls `makeHandler` once, on its own thread.
    public func start(makeHandler: @escaping @Sendable (Int) -> any FastCGIHandler) throws(FastCGIServerError) {
        Self.applyIdleTimeout(to: listenSocket)
        let watch = try ConnectionWatch(listenSocket: listenSocket, maxKept: Self.maxKeptConnections)
        // libfcgi accepts on the request's socket when a connection ends inside FCGX_Accept_r; on
        // a socket that never listens that accept fails at once, and the worker goes back to
        // waiting on the watch instead of blocking in accept().
        let notListening = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard notListening >= 0 else { throw FastCGIServerError(description: "cannot create a socket: errno \(errno)") }
        self.watch.withLock { $0 = watch }
        for index in 0..<workerCount {
            running.add(1, ordering: .relaxed)
            let thread = Thread { [self] in
                worker(index: index, handler: makeHandler(index), watch: watch, libfcgiSocket: notListening)
                running.subtract(1, ordering: .relaxed)
            }
            thread.name = "fcgi-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Stops accepting and waits up to `timeout` for requests in flight. Returns true when every
    /// worker finished.
    public func stop(timeout: Duration) -> Bool {
        stopping.store(true, ordering: .relaxed)
        FCGX_ShutdownPending()
        // Connections still in the backlog are refused, so front ends send them to another pool.
        shutdown(listenSocket, Int32(SHUT_RDWR))
        watch.withLock {
            $0?.closeKept()
            $0?.wakeAll()
        }
        let deadline = ContinuousClock.now + timeout
        while running.load(ordering: .relaxed) > 0 && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        return running.load(ordering: .relaxed) == 0
    }

    /// Connections a pool keeps open between requests at most; past this, a connection is
    /// closed after its answer. HAProxy keeps about one per request in flight (`maxconn`).
    public static let maxKeptConnections = 256

    private func worker(index: Int, handler: any FastCGIHandler, watch: ConnectionWatch, libfcgiSocket: Int32) {
        let raw = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { raw.deallocate() }
        guard FCGX_InitRequest(raw, libfcgiSocket, 0) == 0 else {
            // The one error this module logs: the worker cannot start, and nothing else would tell.
            logger.error("FCGX_InitRequest failed", metadata: ["fastcgi.worker": "\(index)"])
            return
        }
        defer { handler.shutdown() }
        let request = FastCGIRequest(raw: raw)
        let preparedPaths = handler.preparedPaths
        while !stopping.load(ordering: .relaxed) {
            // A connection taken while the server stops is still served (its request has come),
            // then closed.
            guard let connection = watch.next() else { continue }
            raw.pointee.ipcFd = connection
            // FCGX_Accept_r first finishes the previous request, closing its connection unless it
            // was kept: mark it kept, since the descriptor is now this connection.
            raw.pointee.keepConnection = 1
            // Reads the request's parameters; fails (having closed the connection) when the
            // connection ended, timed out or sent something that is not FastCGI.
            guard FCGX_Accept_r(raw) == 0 else { continue }
            statistics.begin()
            serve(request, handler: handler, preparedPaths: preparedPaths, worker: index)
            finish(request, watch: watch)
            statistics.end()
        }
    }

    /// Answers one accepted request.
    private func serve(_ request: FastCGIRequest, handler: any FastCGIHandler, preparedPaths: [[UInt8]], worker: Int) {
        // A bare GET may have an answer ready (`/health`, which HAProxy asks every second);
        // its stdin must still be empty, as a request without a length must have.
        var readAhead: [UInt8]?
        if !preparedPaths.isEmpty, let bare = request.bareGet(paths: preparedPaths) {
            let extra = request.readBody(upTo: 0)
            if extra.isEmpty, let answer = handler.preparedAnswer(to: bare) {
                request.write(bytes: answer)
                return
            }
            readAhead = extra
        }
        let parameters = request.parameters()
        guard parameters.hasRequestMethod else {
            // A request its front end aborted before sending any parameter (HAProxy does so
            // with a path it cannot encode): nothing to serve, and never a default `GET /`.
            logger.debug("refused a request without CGI parameters", metadata: ["fastcgi.worker": "\(worker)"])
            request.write(Self.noParameters, includeBody: true)
            return
        }
        let httpRequest = HTTPRequest.fromCGI(
            parameters,
            readBody: { limit in
                if let read = readAhead {
                    readAhead = nil
                    return read
                }
                return request.readBody(upTo: limit)
            },
            discardBody: { request.discardBody(upTo: $0) }, maxBodyBytes: maxBodyBytes)
        let response = handler.respond(to: httpRequest)
        request.write(response, includeBody: httpRequest.method != "HEAD")
    }

    /// Ends the request and, when the front end asked to keep the connection and the request's
    /// stdin was read to its end, hands the connection back to the watch. Unread stdin (a body
    /// refused as too large) would be read as the next request, so such a connection is closed.
    private func finish(_ request: FastCGIRequest, watch: ConnectionWatch) {
        let raw = request.raw
        if raw.pointee.keepConnection != 0 {
            if !request.stdinEnded() {
                request.discardBody(upTo: Self.drainBeforeKeeping)
            }
            if !request.stdinEnded() || stopping.load(ordering: .relaxed) {
                raw.pointee.keepConnection = 0
            }
        }
        FCGX_Finish_r(raw)
        let kept = raw.pointee.ipcFd
        guard kept >= 0 else { return }
        raw.pointee.ipcFd = -1
        watch.keep(kept)
    }

    /// The most unread stdin read and dropped to keep a connection (the end-of-stdin record of a
    /// request that declared no body, usually); more, and the connection is closed instead.
    static let drainBeforeKeeping = 65536
}
