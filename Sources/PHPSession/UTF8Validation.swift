/// Strict UTF-8 checks without Foundation.
enum UTF8Validation {
    /// The text of `bytes` when they are valid UTF-8 (no overlong forms, surrogates or values past
    /// U+10FFFF), otherwise nil.
    static func string(from bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        // Decoding repairs invalid sequences with U+FFFD, which changes the bytes.
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}
