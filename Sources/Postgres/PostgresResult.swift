internal import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// The rows of one statement, read in text format. Frees its `PGresult` in `deinit`.
public final class PostgresResult {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }

    deinit { PQclear(result) }

    public var rowCount: Int { Int(PQntuples(result)) }
    public var columnCount: Int { Int(PQnfields(result)) }
    /// Rows touched by an INSERT, UPDATE or DELETE.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    func errorField(_ field: Int32) -> String? {
        guard let value = PQresultErrorField(result, field) else { return nil }
        return String(cString: value)
    }

    /// The index of the column named `name` exactly (as the statement's select list or alias
    /// names it), the first of equal names. Compared in place: `PQfnumber` would need the name
    /// quoted (a new string) and copies it again to parse it, on every read of a column.
    public func column(_ name: String) -> Int? {
        name.withCString { wanted in
            (0..<columnCount).first { index in
                PQfname(result, Int32(index)).map { strcmp($0, wanted) == 0 } ?? false
            }
        }
    }

    /// A column read by name: nil for SQL NULL or a column the result does not have.
    public func string(_ row: Int, _ name: String) -> String? { column(name).flatMap { string(row, $0) } }
    public func int64(_ row: Int, _ name: String) -> Int64? { column(name).flatMap { int64(row, $0) } }
    public func bool(_ row: Int, _ name: String) -> Bool? { column(name).flatMap { bool(row, $0) } }
    public func bytes(_ row: Int, _ name: String) -> [UInt8]? { column(name).flatMap { bytes(row, $0) } }
    public func isNull(_ row: Int, _ name: String) -> Bool { column(name).map { isNull(row, $0) } ?? true }

    public func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(result, Int32(row), Int32(column)) == 1
    }

    /// A column as text, or nil for SQL NULL.
    public func string(_ row: Int, _ column: Int) -> String? {
        guard row < rowCount, column < columnCount, !isNull(row, column) else { return nil }
        return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
    }

    public func int64(_ row: Int, _ column: Int) -> Int64? {
        guard let text = string(row, column) else { return nil }
        return Int64(text)
    }

    public func bool(_ row: Int, _ column: Int) -> Bool? {
        guard let text = string(row, column) else { return nil }
        return text == "t"
    }

    /// A `bytea` column (text format, hex encoding) as raw bytes.
    public func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard row < rowCount, column < columnCount, !isNull(row, column) else { return nil }
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let pointer = PQgetvalue(result, Int32(row), Int32(column)) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { base in
            let text = UnsafeBufferPointer(start: base, count: length)
            return Self.decodeHexBytea(text)
        }
    }

    static func decodeHexBytea(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"),
            text.count % 2 == 0
        else { return nil }
        var out = [UInt8]()
        out.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            guard let high = hex(text[index]), let low = hex(text[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }
}
