import PHPSession
import WebCore

/// `PHPSessionData.decode`, `encode` unchanged and after edits, and the JSON view.
///
/// What `PHPSessionData` promises: `encode(decode(b)) == b` when `b` names each variable once; the
/// output of `encode()` always decodes (its back-references point to slots already written), after
/// any edit too, and encodes again to the same bytes.
enum SessionCheck {
    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        guard let session = try? PHPSessionData.decode(bytes) else { return }
        let encoded = session.encode()
        if let variables = SessionLayout.variables(in: bytes), Set(variables.map(\.name)).count == variables.count {
            try require(encoded == bytes, "decode then encode changed \(bytes.escaped) into \(encoded.escaped)")
            try checkLastEdited(session, bytes, lastStart: variables.last?.start)
        }
        let plain = !SessionLayout.mayHoldReferences(bytes)
        try checkEncoded(session, encoded, valuesKept: plain, what: "decoded")

        // Edits, as the session routes make them: remove, replace, append, move, copy.
        let entries = session.entries
        for (index, entry) in entries.prefix(3).enumerated() where PHPSessionData.isValidName(entry.name) {
            var removed = session
            removed.removeValue(forName: entry.name)
            try checkEncoded(removed, removed.encode(), valuesKept: plain, what: "without \(entry.name)")

            var replaced = session
            replaced[entry.name] = .array(PHPArray(list: [.int(Int64(index)), "x"]))
            try checkEncoded(replaced, replaced.encode(), valuesKept: plain, what: "\(entry.name) replaced")

            var moved = removed
            moved[entry.name] = entry.value
            try checkEncoded(moved, moved.encode(), valuesKept: plain, what: "\(entry.name) moved to the end")
        }
        if let last = entries.last {
            // A value taken from the session and stored under a new name: its back-references are read in
            // the numbering of the decoded data.
            var copied = session
            copied["fuzz copy"] = last.value
            try checkEncoded(copied, copied.encode(), valuesKept: plain, what: "\(last.name) copied")
        }
        try JSONCheck.checkWritten(session.jsonValue, limits: JSONCheck.unlimited)
    }

    /// Nothing refers forward, so removing or replacing the last variable leaves the bytes before it as
    /// they were (`lastStart`: where it starts in `bytes`, which names each variable once).
    private static func checkLastEdited(_ session: PHPSessionData, _ bytes: [UInt8], lastStart: Int?)
        throws(FuzzFailure)
    {
        guard let lastStart, let last = session.entries.last, PHPSessionData.isValidName(last.name),
            Array(last.name.utf8) == Array(bytes[lastStart...].prefix(while: { $0 != UInt8(ascii: "|") }))
        else { return }
        let before = Array(bytes[..<lastStart])
        var removed = session
        removed.removeValue(forName: last.name)
        try require(removed.encode() == before, "removing \(last.name) changed what comes before it")
        // (Storing an equal value keeps the bytes as decoded, which may spell it otherwise: `i:+1;`.)
        let value: PHPValue = .array(PHPArray(list: [.int(1), "x"]))
        guard last.value != value else { return }
        var replaced = session
        replaced[last.name] = value
        let expected = before + Array(last.name.utf8) + [UInt8(ascii: "|")] + value.serialized
        let written = replaced.encode()
        try require(written == expected, "replacing \(last.name) wrote \(written.escaped), not \(expected.escaped)")
    }

    /// `encoded` (what `session.encode()` wrote) decodes to the same names and, unless back-references
    /// may have been renumbered, the same values, and encodes again to itself.
    private static func checkEncoded(
        _ session: PHPSessionData, _ encoded: [UInt8], valuesKept: Bool, what: String
    ) throws(FuzzFailure) {
        let decoded: PHPSessionData
        do {
            decoded = try PHPSessionData.decode(encoded)
        } catch {
            throw FuzzFailure(
                "\(what): encode() wrote \(encoded.escaped), which does not decode: \(error.debugDescription)")
        }
        try require(decoded.names == session.names, "\(what): encode() wrote \(encoded.escaped), other names")
        if valuesKept {
            try require(decoded == session, "\(what): encode() wrote \(encoded.escaped), other values")
        }
        let again = decoded.encode()
        try require(again == encoded, "\(what): \(encoded.escaped) encodes again as \(again.escaped)")
    }
}
