extension UInt8 {
    /// The byte with an ASCII capital letter lowered; every other byte as it is. HTTP names
    /// (headers, media types) compare this way, byte by byte, without building strings.
    public var asciiLowercased: UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) ? self | 0x20 : self }
}

/// Text compared with lowercase names written in the source, ASCII letters without case, byte
/// by byte and without building strings: HTTP header names and `Accept` values are ASCII.
public enum ASCIICaseInsensitive {
    /// True when `text` is `lowercase`.
    public static func equals(_ text: String, _ lowercase: StaticString) -> Bool {
        equals(Substring(text), lowercase)
    }

    /// True when `text` is `lowercase`.
    public static func equals(_ text: Substring, _ lowercase: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { $0.count == lowercase.utf8CodeUnitCount && matches($0, at: 0, lowercase) }
    }

    /// Where `lowercase` first occurs in `text`, as a byte offset.
    public static func offset(of lowercase: StaticString, in text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= lowercase.utf8CodeUnitCount else { return nil }
            return (0...(bytes.count - lowercase.utf8CodeUnitCount)).first { matches(bytes, at: $0, lowercase) }
        }
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ lowercase: StaticString) -> Bool {
        let wanted = lowercase.utf8Start
        for index in 0..<lowercase.utf8CodeUnitCount where bytes[start + index].asciiLowercased != wanted[index] {
            return false
        }
        return true
    }
}
