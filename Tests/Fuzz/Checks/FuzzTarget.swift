/// One fuzz target: a parser of hostile input and the properties it must keep for any bytes.
///
/// The same checks run under libFuzzer (`Tests/Fuzz/run`) and, over the committed corpus and every
/// crash found so far, in `swift test` (`FuzzRegressionTests`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// CGI parameters and a body, through `HTTPRequest.fromCGI` and what a route does with the result.
    case request
    /// `FormFields.parse` and percent-decoding.
    case form
    /// `Cookies.parse` of a `Cookie` header.
    case cookie
    /// `JSONParser.parse`, the JSON writer, and JSON stored as PHP values.
    case json
    /// `PHPSessionData.decode`, `encode` after edits, and the JSON view.
    case session
    /// `PHPValue(serialized:)`, `serialized`, and PHP's float text.
    case value

    /// Runs the target's checks on `bytes`; throws when a property does not hold. A crash (a trap)
    /// is a failure too, which only the fuzzer or a test run sees.
    public func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        switch self {
        case .request: try RequestCheck.check(bytes)
        case .form: try FormCheck.check(bytes)
        case .cookie: try CookieCheck.check(bytes)
        case .json: try JSONCheck.check(bytes)
        case .session: try SessionCheck.check(bytes)
        case .value: try SerializedValueCheck.check(bytes)
        }
    }
}

/// A property that did not hold, with what was seen.
public struct FuzzFailure: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Throws `FuzzFailure(message)` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzFailure) {
    if !condition { throw FuzzFailure(message()) }
}

extension Array where Element == UInt8 {
    /// The bytes for a failure message: printable ASCII as it is, the rest as `\xNN`.
    var escaped: String {
        var text = ""
        for byte in prefix(400) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += byte < 0x10 ? "\\x0" : "\\x"
                text += String(byte, radix: 16)
            }
        }
        return count > 400 ? text + "…(\(count) bytes)" : text
    }
}
