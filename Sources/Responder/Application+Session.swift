import Cluster
import Foundation
import PHPSession
import WebCore

/// A session after this request's change was stored.
struct ActiveSession {
    var id: String
    var data: PHPSessionData
    /// True when this request issued the id (the cookie must be set).
    var isNew: Bool
}

extension Application {
    /// How long a request keeps re-reading and re-applying its change after losing a race.
    var conflictWindow: Duration { .seconds(max(2, configuration.dbQueryTimeout)) }

    /// Loads the request's session (or starts one), applies `change`, and stores the result.
    ///
    /// No lock is held: the write is a compare-and-set on every node that is up
    /// (`SessionStore.write`); when another request wrote first, the session is read again and
    /// `change` applied again to the newer data, so concurrent requests never lose each other's
    /// writes and never wait on a lock. A request that changes nothing writes nothing, except a
    /// refresh once per `SESSION_TOUCH_INTERVAL` (skipped while no node that answers may take
    /// changes). Time spent waiting on a node that then fell away does not count against the
    /// window in which lost races are retried.
    func withSession(
        _ request: HTTPRequest, writes: Bool = false,
        change: (inout PHPSessionData) throws(HTTPError) -> Void = { _ throws(HTTPError) in }
    ) throws -> ActiveSession {
        var deadline = ContinuousClock.now + conflictWindow
        var candidate = cookieSessionID(request)
        while let id = candidate {
            let usableBefore = services.health.usableCount
            guard let snapshot = try sessions.read(id: id) else { break }
            guard let stored = SessionCodec.decode(snapshot.data) else {
                // Undecodable bytes are never overwritten: this request starts a new session.
                services.metrics.decodeFailure()
                logger.warning("session data could not be decoded; starting a new session")
                break
            }
            var data = stored
            try change(&data)
            let encoded = SessionCodec.encode(data)
            if encoded == snapshot.data
                && (snapshot.ageSeconds < Int64(configuration.sessionTouchInterval) || !snapshot.isWritable)
            {
                return ActiveSession(id: id, data: data, isNew: false)
            }
            try checkSize(encoded)
            if try sessions.write(snapshot, data: encoded) {
                return ActiveSession(id: id, data: data, isNew: false)
            }
            if services.health.usableCount < usableBefore {
                // Not a lost race: a node fell away meanwhile (its query time is spent). The
                // nodes left decide now, with a window of their own.
                deadline = ContinuousClock.now + conflictWindow
                continue
            }
            services.metrics.casRetry()
            guard ContinuousClock.now < deadline else {
                services.metrics.conflict()
                throw HTTPError(409, "A concurrent change to this session could not be settled in time; please retry.")
            }
        }
        for _ in 0..<4 {
            let id = SessionID.generate()
            var data = PHPSessionData()
            try change(&data)
            let encoded = SessionCodec.encode(data)
            try checkSize(encoded)
            if try sessions.insertNew(id: id, data: encoded) {
                return ActiveSession(id: id, data: data, isNew: true)
            }
        }
        throw ClusterError(.conflict, detail: "could not reserve a new session id")
    }

    /// The well-formed session id from the cookie, if any. The value is URL-decoded as PHP
    /// decodes every cookie: PHP's `setcookie` sends a `,` of an id as `%2C`, so a session that
    /// a PHP page started arrives encoded.
    func cookieSessionID(_ request: HTTPRequest) -> String? {
        guard let raw = Cookies.value(named: configuration.sessionName, in: request.header("cookie")) else {
            return nil
        }
        let id = (try? PercentDecoding.decode(Array(raw.utf8), plusAsSpace: true)) ?? raw
        return SessionID.isWellFormed(id) ? id : nil
    }

    private func checkSize(_ encoded: [UInt8]) throws(HTTPError) {
        guard encoded.count <= services.limits.maxSessionBytes else {
            throw HTTPError(413, "The session would grow past \(services.limits.maxSessionBytes) bytes.")
        }
    }

    /// A short, stable, non-reversible tag of a session id for the log.
    static func hash(of id: String) -> String { String(StableHash.fnv1a(id) >> 16, radix: 16) }

    /// `Set-Cookie` for a session id.
    func sessionCookie(_ id: String, _ request: HTTPRequest) -> String {
        Cookies.setCookie(name: configuration.sessionName, value: id, secure: request.isHTTPS)
    }

    /// The JSON state of a session.
    func sessionState(_ session: ActiveSession) -> JSONValue {
        .object([
            ("id", .string(session.id)),
            ("visits", .int(SessionCodec.visits(session.data))),
            ("data", SessionCodec.json(session.data)),
            ("served_by", .string(services.servedBy)),
        ])
    }

    func sessionResponse(_ session: ActiveSession, _ request: HTTPRequest, status: Int = 200) -> HTTPResponse {
        var response = HTTPResponse.json(sessionState(session), status: status)
        response.addHeader("Cache-Control", "no-store")
        if session.isNew { response.addHeader("Set-Cookie", sessionCookie(session.id, request)) }
        return response
    }

    /// `GET /session`.
    func showSession(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        let session = try withSession(request)
        sessionHash = Self.hash(of: session.id)
        return sessionResponse(session, request)
    }

    /// `POST /session`: a form `key`/`value`, or a JSON object of keys to values.
    func setSessionValues(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        let body = try RequestBody.parse(request, limits: services.limits)
        var updates: [(String, PHPValue?)] = []
        switch body {
        case .form(let fields) where fields["action"] == "destroy":
            // An HTML form cannot send DELETE: `action=destroy` ends the session as DELETE does.
            return try destroySession(request, sessionHash: &sessionHash)
        case .form(let fields):
            guard let key = fields["key"] else { throw HTTPError(422, "The form needs a 'key' field.") }
            try SessionKey.validate(key)
            if fields["action"] == "remove" {
                updates.append((key, nil))
            } else {
                updates.append((key, PHPValue(fields["value"] ?? "")))
            }
        case .json(let members):
            for (key, value) in members {
                try SessionKey.validate(key)
                updates.append((key, SessionCodec.value(fromJSON: value)))
            }
        }
        let session = try withSession(request, writes: true) { data throws(HTTPError) in
            for (key, value) in updates {
                if let value {
                    do {
                        try data.setValue(value, forName: key)
                    } catch {
                        throw HTTPError(422, "A session key may not be a number, as PHP drops numeric session keys.")
                    }
                } else {
                    data.removeValue(forName: key)
                }
            }
        }
        sessionHash = Self.hash(of: session.id)
        if !body.isJSON && request.prefersHTML {
            var response = HTTPResponse.seeOther("/")
            if session.isNew { response.addHeader("Set-Cookie", sessionCookie(session.id, request)) }
            return response
        }
        return sessionResponse(session, request)
    }

    /// `DELETE /session`: removes the session on both nodes and expires the cookie.
    func destroySession(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        if let id = cookieSessionID(request), try sessions.read(id: id) != nil {
            sessionHash = Self.hash(of: id)
            try sessions.destroy(id: id)
        }
        var response: HTTPResponse =
            request.prefersHTML && !request.hasJSONBody
            ? .seeOther("/") : .json(.object([("destroyed", .bool(true))]))
        response.addHeader(
            "Set-Cookie",
            Cookies.setCookie(name: configuration.sessionName, value: "deleted", secure: request.isHTTPS, maxAge: 0))
        response.addHeader("Cache-Control", "no-store")
        return response
    }

    /// `POST /session/regenerate`: the same data under a new id; the old id is gone from both nodes.
    func regenerateSession(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        let current = try withSession(request)
        let encoded = SessionCodec.encode(current.data)
        var newID = ""
        var reserved = false
        for _ in 0..<4 where !reserved {
            newID = SessionID.generate()
            reserved = try sessions.insertNew(id: newID, data: encoded)
        }
        guard reserved else { throw ClusterError(.conflict, detail: "could not reserve a new session id") }
        try sessions.destroy(id: current.id)
        sessionHash = Self.hash(of: newID)
        let session = ActiveSession(id: newID, data: current.data, isNew: true)
        if request.prefersHTML && !request.hasJSONBody {
            var response = HTTPResponse.seeOther("/")
            response.addHeader("Set-Cookie", sessionCookie(newID, request))
            return response
        }
        return sessionResponse(session, request)
    }
}
