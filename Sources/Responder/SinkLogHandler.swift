import Foundation
import Logging

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
