import Cluster
import Foundation
import Logging
import Testing
import WebCore

@testable import Responder

/// The pieces of the per-request log line that are built by hand for speed.
@Suite struct LogLineTests {
    @Test func timestampIsUTCToTheMillisecond() throws {
        let before = Date()
        let text = SinkLogHandler.timestamp()
        let after = Date()
        #expect(text.utf8.count == 24)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: text))
        #expect(parsed.timeIntervalSince(before) > -0.002)
        #expect(parsed.timeIntervalSince(after) < 0.002)
    }

    @Test(arguments: [
        (0.0, "0.00"), (0.000004, "0.00"), (0.000006, "0.01"), (0.01234, "12.34"), (0.0101, "10.10"),
        (1.5, "1500.00"), (-1.0, "0.00"),
    ])
    func durationHasTwoDecimals(seconds: Double, expected: String) {
        var bytes: [UInt8] = []
        RequestLogLine.appendHundredths(seconds * 1000, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(Application.decimal(seconds * 1000, places: 2) == expected)
    }

    /// The request line is the line the swift-log handler writes for the same event, built
    /// without it; the path is cut at 200 Unicode scalars and cleaned of control characters.
    @Test(arguments: [
        "/session", "/manage/\u{1B}[31mred\r\nforged line", "/" + String(repeating: "é", count: 300),
        "/" + String(repeating: "x", count: 199) + "🙂z", "/", "/\u{7F}\u{0}",
    ])
    func requestLineIsTheHandlersLine(path: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let sink = try LogSink(path: file, flushSeconds: nil)
        let logger = Logger(label: "responder", factory: { SinkLogHandler(label: $0, sink: sink) })
        for (level, seconds) in [(Logger.Level.info, 0.0123), (.warning, 2.5)] {
            let cut = String(Substring(path.unicodeScalars.prefix(200)))
            logger.log(
                level: level, level == .info ? "request" : "slow request",
                metadata: [
                    "http.method": "GET", "http.path": "\(cut)", "http.status": "200",
                    "duration_ms": "\(Application.decimal(seconds * 1000, places: 2))", "pool": "pool-1",
                    "session.hash": "0123456789ab",
                ])
            let line = RequestLogLine(
                slow: level == .warning, label: "responder", method: "GET", path: path, status: 200, seconds: seconds,
                pool: "pool-1", sessionHash: "0123456789ab")
            sink.write(line.bytes(), now: true)
        }
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { $0.dropFirst(24) }
        #expect(lines.count == 4)
        #expect(lines[0] == lines[1] && lines[2] == lines[3], "\(lines)")
        #expect(lines[0].hasPrefix(" info responder: request duration_ms=12.30 http.method=GET http.path=/"))
        #expect(!lines.joined().unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test(arguments: [
        (0.0, 1, "0.0"), (1.25, 1, "1.2"), (1.35, 1, "1.4"), (9.96, 1, "10.0"), (12.345, 0, "12"), (0.05, 3, "0.050"),
        (-3.0, 1, "0.0"),
    ])
    func decimalsWithoutFoundation(value: Double, places: Int, expected: String) {
        #expect(Application.decimal(value, places: places) == expected)
    }

    @Test func readableTimes() {
        #expect(Pages.readableTime("2026-11-26T19:00:00Z") == "2026-11-26 19:00 UTC")
        #expect(Pages.readableTime("2026-11-26T19:00:00.123Z") == "2026-11-26 19:00 UTC")
        for odd in ["", "2026-11-26", "2026-11-26T19:0Z", "T19:00:00Z x", "2026-11-26T19:00:00", "aTbT19:00:00Z"] {
            #expect(Pages.readableTime(odd) == odd)
        }
    }

    /// One line per request, except a passing health check; never the session id.
    @Test func requestLinesSkipOnlyPassingHealthChecks() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try LogSink(path: path)
        let configuration = try ResponderConfiguration(environment: baseEnvironment)
        let services = ResponderServices(
            configuration: configuration, health: ClusterHealth(), metrics: ResponderMetrics(pool: "p"),
            servedBy: "p", logger: Logger(label: "test", factory: { SinkLogHandler(label: $0, sink: sink) }),
            requestLog: sink)
        let app = Application(services: services, sessions: MemorySessionBackend(), items: MemoryItemBackend())
        #expect(app.respond(to: HTTPRequest(method: "GET", path: "/health")).status == 200)
        let session = app.respond(to: HTTPRequest(method: "GET", path: "/session"))
        let id = try #require(session.sessionCookieID)
        services.health.a.recordFailure("refused")
        services.health.b.recordFailure("refused")
        #expect(app.respond(to: HTTPRequest(method: "GET", path: "/health")).status == 503)
        sink.flush()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter {
            $0.contains(" request ") || $0.contains(": request")
        }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("http.path=/session") == true)
        #expect(lines.last?.contains("http.path=/health") == true && lines.last?.contains("http.status=503") == true)
        #expect(!lines.contains { $0.contains(id) })
    }

    /// Request lines wait in memory (one `write` per batch, not per request) until a batch is
    /// full, a line above `info` comes, or the flush thread's next round; none is lost or torn.
    @Test func requestLinesAreWrittenInBatchesAndNoticesAtOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        func fileLines() -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        let held = try LogSink(path: path, flushSeconds: nil)
        let logger = Logger(label: "batch", factory: { SinkLogHandler(label: $0, sink: held) })
        logger.info("request", metadata: ["n": "0"])
        #expect(fileLines().isEmpty, "an info line is held for the next batch")
        logger.notice("node caught up")
        #expect(fileLines().count == 2, "a notice is written at once, after the line before it")
        #expect(fileLines().first?.hasSuffix("request n=0") == true)

        // Eight threads, enough lines for several full batches: every line arrives whole, once.
        let perThread = 400
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for n in 0..<perThread { logger.info("request", metadata: ["n": "\(thread)-\(n)"]) }
        }
        let unwritten = 8 * perThread + 2 - fileLines().count
        #expect(unwritten >= 0 && unwritten * 40 < LogSink.batchBytes, "full batches go out as they fill")
        held.flush()
        let lines = fileLines().dropFirst(2)
        #expect(lines.count == 8 * perThread)
        #expect(Set(lines.map { $0.split(separator: "=").last! }).count == 8 * perThread)
        #expect(lines.allSatisfy { $0.contains(" info batch: request n=") })

        // With the flush thread, a lone line reaches the file by itself.
        let timed = try LogSink(path: path, flushSeconds: 0.05)
        Logger(label: "timed", factory: { SinkLogHandler(label: $0, sink: timed) }).info("late")
        let deadline = Date().addingTimeInterval(10)
        while !(fileLines().last?.hasSuffix("timed: late") ?? false) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(fileLines().last?.hasSuffix("timed: late") == true)
    }

    @Test func controlCharactersNeverReachALine() {
        #expect(SinkLogHandler.clean("plain ünïcode") == "plain ünïcode")
        #expect(SinkLogHandler.clean("a\r\nb\u{7F}c\td") == "a??b?c?d")
    }
}
