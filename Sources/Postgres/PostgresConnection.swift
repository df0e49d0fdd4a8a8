internal import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection. Not `Sendable`: a connection belongs to one worker thread, so the
/// compiler keeps two threads from ever touching the same `PGconn`.
///
/// Calls come in two halves so that two nodes can work at once: `send…` hands a statement to
/// the server without waiting, `receive(deadline:)` waits for its result until a deadline.
public final class PostgresConnection {
    private let connection: OpaquePointer
    private var prepared: Set<String> = []
    /// True while a sent statement's result has not been received.
    public private(set) var isBusy = false
    /// False once the connection broke or timed out; the owner should drop it.
    public private(set) var isUsable = true

    /// Connects (blocking, bounded by `connectTimeout`). Frees everything and throws on failure.
    public init(_ parameters: PostgresConnectionParameters) throws(PostgresError) {
        let pairs: [(String, String)] = [
            ("host", parameters.host),
            ("port", String(parameters.port)),
            ("dbname", parameters.database),
            ("user", parameters.user),
            ("password", parameters.password),
            ("connect_timeout", String(max(1, parameters.connectTimeout))),
            ("application_name", parameters.applicationName),
            ("client_encoding", "UTF8"),
            (
                "options",
                "-c statement_timeout=\(parameters.statementTimeout * 1000) -c TimeZone=UTC"
                    + " -c idle_in_transaction_session_timeout=\(max(parameters.statementTimeout, 1) * 2000)"
            ),
            ("keepalives", "1"),
            ("keepalives_idle", "5"),
            ("keepalives_interval", "2"),
            ("keepalives_count", "2"),
            ("tcp_user_timeout", String(max(1, parameters.connectTimeout) * 1000 + 1000)),
        ]
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for pointer in keys + values { free(pointer) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let connection = PQconnectdbParams(&keyPointers, &valuePointers, 0) else {
            throw PostgresError(.connectionFailed, detail: "out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connectionFailed, detail: message)
        }
        self.connection = connection
    }

    deinit { PQfinish(connection) }

    /// The backend's process id (for logs and cancellation).
    public var backendPID: Int32 { PQbackendPID(connection) }

    /// True when `name` was prepared on this connection.
    public func isPrepared(_ name: String) -> Bool { prepared.contains(name) }

    /// Prepares a named statement once per connection.
    public func prepare(_ name: String, _ sql: String, deadline: ContinuousClock.Instant) throws(PostgresError) {
        guard !prepared.contains(name) else { return }
        try checkReady()
        guard PQsendPrepare(connection, name, sql, 0, nil) == 1 else { throw fail(.connectionLost) }
        isBusy = true
        _ = try receive(deadline: deadline)
        prepared.insert(name)
    }

    /// Sends a prepared statement without waiting for its result.
    public func sendPrepared(_ name: String, _ parameters: [PostgresValue]) throws(PostgresError) {
        try checkReady()
        let ok = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
        }
        guard ok == 1 else { throw fail(.connectionLost) }
        isBusy = true
    }

    /// Sends a one-off statement (no result rows needed in binary) without waiting.
    public func sendQuery(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) {
        try checkReady()
        let ok = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryParams(connection, sql, count, nil, values, lengths, formats, 0)
        }
        guard ok == 1 else { throw fail(.connectionLost) }
        isBusy = true
    }

    /// Waits for the result of the statement sent last, until `deadline`.
    /// A server error keeps the connection usable; a timeout or a broken socket does not.
    public func receive(deadline: ContinuousClock.Instant) throws(PostgresError) -> PostgresResult {
        guard isBusy else { throw PostgresError(.protocolViolation, detail: "nothing was sent") }
        while PQisBusy(connection) == 1 {
            try waitReadable(until: deadline)
            guard PQconsumeInput(connection) == 1 else { throw fail(.connectionLost) }
        }
        var first: PostgresResult?
        var failure: PostgresError?
        while let raw = PQgetResult(connection) {
            let result = PostgresResult(raw)
            switch PQresultStatus(raw) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                if first == nil { first = result }
            default:
                if failure == nil {
                    failure = PostgresError(
                        .queryFailed, sqlState: result.errorField(Int32(UInt8(ascii: "C"))),  // PG_DIAG_SQLSTATE
                        detail: String(cString: PQresultErrorMessage(raw)))
                }
            }
            if PQisBusy(connection) == 1 {
                // More results are coming (should not happen for single statements): keep reading.
                while PQisBusy(connection) == 1 {
                    try waitReadable(until: deadline)
                    guard PQconsumeInput(connection) == 1 else { throw fail(.connectionLost) }
                }
            }
        }
        isBusy = false
        if PQstatus(connection) != CONNECTION_OK { isUsable = false }
        if let failure {
            if failure.breaksConnection { isUsable = false }
            throw failure
        }
        guard let first else { throw PostgresError(.protocolViolation, detail: "no result") }
        return first
    }

    /// Sends and receives one statement.
    public func query(
        _ sql: String, _ parameters: [PostgresValue] = [], deadline: ContinuousClock.Instant
    ) throws(PostgresError) -> PostgresResult {
        try sendQuery(sql, parameters)
        return try receive(deadline: deadline)
    }

    /// Runs a prepared statement and waits for it.
    public func execute(
        _ name: String, _ parameters: [PostgresValue], deadline: ContinuousClock.Instant
    ) throws(PostgresError) -> PostgresResult {
        try sendPrepared(name, parameters)
        return try receive(deadline: deadline)
    }

    /// Asks the server to cancel what this connection runs (from any thread holding the token).
    public func makeCancelToken() -> PostgresCancelToken? {
        guard let cancel = PQgetCancel(connection) else { return nil }
        return PostgresCancelToken(cancel)
    }

    private func checkReady() throws(PostgresError) {
        guard isUsable else { throw PostgresError(.connectionLost, detail: "connection was dropped") }
        guard !isBusy else { throw PostgresError(.protocolViolation, detail: "a result is still pending") }
    }

    private func fail(_ code: PostgresError.Code) -> PostgresError {
        isUsable = false
        isBusy = false
        return PostgresError(code, detail: String(cString: PQerrorMessage(connection)))
    }

    private func waitReadable(until deadline: ContinuousClock.Instant) throws(PostgresError) {
        let socket = PQsocket(connection)
        guard socket >= 0 else { throw fail(.connectionLost) }
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                isUsable = false
                throw PostgresError(.timedOut, detail: "no answer before the deadline")
            }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw fail(.connectionLost) }
        }
    }

    /// A copy of `bytes` that outlives the array, for libpq to read (at least one byte long).
    private static func copy(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
        }
        return buffer
    }

    private func withParameters<R>(
        _ parameters: [PostgresValue],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        var storage: [UnsafeMutableRawPointer?] = []
        storage.reserveCapacity(parameters.count)
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for parameter in parameters {
            switch parameter {
            case .null:
                storage.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                // NUL-terminated, as libpq reads text parameters.
                let utf8 = Array(text.utf8) + [0]
                storage.append(Self.copy(utf8))
                lengths.append(0)
                formats.append(0)
            case .bytes(let bytes):
                storage.append(Self.copy(bytes))
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        defer {
            for buffer in storage { buffer?.deallocate() }
        }
        let values: [UnsafePointer<CChar>?] = storage.map {
            $0.map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
        }
        return values.withUnsafeBufferPointer { valueBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                formats.withUnsafeBufferPointer { formatBuffer in
                    body(
                        Int32(parameters.count), valueBuffer.baseAddress, lengthBuffer.baseAddress,
                        formatBuffer.baseAddress)
                }
            }
        }
    }
}

/// A handle that cancels the statement running on one connection, from another thread.
///
/// `@unchecked Sendable`: libpq documents `PQcancel` as safe to call from any thread on a
/// `PGcancel` object, and the object is freed only in `deinit`, after every holder let go.
public final class PostgresCancelToken: @unchecked Sendable {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQfreeCancel(handle) }

    /// Sends the cancel request; returns false when it could not be sent.
    @discardableResult
    public func cancel() -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &buffer, 256) == 1
    }
}
