import Foundation
// The fuzz driver: `fuzz <target> [arguments…]`, or `FUZZ_TARGET=<target> fuzz [arguments…]`.
//
// Built with `-sanitize=fuzzer -DFUZZING` (see Tests/Fuzz/run), the arguments go to libFuzzer
// (corpus directories, `-max_total_time=…`, a crash file to replay). Built plainly, as `swift build`
// does, it replays the files and directories given through the same checks and exits 1 on a failure.
import FuzzChecks

func usage() -> Never {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
    FileHandle.standardError.write(Data("usage: fuzz <\(names)> [files or directories…]\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments
let target: FuzzTarget
if arguments.count >= 2, let named = FuzzTarget(rawValue: arguments[1]) {
    target = named
    arguments.remove(at: 1)
    // libFuzzer runs itself again for some modes (`-minimize_crash`, `-fork`) with its own arguments only.
    setenv("FUZZ_TARGET", named.rawValue, 1)
} else if let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let named = FuzzTarget(rawValue: name) {
    target = named
} else {
    usage()
}

#if FUZZING
    /// The target the libFuzzer callback runs; set once before the driver starts.
    nonisolated(unsafe) var selected = target

    /// `LLVMFuzzerRunDriver`: libFuzzer's entry point for a program with its own `main` (LLVM 11 and later).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    // libFuzzer sees the program name and the arguments after the target's name.
    var fuzzerArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
    fuzzerArguments.append(nil)
    var argc = Int32(fuzzerArguments.count - 1)
    let status = fuzzerArguments.withUnsafeMutableBufferPointer { buffer in
        var argv = buffer.baseAddress
        return runFuzzerDriver(&argc, &argv) { data, size in
            let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
            do {
                try selected.check(bytes)
            } catch {
                FileHandle.standardError.write(Data("fuzz \(selected.rawValue): \(error)\n".utf8))
                abort()
            }
            return 0
        }
    }
    exit(status)
#else
    var files: [String] = []
    for path in arguments.dropFirst() {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            FileHandle.standardError.write(Data("fuzz: no such file: \(path)\n".utf8))
            exit(2)
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files += names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
        } else {
            files.append(path)
        }
    }
    var failed = 0
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        do {
            try target.check(Array(data))
        } catch {
            failed += 1
            print("FAIL \(file): \(error)")
        }
    }
    print("fuzz \(target.rawValue): \(files.count - failed) of \(files.count) inputs passed")
    exit(failed == 0 ? 0 : 1)
#endif
