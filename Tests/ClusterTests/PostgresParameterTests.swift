import Postgres
import Testing

/// What the server receives for each kind of parameter, through both ways of sending a
/// statement (one-off and prepared), on a real node.
@Suite(.enabled(if: TestCluster.isConfigured, "needs TEST_DB1_* and TEST_DB2_* from deploy/run-tests"))
struct PostgresParameterTests {
    static let sql = """
        SELECT $1::text IS NULL, $2::text = '', $3::text, encode($4::bytea, 'hex'), octet_length($5::bytea),
               $6::text, $7::text IS NULL, $8::text
        """
    static let parameters: [PostgresValue] = [
        .null, .text(""), .text("é😀 x"), .bytes([0, 1, 0xFF]), .bytes([]), .text("ab\u{0}cd"), .null,
        .text(String(repeating: "z", count: 10_000)),
    ]

    static func check(_ result: PostgresResult) {
        #expect(result.bool(0, 0) == true, "NULL arrives as NULL")
        #expect(result.bool(0, 1) == true, "the empty text arrives empty, not NULL")
        #expect(result.string(0, 2) == "é😀 x")
        #expect(result.string(0, 3) == "0001ff", "bytes arrive in binary, NUL bytes included")
        #expect(result.int64(0, 4) == 0, "no bytes arrive as an empty bytea, not NULL")
        #expect(result.string(0, 5) == "ab", "text is a C string for libpq: cut at an embedded NUL")
        #expect(result.bool(0, 6) == true, "a NULL after other values is still NULL")
        #expect(result.string(0, 7) == String(repeating: "z", count: 10_000))
    }

    @Test func everyKindOfParameterArrivesAsSent() throws {
        let connection = try TestCluster.connect(.a)
        Self.check(try connection.query(Self.sql, Self.parameters, deadline: TestCluster.deadline()))
    }

    @Test func everyKindOfParameterArrivesAsSentToAPreparedStatement() throws {
        let connection = try TestCluster.connect(.b)
        try connection.prepare("parameterKinds", Self.sql, deadline: TestCluster.deadline())
        Self.check(try connection.execute("parameterKinds", Self.parameters, deadline: TestCluster.deadline()))
        #expect(
            try connection.query("SELECT $1::text IS NULL", [.null], deadline: TestCluster.deadline()).bool(0, 0)
                == true,
            "only NULLs")
        #expect(try connection.query("SELECT 1", [], deadline: TestCluster.deadline()).int64(0, 0) == 1, "none")
    }

    /// Columns are found by their exact name, the first of equal names; a name the result does
    /// not have reads as nil.
    @Test func columnsAreFoundByTheirExactName() throws {
        let connection = try TestCluster.connect(.a)
        let result = try connection.query(
            #"SELECT 1 AS one, 2 AS "Two", 3 AS one, 4 AS "é x", 5 AS "tw""#, [], deadline: TestCluster.deadline())
        #expect(result.column("one") == 0)
        #expect(result.int64(0, "one") == 1, "the first of equal names")
        #expect(result.column("Two") == 1)
        #expect(result.column("two") == nil, "names are compared with their case")
        #expect(result.int64(0, "é x") == 4)
        #expect(result.int64(0, "tw") == 5)
        #expect(result.column("t") == nil && result.column("") == nil && result.column("one ") == nil)
        #expect(result.int64(0, "missing") == nil)
    }
}
