import Cluster
import Logging
import PHPSession
import WebCore

@testable import Responder

/// The smallest environment a responder accepts.
let baseEnvironment: [String: String] = [
    "DB1_HOST": "127.0.0.1", "DB1_NAME": "cluster_session_a", "DB1_USER": "webuser", "DB1_PASSWORD": "change_me",
    "DB2_HOST": "127.0.0.1", "DB2_NAME": "cluster_session_b", "DB2_USER": "webuser", "DB2_PASSWORD": "change_me",
]

/// Sessions in memory: a compare-and-set on (hlc, origin) and tombstones, like the two nodes seen as one.
final class MemorySessionBackend: SessionBackend {
    struct Row {
        var data: [UInt8]
        var hlc: Int64
        var origin: Int32
        var deleted: Bool
    }

    var rows: [String: Row] = [:]
    private var clock: Int64 = 0
    let origin: Int32 = 7

    /// Thrown by every call while set (a node outage as the store reports it).
    var failure: ClusterError?
    /// The next writes to lose: before each, another writer changes the row with `interloper`.
    var writesToLose = 0
    var interloper: ((inout PHPSessionData) -> Void)?
    /// Every write loses.
    var alwaysLose = false

    private(set) var reads = 0
    private(set) var writes = 0
    private(set) var inserts = 0

    private func tick() -> Int64 {
        clock += 1
        return clock
    }

    /// The live data of a session, decoded.
    func data(_ id: String) -> PHPSessionData? {
        guard let row = rows[id], !row.deleted else { return nil }
        return try? PHPSessionData.decode(row.data)
    }

    /// Stores a session as another process would have.
    func seed(_ id: String, _ data: PHPSessionData) {
        rows[id] = Row(data: data.encode(), hlc: tick(), origin: 99, deleted: false)
    }

    func read(id: String) throws(ClusterError) -> SessionSnapshot? {
        if let failure { throw failure }
        reads += 1
        guard let row = rows[id], !row.deleted else { return nil }
        return SessionSnapshot(id: id, data: row.data, hlc: row.hlc, origin: row.origin, ageSeconds: 0)
    }

    func insertNew(id: String, data: [UInt8]) throws(ClusterError) -> Bool {
        if let failure { throw failure }
        inserts += 1
        guard rows[id] == nil else { return false }
        rows[id] = Row(data: data, hlc: tick(), origin: origin, deleted: false)
        return true
    }

    func write(_ snapshot: SessionSnapshot, data: [UInt8]) throws(ClusterError) -> Bool {
        if let failure { throw failure }
        writes += 1
        if alwaysLose { return false }
        guard var row = rows[snapshot.id], !row.deleted else { return false }
        if writesToLose > 0 {
            writesToLose -= 1
            if let interloper, var stored = try? PHPSessionData.decode(row.data) {
                interloper(&stored)
                row.data = stored.encode()
            }
            row.hlc = tick()
            row.origin = 99
            rows[snapshot.id] = row
        }
        guard row.hlc == snapshot.hlc, row.origin == snapshot.origin else { return false }
        rows[snapshot.id] = Row(data: data, hlc: tick(), origin: origin, deleted: false)
        return true
    }

    func destroy(id: String) throws(ClusterError) {
        if let failure { throw failure }
        rows[id] = Row(data: [], hlc: tick(), origin: origin, deleted: true)
    }
}

/// Items in memory, with tombstones; ids step by 2 like a node that hands out odd ids.
final class MemoryItemBackend: ItemBackend {
    static let timestamp = "2026-11-26T19:00:00Z"
    var items: [Int64: Item] = [:]
    var tombstones: Set<Int64> = []
    private var nextID: Int64 = 1
    var failure: ClusterError?

    func create(name: String, content: String) throws(ClusterError) -> Item {
        if let failure { throw failure }
        let item = Item(id: nextID, name: name, content: content, updatedAt: Self.timestamp)
        nextID += 2
        items[item.id] = item
        return item
    }

    func update(id: Int64, name: String?, content: String?) throws(ClusterError) -> Item {
        if let failure { throw failure }
        guard var item = items[id] else { throw ClusterError(.notFound) }
        if let name { item.name = name }
        if let content { item.content = content }
        items[id] = item
        return item
    }

    func delete(id: Int64) throws(ClusterError) {
        if let failure { throw failure }
        guard items.removeValue(forKey: id) != nil else { throw ClusterError(.notFound) }
        tombstones.insert(id)
    }

    func get(id: Int64) throws(ClusterError) -> Item? {
        if let failure { throw failure }
        return items[id]
    }

    func list(limit: Int, before: Int64) throws(ClusterError) -> [Item] {
        if let failure { throw failure }
        return Array(items.values.filter { $0.id < before }.sorted { $0.id > $1.id }.prefix(limit))
    }
}

/// One application over in-memory backends, and shorthands to talk to it.
final class Harness {
    static let servedBy = "pool-test:9001"
    let sessions = MemorySessionBackend()
    let items = MemoryItemBackend()
    let services: ResponderServices
    let app: Application

    init(
        environment: [String: String] = [:], poolFigures: @escaping @Sendable () -> PoolFigures = { PoolFigures() }
    ) throws {
        let configuration = try ResponderConfiguration(environment: baseEnvironment.merging(environment) { $1 })
        services = ResponderServices(
            configuration: configuration, health: ClusterHealth(), metrics: ResponderMetrics(pool: Self.servedBy),
            servedBy: Self.servedBy, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            poolFigures: poolFigures)
        app = Application(services: services, sessions: sessions, items: items)
    }

    func send(_ request: HTTPRequest) -> HTTPResponse {
        app.respond(to: request)
    }

    func send(
        _ method: String, _ path: String, query: String = "", headers: [String: String] = [:], body: String = "",
        isHTTPS: Bool = false
    ) -> HTTPResponse {
        send(
            HTTPRequest(
                method: method, path: path, query: query, headers: headers, body: [UInt8](body.utf8), isHTTPS: isHTTPS))
    }

    /// A form post; `accept` defaults to none (a script).
    func form(_ path: String, _ body: String, accept: String? = nil, cookie: String? = nil) -> HTTPResponse {
        var headers = ["content-type": "application/x-www-form-urlencoded"]
        if let accept { headers["accept"] = accept }
        if let cookie { headers["cookie"] = "PHPSESSID=\(cookie)" }
        return send("POST", path, headers: headers, body: body)
    }

    /// A JSON post.
    func json(_ path: String, _ value: JSONValue, method: String = "POST", cookie: String? = nil) -> HTTPResponse {
        json(path, value.text, method: method, cookie: cookie)
    }

    func json(_ path: String, _ text: String, method: String = "POST", cookie: String? = nil) -> HTTPResponse {
        var headers = ["content-type": "application/json"]
        if let cookie { headers["cookie"] = "PHPSESSID=\(cookie)" }
        return send(method, path, headers: headers, body: text)
    }

    /// A request carrying the session cookie.
    func withCookie(_ method: String, _ path: String, _ id: String?, headers: [String: String] = [:]) -> HTTPResponse {
        var all = headers
        if let id { all["cookie"] = "PHPSESSID=\(id)" }
        return send(method, path, headers: all)
    }

    /// Creates an item through the route and returns its id.
    func createItem(_ name: String, _ content: String = "") -> Int64? {
        let response = json(
            "/manage", .object([("action", .string("create")), ("name", .string(name)), ("content", .string(content))]))
        guard response.status == 201, case .int(let id)? = response.jsonBody?["id"] else { return nil }
        return id
    }

    /// Starts a session through `GET /session` and returns its id.
    func startSession() -> String? {
        send("GET", "/session").sessionCookieID
    }
}

extension HTTPResponse {
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    var jsonBody: JSONValue? { try? JSONParser.parse(body) }

    /// Every value of a header, in order.
    func headers(named name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The id a `Set-Cookie: PHPSESSID=…` carries.
    var sessionCookieID: String? {
        for value in headers(named: "Set-Cookie") where value.hasPrefix("PHPSESSID=") {
            let rest = value.dropFirst("PHPSESSID=".count)
            return String(rest.prefix { $0 != ";" })
        }
        return nil
    }

    var isJSON: Bool { header("Content-Type") == "application/json" }
    var isHTML: Bool { header("Content-Type")?.hasPrefix("text/html") == true }

    /// The `error` sentence of a JSON error body.
    var errorMessage: String? {
        if case .string(let text)? = jsonBody?["error"] { return text }
        return nil
    }
}

extension JSONValue {
    /// Member names of an object.
    var keys: [String] {
        if case .object(let members) = self { return members.map(\.key) }
        return []
    }
}

/// A body never shows internals.
func showsNoInternals(_ text: String) -> Bool {
    let forbidden = [
        "Error", "SELECT", "INSERT", "UPDATE ", "php_session", "ClusterError", ".swift", "/var/", "/tmp/", "/work/",
        "Sources/", "Fatal", "#0", "Thread", "detail", "stack",
    ]
    return !forbidden.contains { text.contains($0) }
}
