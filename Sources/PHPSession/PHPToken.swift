/// One token of serialized data, as ``PHPTokenizer`` reads it.
///
/// Values are tokens in prefix order: an array or object is its start token, then its keys and values,
/// then an `.end`. Every token that is not a key, not an `.end` and not an `R:` occupies one of PHP's
/// back-reference slots.
struct PHPToken {
    enum Kind {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        /// The range of the string's bytes (inside the quotes).
        case string(Range<Int>)
        /// `E:len:"Class:Case";`
        case enumCase
        /// `a:n:{`
        case arrayStart(count: Int)
        /// `O:len:"Class":n:{`
        case objectStart(count: Int)
        /// `C:len:"Class":len:{` whose payload is itself serialized values: these follow as tokens. PHP
        /// numbers the values inside together with the outer ones, because `Serializable::serialize()`
        /// calls `serialize()` in the same context.
        case customStart(className: Range<Int>, payload: Range<Int>)
        /// `C:…:{…}` whose payload is not serialized values, as one token.
        case custom
        /// `}`, closing an array, an object or (when `closesCustom`) a `C:` payload.
        case end(closesCustom: Bool)
        /// `R:n;` (a PHP reference, takes no slot) or `r:n;` (the same object again, takes a slot).
        case reference(target: Int, isObject: Bool)
    }

    var kind: Kind
    /// The bytes of the token in the input.
    var range: Range<Int>
    /// Whether this is an array key or property name (`i:` or `s:`), which takes no slot.
    var isKey = false

    /// Whether PHP gives this token a back-reference number.
    var takesSlot: Bool {
        guard !isKey else { return false }
        switch kind {
        case .end: return false
        case .reference(_, let isObject): return isObject
        default: return true
        }
    }

    /// Whether the slot of this token holds an object, the only thing `r:` may point to.
    var isObjectSlot: Bool {
        switch kind {
        case .enumCase, .objectStart, .customStart, .custom: true
        case .reference(_, let isObject): isObject
        default: false
        }
    }

    /// Whether this token opens a container that a later `.end` closes.
    var opensContainer: Bool {
        switch kind {
        case .arrayStart, .objectStart, .customStart: true
        default: false
        }
    }
}
