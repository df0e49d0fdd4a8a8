/// A row of `items` as the routes show it.
public struct Item: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var content: String
    /// UTC, `2026-11-26T19:00:00Z`.
    public var updatedAt: String

    public init(id: Int64, name: String, content: String, updatedAt: String) {
        self.id = id
        self.name = name
        self.content = content
        self.updatedAt = updatedAt
    }
}
