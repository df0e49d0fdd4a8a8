/// Session data, or one serialized value, that is not in PHP's `php` serialize format.
///
/// As in postgres-nio's `PSQLError`, `description` stays deliberately vague so that a log line or an
/// error page never repeats session content; `debugDescription` names the code and the byte offset.
public struct PHPSessionDecodeError: Error, Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// What was wrong with the input.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case truncated
            case unexpectedByte
            case unknownTag
            case lengthOutOfRange
            case nestingTooDeep
            case invalidBackReference
            case missingDelimiter
            case trailingBytes
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The input ended inside a value.
        public static let truncated = Code(.truncated)
        /// A byte where the format needs another one (a missing `;`, `:`, `"` or `{`, a bad digit).
        public static let unexpectedByte = Code(.unexpectedByte)
        /// A value starts with a type letter that is not one of `N b i d s a O C E R r`.
        public static let unknownTag = Code(.unknownTag)
        /// A length or element count larger than the bytes that remain.
        public static let lengthOutOfRange = Code(.lengthOutOfRange)
        /// Arrays and objects nested deeper than ``PHPSessionData/maximumDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// An `R:`/`r:` back-reference to a value that does not exist (yet), or `r:` to a non-object.
        public static let invalidBackReference = Code(.invalidBackReference)
        /// Bytes after the last value that hold no `|` to start another session variable.
        public static let missingDelimiter = Code(.missingDelimiter)
        /// Bytes after a single serialized value.
        public static let trailingBytes = Code(.trailingBytes)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .unexpectedByte: "unexpectedByte"
            case .unknownTag: "unknownTag"
            case .lengthOutOfRange: "lengthOutOfRange"
            case .nestingTooDeep: "nestingTooDeep"
            case .invalidBackReference: "invalidBackReference"
            case .missingDelimiter: "missingDelimiter"
            case .trailingBytes: "trailingBytes"
            }
        }
    }

    /// What was wrong.
    public var code: Code
    /// Offset of the offending byte from the start of the input.
    public var offset: Int

    /// Creates an error of `code` at byte `offset` of the input.
    public init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String {
        "PHP session data could not be decoded"
    }

    public var debugDescription: String {
        "PHPSessionDecodeError(code: \(code), offset: \(offset))"
    }
}
