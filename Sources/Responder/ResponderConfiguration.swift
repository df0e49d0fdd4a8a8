import Postgres

/// Every setting of one responder process, read once from the environment at start.
public struct ResponderConfiguration: Sendable {
    public var nodeA: PostgresConnectionParameters
    public var nodeB: PostgresConnectionParameters
    /// What `served_by` and `X-Served-By` show; nil means `host:port` of the listening socket.
    public var responderName: String?
    public var workers: Int
    public var sessionName: String
    public var sessionLifetime: Int
    public var sessionTouchInterval: Int
    public var maxBodyBytes: Int
    public var dbConnectTimeout: Int
    public var dbQueryTimeout: Int
    public var dbStatementTimeout: Int
    public var requestSlowlogTimeout: Double
    public var requestTerminateTimeout: Double
    public var tombstoneTTL: Int
    /// Path of the request log; nil means standard error.
    public var logFile: String?
    /// Input limits beyond the body size (`InputLimits`).
    public var maxFormFields: Int
    public var maxFieldBytes: Int
    public var maxJSONMembers: Int
    public var maxJSONDepth: Int
    public var maxHeaderBytes: Int
    public var maxCookieBytes: Int
    public var maxCookies: Int
    public var maxSessionBytes: Int

    /// Reads the settings; throws for the first one that is missing or malformed.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        dbConnectTimeout = try reader.integer("DB_CONNECT_TIMEOUT", default: 2, range: 1...60)
        dbQueryTimeout = try reader.integer("DB_QUERY_TIMEOUT", default: 2, range: 1...300)
        dbStatementTimeout = try reader.integer("DB_STATEMENT_TIMEOUT", default: 5, range: 1...3600)
        nodeA = try reader.node(prefix: "DB1", connectTimeout: dbConnectTimeout, statementTimeout: dbStatementTimeout)
        nodeB = try reader.node(prefix: "DB2", connectTimeout: dbConnectTimeout, statementTimeout: dbStatementTimeout)
        responderName = try reader.optionalText("RESPONDER_NAME", maxLength: 128)
        workers = try reader.integer("WORKERS", default: 4, range: 1...256)
        sessionName = try reader.sessionName()
        sessionLifetime = try reader.integer("SESSION_LIFETIME", default: 1440, range: 1...31_536_000)
        sessionTouchInterval = try reader.integer("SESSION_TOUCH_INTERVAL", default: 60, range: 0...31_536_000)
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", default: 1_048_576, range: 1...1_073_741_824)
        requestSlowlogTimeout = try reader.seconds("REQUEST_SLOWLOG_TIMEOUT", default: 1)
        requestTerminateTimeout = try reader.seconds("REQUEST_TERMINATE_TIMEOUT", default: 30)
        tombstoneTTL = try reader.integer("TOMBSTONE_TTL", default: 604_800, range: 60...315_360_000)
        logFile = try reader.optionalText("LOG_FILE", maxLength: 4096)
        maxFormFields = try reader.integer("MAX_FORM_FIELDS", default: 1000, range: 1...1_000_000)
        maxFieldBytes = try reader.integer("MAX_FIELD_BYTES", default: 65536, range: 16...1_073_741_824)
        maxJSONMembers = try reader.integer("MAX_JSON_MEMBERS", default: 1000, range: 1...1_000_000)
        maxJSONDepth = try reader.integer("MAX_JSON_DEPTH", default: 32, range: 1...512)
        maxHeaderBytes = try reader.integer("MAX_HEADER_BYTES", default: 8192, range: 256...1_048_576)
        maxCookieBytes = try reader.integer("MAX_COOKIE_BYTES", default: 8192, range: 256...1_048_576)
        maxCookies = try reader.integer("MAX_COOKIES", default: 50, range: 1...10_000)
        maxSessionBytes = try reader.integer("MAX_SESSION_BYTES", default: 262_144, range: 1024...1_073_741_824)
    }
}

/// Typed reads of environment variables with one clear error each.
struct EnvironmentReader {
    let environment: [String: String]

    func required(_ key: String) throws(ConfigurationError) -> String {
        guard let value = environment[key] else { throw ConfigurationError(key: key, problem: "is not set") }
        return value
    }

    func optionalText(_ key: String, maxLength: Int) throws(ConfigurationError) -> String? {
        guard let value = environment[key], !value.isEmpty else { return nil }
        guard value.utf8.count <= maxLength, !value.contains(where: { $0.isNewline }) else {
            throw ConfigurationError(key: key, problem: "is malformed (one line of at most \(maxLength) bytes)")
        }
        return value
    }

    func integer(_ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = environment[key], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(
                key: key, problem: "is malformed (a whole number from \(range.lowerBound) to \(range.upperBound))")
        }
        return number
    }

    func seconds(_ key: String, default value: Double) throws(ConfigurationError) -> Double {
        guard let text = environment[key], !text.isEmpty else { return value }
        guard let number = Double(text), number.isFinite, number > 0, number <= 86_400 else {
            throw ConfigurationError(key: key, problem: "is malformed (seconds, more than 0)")
        }
        return number
    }

    func node(prefix: String, connectTimeout: Int, statementTimeout: Int) throws(ConfigurationError)
        -> PostgresConnectionParameters
    {
        let host = try required("\(prefix)_HOST")
        guard !host.isEmpty else { throw ConfigurationError(key: "\(prefix)_HOST", problem: "is empty") }
        let database = try required("\(prefix)_NAME")
        guard !database.isEmpty else { throw ConfigurationError(key: "\(prefix)_NAME", problem: "is empty") }
        let user = try required("\(prefix)_USER")
        guard !user.isEmpty else { throw ConfigurationError(key: "\(prefix)_USER", problem: "is empty") }
        let password = try required("\(prefix)_PASSWORD")
        let port = try integer("\(prefix)_PORT", default: 5432, range: 1...65535)
        return PostgresConnectionParameters(
            host: host, port: port, database: database, user: user, password: password,
            connectTimeout: connectTimeout, statementTimeout: statementTimeout)
    }

    func sessionName() throws(ConfigurationError) -> String {
        guard let name = environment["SESSION_NAME"], !name.isEmpty else { return "PHPSESSID" }
        let allowed = name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard allowed, name.utf8.count <= 64, !name.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ConfigurationError(key: "SESSION_NAME", problem: "is malformed (letters, digits, _ and -)")
        }
        return name
    }
}
