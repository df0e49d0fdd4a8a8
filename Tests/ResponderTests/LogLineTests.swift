import Foundation
import Testing

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
        (0.0, "0.00"), (0.000004, "0.00"), (0.000005, "0.01"), (0.01234, "12.34"), (0.0101, "10.10"),
        (1.5, "1500.00"), (-1.0, "0.00"),
    ])
    func durationHasTwoDecimals(seconds: Double, expected: String) {
        #expect(Application.milliseconds(seconds) == expected)
    }

    @Test func controlCharactersNeverReachALine() {
        #expect(SinkLogHandler.clean("plain ünïcode") == "plain ünïcode")
        #expect(SinkLogHandler.clean("a\r\nb\u{7F}c\td") == "a??b?c?d")
    }
}
