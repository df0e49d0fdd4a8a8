/// A PHP session in the default `php` serialize format: `visits|i:3;color|s:4:"blue";`.
///
/// Variables keep their order; a new name is appended at the end. What PHP wrote survives a
/// read-modify-write byte for byte: a variable that was not changed is written back exactly as it was
/// read, so `encode(decode(b)) == b` for every `b` that decodes and names each variable once.
///
/// **Names.** A name may hold any bytes but `|`. PHP itself never writes a numeric name (one that is a
/// canonical decimal integer such as `"5"`, see ``PHPArrayKey/init(normalizing:)``): `$_SESSION[5]` and
/// `$_SESSION["5"]` are silently skipped when PHP saves. Such names, when present in stored data, are read
/// and kept, but ``setValue(_:forName:)`` refuses them, and any name with `|`. A name that is not valid
/// UTF-8 is kept as bytes; ``entries`` shows it with U+FFFD and it cannot be addressed by name.
///
/// **Back-references.** PHP numbers the values of a session 1, 2, 3, … in the order written, across all
/// variables: each variable's value, every array element and object property value (keys and property
/// names are not values), enums, `r:` itself, and the values inside a `C:` payload when that payload is
/// serialized data (PHP shares the numbering with `Serializable::serialize()`); `R:` takes no number.
/// `R:n;` and `r:n;` point to those numbers. `encode()` renumbers them the way PHP does when it saves the
/// same variables: every back-reference is read in the numbering of the data as decoded; while its target
/// is still written before it, it gets the target's new number (so a value that grows, shrinks or disappears
/// before it shifts it by the difference); when its target is no longer written (that variable was replaced
/// or removed), the first back-reference to it is replaced by the target's own serialized text and later
/// ones point there, as PHP shows an object plainly at its first remaining occurrence. When nothing before
/// a back-reference changed, it is written unchanged. Back-references inside values built by the caller
/// are read the same way, in the numbering of the decoded data.
///
/// Setting a variable replaces that variable only. (In PHP, assigning to a variable that is one end of a
/// PHP reference `&` writes through the reference and changes the other end too; here the other end keeps
/// the value it showed.)
public struct PHPSessionData: Sendable {
    /// The deepest nesting of arrays, objects and `C:` payloads that decoding accepts (PHP's own
    /// `unserialize_max_depth` is 4096; sessions stay far below either).
    public static let maximumDepth = 128

    /// Where a decoded variable's value sits in `source`, and the slot number of that value.
    struct Origin: Sendable, Equatable {
        var range: Range<Int>
        var firstSlot: Int
    }

    struct Entry: Sendable {
        var rawName: [UInt8]
        var value: PHPValue
        /// Set while the value is the one decoded from `source`.
        var origin: Origin?

        var name: String { String(decoding: rawName, as: UTF8.self) }
    }

    private var storage: [Entry]
    /// The bytes this session was decoded from; empty when it was not.
    private var source: [UInt8]
    /// Whether `source` holds an `R:` or `r:`.
    private var sourceHasReferences: Bool

    /// An empty session.
    public init() {
        storage = []
        source = []
        sourceHasReferences = false
    }

    /// A session of `entries` in order; a name given twice keeps its first position and its last value.
    public init(_ entries: [(name: String, value: PHPValue)]) throws(PHPSessionNameError) {
        self.init()
        for (name, value) in entries {
            try setValue(value, forName: name)
        }
    }

    /// Reads session data as PHP's `php` serialize handler does.
    ///
    /// Empty input is an empty session. A name given twice keeps its first position and its last value,
    /// as in PHP. Throws for anything PHP would refuse (bytes after the last value without a `|`, a
    /// malformed or truncated value, an invalid back-reference), and for nesting deeper than
    /// ``maximumDepth``; never traps and never allocates more than the input justifies.
    public static func decode(_ bytes: [UInt8]) throws(PHPSessionDecodeError) -> PHPSessionData {
        var decoder = PHPSessionDecoder(bytes)
        var session = PHPSessionData()
        session.storage = try decoder.decodeSession()
        session.source = bytes
        session.sourceHasReferences = decoder.sawReference
        return session
    }

    /// The session in PHP's `php` serialize format.
    public func encode() -> [UInt8] {
        let needsRenumbering =
            sourceHasReferences || storage.contains { $0.origin == nil && $0.value.containsOpaque }
        guard needsRenumbering else {
            var out: [UInt8] = []
            for entry in storage {
                out.append(contentsOf: entry.rawName)
                out.append(UInt8(ascii: "|"))
                if let origin = entry.origin {
                    out.append(contentsOf: source[origin.range])
                } else {
                    PHPSerializer.append(entry.value, to: &out)
                }
            }
            return out
        }
        var encoder = PHPSessionEncoder(source: source)
        return encoder.encode(storage)
    }

    /// The variables in order.
    public var entries: [(name: String, value: PHPValue)] {
        storage.map { (name: $0.name, value: $0.value) }
    }

    /// The names in order.
    public var names: [String] { storage.map(\.name) }

    public var count: Int { storage.count }

    public var isEmpty: Bool { storage.isEmpty }

    /// Whether PHP can store a variable under `name`: no `|`, and not a canonical decimal integer.
    public static func isValidName(_ name: String) -> Bool {
        !name.utf8.contains(UInt8(ascii: "|")) && PHPArrayKey.canonicalInteger(name.utf8) == nil
    }

    /// The value of the variable `name`, or nil. Setting a value replaces it in place or appends the
    /// variable at the end; setting nil removes it.
    ///
    /// - Precondition: when setting a value, `name` is valid (``isValidName(_:)``); use
    ///   ``setValue(_:forName:)`` to get an error instead.
    public subscript(name: String) -> PHPValue? {
        get {
            index(of: name).map { storage[$0].value }
        }
        set {
            if let newValue {
                precondition(Self.isValidName(name), "PHP cannot store a session variable of this name")
                store(newValue, forName: name)
            } else {
                removeValue(forName: name)
            }
        }
    }

    /// Sets the variable `name` to `value`, in place when it exists, otherwise appended at the end.
    public mutating func setValue(_ value: PHPValue, forName name: String) throws(PHPSessionNameError) {
        guard Self.isValidName(name) else { throw PHPSessionNameError(name: name) }
        store(value, forName: name)
    }

    /// Removes the variable `name` and returns its value, if it was there.
    @discardableResult
    public mutating func removeValue(forName name: String) -> PHPValue? {
        guard let index = index(of: name) else { return nil }
        return storage.remove(at: index).value
    }

    private mutating func store(_ value: PHPValue, forName name: String) {
        guard let index = index(of: name) else {
            storage.append(Entry(rawName: Array(name.utf8), value: value, origin: nil))
            return
        }
        // Storing the same value again keeps the decoded bytes.
        if storage[index].value != value {
            storage[index].value = value
            storage[index].origin = nil
        }
    }

    private func index(of name: String) -> Int? {
        storage.firstIndex { $0.rawName.elementsEqual(name.utf8) }
    }
}

extension PHPSessionData: Equatable {
    /// Sessions are equal when they hold the same names with equal values in the same order.
    public static func == (lhs: PHPSessionData, rhs: PHPSessionData) -> Bool {
        lhs.storage.count == rhs.storage.count
            && zip(lhs.storage, rhs.storage).allSatisfy { $0.rawName == $1.rawName && $0.value == $1.value }
    }
}

extension PHPSessionData: ExpressibleByDictionaryLiteral {
    /// A session of the literal's variables in order.
    ///
    /// - Precondition: every name is valid (``isValidName(_:)``).
    public init(dictionaryLiteral elements: (String, PHPValue)...) {
        self.init()
        for (name, value) in elements {
            self[name] = value
        }
    }
}
