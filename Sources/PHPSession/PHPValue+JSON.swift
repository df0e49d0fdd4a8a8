import WebCore

extension PHPValue {
    /// The value as the API's JSON view shows it (docs/API.md, "`GET /session`").
    ///
    /// - an array whose keys are exactly 0…n−1 in order (the empty array too) is a JSON array, any other
    ///   array an object with int keys written in decimal (a key given twice shows its last value at its
    ///   first position, as PHP reads it; key bytes that are not UTF-8 are repaired with U+FFFD);
    /// - a string that is not valid UTF-8 is `{"$base64":"…"}`;
    /// - what JSON cannot carry (objects, enums, back-references, `INF`, `-INF`, `NAN`) is
    ///   `{"$php":"<serialized text as stored>"}`, or `{"$php_base64":"…"}` when that text is not UTF-8.
    public var jsonValue: JSONValue {
        switch self {
        case .null:
            return .null
        case .bool(let flag):
            return .bool(flag)
        case .int(let number):
            return .int(number)
        case .double(let number):
            return number.isFinite ? .double(number) : Self.unmodeled(serialized)
        case .string(let bytes):
            if let text = UTF8Validation.string(from: bytes) {
                return .string(text)
            }
            return .object([(key: "$base64", value: .string(Base64.encode(bytes)))])
        case .array(let array):
            if array.isList {
                return .array(array.entries.map(\.value.jsonValue))
            }
            var members: [(key: String, value: JSONValue)] = []
            var indexOfKey: [String: Int] = [:]
            for (key, element) in array.entries {
                let name = key.text
                if let index = indexOfKey[name] {
                    members[index].value = element.jsonValue
                } else {
                    indexOfKey[name] = members.count
                    members.append((key: name, value: element.jsonValue))
                }
            }
            return .object(members)
        case .opaque(let bytes):
            return Self.unmodeled(bytes)
        }
    }

    /// The PHP value of a JSON value sent by a client: an object becomes an array whose keys are normalized
    /// as PHP does (`"5"` becomes the int key 5), an array a list, a string its UTF-8 bytes.
    ///
    /// `{"$php":…}` and `{"$base64":…}` are not special here: a client's JSON is data, stored as arrays.
    public init(json: JSONValue) {
        switch json {
        case .null:
            self = .null
        case .bool(let flag):
            self = .bool(flag)
        case .int(let number):
            self = .int(number)
        case .double(let number):
            self = .double(number)
        case .string(let text):
            self = .string(Array(text.utf8))
        case .array(let elements):
            self = .array(PHPArray(list: elements.map(PHPValue.init(json:))))
        case .object(let members):
            self = .array(PHPArray(members.map { (key: PHPArrayKey($0.key), value: PHPValue(json: $0.value)) }))
        }
    }

    private static func unmodeled(_ bytes: [UInt8]) -> JSONValue {
        if let text = UTF8Validation.string(from: bytes) {
            return .object([(key: "$php", value: .string(text))])
        }
        return .object([(key: "$php_base64", value: .string(Base64.encode(bytes)))])
    }
}
