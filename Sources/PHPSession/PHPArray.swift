/// A PHP array: an ordered map from int or string keys to values.
///
/// Entries keep the order in which they were written. An array decoded from session data keeps its keys
/// exactly as serialized (`i:5;` stays an int key, `s:1:"5";` a string key), duplicates included, so that it
/// serializes back to the same bytes. The subscript and ``append(_:)`` behave as PHP's `$a[$k] = $v` and
/// `$a[] = $v`: a string key spelling a canonical integer addresses the int key.
public struct PHPArray: Sendable {
    /// The elements in order.
    public var entries: [(key: PHPArrayKey, value: PHPValue)]

    /// An empty array.
    public init() {
        entries = []
    }

    /// An array of `entries`, kept exactly as given.
    public init(_ entries: [(key: PHPArrayKey, value: PHPValue)]) {
        self.entries = entries
    }

    /// A list: `values` under the keys 0, 1, 2, …
    public init(list values: [PHPValue]) {
        entries = values.enumerated().map { (key: .int(Int64($0.offset)), value: $0.element) }
    }

    public var count: Int { entries.count }

    public var isEmpty: Bool { entries.isEmpty }

    /// The keys in order.
    public var keys: [PHPArrayKey] { entries.map(\.key) }

    /// Whether the keys are exactly 0, 1, …, count − 1 in this order (PHP's `array_is_list`); true for the
    /// empty array.
    public var isList: Bool {
        entries.indices.allSatisfy { entries[$0].key == .int(Int64($0)) }
    }

    /// The key `$a[] = …` would use: one more than the largest int key, and at least 0 (as in PHP 8.2);
    /// nil when the largest int key is `Int64.max`, where PHP refuses to append.
    public var nextFreeKey: Int64? {
        var next: Int64 = 0
        for case .int(let key) in entries.lazy.map(\.key) where key >= next {
            guard key < Int64.max else { return nil }
            next = key + 1
        }
        return next
    }

    /// The value under `key` (normalized as PHP does), or nil. When a decoded array holds a key twice, the
    /// later value is the one PHP sees. Setting replaces the value in place, or appends a new element;
    /// setting nil removes the key.
    public subscript(key: PHPArrayKey) -> PHPValue? {
        get {
            let key = key.normalized
            return entries.last(where: { $0.key == key })?.value
        }
        set {
            let key = key.normalized
            guard let first = entries.firstIndex(where: { $0.key == key }) else {
                if let newValue {
                    entries.append((key: key, value: newValue))
                }
                return
            }
            if let newValue {
                entries[first].value = newValue
                var index = entries.index(after: first)
                while index < entries.endIndex {
                    if entries[index].key == key {
                        entries.remove(at: index)
                    } else {
                        index += 1
                    }
                }
            } else {
                entries.removeAll { $0.key == key }
            }
        }
    }

    /// Appends `value` under ``nextFreeKey``; returns false (and changes nothing) when there is none.
    @discardableResult
    public mutating func append(_ value: PHPValue) -> Bool {
        guard let key = nextFreeKey else { return false }
        entries.append((key: .int(key), value: value))
        return true
    }
}

extension PHPArray: Equatable {
    public static func == (lhs: PHPArray, rhs: PHPArray) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension PHPArrayKey {
    /// The key PHP uses for this one when it indexes an array.
    var normalized: PHPArrayKey {
        if case .string(let bytes) = self { PHPArrayKey(normalizing: bytes) } else { self }
    }
}
