import Foundation
import Logging
import Synchronization

/// One line per log event, appended to a file or standard error. spawn-fcgi sends a child's
/// own stderr to /dev/null, so pools log to `LOG_FILE`.
public final class LogSink: Sendable {
    /// The stream is only touched under the mutex.
    private let file: Mutex<UnsafeMutablePointer<FILE>>

    /// Opens `path` for appending, or uses standard error when nil.
    public init(path: String?) throws {
        if let path {
            guard let handle = fopen(path, "a") else {
                throw ConfigurationError(key: "LOG_FILE", problem: "cannot be opened for appending")
            }
            setvbuf(handle, nil, _IOLBF, 0)
            file = Mutex(handle)
        } else {
            guard let handle = fdopen(2, "a") else {
                throw ConfigurationError(key: "LOG_FILE", problem: "is unset and standard error is closed")
            }
            setvbuf(handle, nil, _IOLBF, 0)
            file = Mutex(handle)
        }
    }

    func write(_ line: String) {
        file.withLock { handle in
            _ = line.withCString { fputs($0, handle) }
            fputc(0x0A, handle)
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

    public func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        var text = "\(Self.timestamp()) \(event.level) \(label): \(Self.clean(event.message.description))"
        for key in all.keys.sorted() {
            text += " \(key)=\(Self.clean(all[key]!.description))"
        }
        sink.write(text)
    }

    /// `2026-11-26T19:00:00.123Z`, built digit by digit: this runs once per request.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int, then separator: UInt8?) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            if let separator { bytes.append(separator) }
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(Int(now.tv_nsec / 1_000_000), 3, then: UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One line, no control characters: nothing a client sends can forge a log line.
    static func clean(_ text: String) -> String {
        // Control characters are single bytes in UTF-8, so a byte scan finds every one.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}
