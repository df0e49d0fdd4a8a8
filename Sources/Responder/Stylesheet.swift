/// The pages' stylesheet, compiled into the binary so that a copied binary is complete; served
/// at `Pages.stylesheetPath` with an ETag.
enum Stylesheet {
    static let text = """
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
