/// The layout every page shares, and the index page, written with `HTMLWriter`.
///
/// The index page is `GET /`, the hot path: rendered by swift-mustache it cost 0.5 ms of CPU per
/// request (the lookups by name through `Any` and protocol casts), 40 % of the pools' CPU. The
/// manage and error pages (`ManagePage`, `ErrorPage`) share this layout.
enum PageLayout {
    enum Section { case index, manage, other }

    static func head(_ html: inout HTMLWriter, title: String, section: Section) {
        html.markup(
            """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>
            """)
        html.text(title)
        html.markup(
            """
             · Session cluster</title>
            <link rel="icon" href="data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20viewBox='0%200%2032%2032'%3E%3Crect%20width='32'%20height='32'%20rx='7'%20fill='%231d4ed8'/%3E%3Ccircle%20cx='11'%20cy='16'%20r='5'%20fill='%23fff'/%3E%3Ccircle%20cx='21'%20cy='16'%20r='5'%20fill='%23fff'%20fill-opacity='.65'/%3E%3C/svg%3E">
            <link rel="stylesheet" href="
            """)
        html.text(Pages.stylesheetPath)
        html.markup(
            """
            ">
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="bar"><a class="brand" href="/">Session cluster</a>
            <nav aria-label="Main"><a href="/"
            """)
        html.markup(" aria-current=\"page\"", if: section == .index)
        html.markup(">Session</a>\n<a href=\"/manage\"")
        html.markup(" aria-current=\"page\"", if: section == .manage)
        html.markup(">Items</a></nav></header>\n<main id=\"main\">\n")
    }

    static func foot(_ html: inout HTMLWriter, servedBy: String?) {
        html.markup("</main>\n<footer class=\"bar\">")
        if let servedBy, !servedBy.isEmpty {
            html.markup("<span>Served by <strong>")
            html.text(servedBy)
            html.markup("</strong></span>")
        }
        html.markup("\n<span>Sessions and items on two PostgreSQL nodes</span></footer>\n</body>\n</html>\n")
    }
}

enum IndexPage {
    /// The page's UTF-8 bytes (valid by construction: literals, and values escaped byte by byte).
    static func render(_ view: IndexView) -> [UInt8] {
        var html = HTMLWriter()
        PageLayout.head(&html, title: view.title, section: .index)
        html.markup(
            """
            <h1>Your session</h1>
            <dl class="stats">
            <div><dt>Visits</dt><dd><strong id="visits">
            """)
        html.text(view.visits)
        html.markup("</strong></dd></div>\n<div><dt>This request was served by</dt><dd><strong id=\"served-by\">")
        html.text(view.servedBy)
        html.markup("</strong></dd></div>\n<div><dt>Pools that served this session</dt><dd><strong id=\"pool-count\">")
        html.text(view.sessionPools.count)
        html.markup(
            "</strong></dd></div>\n</dl>\n<p class=\"pool-names\">Seen by this session: <span id=\"session-pools\">")
        for pool in view.sessionPools {
            html.markup("<span class=\"tag\">")
            html.text(pool)
            html.markup("</span> ")
        }
        html.markup(
            """
            </span></p>
            <div class="grid">
            <div class="column">
            <section class="card" aria-labelledby="values-title">
            <h2 id="values-title">Session values</h2>

            """)
        values(&html, view)
        html.markup(
            """
            <h3>Add or change a value</h3>
            <form method="post" action="/session" class="fields" id="set-value">
            <div class="field"><label for="key">Key</label>
            <input id="key" name="key" required maxlength="128" pattern="[A-Za-z0-9_.\\-]+" autocomplete="off" list="known-keys" aria-describedby="key-hint">
            <small id="key-hint">Letters, digits, <code>_</code> <code>.</code> <code>-</code>. An existing key is replaced.</small></div>
            <div class="field"><label for="value">Value</label>
            <input id="value" name="value" autocomplete="off"></div>
            <div class="field submit"><button type="submit">Save value</button></div>
            </form>
            <datalist id="known-keys">
            """)
        for value in view.values where value.removable {
            html.markup("<option value=\"")
            html.text(value.key)
            html.markup("\"></option>")
        }
        html.markup(
            """
            </datalist>
            </section>
            </div>
            <div class="column">
            <section class="card" aria-labelledby="nodes-title">
            <h2 id="nodes-title">Database nodes</h2>
            <table id="nodes">
            <thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Latency</th></tr></thead>
            <tbody>

            """)
        for node in view.nodes {
            html.markup("<tr><th scope=\"row\">Node ")
            html.text(node.name)
            html.markup("</th><td>")
            stateBadge(&html, up: node.isUp, node.state)
            html.markup("</td><td>")
            if node.isUp {
                html.text(node.latency)
                html.markup(" ms")
            } else {
                html.markup("<span class=\"muted\">not reached</span>")
            }
            html.markup("</td></tr>\n")
        }
        html.markup("</tbody>\n</table>\n<p id=\"queued\">Changes queued for a node that was away: <strong>")
        html.text(view.queuedChanges)
        html.markup("</strong>")
        if view.queuedChanges > 0 {
            html.markup(", the oldest ")
            html.text(view.oldestQueuedSeconds)
            html.markup(" s old")
        }
        html.markup(
            """
            .</p>
            </section>
            <section class="card" aria-labelledby="session-title">
            <h2 id="session-title">Session id</h2>
            <p>Fingerprint: <code id="fingerprint">
            """)
        html.text(view.fingerprint)
        html.markup(
            """
            </code>. It is a hash of the id, which stays in an HttpOnly cookie.</p>
            <div class="buttons">
            <form method="post" action="/session/regenerate"><button type="submit" id="regenerate">New session id</button></form>
            <form method="post" action="/session"><input type="hidden" name="action" value="destroy"><button type="submit" class="danger" id="destroy">End session</button></form>
            </div>
            <p class="muted">A new id keeps the values; ending the session removes it from both nodes.</p>
            </section>
            </div>
            </div>
            <section class="card" aria-labelledby="pools-title">
            <h2 id="pools-title">Responder pools</h2>

            """)
        pools(&html, view)
        html.markup("</section>\n")
        PageLayout.foot(&html, servedBy: view.servedBy)
        return html.bytes
    }

    /// `<span class="state up">text</span>` (or `down`).
    private static func stateBadge(_ html: inout HTMLWriter, up: Bool, _ text: String) {
        html.markup(up ? "<span class=\"state up\">" : "<span class=\"state down\">")
        html.text(text)
        html.markup("</span>")
    }

    private static func values(_ html: inout HTMLWriter, _ view: IndexView) {
        guard !view.values.isEmpty else {
            html.markup("<p class=\"muted\" id=\"values\">No values yet: add one below.</p>\n")
            return
        }
        html.markup(
            """
            <table id="values">
            <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
            <tbody>

            """)
        for value in view.values {
            html.markup("<tr><th scope=\"row\" class=\"wrap\"><code>")
            html.text(value.key)
            html.markup("</code></th><td class=\"value wrap\">")
            html.text(value.value)
            html.markup("</td>\n<td class=\"actions\">")
            if value.removable {
                html.markup(
                    "<form method=\"post\" action=\"/session\"><input type=\"hidden\" name=\"action\" value=\"remove\"><input type=\"hidden\" name=\"key\" value=\""
                )
                html.text(value.key)
                html.markup("\"><button type=\"submit\" class=\"secondary\" aria-label=\"Remove ")
                html.text(value.key)
                html.markup("\">Remove</button></form>")
            }
            html.markup("</td></tr>\n")
        }
        html.markup("</tbody>\n</table>\n")
    }

    private static func pools(_ html: inout HTMLWriter, _ view: IndexView) {
        if !view.pools.isEmpty {
            html.markup(
                """
                <table id="pools" class="collapse">
                <thead><tr><th scope="col">Pool</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Last seen</th><th scope="col">This session</th></tr></thead>
                <tbody>

                """)
            for pool in view.pools {
                html.markup("<tr")
                html.markup(" class=\"current\"", if: pool.isThisPool)
                html.markup("><th scope=\"row\" class=\"wrap\">")
                html.text(pool.name)
                html.markup(" <small>(this page)</small>", if: pool.isThisPool)
                html.markup("</th><td data-label=\"Address\">")
                html.text(pool.address)
                html.markup("</td><td data-label=\"State\">")
                stateBadge(&html, up: pool.isActive, pool.state)
                html.markup("</td><td data-label=\"Last seen\">")
                if !pool.lastSeen.isEmpty {
                    html.markup("<time datetime=\"")
                    html.text(pool.lastSeen)
                    html.markup("\">")
                    html.text(Pages.readableTime(pool.lastSeen))
                    html.markup("</time>")
                }
                html.markup("</td><td data-label=\"This session\">")
                html.markup(pool.servedThisSession ? "served it" : "<span class=\"muted\">not yet</span>")
                html.markup("</td></tr>\n")
            }
            html.markup("</tbody>\n</table>\n")
        }
        if let note = view.poolsNote {
            html.markup("<p class=\"muted\">")
            html.text(note)
            html.markup("</p>\n")
        }
    }
}
