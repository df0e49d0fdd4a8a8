import WebCore

/// `FormFields.parse` and `PercentDecoding`.
enum FormCheck {
    private static let unlimited = FormLimits(maxFields: .max, maxFieldBytes: .max)

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        try checkForm(bytes)
        for plusAsSpace in [false, true] {
            guard let text = try? PercentDecoding.decode(bytes, plusAsSpace: plusAsSpace) else { continue }
            let again = try? PercentDecoding.decode(Array(PercentDecoding.encode(text).utf8), plusAsSpace: false)
            try require(again == text, "percent-encoding does not round-trip: \(bytes.escaped)")
        }
    }

    /// A form parses within its limits, the same under tighter limits or not at all, and its fields
    /// encoded again parse back to themselves.
    static func checkForm(_ bytes: [UInt8]) throws(FuzzFailure) {
        let limits = FormLimits()
        let fields: FormFields
        do {
            fields = try FormFields.parse(bytes, limits: limits)
        } catch {
            try require([400, 413].contains(error.status), "a form failed with \(error.status)")
            return
        }
        try require(fields.fields.count <= limits.maxFields, "\(fields.fields.count) fields")
        if let tight = try? FormFields.parse(bytes, limits: FormLimits(maxFields: 3, maxFieldBytes: 16)) {
            try require(tight == fields, "tighter limits gave other fields: \(bytes.escaped)")
        }
        let encoded = fields.fields.map { PercentDecoding.encode($0.name) + "=" + PercentDecoding.encode($0.value) }
            .joined(separator: "&")
        let again = try? FormFields.parse(Array(encoded.utf8), limits: unlimited)
        try require(again == fields, "form fields do not survive encoding: \(bytes.escaped) as \(encoded)")
    }
}
