/// A session variable name that PHP could not write back.
public struct PHPSessionNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rejected name.
    public var name: String

    /// Creates the error for `name`.
    public init(name: String) {
        self.name = name
    }

    public var description: String {
        "invalid PHP session variable name"
    }
}
