/// The Mustache templates of the manage and error pages (the part inside `PageLayout`), and the
/// stylesheet, compiled into the binary so a copied binary is complete. The index page is
/// written with `HTMLWriter` (`IndexPage`). `{{value}}` is always escaped; no template uses
/// `{{{…}}}` or `{{&…}}`.
enum PageTemplates {
    static let all: [(String, String)] = [("manage", manage), ("item-form", itemForm), ("error", error)]

    static let manage = """
        {{#isList}}
        <h1>Items</h1>
        {{#notice}}
        <p class="notice" role="status" id="notice">{{.}}</p>
        {{/notice}}
        <div class="split">
        {{#form}}
        {{> item-form}}
        {{/form}}
        <section class="card" aria-labelledby="list-title">
        <h2 id="list-title">{{#isPaged}}Older items{{/isPaged}}{{^isPaged}}Latest items{{/isPaged}}</h2>
        {{#hasItems}}
        <table id="items" class="collapse">
        <thead><tr><th scope="col">Name</th><th scope="col">Content</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
        {{#items}}
        <tr><th scope="row" class="wrap"><a href="/manage?edit={{id}}">{{name}}</a></th>
        <td data-label="Content" class="wrap">{{#hasContent}}{{excerpt}}{{/hasContent}}{{^hasContent}}<span class="muted">empty</span>{{/hasContent}}</td>
        <td data-label="Updated"><time datetime="{{updatedAt}}">{{updatedText}}</time></td>
        <td class="actions"><a class="button secondary" href="/manage?edit={{id}}">Edit<span class="visually-hidden"> {{name}}</span></a>
        <a class="button secondary danger-text" href="/manage?confirm_delete={{id}}">Delete<span class="visually-hidden"> {{name}}</span></a></td></tr>
        {{/items}}
        </tbody>
        </table>
        {{/hasItems}}
        {{^hasItems}}
        <p class="muted" id="items">{{#isPaged}}No older items.{{/isPaged}}{{^isPaged}}No items yet: create the first one above.{{/isPaged}}</p>
        {{/hasItems}}
        {{#hasPager}}
        <nav class="pager" aria-label="Pages">{{#isPaged}}<a href="/manage">Latest items</a>{{/isPaged}}
        {{#olderPage}}<a href="{{.}}" rel="next" id="older">Older items</a>{{/olderPage}}</nav>
        {{/hasPager}}
        </section>
        </div>
        {{/isList}}
        {{#isEdit}}
        <p class="crumbs"><a href="/manage">All items</a></p>
        <h1>Edit item</h1>
        {{#form}}
        {{> item-form}}
        {{/form}}
        {{/isEdit}}
        {{#isConfirmDelete}}
        {{#target}}
        <p class="crumbs"><a href="/manage">All items</a></p>
        <h1>Delete “{{name}}”?</h1>
        <section class="card narrow" aria-labelledby="confirm-title">
        <h2 id="confirm-title">This cannot be undone</h2>
        <p>The item is removed from both nodes.</p>
        <dl class="summary">
        <div><dt>Name</dt><dd>{{name}}</dd></div>
        <div><dt>Content</dt><dd>{{#hasContent}}{{excerpt}}{{/hasContent}}{{^hasContent}}<span class="muted">empty</span>{{/hasContent}}</dd></div>
        <div><dt>Updated</dt><dd><time datetime="{{updatedAt}}">{{updatedText}}</time></dd></div>
        </dl>
        <form method="post" action="/manage" class="buttons">
        <input type="hidden" name="action" value="delete"><input type="hidden" name="id" value="{{id}}">
        <button type="submit" class="danger" id="confirm-delete">Delete “{{name}}”</button>
        <a href="/manage">Cancel</a>
        </form>
        </section>
        {{/target}}
        {{/isConfirmDelete}}
        """

    /// The create or edit form of one item; the user's input and the messages stay after a refusal.
    static let itemForm = """
        <section class="card{{^isNew}} narrow{{/isNew}}" aria-labelledby="{{headingID}}">
        <h2 id="{{headingID}}">{{#isNew}}New item{{/isNew}}{{^isNew}}Item {{id}}{{/isNew}}</h2>
        {{#hasErrors}}
        <p class="error-summary" role="alert" id="form-error">Not saved: please correct the marked field.</p>
        {{/hasErrors}}
        <form method="post" action="/manage" id="item-form">
        <input type="hidden" name="action" value="{{#isNew}}create{{/isNew}}{{^isNew}}update{{/isNew}}">
        {{^isNew}}
        <input type="hidden" name="id" value="{{id}}">
        {{/isNew}}
        <div class="field{{#nameError}} invalid{{/nameError}}"><label for="item-name">Name</label>
        <input id="item-name" name="name" value="{{name}}" required maxlength="200" autocomplete="off"{{#nameError}} aria-invalid="true" aria-describedby="item-name-error"{{/nameError}}>
        {{#nameError}}
        <p class="field-error" id="item-name-error">{{.}}</p>
        {{/nameError}}
        </div>
        <div class="field{{#contentError}} invalid{{/contentError}}"><label for="item-content">Content</label>
        <textarea id="item-content" name="content" rows="4" maxlength="10000"{{#contentError}} aria-invalid="true" aria-describedby="item-content-error"{{/contentError}}>
        {{content}}</textarea>
        {{#contentError}}
        <p class="field-error" id="item-content-error">{{.}}</p>
        {{/contentError}}
        </div>
        <div class="buttons"><button type="submit">{{#isNew}}Create item{{/isNew}}{{^isNew}}Save changes{{/isNew}}</button>
        {{^isNew}}
        <a href="/manage">Cancel</a> <a class="button secondary danger-text push" href="/manage?confirm_delete={{id}}">Delete…</a>
        {{/isNew}}
        </div>
        </form>
        </section>

        """

    static let error = """
        <h1>{{title}}</h1>
        <p class="lead">{{message}}</p>
        <p><a href="/">Back to your session</a> or <a href="/manage">the items</a>.</p>

        """

    static let stylesheet = """
        :root { --bg: #f5f6f8; --fg: #1a1d21; --muted: #59626e; --card: #fff;
                --line: #d7dce2; --accent: #1d4ed8; --on-accent: #fff; --ok: #166534; --ok-bg: #dcfce7;
                --bad: #b91c1c; --bad-bg: #fee2e2; --danger: #b91c1c; --tint: #e3eafb; --row: #f0f4fd; }
        @media (prefers-color-scheme: dark) {
          :root { --bg: #111418; --fg: #e7eaee; --muted: #9ba5b1; --card: #1a1f26; --line: #2f3742;
                  --accent: #8ab4ff; --on-accent: #0b1020; --ok: #86efac; --ok-bg: #143a20; --bad: #fca5a5;
                  --bad-bg: #4a1818; --tint: #22304d; --row: #1c2536; }
        }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg);
               color: var(--fg); min-height: 100vh; display: flex; flex-direction: column; }
        a { color: var(--accent); }
        main { flex: 1; width: 100%; max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; line-height: 1.25; overflow-wrap: anywhere; }
        h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
        h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
        code { font-size: .95em; }
        .skip { position: absolute; left: -100rem; }
        .skip:focus { left: 1rem; top: .5rem; padding: .5rem 1rem; background: var(--card); z-index: 1; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
                           white-space: nowrap; }
        .bar { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between;
               padding: .75rem max(1rem, calc((100% - 70rem) / 2)); background: var(--card);
               border-bottom: 1px solid var(--line); }
        footer.bar { border-bottom: 0; border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem;
                     margin-top: 1rem; }
        .brand { font-weight: 700; color: inherit; text-decoration: none; }
        nav { display: flex; flex-wrap: wrap; gap: 1.25rem; }
        .bar nav a { text-decoration: none; padding: .2rem 0; border-bottom: 2px solid transparent; }
        .bar nav a[aria-current=page] { color: inherit; font-weight: 600; border-bottom-color: var(--accent); }
        .grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr));
                align-items: start; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: 1rem;
                margin: 0 0 1rem; min-width: 0; }
        .column { display: grid; gap: 1rem; align-content: start; min-width: 0; }
        .grid { margin-bottom: 1rem; }
        .grid .card { margin: 0; }
        .narrow { max-width: 44rem; }
        @media (min-width: 60rem) {
          .split { display: grid; grid-template-columns: 20rem minmax(0, 1fr); gap: 1rem; align-items: start; }
        }
        .stats { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); margin: 0; }
        .stats div { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .6rem 1rem; }
        .stats dt { color: var(--muted); font-size: .85rem; }
        .stats dd { margin: 0; font-size: 1.5rem; overflow-wrap: anywhere; }
        .pool-names { margin: .75rem 0 1rem; color: var(--muted); }
        .tag { display: inline-block; padding: 0 .55rem; border-radius: 1rem; font-size: .85rem; color: var(--fg);
               background: var(--tint); }
        table { width: 100%; border-collapse: collapse; margin: 0 0 .75rem; }
        th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top;
                 overflow-wrap: break-word; }
        .wrap { overflow-wrap: anywhere; }
        td time { white-space: nowrap; }
        thead th { color: var(--muted); font-size: .85rem; font-weight: 600; }
        tbody th { font-weight: 600; }
        td.value { white-space: pre-wrap; }
        .actions { text-align: right; white-space: nowrap; }
        .actions form { display: inline; }
        tr.current { background: var(--row); }
        .state { display: inline-block; white-space: nowrap; padding: 0 .6rem; border-radius: 1rem; font-size: .9rem; font-weight: 600; }
        .state.up { background: var(--ok-bg); color: var(--ok); }
        .state.down { background: var(--bad-bg); color: var(--bad); }
        .muted, small { color: var(--muted); }
        small { font-size: .85rem; }
        .field small { display: block; }
        .field { display: flex; flex-direction: column; gap: .25rem; margin: 0 0 .75rem; min-width: 0; }
        label { font-weight: 600; }
        input, textarea { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line);
                          border-radius: .4rem; padding: .45rem .6rem; width: 100%; }
        textarea { resize: vertical; min-height: 6rem; }
        .field.invalid input, .field.invalid textarea { border: 2px solid var(--bad); }
        .field-error, .error-summary { color: var(--bad); font-weight: 600; margin: 0; }
        .error-summary { background: var(--bad-bg); padding: .5rem .75rem; border-radius: .4rem; margin-bottom: .75rem; }
        @media (min-width: 48rem) {
          form.fields { display: grid; grid-template-columns: 1fr 1fr auto; gap: 0 .75rem; align-items: start; }
          .field.submit { padding-top: 1.75rem; }
        }
        button, .button { font: inherit; display: inline-block; padding: .45rem .9rem; border: 1px solid var(--accent);
                          border-radius: .4rem; background: var(--accent); color: var(--on-accent); cursor: pointer;
                          text-decoration: none; line-height: 1.25; }
        button.secondary, .button.secondary { background: transparent; color: var(--accent); border-color: var(--line); }
        button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
        .button.danger-text { color: var(--bad); }
        .push { margin-left: auto; }
        .buttons { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: 0 0 .5rem; }
        .buttons form { margin: 0; }
        .notice { background: var(--ok-bg); color: var(--ok); border-left: 4px solid var(--ok); border-radius: .4rem;
                  padding: .5rem .9rem; font-weight: 600; }
        .pager { display: flex; gap: 1.5rem; }
        .crumbs { margin: 0; }
        .summary div { display: flex; gap: 1rem; }
        .summary dt { min-width: 6rem; color: var(--muted); }
        .summary dd { margin: 0; overflow-wrap: anywhere; }
        :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        @media (max-width: 40rem) {
          table.collapse thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
          table.collapse tr { display: block; padding: .5rem 0; border-bottom: 1px solid var(--line); }
          table.collapse th, table.collapse td { display: block; border: 0; padding: .1rem 0; text-align: left; }
          table.collapse td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
          .actions { text-align: left; padding-top: .4rem; }
        }

        """
}
