/// A failure talking to PostgreSQL. `description` is deliberately vague so it is safe
/// anywhere; `debugDescription` has the server's words for the log.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this was.
    public struct Code: Sendable, Equatable, CustomStringConvertible {
        private enum Base: Sendable, Equatable {
            case connectionFailed, connectionLost, timedOut, queryFailed, protocolViolation
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The node could not be reached or refused the login.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke during a call.
        public static let connectionLost = Code(.connectionLost)
        /// The client-side deadline passed before the node answered.
        public static let timedOut = Code(.timedOut)
        /// The node answered with an error (see `sqlState`).
        public static let queryFailed = Code(.queryFailed)
        /// The node answered something unexpected (wrong number of results or columns).
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String {
            switch base {
            case .connectionFailed: "connectionFailed"
            case .connectionLost: "connectionLost"
            case .timedOut: "timedOut"
            case .queryFailed: "queryFailed"
            case .protocolViolation: "protocolViolation"
            }
        }
    }

    public let code: Code
    /// The five-character SQLSTATE when the server sent one (`40P01`, `55P03`, …).
    public let sqlState: String?
    /// The server's or libpq's message; for logs only.
    public let detail: String

    public init(_ code: Code, sqlState: String? = nil, detail: String = "") {
        self.code = code
        self.sqlState = sqlState
        self.detail = detail
    }

    /// True when the connection cannot be used any more.
    public var breaksConnection: Bool { code != .queryFailed || sqlState?.hasPrefix("08") == true }

    public var description: String { "PostgresError(\(code))" }
    public var debugDescription: String {
        "PostgresError(\(code), sqlState: \(sqlState ?? "-"), detail: \(detail))"
    }
}
