import Foundation
import Logging
import Synchronization

/// One line per log event, appended to a file or standard error. spawn-fcgi sends a child's
/// own stderr to /dev/null, so pools log to `LOG_FILE`.
///
/// Request lines are gathered in memory and written in batches, as nginx's `access_log …
/// buffer= flush=` does: one `write` per 16 KiB or per quarter second instead of one per
/// request under a lock every worker thread waits on (measured: a futex wait on three requests
/// in four at 32 connections). A line above `info` (a notice, warning or error) is written at
/// once, with everything before it, so the log of a failure is never behind.
public final class LogSink: Sendable {
    private let descriptor: Int32
    /// Lines not written yet; held only to append or to take the whole batch.
    private let pending = Mutex<[UInt8]>([])
    /// Held while a batch is written, so batches reach the file in the order they were taken.
    private let writing = Mutex<Void>(())

    /// A batch this large is written by the thread that filled it.
    static let batchBytes = 16384
    /// The longest a request line waits in memory, in seconds.
    public static let flushSeconds = 0.25

    /// Opens `path` for appending, or uses standard error when nil, and starts the thread that
    /// writes what is left in memory every `flushSeconds` (none when nil: tests flush themselves).
    public init(path: String?, flushSeconds: Double? = LogSink.flushSeconds) throws {
        if let path {
            let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
            guard opened >= 0 else {
                throw ConfigurationError(key: "LOG_FILE", problem: "cannot be opened for appending")
            }
            descriptor = opened
        } else {
            guard fcntl(2, F_GETFD) != -1 else {
                throw ConfigurationError(key: "LOG_FILE", problem: "is unset and standard error is closed")
            }
            descriptor = 2
        }
        guard let flushSeconds else { return }
        let thread = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: flushSeconds)
                guard let sink = self else { return }
                sink.flush()
            }
        }
        thread.name = "log-flush"
        thread.start()
    }

    deinit {
        flush()
        if descriptor != 2 { close(descriptor) }
    }

    /// Adds one line (`line` holds no newline of its own); `now` writes it, and everything
    /// before it, before returning.
    func write(_ line: [UInt8], now: Bool) {
        let full = pending.withLock { batch in
            if batch.capacity == 0 { batch.reserveCapacity(Self.batchBytes + 512) }
            batch.append(contentsOf: line)
            batch.append(0x0A)
            return batch.count >= Self.batchBytes
        }
        if now || full { flush() }
    }

    /// Writes every line held in memory.
    public func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { batch -> [UInt8] in
                if batch.isEmpty { return [] }
                defer { batch = [] }
                return batch
            }
            batch.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let wrote = Glibc.write(descriptor, base + offset, bytes.count - offset)
                    if wrote < 0 && errno == EINTR { continue }
                    if wrote <= 0 { return }  // a full disk or a closed stderr: the lines are dropped
                    offset += wrote
                }
            }
        }
    }
}

/// A swift-log handler writing `time level label message key=value…` lines to a `LogSink`.
public struct SinkLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let sink: LogSink

    public init(label: String, sink: LogSink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Built as bytes, once per request: the line costs a fraction of what interpolated
    /// strings and a merged, sorted metadata dictionary did.
    public func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        Self.appendTimestamp(to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(event.level.rawValue, to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(label, to: &line)
        line.append(UInt8(ascii: ":"))
        line.append(UInt8(ascii: " "))
        Self.appendCleaned(event.message.description, to: &line)
        var all = metadata
        if let explicit = event.metadata {
            if all.isEmpty { all = explicit } else { all.merge(explicit) { $1 } }
        }
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: " "))
            Self.appendCleaned(key, to: &line)
            line.append(UInt8(ascii: "="))
            switch value {
            case .string(let text): Self.appendCleaned(text, to: &line)
            default: Self.appendCleaned(value.description, to: &line)
            }
        }
        sink.write(line, now: event.level > .info)
    }

    static func append(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { line.append(contentsOf: $0) }
    }

    /// Appends `text`, or its first `maxScalars` Unicode scalars, with every control character
    /// made `?`; control characters are single bytes in UTF-8 (no multi-byte sequence contains
    /// one), so a byte scan finds every one, and a scalar starts at every byte that is not a
    /// continuation byte.
    static func appendCleaned(_ text: String, to line: inout [UInt8], maxScalars: Int = .max) {
        var text = text
        text.withUTF8 { bytes in
            var scalars = 0
            for byte in bytes {
                if byte & 0xC0 != 0x80 {
                    if scalars == maxScalars { return }
                    scalars += 1
                }
                line.append(byte < 0x20 || byte == 0x7F ? UInt8(ascii: "?") : byte)
            }
        }
    }

    /// `2026-11-26T19:00:00.123Z`.
    static func timestamp() -> String {
        var bytes: [UInt8] = []
        appendTimestamp(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the timestamp digit by digit.
    static func appendTimestamp(to bytes: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            bytes.append(separator)
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(Int(now.tv_nsec / 1_000_000), 3, then: UInt8(ascii: "Z"))
    }

    /// One line, no control characters: nothing a client sends can forge a log line.
    static func clean(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return text }
        var bytes: [UInt8] = []
        appendCleaned(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
