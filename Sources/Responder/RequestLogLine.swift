import Foundation

/// The one line logged per request, built as bytes straight into the log sink: the line the
/// swift-log handler writes for `logger.log(level:, "request", metadata: [...])`, without the
/// per-event metadata dictionary, its sorting and the interpolated strings (callgrind: 13k of
/// `GET /`'s 220k instructions, 17k of `GET /session`'s 123k). Everything else is logged
/// through swift-log.
struct RequestLogLine {
    /// Over `REQUEST_SLOWLOG_TIMEOUT`: logged as a `warning`, `slow request`.
    var slow: Bool
    var label: String
    var method: String
    var path: String
    var status: Int
    var seconds: Double
    var pool: String
    var sessionHash: String

    /// `2026-11-27T06:42:44.261Z info responder: request duration_ms=1.23 http.method=GET
    /// http.path=/session http.status=200 pool=pool-1 session.hash=787119c54ae3` (one line; the
    /// keys in the handler's sorted order, control characters made `?`).
    func bytes() -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(160 + path.utf8.count)
        SinkLogHandler.appendTimestamp(to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(slow ? "warning" : "info", to: &line)
        line.append(UInt8(ascii: " "))
        SinkLogHandler.appendCleaned(label, to: &line)
        Self.append(slow ? ": slow request" : ": request", to: &line)
        Self.append(" duration_ms=", to: &line)
        Self.appendHundredths(seconds * 1000, to: &line)
        Self.append(" http.method=", to: &line)
        SinkLogHandler.appendCleaned(method, to: &line)
        Self.append(" http.path=", to: &line)
        // The path's first 200 Unicode scalars.
        SinkLogHandler.appendCleaned(path, to: &line, maxScalars: 200)
        Self.append(" http.status=", to: &line)
        SinkLogHandler.append(String(status), to: &line)
        Self.append(" pool=", to: &line)
        SinkLogHandler.appendCleaned(pool, to: &line)
        Self.append(" session.hash=", to: &line)
        SinkLogHandler.appendCleaned(sessionHash, to: &line)
        return line
    }

    private static func append(_ text: StaticString, to line: inout [UInt8]) {
        line.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The duration with two decimals, as `Application.decimal` writes every figure.
    static func appendHundredths(_ value: Double, to line: inout [UInt8]) {
        SinkLogHandler.append(Application.decimal(value, places: 2), to: &line)
    }
}
