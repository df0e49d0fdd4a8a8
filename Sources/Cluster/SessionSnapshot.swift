/// A session as read from the nodes: the newest copy, plus what a compare-and-set needs.
public struct SessionSnapshot: Sendable, Equatable {
    public var id: String
    /// PHP-serialized session bytes.
    public var data: [UInt8]
    public var hlc: Int64
    public var origin: Int32
    /// Seconds since the last write or refresh.
    public var ageSeconds: Int64
    /// The node that decides races for this session at the time of reading.
    public var primary: NodeName
    /// The primary's copy's version, or nil when the primary has no live copy.
    public var primaryVersion: Version?
    /// True when only the secondary was read and `primaryVersion` is its version, taken on
    /// trust: the compare-and-set on the primary then succeeds only if both nodes agree.
    public var primaryVersionAssumed = false

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

    public init(
        id: String, data: [UInt8], hlc: Int64, origin: Int32, ageSeconds: Int64, primary: NodeName,
        primaryVersion: Version?
    ) {
        self.id = id
        self.data = data
        self.hlc = hlc
        self.origin = origin
        self.ageSeconds = ageSeconds
        self.primary = primary
        self.primaryVersion = primaryVersion
    }
}
