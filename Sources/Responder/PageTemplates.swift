/// Mustache templates and the stylesheet, compiled into the binary so a copied binary is complete.
enum PageTemplates {
    static let all: [(String, String)] = [("head", head), ("foot", foot), ("index", index), ("manage", manage), ("error", error)]

    static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <link rel="stylesheet" href="{{stylesheet}}">
        </head>
        <body>
        <header class="bar"><a class="brand" href="/">Session cluster</a>
        <nav><a href="/">Session</a> <a href="/manage">Items</a></nav></header>
        <main>

        """

    static let foot = """
        </main>
        <footer class="bar">Served by <strong>{{servedBy}}</strong></footer>
        </body>
        </html>

        """

    static let index = """
        {{> head}}
        <h1>Your session</h1>
        <p class="lead">Visits in this session: <strong id="visits">{{visits}}</strong>.
        This page was served by <strong id="served-by">{{servedBy}}</strong>.</p>
        <section aria-labelledby="nodes-title">
        <h2 id="nodes-title">Database nodes</h2>
        <ul class="nodes">
        {{#nodes}}<li class="node {{#up}}up{{/up}}{{^up}}down{{/up}}">Node {{name}}: {{state}} ({{latency}} ms)</li>
        {{/nodes}}
        </ul>
        </section>
        <section aria-labelledby="values-title">
        <h2 id="values-title">Session values</h2>
        {{#hasValues}}<table><thead><tr><th scope="col">Key</th><th scope="col">Value</th></tr></thead><tbody>
        {{#values}}<tr><td>{{key}}</td><td>{{value}}</td></tr>
        {{/values}}</tbody></table>{{/hasValues}}
        {{^hasValues}}<p>No values yet.</p>{{/hasValues}}
        <form method="post" action="/session" class="row">
        <label for="key">Key</label> <input id="key" name="key" required maxlength="128" pattern="[A-Za-z0-9_.\\-]+">
        <label for="value">Value</label> <input id="value" name="value">
        <button type="submit">Set value</button>
        </form>
        </section>
        <p><a href="/manage">Manage items</a></p>
        {{> foot}}
        """

    static let manage = """
        {{> head}}
        <h1>Items</h1>
        {{#hasNotice}}<p class="notice" role="status">{{notice}}</p>{{/hasNotice}}
        <form method="post" action="/manage" class="card">
        <input type="hidden" name="action" value="create">
        <label for="new-name">Name</label> <input id="new-name" name="name" required maxlength="200">
        <label for="new-content">Content</label> <textarea id="new-content" name="content" rows="3"></textarea>
        <button type="submit">Create</button>
        </form>
        {{#hasItems}}<table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Content</th>
        <th scope="col">Updated</th><th scope="col">Actions</th></tr></thead><tbody>
        {{#items}}<tr><td>{{id}}</td><td>{{name}}</td><td>{{excerpt}}</td><td><time>{{updatedAt}}</time></td>
        <td><form method="post" action="/manage" class="inline">
        <input type="hidden" name="action" value="update"><input type="hidden" name="id" value="{{id}}">
        <label for="name-{{id}}">Name</label> <input id="name-{{id}}" name="name" value="{{name}}" required maxlength="200">
        <label for="content-{{id}}">Content</label> <input id="content-{{id}}" name="content" value="{{content}}">
        <button type="submit">Save</button></form>
        <form method="post" action="/manage" class="inline">
        <input type="hidden" name="action" value="delete"><input type="hidden" name="id" value="{{id}}">
        <button type="submit" class="danger">Delete</button></form></td></tr>
        {{/items}}</tbody></table>{{/hasItems}}
        {{^hasItems}}<p>No items yet.</p>{{/hasItems}}
        {{#hasNext}}<p><a href="{{next}}">Older items</a></p>{{/hasNext}}
        {{> foot}}
        """

    static let error = """
        {{> head}}
        <h1>{{title}}</h1>
        <p>{{message}}</p>
        <p><a href="/">Back to the start</a></p>
        {{> foot}}
        """

    static let stylesheet = """
        :root { color-scheme: light dark; --accent: #2563eb; --ok: #15803d; --bad: #b91c1c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; }
        main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
        .bar { display: flex; flex-wrap: wrap; gap: 1rem; justify-content: space-between; padding: .75rem 1rem;
               background: color-mix(in srgb, var(--accent) 12%, transparent); }
        .brand { font-weight: 700; text-decoration: none; }
        nav a { margin-left: 1rem; }
        table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
        th, td { text-align: left; padding: .4rem; border-bottom: 1px solid color-mix(in srgb, currentColor 20%, transparent);
                 vertical-align: top; overflow-wrap: anywhere; }
        form.row, form.card { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 1rem 0; }
        form.inline { display: inline-flex; flex-wrap: wrap; gap: .25rem; align-items: center; margin: .1rem 0; }
        input, textarea, button { font: inherit; padding: .35rem .5rem; }
        button { cursor: pointer; border: 0; border-radius: .3rem; background: var(--accent); color: #fff; }
        button.danger { background: var(--bad); }
        .nodes { list-style: none; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
        .node { padding: .3rem .7rem; border-radius: 1rem; color: #fff; }
        .node.up { background: var(--ok); } .node.down { background: var(--bad); }
        .notice { padding: .5rem; border-left: 4px solid var(--ok); }
        :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        @media (max-width: 40rem) { th:nth-child(4), td:nth-child(4) { display: none; } }

        """
}
