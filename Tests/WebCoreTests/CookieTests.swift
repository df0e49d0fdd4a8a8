import Testing
import WebCore

@Suite struct CookieTests {
    func pairs(_ header: String) -> [String] {
        Cookies.parse(header).map { "\($0.name)=\($0.value)" }
    }

    @Test func pairsParseInOrder() {
        #expect(pairs("a=1; b=2;c=3") == ["a=1", "b=2", "c=3"])
    }

    /// Found by fuzzing: a `;` or `=` followed by a combining mark is one Swift `Character`.
    @Test func separatorsAreBytesNotCharacters() {
        #expect(pairs("a=1;\u{301}b=2") == ["a=1", "\u{301}b=2"])
        #expect(pairs("PHPSESSID=\u{301}abc") == ["PHPSESSID=\u{301}abc"])
    }

    @Test func spacesAndTabsAroundNamesAndValuesAreTrimmed() {
        #expect(pairs("  a = 1 ;\tb=\t2\t") == ["a=1", "b=2"])
    }

    @Test func quotedValuesLoseTheirQuotes() {
        #expect(pairs(#"a="hello world"; b=""; c=""#) == ["a=hello world", "b=", #"c=""#])
        #expect(pairs(#"d="x"#) == [#"d="x"#])
    }

    @Test func valuesMayHoldEqualsSigns() {
        #expect(pairs("token=a=b==") == ["token=a=b=="])
    }

    @Test func malformedPairsAreSkipped() {
        #expect(pairs("novalue; =x; a=1; ; ;=;b=2") == ["a=1", "b=2"])
        #expect(pairs("") == [])
    }

    @Test func firstOccurrenceWins() {
        #expect(Cookies.value(named: "PHPSESSID", in: "PHPSESSID=first; other=x; PHPSESSID=second") == "first")
    }

    @Test func lookupIsExactAndCaseSensitive() {
        #expect(Cookies.value(named: "PHPSESSID", in: "phpsessid=x; PHPSESSIDX=y") == nil)
        #expect(Cookies.value(named: "PHPSESSID", in: nil) == nil)
        #expect(Cookies.value(named: "a", in: "a=") == "")
    }

    @Test func atMost64CookiesAreRead() {
        let header = (0..<100).map { "c\($0)=\($0)" }.joined(separator: "; ")
        #expect(Cookies.parse(header).count == 64)
        #expect(Cookies.parse(header, maxCookies: 2).map(\.name) == ["c0", "c1"])
    }

    @Test func sessionCookieHasPathHttpOnlyAndSameSite() {
        #expect(
            Cookies.setCookie(name: "PHPSESSID", value: "abc", secure: false)
                == "PHPSESSID=abc; Path=/; HttpOnly; SameSite=Lax")
    }

    @Test func secureFlagIsAddedForHTTPS() {
        #expect(
            Cookies.setCookie(name: "PHPSESSID", value: "abc", secure: true)
                == "PHPSESSID=abc; Path=/; HttpOnly; SameSite=Lax; Secure")
    }

    @Test func expiringSendsMaxAgeZero() {
        let text = Cookies.setCookie(name: "PHPSESSID", value: "deleted", secure: false, maxAge: 0)
        #expect(text == "PHPSESSID=deleted; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }

    @Test func pathCanBeNarrowed() {
        #expect(Cookies.setCookie(name: "n", value: "v", secure: false, path: "/manage").contains("; Path=/manage;"))
    }
}
