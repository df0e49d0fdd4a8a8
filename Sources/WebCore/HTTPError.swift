/// An error whose message is safe to show to a client; route handlers throw it.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    /// One sentence for the client; never internals.
    public var message: String
    /// Extra headers (`Allow`, `Retry-After`).
    public var headers: [(name: String, value: String)]

    public init(_ status: Int, _ message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { "HTTP \(status): \(message)" }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(400, message) }
    public static func unprocessable(_ message: String) -> HTTPError { HTTPError(422, message) }
    public static func notFound(_ message: String = "No such page.") -> HTTPError { HTTPError(404, message) }
    public static func methodNotAllowed(_ allowed: [String]) -> HTTPError {
        HTTPError(405, "This method is not allowed here.", headers: [("Allow", allowed.joined(separator: ", "))])
    }
    public static let unavailable = HTTPError(
        503, "The database is unavailable; please retry shortly.", headers: [("Retry-After", "5")])
}
