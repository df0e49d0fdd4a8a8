import PHPSession
import WebCore

/// The one place the routes meet the PHP session codec.
enum SessionCodec {
    static func decode(_ bytes: [UInt8]) -> PHPSessionData? {
        try? PHPSessionData.decode(bytes)
    }

    static func encode(_ data: PHPSessionData) -> [UInt8] { data.encode() }

    /// `data.visits` as PHP's `++` would read it: an integer as it is, a numeric string or a
    /// float as its whole number, `true` as 1; anything else (or nothing) as 0.
    static func visits(_ data: PHPSessionData) -> Int64 {
        switch data["visits"] {
        case .int(let value)?: return value
        case .double(let value)? where value.isFinite && abs(value) < 9e18: return Int64(value)
        case .bool(true)?: return 1
        case .string(let bytes)?:
            // PHP 8 allows leading and trailing " \t\n\r\v\f" around a numeric string.
            let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C]
            let trimmed = bytes.drop(while: blank.contains).reversed().drop(while: blank.contains).reversed()
            let text = String(decoding: Array(trimmed), as: UTF8.self)
            if let value = Int64(text) { return value }
            if let value = Double(text), value.isFinite, abs(value) < 9e18 { return Int64(value) }
            return 0
        default: return 0
        }
    }

    static func json(_ data: PHPSessionData) -> JSONValue { data.jsonValue }

    static func value(fromJSON value: JSONValue) -> PHPValue { PHPValue(json: value) }
}

extension SessionCodec {
    /// Session values as text for the index page: strings as they are, everything else as JSON.
    static func displayValues(_ data: PHPSessionData) -> [DisplayValue] {
        guard case .object(let members) = data.jsonValue else { return [] }
        return members.map { member in
            if case .string(let text) = member.value { return DisplayValue(key: member.key, value: text) }
            return DisplayValue(key: member.key, value: member.value.text)
        }
    }
}
