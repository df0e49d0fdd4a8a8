/// A failure of the two-node store that a route turns into a status code.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Equatable, CustomStringConvertible {
        private enum Base: Sendable, Equatable { case unavailable, conflict, notFound, timedOut, indeterminate }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No node could serve the call (503).
        public static let unavailable = Code(.unavailable)
        /// A concurrent change could not be settled in time (409).
        public static let conflict = Code(.conflict)
        /// The row does not exist on any node (404).
        public static let notFound = Code(.notFound)
        /// The request's own deadline passed (503).
        public static let timedOut = Code(.timedOut)
        /// A write was sent but no node confirmed it in a way that keeps it: it may or may not
        /// have been made (504).
        public static let indeterminate = Code(.indeterminate)

        public var description: String {
            switch base {
            case .unavailable: "unavailable"
            case .conflict: "conflict"
            case .notFound: "notFound"
            case .timedOut: "timedOut"
            case .indeterminate: "indeterminate"
            }
        }
    }

    public let code: Code
    /// For the log only.
    public let detail: String

    public init(_ code: Code, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { "ClusterError(\(code)\(detail.isEmpty ? "" : ": \(detail)"))" }
}
