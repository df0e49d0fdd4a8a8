/// One of the two PostgreSQL nodes.
public enum NodeName: String, Sendable, CaseIterable, Hashable {
    case a
    case b

    /// The other node.
    public var other: NodeName { self == .a ? .b : .a }
}
