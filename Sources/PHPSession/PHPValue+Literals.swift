extension PHPValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension PHPValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension PHPValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension PHPValue: ExpressibleByStringLiteral {
    /// The literal's UTF-8 bytes.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension PHPValue: ExpressibleByArrayLiteral {
    /// A list: keys 0, 1, 2, …
    public init(arrayLiteral elements: PHPValue...) {
        self = .array(PHPArray(list: elements))
    }
}

extension PHPValue: ExpressibleByDictionaryLiteral {
    /// An array with the keys in the order written.
    public init(dictionaryLiteral elements: (PHPArrayKey, PHPValue)...) {
        self = .array(PHPArray(elements.map { (key: $0.0, value: $0.1) }))
    }
}
