import WebCore

extension PHPSessionData {
    /// The whole session as a JSON object from names to ``PHPValue/jsonValue``, in order.
    ///
    /// Names that are not valid UTF-8 are repaired with U+FFFD; if two names then collide, the later
    /// value shows at the first position.
    public var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        var indexOfName: [String: Int] = [:]
        for (name, value) in entries {
            if let index = indexOfName[name] {
                members[index].value = value.jsonValue
            } else {
                indexOfName[name] = members.count
                members.append((key: name, value: value.jsonValue))
            }
        }
        return .object(members)
    }
}
