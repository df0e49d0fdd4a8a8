import Foundation
import Testing
import WebCore

@testable import Responder

/// Keys PHP reads as integers: once a trap in `PHPSessionData`'s subscript, now a 422.
@Suite struct NumericSessionKeyTests {
    @Test(arguments: ["-5", "-1", "-9223372036854775808", "123", "0"])
    func integerKeysAreRefused(_ key: String) {
        #expect(throws: HTTPError.self) { try SessionKey.validate(key) }
    }

    @Test(arguments: ["-0", "-01", "1-", "-9223372036854775809", "--1"])
    func keysPHPKeepsAsStringsAreAllowed(_ key: String) {
        #expect(throws: Never.self) { try SessionKey.validate(key) }
    }

    /// Runs in a child process, so a regression to the trap fails this test instead of ending the run.
    @Test func aNegativeIntegerKeyIs422AndDoesNotStopTheProcess() async {
        await #expect(processExitsWith: .success) {
            let harness = try Harness()
            let form = harness.form("/session", "key=-5&value=x")
            let json = harness.json("/session", #"{"ok":"1","-1":"x"}"#)
            guard form.status == 422, json.status == 422, harness.sessions.rows.isEmpty else { exit(2) }
        }
    }
}
