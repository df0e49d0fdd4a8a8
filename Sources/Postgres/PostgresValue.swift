/// A query parameter. Text goes as text; bytes go in binary format (for `bytea`).
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case bytes([UInt8])

    /// An integer as text.
    public static func int(_ value: Int64) -> PostgresValue { .text(String(value)) }
    public static func int(_ value: Int) -> PostgresValue { .text(String(value)) }
    public static func bool(_ value: Bool) -> PostgresValue { .text(value ? "t" : "f") }
}
