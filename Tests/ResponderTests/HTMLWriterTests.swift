import Testing

@testable import Responder

/// Values written with `HTMLWriter.text` can never become markup.
@Suite struct HTMLWriterTests {
    @Test func textIsEscapedMarkupIsNot() {
        var html = HTMLWriter()
        html.markup("<p title=\"")
        html.text(#"a"b'c<d>e&f"#)
        html.markup("\">")
        html.text("<script>alert(1)</script> ünïcode")
        html.markup("</p>")
        html.text(-42)
        #expect(
            html.string
                == #"<p title="a&quot;b&#39;c&lt;d&gt;e&amp;f">&lt;script&gt;alert(1)&lt;/script&gt; ünïcode</p>-42"#)
    }

    @Test func theIndexPageEscapesEverythingItShows() {
        let hostile = #"<img src=x onerror="alert(1)">'&"#
        let view = IndexView(
            servedBy: hostile, visits: 7, fingerprint: hostile, sessionPools: [hostile],
            nodes: [IndexView.Node(name: hostile, state: hostile, latency: hostile, isUp: true)], queuedChanges: 0,
            oldestQueuedSeconds: 0,
            values: [IndexView.Value(key: "k", value: hostile, removable: true)],
            pools: [
                IndexView.Pool(
                    name: hostile, address: hostile, state: hostile, isActive: true, lastSeen: hostile,
                    isThisPool: false, servedThisSession: true)
            ], poolsNote: hostile)
        let page = String(decoding: IndexPage.render(view), as: UTF8.self)
        #expect(!page.contains("<img"))
        #expect(!page.contains(#""alert"#))
        let escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;"
        // servedBy (twice), fingerprint, the session's pool, node name, state and latency, the value,
        // the pool's five fields, the note.
        #expect(page.components(separatedBy: escaped).count - 1 == 14)
    }
}
