/// FNV-1a (64-bit) of a text's UTF-8 bytes: stable across runs and processes, unlike
/// `hashValue`. Used where a short tag must be the same everywhere (the log's session tag, the
/// stylesheet's ETag); not a defence against anyone choosing inputs.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x100_0000_01b3
        }
        return value
    }
}
