/// Where and how to connect; passed to `PQconnectdbParams` key by key, never as one string.
public struct PostgresConnectionParameters: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    public var password: String
    /// Seconds allowed for the whole connection set-up.
    public var connectTimeout: Int
    /// Server-side `statement_timeout`, seconds.
    public var statementTimeout: Int
    /// Shown in `pg_stat_activity`.
    public var applicationName: String

    public init(
        host: String, port: Int = 5432, database: String, user: String, password: String,
        connectTimeout: Int = 2, statementTimeout: Int = 5, applicationName: String = "responder"
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.applicationName = applicationName
    }
}
