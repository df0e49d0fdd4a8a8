import Foundation
import FuzzChecks
import Testing

/// Every committed fuzz input, the seed corpus and each crash the fuzzer found
/// (`Tests/Fuzz/corpus/<target>/`, `Tests/Fuzz/regressions/<target>/`), through the fuzz target's checks.
@Suite struct FuzzRegressionTests {
    /// `Tests/Fuzz`, found from this file so that new inputs count without a rebuild.
    private static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()

    private static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func crashesFoundByTheFuzzerStayFixed(_ target: FuzzTarget) throws {
        for file in Self.inputs("regressions", target) {
            let bytes = Array(try Data(contentsOf: file))
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try target.check(bytes) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedCorpusPassesTheChecks(_ target: FuzzTarget) throws {
        let files = Self.inputs("corpus", target)
        #expect(!files.isEmpty, "no seed corpus for \(target.rawValue)")
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try target.check(bytes) }
        }
    }
}
