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
///
/// `reopen()` (SIGUSR1, as php-fpm does) opens `LOG_FILE` again for log rotation: the lines in
/// memory go to the old file first, every later line to the new one, and a line is never split.
public final class LogSink: Sendable {
    private let path: String?
    /// Lines not written yet; held only to append or to take the whole batch.
    private let pending = Mutex<[UInt8]>([])
    /// The descriptor written to, held while a batch is written (so that batches reach the file
    /// in the order they were taken) or while the file is reopened.
    private let writing: Mutex<Int32>

    /// A batch this large is written by the thread that filled it.
    static let batchBytes = 16384
    /// The longest a request line waits in memory, in seconds.
    public static let flushSeconds = 0.25

    /// Opens `path` for appending, or uses standard error when nil, and starts the thread that
    /// writes what is left in memory every `flushSeconds` (none when nil: tests flush themselves).
    public init(path: String?, flushSeconds: Double? = LogSink.flushSeconds) throws {
        self.path = path
        if let path {
            let opened = Self.openForAppending(path)
            guard opened >= 0 else {
                throw ConfigurationError(key: "LOG_FILE", problem: "cannot be opened for appending")
            }
            writing = Mutex(opened)
        } else {
            guard fcntl(2, F_GETFD) != -1 else {
                throw ConfigurationError(key: "LOG_FILE", problem: "is unset and standard error is closed")
            }
            writing = Mutex(2)
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
        writing.withLock { descriptor in
            if descriptor != 2 { close(descriptor) }
        }
    }

    private static func openForAppending(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
    }

    /// Why `reopen` failed.
    public enum ReopenError: Error, Equatable {
        /// Logging goes to standard error: there is no file to reopen.
        case noFile
        /// The file could not be opened; the old one stays in use.
        case cannotOpen(errno: Int32)
    }

    /// Writes the lines in memory to the current file, then opens `LOG_FILE` again (a rotation
    /// moved the old file away) and writes every later line there.
    public func reopen() throws(ReopenError) {
        guard let path else { throw .noFile }
        let result: Result<Void, ReopenError> = writing.withLock { descriptor in
            Self.write(takeBatch(), to: descriptor)
            let opened = Self.openForAppending(path)
            guard opened >= 0 else { return .failure(.cannotOpen(errno: errno)) }
            close(descriptor)
            descriptor = opened
            return .success(())
        }
        try result.get()
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
        writing.withLock { descriptor in Self.write(takeBatch(), to: descriptor) }
    }

    /// The lines held in memory, which are no longer held.
    private func takeBatch() -> [UInt8] {
        pending.withLock { batch -> [UInt8] in
            if batch.isEmpty { return [] }
            defer { batch = [] }
            return batch
        }
    }

    private static func write(_ batch: [UInt8], to descriptor: Int32) {
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
