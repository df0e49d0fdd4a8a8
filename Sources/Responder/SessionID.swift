/// Session ids in PHP's alphabet `[A-Za-z0-9,-]`.
public enum SessionID {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,-".utf8)

    /// A new id of 32 characters: 192 bits from the system's secure random source
    /// (`SystemRandomNumberGenerator` reads `getrandom(2)` on Linux).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            var word = generator.next()
            for _ in 0..<8 {
                bytes.append(alphabet[Int(word & 63)])
                word >>= 6
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for 22 to 256 characters of PHP's alphabet.
    public static func isWellFormed(_ id: String) -> Bool {
        let count = id.utf8.count
        guard count >= 22, count <= 256 else { return false }
        return id.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "-")
        }
    }
}
