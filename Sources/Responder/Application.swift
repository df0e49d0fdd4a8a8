import Cluster
import Foundation
import Logging
import WebCore

/// One worker's request handler: routes a request value to a response value. It owns the
/// worker's backends and shares everything else through `ResponderServices`.
public final class Application {
    public let services: ResponderServices
    let sessions: any SessionBackend
    let items: any ItemBackend
    /// The `servers` table, for the index page; nil shows no list.
    let servers: (any ServerBackend)?
    /// Bounds each request's database work; nil in tests without a database.
    let deadlineScope: (any RequestDeadlineScope)?

    public init(
        services: ResponderServices, sessions: any SessionBackend, items: any ItemBackend,
        servers: (any ServerBackend)? = nil, deadlineScope: (any RequestDeadlineScope)? = nil
    ) {
        self.services = services
        self.sessions = sessions
        self.items = items
        self.servers = servers
        self.deadlineScope = deadlineScope
    }

    var configuration: ResponderConfiguration { services.configuration }
    var logger: Logger { services.logger }

    /// Answers one request. Never throws: every failure becomes a safe response, and the
    /// detail goes to the log only.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let started = ContinuousClock.now
        deadlineScope?.beginRequest(deadline: started + .seconds(configuration.requestTerminateTimeout))
        defer { deadlineScope?.beginRequest(deadline: nil) }
        var sessionHash = "-"
        var response: HTTPResponse
        do {
            response = try route(request, sessionHash: &sessionHash)
        } catch let error as HTTPError {
            response = errorResponse(error, for: request)
        } catch let error as ClusterError {
            response = errorResponse(httpError(for: error), for: request)
            if error.code == .timedOut { services.metrics.terminatedRequest() }
            if error.code != .notFound {
                logger.warning("request failed in the cluster", metadata: ["request.error": "\(error)"])
            }
        } catch {
            logger.error("unexpected failure", metadata: ["request.error": "\(String(reflecting: error))"])
            response = errorResponse(HTTPError(500, "Something went wrong on our side."), for: request)
        }
        addServedBy(to: &response)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let route = Self.canonicalPath(request.path)
        services.metrics.requestFinished(
            route: route, status: response.status,
            nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let slow = seconds >= configuration.requestSlowlogTimeout
        if slow { services.metrics.slowRequest() }
        // A passing health check (HAProxy asks every second) is not logged, as php-fpm's
        // `access.suppress_path` does for its ping path; a failing or slow one is.
        if response.status == 200 && !slow && route == "/health" { return response }
        if let requestLog = services.requestLog {
            let line = RequestLogLine(
                slow: slow, label: logger.label, method: request.method, path: request.path,
                status: response.status, seconds: seconds, pool: services.servedBy, sessionHash: sessionHash)
            requestLog.write(line.bytes(), now: slow)
        }
        return response
    }

    /// Names the pool that answered (every answer carries it).
    func addServedBy(to response: inout HTTPResponse) { response.addHeader("X-Served-By", services.servedBy) }

    /// The status and message a cluster failure shows.
    func httpError(for error: ClusterError) -> HTTPError {
        switch error.code {
        case .notFound: HTTPError(404, "No such item.")
        case .conflict: HTTPError(409, "A concurrent change could not be settled in time; please retry.")
        case .timedOut:
            HTTPError(
                503, "The request took too long and was stopped; please retry.", headers: [("Retry-After", "5")])
        case .indeterminate:
            HTTPError(
                504, "The database did not confirm the change in time; it may or may not have been made.",
                headers: [("Retry-After", "5")])
        default: .unavailable
        }
    }

    /// An error as JSON, or a small HTML page when the client prefers HTML.
    func errorResponse(_ error: HTTPError, for request: HTTPRequest) -> HTTPResponse {
        var response: HTTPResponse
        if request.prefersHTML {
            response = .html(services.pages.error(status: error.status, message: error.message), status: error.status)
        } else {
            response = .json(.object([("error", .string(error.message))]), status: error.status)
        }
        for (name, value) in error.headers { response.addHeader(name, value) }
        return response
    }

    /// A non-negative number with `places` decimals, rounded half to even as printf does, without `String(format:)` (which
    /// goes through Foundation's formatter: measurable on every request).
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        guard value.isFinite, value * Double(scale) < 9e18 else { return value.isFinite ? String(value) : "0" }
        let scaled = Int((max(0, value) * Double(scale)).rounded(.toNearestOrEven))
        guard places > 0 else { return String(scaled) }
        let fraction = String(scaled % scale)
        return "\(scaled / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
