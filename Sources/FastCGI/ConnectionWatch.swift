internal import CEpoll
import Glibc
import Synchronization

/// The listening socket and every connection kept open between requests (`FCGI_KEEP_CONN`), in
/// one epoll set that all idle workers wait on. Whichever worker is free serves the next request
/// on any connection.
///
/// libfcgi's own loop blocks its worker in `read()` on a kept connection until the next request
/// comes, so a front end keeping as many connections as a pool has threads pins every thread
/// (docs/ARCHITECTURE.md, "Kept connections"): health checks, nginx and lighttpd then wait forever. Here
/// a kept connection between requests is only an entry in this set.
///
/// Every entry is one-shot: an event goes to exactly one waiting worker and the entry stays
/// silent until that worker hands it back (`keep`, or `rearmListener` after an accept).
final class ConnectionWatch: Sendable {
    private let epoll: Int32
    private let listenSocket: Int32
    /// Written once by `wakeAll()`; level-triggered, so every waiting worker sees it.
    private let stopEvent: Int32
    /// The connections kept open now, idle or with a request not yet taken; nil once the server
    /// stops (kept connections are then closed). Bounded, so that no client holds an unbounded number.
    private let kept = Mutex<Set<Int32>?>([])
    let maxKept: Int

    /// Watches `listenSocket` (made non-blocking: an accept that finds nothing returns).
    init(listenSocket: Int32, maxKept: Int) throws(FastCGIServerError) {
        self.listenSocket = listenSocket
        self.maxKept = maxKept
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        stopEvent = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, stopEvent >= 0 else {
            throw FastCGIServerError(description: "cannot create the connection watch: errno \(errno)")
        }
        let flags = fcntl(listenSocket, F_GETFL)
        guard flags >= 0, fcntl(listenSocket, F_SETFL, flags | O_NONBLOCK) == 0,
            cepoll_watch(epoll, 1, listenSocket, 1) == 0, cepoll_watch(epoll, 1, stopEvent, 0) == 0
        else {
            throw FastCGIServerError(description: "cannot watch the listening socket: errno \(errno)")
        }
    }

    deinit {
        close(epoll)
        close(stopEvent)
    }

    /// Waits for the next connection with a request to read: just accepted, or kept and now
    /// readable. Nil when there is none to serve: a signal, a client gone before `accept`, a kept
    /// connection closed by `closeKept` after its event came, or `wakeAll` (the caller checks
    /// whether the server is stopping). An accepted connection gets `TCP_NODELAY`, as libfcgi
    /// gives it: answers on a kept connection must not wait for an ACK.
    func next() -> Int32? {
        var fd: Int32 = -1
        guard cepoll_wait_one(epoll, &fd) == 1, fd != stopEvent else { return nil }
        guard fd == listenSocket else {
            return kept.withLock { $0?.remove(fd) }
        }
        let connection = cepoll_accept(listenSocket)
        let acceptError = errno
        rearmListener()
        guard connection >= 0 else {
            // EAGAIN: another worker took it, or the client gave up. EMFILE and the like: wait a
            // little rather than spin on a listener that stays readable.
            if acceptError != EAGAIN && acceptError != EWOULDBLOCK && acceptError != EINTR
                && acceptError != ECONNABORTED
            {
                usleep(50_000)
            }
            return nil
        }
        var on: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return connection
    }

    /// Hands a connection back after its request; closes it instead when too many are kept or
    /// the server is stopping.
    func keep(_ connection: Int32) {
        kept.withLock { kept in
            // Known to the epoll set since its first request: re-arm it; new to it: add it.
            guard let count = kept?.count, count < maxKept,
                cepoll_watch(epoll, 0, connection, 1) == 0
                    || (errno == ENOENT && cepoll_watch(epoll, 1, connection, 1) == 0)
            else {
                close(connection)
                return
            }
            kept?.insert(connection)
        }
    }

    /// Closes every kept connection no worker has taken, and every one handed back from now on,
    /// so that front ends see them end instead of sending requests nobody will read.
    func closeKept() {
        kept.withLock { kept in
            for connection in kept ?? [] { close(connection) }
            kept = nil
        }
    }

    /// Wakes every waiting worker, now and from then on.
    func wakeAll() {
        var one: UInt64 = 1
        _ = write(stopEvent, &one, MemoryLayout<UInt64>.size)
    }

    private func rearmListener() {
        _ = cepoll_watch(epoll, 0, listenSocket, 1)
    }
}
