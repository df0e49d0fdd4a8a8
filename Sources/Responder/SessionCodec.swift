import PHPSession
import WebCore

/// The one place the routes meet the PHP session codec.
enum SessionCodec {
    static func decode(_ bytes: [UInt8]) -> PHPSessionData? {
        try? PHPSessionData.decode(bytes)
    }

    static func encode(_ data: PHPSessionData) -> [UInt8] { data.encode() }

    /// `data.visits` when it is an integer, else 0.
    static func visits(_ data: PHPSessionData) -> Int64 {
        data["visits"]?.intValue ?? 0
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
