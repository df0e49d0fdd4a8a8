import PHPSession
import WebCore

/// `PHPValue(serialized:)`, `serialized`, the JSON view of a value, and `PHPFloatFormat`.
enum SerializedValueCheck {
    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        if bytes.count >= 8 {
            try checkFloat(Double(bitPattern: bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }))
        }
        guard let value = try? PHPValue(serialized: bytes) else { return }
        let serialized = value.serialized
        let again: PHPValue
        do {
            again = try PHPValue(serialized: serialized)
        } catch {
            throw FuzzFailure("\(bytes.escaped) serializes as \(serialized.escaped), which does not parse: \(error)")
        }
        try require(again == value, "\(bytes.escaped) serializes as \(serialized.escaped), another value")
        try require(again.serialized == serialized, "serialize is not stable: \(serialized.escaped)")
        try JSONCheck.checkWritten(value.jsonValue, limits: JSONCheck.unlimited)
    }

    /// PHP's text for a float reads back as the same float.
    static func checkFloat(_ number: Double) throws(FuzzFailure) {
        let text = PHPFloatFormat.string(for: number)
        let value = try? PHPValue(serialized: Array("d:\(text);".utf8))
        try require(value == .double(number), "\(number) is written d:\(text);, which reads back otherwise")
    }
}
