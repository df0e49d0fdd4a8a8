import Foundation
import Glibc
import Logging
import Synchronization
import Testing
import WebCore

@testable import FastCGI

/// A real `FastCGIServer` (libfcgi reading and writing every record) on a loopback port, driven by
/// a FastCGI client that keeps its connections (`FCGI_KEEP_CONN`), as HAProxy's `option
/// keep-conn` does. libfcgi's own loop would pin a worker thread to each kept connection.
@Suite(.serialized) struct KeptConnectionTests {
    /// Answers `GET` with how many requests this server has answered and how many body bytes it read.
    final class CountingHandler: FastCGIHandler {
        let served: Counter
        init(served: Counter) { self.served = served }
        func respond(to request: HTTPRequest) -> HTTPResponse {
            let number = served.value.add(1, ordering: .relaxed).newValue
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "text/plain")],
                body: Array("n=\(number) body=\(request.body.count)".utf8))
        }
        func shutdown() {}
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// A server with `workers` threads on a fresh loopback port.
    final class Running {
        let server: FastCGIServer
        let port: UInt16
        let served = Counter()

        init(workers: Int) throws {
            try FastCGIServer.initialize()
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, length) == 0 && listen(socket, 64) == 0 && getsockname(socket, $0, &length) == 0
                }
            }
            try #require(bound)
            port = UInt16(bigEndian: address.sin_port)
            server = FastCGIServer(
                listenSocket: socket, workers: workers, maxBodyBytes: 1024, logger: Logger(label: "test"))
            let served = self.served
            try server.start { _ in CountingHandler(served: served) }
        }

        func stop() -> Bool { server.stop(timeout: .seconds(5)) }

        /// `count` connections, each kept open after one answered request.
        func keptClients(_ count: Int) throws -> [Client] {
            try (0..<count).map { _ in
                let client = try Client(port: port)
                client.send(keep: true)
                #expect(client.answer() != nil)
                return client
            }
        }
    }

    /// One client connection, with a receive timeout so that a hang fails the test.
    final class Client {
        let fd: Int32

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var limit = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            try #require(connected)
        }

        deinit { close(fd) }

        static func record(_ type: UInt8, _ content: [UInt8]) -> [UInt8] {
            [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0, 0] + content
        }

        static func pair(_ name: String, _ value: String) -> [UInt8] {
            [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
        }

        /// Sends one GET (or, with `stdin`, a POST declaring `declaredLength`) in whole records.
        func send(keep: Bool, stdin: [UInt8] = [], declaredLength: Int? = nil) {
            var bytes = Self.record(1, [0, 1, keep ? 1 : 0, 0, 0, 0, 0, 0])
            let method = stdin.isEmpty && declaredLength == nil ? "GET" : "POST"
            let params =
                Self.pair("REQUEST_METHOD", method) + Self.pair("REQUEST_URI", "/count")
                + Self.pair("SCRIPT_NAME", "/count") + Self.pair("QUERY_STRING", "")
                + Self.pair("CONTENT_LENGTH", String(declaredLength ?? stdin.count))
                + Self.pair("CONTENT_TYPE", "application/octet-stream")
            bytes += Self.record(4, params) + Self.record(4, [])
            var offset = 0
            while offset < stdin.count {
                let end = min(offset + 65535, stdin.count)
                bytes += Self.record(5, Array(stdin[offset..<end]))
                offset = end
            }
            bytes += Self.record(5, [])
            sendAll(bytes)
        }

        func sendAll(_ bytes: [UInt8]) {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
        }

        private var buffer: [UInt8] = []

        private func fill(_ count: Int) -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while buffer.count < count {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { return false }
                buffer += chunk[0..<n]
            }
            return true
        }

        /// The stdout of one answer, up to its END_REQUEST; nil when the connection ended first
        /// or nothing came within the timeout.
        func answer() -> String? {
            var stdout: [UInt8] = []
            while fill(8) {
                let length = Int(buffer[4]) << 8 | Int(buffer[5])
                let type = buffer[1]
                guard fill(8 + length + Int(buffer[6])) else { return nil }
                if type == 6 { stdout += buffer[8..<(8 + length)] }
                buffer.removeFirst(8 + length + Int(buffer[6]))
                if type == 3 { return String(decoding: stdout, as: UTF8.self) }
            }
            return nil
        }

        /// True when the server has closed the connection (a read sees its end within the timeout).
        func isClosedByServer() -> Bool {
            var byte: UInt8 = 0
            return buffer.isEmpty && recv(fd, &byte, 1, 0) == 0
        }
    }

    static func body(of answer: String?) -> String? {
        answer?.components(separatedBy: "\r\n\r\n").last
    }

    @Test func oneConnectionCarriesManyRequests() throws {
        let running = try Running(workers: 2)
        let client = try Client(port: running.port)
        for number in 1...50 {
            client.send(keep: true)
            #expect(Self.body(of: client.answer()) == "n=\(number) body=0")
        }
        #expect(running.server.statistics.accepted == 50)
        #expect(running.stop())
    }

    @Test func keptConnectionsPinNoWorker() throws {
        let running = try Running(workers: 2)
        // Four times the workers, each kept open after one request and then left idle: with
        // libfcgi's loop, two of them would hold both threads and nothing below would be answered.
        let kept = try running.keptClients(8)
        let fresh = try Client(port: running.port)
        fresh.send(keep: false)
        #expect(Self.body(of: fresh.answer()) == "n=9 body=0")
        #expect(fresh.isClosedByServer(), "a connection not kept is closed after its answer")
        // Every kept connection still serves, in any order.
        for client in kept.reversed() {
            client.send(keep: true)
            #expect(client.answer() != nil)
        }
        #expect(running.server.statistics.accepted == 17)
        #expect(running.stop())
    }

    @Test func aBodyReadToItsEndKeepsTheConnection() throws {
        let running = try Running(workers: 1)
        let client = try Client(port: running.port)
        client.send(keep: true, stdin: Array(repeating: UInt8(ascii: "a"), count: 1000))
        #expect(Self.body(of: client.answer()) == "n=1 body=1000")
        client.send(keep: true)
        #expect(Self.body(of: client.answer()) == "n=2 body=0")
        #expect(running.stop())
    }

    @Test func unreadStdinClosesTheConnection() throws {
        let running = try Running(workers: 1)
        let client = try Client(port: running.port)
        // 200 KB of stdin behind a declared length of 10: read as the next request, it would be
        // garbage. The answer comes, then the connection is closed instead of kept.
        client.send(keep: true, stdin: Array(repeating: UInt8(ascii: "b"), count: 200_000), declaredLength: 10)
        #expect(client.answer() != nil)
        #expect(client.isClosedByServer())
        let next = try Client(port: running.port)
        next.send(keep: true)
        #expect(Self.body(of: next.answer()) == "n=2 body=0")
        #expect(running.stop())
    }

    @Test func closedAndGarbledKeptConnectionsFreeTheirWorker() throws {
        let running = try Running(workers: 2)
        let clients = try running.keptClients(2)
        let (closing, garbling) = (clients[0], clients[1])
        shutdown(closing.fd, Int32(SHUT_WR))
        garbling.sendAll(Array(repeating: 0xFF, count: 64))
        #expect(garbling.isClosedByServer(), "not FastCGI: the connection is closed")
        #expect(closing.isClosedByServer(), "the client's end: the server closes its side too")
        for number in 3...12 {
            let client = try Client(port: running.port)
            client.send(keep: false)
            #expect(Self.body(of: client.answer()) == "n=\(number) body=0")
        }
        #expect(running.stop())
    }

    @Test func stopsWithIdleKeptConnections() throws {
        let running = try Running(workers: 2)
        let kept = try running.keptClients(4)
        let started = ContinuousClock.now
        #expect(running.stop())
        #expect(ContinuousClock.now - started < .seconds(2))
        // Closed at once, so that a front end sends its next request elsewhere instead of to a
        // connection nobody reads any more.
        for client in kept {
            #expect(client.isClosedByServer())
        }
    }
}
