import PHPSession
import WebCore

/// `JSONParser.parse`, `JSONValue.encoded()`, and JSON stored as PHP values.
enum JSONCheck {
    /// Limits that no value built in memory reaches, for reading back what was written.
    static let unlimited = JSONLimits(maxDepth: .max, maxMembers: .max)

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            try require(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset)")
            try require((try? JSONParser.parse(bytes, limits: tight)) == nil, "tighter limits accepted more")
            return
        }
        if let small = try? JSONParser.parse(bytes, limits: tight) {
            try require(small == value, "tighter limits read another value: \(bytes.escaped)")
        }
        try checkWritten(value, limits: JSONLimits())
        // A client's JSON stored in a session, as the item and session routes do.
        let php = PHPValue(json: value)
        let serialized = php.serialized
        let parsed = try? PHPValue(serialized: serialized)
        try require(parsed == php, "JSON as PHP does not survive serialize: \(serialized.escaped)")
        var session = PHPSessionData()
        session["data"] = php
        let stored = session.encode()
        let decoded = try? PHPSessionData.decode(stored)
        try require(decoded == session, "JSON in a session does not survive encode: \(stored.escaped)")
    }

    private static let tight = JSONLimits(maxDepth: 2, maxMembers: 6)

    /// `value` written out parses back to itself, within `limits`, and writes the same text again.
    static func checkWritten(_ value: JSONValue, limits: JSONLimits) throws(FuzzFailure) {
        let text = value.encoded()
        let again: JSONValue
        do {
            again = try JSONParser.parse(text, limits: limits)
        } catch {
            throw FuzzFailure("written JSON does not parse (\(error.description)): \(text.escaped)")
        }
        try require(again == value, "written JSON reads back as another value: \(text.escaped)")
        try require(again.encoded() == text, "written JSON is not stable: \(text.escaped)")
    }
}
