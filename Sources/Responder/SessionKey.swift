import PHPSession
import WebCore

/// Rules for session keys a client may set.
enum SessionKey {
    /// The counter the server keeps; clients may not set it.
    static let visits = "visits"

    /// Throws 422 unless `key` is 1 to 128 characters of `[A-Za-z0-9_.-]`, not all digits, not `visits`.
    static func validate(_ key: String) throws(HTTPError) {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= 128 else {
            throw HTTPError(422, "A session key must be 1 to 128 characters long.")
        }
        let allowed = bytes.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        guard allowed else { throw HTTPError(422, "A session key may hold only letters, digits, '_', '.' and '-'.") }
        guard !bytes.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw HTTPError(422, "A session key may not be all digits.")
        }
        guard PHPSessionData.isValidName(key) else {
            throw HTTPError(422, "A session key may not be a number, as PHP drops numeric session keys.")
        }
        guard key != visits else { throw HTTPError(422, "The key 'visits' is kept by the server.") }
    }
}
