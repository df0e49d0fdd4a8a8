/// A session as read from the nodes: the copy that decides, plus what a compare-and-set needs.
public struct SessionSnapshot: Sendable, Equatable {
    public var id: String
    /// PHP-serialized session bytes.
    public var data: [UInt8]
    public var hlc: Int64
    public var origin: Int32
    /// Seconds since the last write or refresh.
    public var ageSeconds: Int64
    /// What each node that answered the read held, for the write that may follow.
    var copies: [NodeName: NodeCopy] = [:]
    /// False when no node that answered could prove it holds every acknowledged write (the
    /// other node is away and this one was not standing alone): the session may be shown but
    /// not changed.
    public var isWritable = true

    /// A row version: clock value and writer.
    public struct Version: Sendable, Equatable, Comparable {
        public var hlc: Int64
        public var origin: Int32
        public init(hlc: Int64, origin: Int32) {
            self.hlc = hlc
            self.origin = origin
        }
        public static func < (lhs: Version, rhs: Version) -> Bool { (lhs.hlc, lhs.origin) < (rhs.hlc, rhs.origin) }
    }

    /// One node's copy of a row as a read found it, with that node's standing.
    struct NodeCopy: Sendable, Equatable {
        /// Nil when the node has no row.
        var version: Version?
        var deleted = false
        /// The node holds every acknowledged write (it stands alone, or is current and fresh).
        var holdsEverything = false
        /// The node stands alone (the other may lack writes it took).
        var standsAlone = false
        /// How far the node's clock is ahead of this host's, as the read found it (a write's fence).
        var clockOffset: Double?
    }

    public var version: Version { Version(hlc: hlc, origin: origin) }

    public init(id: String, data: [UInt8], hlc: Int64, origin: Int32, ageSeconds: Int64) {
        self.id = id
        self.data = data
        self.hlc = hlc
        self.origin = origin
        self.ageSeconds = ageSeconds
    }
}

extension SessionSnapshot.NodeCopy {
    /// Which of the nodes that answered a read decide what the row is.
    ///
    /// Both answered: the one that stands alone when only one does (the other may hold a late,
    /// unacknowledged write), else both (the newest copy wins). One answered: that node, if it
    /// holds every acknowledged write; else none, and the read proves nothing.
    static func deciding(_ copies: [NodeName: Self]) -> [NodeName] {
        if copies.count >= 2 {
            let alone = copies.filter { $0.value.standsAlone }.map(\.key)
            return alone.count == 1 ? alone : Array(copies.keys)
        }
        return copies.filter { $0.value.holdsEverything }.map(\.key)
    }

    /// The nodes whose copy counts for the row: the `deciding` ones, or (when none decides) every
    /// copy, which may be shown but not changed; and every copy too when no deciding node has the
    /// row at all (a new row the other node took while the deciding one was away, queued and not
    /// yet copied, is still the row).
    static func counted(_ copies: [NodeName: Self], deciding: [NodeName]) -> [NodeName] {
        let counted = deciding.isEmpty ? Array(copies.keys) : deciding
        return counted.contains { copies[$0]?.version != nil } ? counted : Array(copies.keys)
    }
}
