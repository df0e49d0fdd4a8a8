import Testing

@testable import Responder

@Suite struct ResponderConfigurationTests {
    static let password = "s3cr3t-Pa55w0rd"

    func environment(_ changes: [String: String?]) -> [String: String] {
        var environment = baseEnvironment
        environment["DB1_PASSWORD"] = Self.password
        environment["DB2_PASSWORD"] = Self.password
        for (key, value) in changes { environment[key] = value }
        return environment
    }

    func error(_ changes: [String: String?]) -> ConfigurationError? {
        do {
            _ = try ResponderConfiguration(environment: environment(changes))
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let configuration = try ResponderConfiguration(environment: baseEnvironment)
        #expect(configuration.nodeA.host == "127.0.0.1")
        #expect(configuration.nodeA.port == 5432)
        #expect(configuration.nodeA.database == "cluster_session_a")
        #expect(configuration.nodeA.user == "webuser")
        #expect(configuration.nodeA.password == "change_me")
        #expect(configuration.nodeB.port == 5432)
        #expect(configuration.nodeB.database == "cluster_session_b")
        #expect(configuration.responderName == nil)
        #expect(configuration.workers == 4)
        #expect(configuration.sessionName == "PHPSESSID")
        #expect(configuration.sessionLifetime == 1440)
        #expect(configuration.sessionTouchInterval == 60)
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.dbConnectTimeout == 2)
        #expect(configuration.dbQueryTimeout == 2)
        #expect(configuration.dbStatementTimeout == 5)
        #expect(configuration.requestSlowlogTimeout == 1)
        #expect(configuration.requestTerminateTimeout == 30)
        #expect(configuration.tombstoneTTL == 604_800)
        #expect(configuration.logFile == nil)
        #expect(configuration.nodeA.connectTimeout == 2)
        #expect(configuration.nodeA.statementTimeout == 5)
    }

    @Test func settingsAreRead() throws {
        let configuration = try ResponderConfiguration(
            environment: environment([
                "DB1_PORT": "54321", "DB2_PORT": "54322", "RESPONDER_NAME": "pool-1", "WORKERS": "8",
                "SESSION_NAME": "SID", "SESSION_LIFETIME": "60", "SESSION_TOUCH_INTERVAL": "0",
                "MAX_BODY_BYTES": "1024", "DB_CONNECT_TIMEOUT": "3", "DB_QUERY_TIMEOUT": "4",
                "DB_STATEMENT_TIMEOUT": "6", "REQUEST_SLOWLOG_TIMEOUT": "0.5", "REQUEST_TERMINATE_TIMEOUT": "10",
                "TOMBSTONE_TTL": "3600", "LOG_FILE": "/tmp/responder.log",
            ]))
        #expect(configuration.nodeA.port == 54321)
        #expect(configuration.nodeB.port == 54322)
        #expect(configuration.responderName == "pool-1")
        #expect(configuration.workers == 8)
        #expect(configuration.sessionName == "SID")
        #expect(configuration.sessionLifetime == 60)
        #expect(configuration.sessionTouchInterval == 0)
        #expect(configuration.maxBodyBytes == 1024)
        #expect(configuration.dbConnectTimeout == 3)
        #expect(configuration.nodeA.connectTimeout == 3)
        #expect(configuration.dbQueryTimeout == 4)
        #expect(configuration.dbStatementTimeout == 6)
        #expect(configuration.nodeB.statementTimeout == 6)
        #expect(configuration.requestSlowlogTimeout == 0.5)
        #expect(configuration.requestTerminateTimeout == 10)
        #expect(configuration.tombstoneTTL == 3600)
        #expect(configuration.logFile == "/tmp/responder.log")
    }

    @Test func emptyOptionalSettingsMeanTheDefault() throws {
        let configuration = try ResponderConfiguration(
            environment: environment(["WORKERS": "", "RESPONDER_NAME": "", "SESSION_NAME": "", "LOG_FILE": ""]))
        #expect(configuration.workers == 4)
        #expect(configuration.responderName == nil)
        #expect(configuration.sessionName == "PHPSESSID")
        #expect(configuration.logFile == nil)
    }

    @Test(arguments: [
        "DB1_HOST", "DB1_NAME", "DB1_USER", "DB1_PASSWORD", "DB2_HOST", "DB2_NAME", "DB2_USER", "DB2_PASSWORD",
    ])
    func missingRequiredSettingIsNamed(_ key: String) {
        let error = error([key: nil])
        #expect(error?.key == key)
        #expect(error?.description.contains(key) == true)
        #expect(error?.description.contains(Self.password) == false)
    }

    @Test(arguments: ["DB1_HOST", "DB1_NAME", "DB1_USER", "DB2_HOST", "DB2_NAME", "DB2_USER"])
    func emptyRequiredSettingIsNamed(_ key: String) {
        #expect(error([key: ""])?.key == key)
    }

    @Test func anEmptyPasswordIsAllowed() throws {
        let configuration = try ResponderConfiguration(environment: environment(["DB1_PASSWORD": ""]))
        #expect(configuration.nodeA.password == "")
    }

    @Test(arguments: [
        ("WORKERS", "0"), ("WORKERS", "257"), ("WORKERS", "four"), ("WORKERS", "-1"), ("WORKERS", "4.5"),
        ("DB1_PORT", "abc"), ("DB1_PORT", "0"), ("DB1_PORT", "65536"), ("DB2_PORT", " 5432"), ("DB2_PORT", "5432x"),
        ("SESSION_LIFETIME", "0"), ("SESSION_TOUCH_INTERVAL", "-1"), ("MAX_BODY_BYTES", "0"),
        ("MAX_BODY_BYTES", "1e6"), ("DB_CONNECT_TIMEOUT", "0"), ("DB_QUERY_TIMEOUT", "x"),
        ("DB_STATEMENT_TIMEOUT", "99999"), ("REQUEST_SLOWLOG_TIMEOUT", "0"), ("REQUEST_SLOWLOG_TIMEOUT", "nan"),
        ("REQUEST_SLOWLOG_TIMEOUT", "inf"), ("REQUEST_TERMINATE_TIMEOUT", "-5"), ("TOMBSTONE_TTL", "59"),
        ("SESSION_NAME", "bad name"), ("SESSION_NAME", "12345"), ("SESSION_NAME", "a;b"),
        ("RESPONDER_NAME", "two\nlines"), ("RESPONDER_NAME", String(repeating: "x", count: 129)),
    ])
    func malformedSettingIsNamed(_ key: String, _ value: String) {
        let error = error([key: value])
        #expect(error?.key == key, "\(key)=\(value)")
        #expect(error?.description.contains(key) == true)
        #expect(error?.description.contains(Self.password) == false)
    }

    @Test func theMessageNeverShowsAnyValue() {
        // A malformed port whose text is the password: still only the name shows.
        let error = error(["DB1_PORT": Self.password])
        #expect(error?.key == "DB1_PORT")
        #expect(error?.description.contains(Self.password) == false)
        #expect(error?.description.hasPrefix("configuration: DB1_PORT ") == true)
    }

    @Test func theMessageIsOneLine() {
        for key in ["DB1_HOST", "WORKERS"] {
            let error = error([key: key == "WORKERS" ? "0" : nil])
            #expect(error?.description.contains("\n") == false)
        }
    }
}
