import Postgres

/// How catch-up and anti-entropy copy rows of one replicated table between the nodes: a batch
/// read by key, then one upsert of arrays (`unnest`), under the settlement rule or forced, so a
/// catch-up of thousands of rows costs a few round trips per batch, not several per row.
struct ReplicatedRows {
    let fetch: Statement
    let put: Statement
    let force: Statement
    /// The fetched columns of the version, `hlc` and `origin`.
    private let versionColumns: (Int, Int)
    /// Which fetched columns are `bytea` (sent as hex in the array literal).
    private let byteColumns: Set<Int>

    init?(table: String) {
        switch table {
        case "php_session":
            fetch = .sessionFetchBatch
            put = .sessionPutBatch
            force = .sessionForceBatch
            byteColumns = [1]
            versionColumns = (2, 3)
        case "items":
            fetch = .itemFetchBatch
            put = .itemPutBatch
            force = .itemForceBatch
            byteColumns = []
            versionColumns = (4, 5)
        default:
            return nil
        }
    }

    /// The key (first column) and version (`hlc/origin`) of each fetched row.
    func versions(_ rows: PostgresResult) -> [String: String] {
        var versions: [String: String] = [:]
        for row in 0..<rows.rowCount {
            guard let key = rows.string(row, 0), let hlc = rows.string(row, versionColumns.0),
                let origin = rows.string(row, versionColumns.1)
            else { continue }
            versions[key] = hlc + "/" + origin
        }
        return versions
    }

    /// The upsert's parameters: one array literal per column of the fetched `rows`.
    func arrays(_ rows: PostgresResult) -> [PostgresValue] {
        (0..<rows.columnCount).map { column in
            let elements = (0..<rows.rowCount).map { row -> String in
                if rows.isNull(row, column) { return "NULL" }
                if byteColumns.contains(column) {
                    return "\"\\\\x" + Self.hex(rows.bytes(row, column) ?? []) + "\""
                }
                return Self.quoted(rows.string(row, column) ?? "")
            }
            return .text("{" + elements.joined(separator: ",") + "}")
        }
    }

    /// An element of an array literal, quoted.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
