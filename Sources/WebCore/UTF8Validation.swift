/// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF).
public enum UTF8Validation {
    /// True when `bytes` is well-formed UTF-8. Inlinable, so that callers in other modules get
    /// code specialized to their collection (the generic one costs several times as much).
    @inlinable public static func isValid<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// The text of `bytes` when they are well-formed UTF-8, otherwise nil.
    public static func string(from bytes: [UInt8]) -> String? {
        isValid(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }
}
