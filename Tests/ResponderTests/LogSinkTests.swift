import Foundation
import Testing

@testable import Responder

/// Log rotation: `reopen()` (SIGUSR1) moves every later line to a new file and loses none.
@Suite struct LogSinkTests {
    static func lines(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    /// A log path in a directory of its own (removed by the caller).
    static func logPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logsink-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("pool.log").path
    }

    @Test func reopenSendsLaterLinesToTheNewFileAndKeepsTheEarlierOnes() throws {
        let path = try Self.logPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let sink = try LogSink(path: path, flushSeconds: nil)
        sink.write(Array("one".utf8), now: true)
        sink.write(Array("two".utf8), now: false)  // still in memory when the file is moved
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        sink.write(Array("three".utf8), now: false)
        try sink.reopen()
        sink.write(Array("four".utf8), now: false)
        sink.flush()
        #expect(Self.lines(path + ".1") == ["one", "two", "three"])
        #expect(Self.lines(path) == ["four"])
    }

    @Test func reopenUnderConcurrentWritersLosesAndSplitsNoLine() throws {
        let path = try Self.logPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let sink = try LogSink(path: path, flushSeconds: nil)
        let writers = 4
        let perWriter = 5000
        let line = String(repeating: "x", count: 100)
        DispatchQueue.concurrentPerform(iterations: writers + 1) { index in
            if index == writers {
                for rotation in 1...3 {
                    Thread.sleep(forTimeInterval: 0.005)
                    try? FileManager.default.moveItem(atPath: path, toPath: path + ".\(rotation)")
                    try? sink.reopen()
                }
            } else {
                for n in 0..<perWriter { sink.write(Array("\(index)-\(n)-\(line)".utf8), now: n % 97 == 0) }
            }
        }
        sink.flush()
        var all: [String] = []
        for file in [path + ".1", path + ".2", path + ".3", path] { all += Self.lines(file) }
        #expect(all.count == writers * perWriter)
        #expect(all.allSatisfy { $0.hasSuffix(line) && $0.split(separator: "-").count == 3 })
        #expect(Set(all).count == writers * perWriter)
    }

    @Test func reopenWithoutAFileSaysSo() throws {
        let sink = try LogSink(path: nil, flushSeconds: nil)
        #expect(throws: LogSink.ReopenError.noFile) { try sink.reopen() }
    }
}
