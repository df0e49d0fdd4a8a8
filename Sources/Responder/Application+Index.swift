import Cluster
import Foundation
import WebCore

extension Application {
    /// `GET /`: starts the session, counts the visit and the pool that served it, shows the cluster.
    func indexPage(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        let pool = services.servedBy
        let session = try withSession(request, writes: true) { data throws(HTTPError) in
            data[SessionKey.visits] = .int(SessionCodec.visits(data) &+ 1)
        }
        sessionHash = Self.hash(of: session.id)
        // Browsers only (Accept names text/html): scripts get no extra cookie.
        let tracksPools = request.prefersHTML
        let seenBefore =
            session.isNew || !tracksPools ? [] : ServedByPools.names(inCookieHeader: request.header("cookie"))
        let sessionPools = ServedByPools.recording(pool, in: seenBefore)
        let nodes = NodeName.allCases.map { name in
            let health = services.health[name]
            let state = Self.apiState(health.state)
            return IndexView.Node(
                name: name.rawValue.uppercased(), state: state,
                latency: Self.decimal(health.latencyMilliseconds, places: 1), isUp: state == "up")
        }
        let serverKept: Set<String> = [SessionKey.visits]
        let values = SessionCodec.displayValues(session.data).filter { !serverKept.contains($0.key) }.map { value in
            IndexView.Value(
                key: value.key, value: value.value,
                removable: (try? SessionKey.validate(value.key)) != nil)
        }
        // The registered pools: the `servers` table when this process can read it, else itself.
        var registered: [RegisteredServer]? = nil
        var poolsNote: String? = nil
        if let servers {
            do {
                registered = try servers.registeredServers(limit: 100)
            } catch {
                poolsNote = "The list of registered pools could not be read just now; this page shows its own pool."
            }
        } else {
            poolsNote = "This process does not read the list of registered pools; it shows its own."
        }
        let pools = (registered ?? [RegisteredServer(name: pool, host: "", port: 0, active: true, lastSeen: "")]).map {
            server in
            IndexView.Pool(
                name: server.name, address: server.host.isEmpty ? "" : "\(server.host):\(server.port)",
                state: server.active ? "active" : "stopped", isActive: server.active, lastSeen: server.lastSeen,
                isThisPool: server.name == pool, servedThisSession: sessionPools.contains(server.name))
        }
        let replication = services.replicationFigures()
        var response = services.pages.index(
            IndexView(
                servedBy: pool, visits: SessionCodec.visits(session.data), fingerprint: Self.hash(of: session.id),
                sessionPools: sessionPools, nodes: nodes, queuedChanges: replication.outboxLength,
                oldestQueuedSeconds: replication.outboxOldestAgeSeconds, values: values, pools: pools,
                poolsNote: poolsNote))
        if session.isNew { response.addHeader("Set-Cookie", sessionCookie(session.id, request)) }
        if tracksPools && sessionPools != seenBefore {
            response.addHeader(
                "Set-Cookie",
                Cookies.setCookie(
                    name: ServedByPools.cookieName, value: ServedByPools.cookieValue(sessionPools),
                    secure: request.isHTTPS))
        }
        return response
    }
}
