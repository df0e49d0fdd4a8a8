import Cluster

/// The manage page (the list with its create form, one item's edit form, or the confirmation of
/// a delete) and the error page, written with `HTMLWriter` inside `PageLayout`.
enum ManagePage {
    static func title(_ view: ManageView) -> String {
        switch view.mode {
        case .list: "Items"
        case .edit: "Edit \(view.form.name.isEmpty ? "item" : view.form.name)"
        case .confirmDelete: "Delete \(view.target?.name ?? "item")?"
        }
    }

    static func render(_ view: ManageView, servedBy: String) -> [UInt8] {
        var html = HTMLWriter()
        PageLayout.head(&html, title: title(view), section: .manage)
        switch view.mode {
        case .list: list(&html, view)
        case .edit:
            html.markup("<p class=\"crumbs\"><a href=\"/manage\">All items</a></p>\n<h1>Edit item</h1>\n")
            form(&html, view.form)
        case .confirmDelete:
            if let target = view.target { confirmDelete(&html, target) }
        }
        PageLayout.foot(&html, servedBy: servedBy)
        return html.bytes
    }

    private static func list(_ html: inout HTMLWriter, _ view: ManageView) {
        html.markup("<h1>Items</h1>\n")
        if let notice = view.notice {
            html.markup("<p class=\"notice\" role=\"status\" id=\"notice\">")
            html.text(notice.message)
            html.markup("</p>\n")
        }
        html.markup("<div class=\"split\">\n")
        form(&html, view.form)
        html.markup("<section class=\"card\" aria-labelledby=\"list-title\">\n<h2 id=\"list-title\">")
        html.markup(view.isPaged ? "Older items" : "Latest items")
        html.markup("</h2>\n")
        if view.items.isEmpty {
            html.markup("<p class=\"muted\" id=\"items\">")
            html.markup(view.isPaged ? "No older items." : "No items yet: create the first one above.")
            html.markup("</p>\n")
        } else {
            html.markup(
                """
                <table id="items" class="collapse">
                <thead><tr><th scope="col">Name</th><th scope="col">Content</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                <tbody>

                """)
            for item in view.items { row(&html, item) }
            html.markup("</tbody>\n</table>\n")
        }
        if view.isPaged || view.olderPage != nil {
            html.markup("<nav class=\"pager\" aria-label=\"Pages\">")
            html.markup("<a href=\"/manage\">Latest items</a>", if: view.isPaged)
            html.markup("\n")
            if let older = view.olderPage {
                html.markup("<a href=\"")
                html.text(older)
                html.markup("\" rel=\"next\" id=\"older\">Older items</a>")
            }
            html.markup("</nav>\n")
        }
        html.markup("</section>\n</div>\n")
    }

    private static func row(_ html: inout HTMLWriter, _ item: Item) {
        html.markup("<tr><th scope=\"row\" class=\"wrap\"><a href=\"/manage?edit=")
        html.text(item.id)
        html.markup("\">")
        html.text(item.name)
        html.markup("</a></th>\n<td data-label=\"Content\" class=\"wrap\">")
        excerpt(&html, item)
        html.markup("</td>\n<td data-label=\"Updated\">")
        time(&html, item)
        html.markup("</td>\n<td class=\"actions\"><a class=\"button secondary\" href=\"/manage?edit=")
        html.text(item.id)
        html.markup("\">Edit<span class=\"visually-hidden\"> ")
        html.text(item.name)
        html.markup("</span></a>\n<a class=\"button secondary danger-text\" href=\"/manage?confirm_delete=")
        html.text(item.id)
        html.markup("\">Delete<span class=\"visually-hidden\"> ")
        html.text(item.name)
        html.markup("</span></a></td></tr>\n")
    }

    /// The content's first line, or "empty".
    private static func excerpt(_ html: inout HTMLWriter, _ item: Item) {
        if item.content.isEmpty {
            html.markup("<span class=\"muted\">empty</span>")
        } else {
            html.text(Pages.excerpt(item.content))
        }
    }

    private static func time(_ html: inout HTMLWriter, _ item: Item) {
        html.markup("<time datetime=\"")
        html.text(item.updatedAt)
        html.markup("\">")
        html.text(Pages.readableTime(item.updatedAt))
        html.markup("</time>")
    }

    /// The create or edit form of one item; the user's input and the messages stay after a refusal.
    private static func form(_ html: inout HTMLWriter, _ form: ItemForm) {
        let isNew = form.id == nil
        html.markup("<section class=\"card")
        html.markup(" narrow", if: !isNew)
        html.markup(
            isNew
                ? "\" aria-labelledby=\"create-title\">\n<h2 id=\"create-title\">"
                : "\" aria-labelledby=\"edit-title\">\n<h2 id=\"edit-title\">")
        if let id = form.id {
            html.markup("Item ")
            html.text(id)
        } else {
            html.markup("New item")
        }
        html.markup("</h2>\n")
        html.markup(
            "<p class=\"error-summary\" role=\"alert\" id=\"form-error\">Not saved: please correct the marked field.</p>\n",
            if: form.hasErrors)
        html.markup(
            "<form method=\"post\" action=\"/manage\" id=\"item-form\">\n<input type=\"hidden\" name=\"action\" value=\""
        )
        html.markup(isNew ? "create" : "update")
        html.markup("\">\n")
        if let id = form.id {
            html.markup("<input type=\"hidden\" name=\"id\" value=\"")
            html.text(id)
            html.markup("\">\n")
        }
        html.markup("<div class=\"field")
        html.markup(" invalid", if: form.nameError != nil)
        html.markup("\"><label for=\"item-name\">Name</label>\n<input id=\"item-name\" name=\"name\" value=\"")
        html.text(form.name)
        html.markup("\" required maxlength=\"200\" autocomplete=\"off\"")
        html.markup(" aria-invalid=\"true\" aria-describedby=\"item-name-error\"", if: form.nameError != nil)
        html.markup(">\n")
        fieldError(&html, form.nameError, id: "item-name-error")
        html.markup("</div>\n<div class=\"field")
        html.markup(" invalid", if: form.contentError != nil)
        html.markup(
            "\"><label for=\"item-content\">Content</label>\n<textarea id=\"item-content\" name=\"content\" rows=\"4\" maxlength=\"10000\""
        )
        html.markup(" aria-invalid=\"true\" aria-describedby=\"item-content-error\"", if: form.contentError != nil)
        // HTML drops a newline right after `<textarea>`, so content that starts with one keeps it.
        html.markup(">\n")
        html.text(form.content)
        html.markup("</textarea>\n")
        fieldError(&html, form.contentError, id: "item-content-error")
        html.markup("</div>\n<div class=\"buttons\"><button type=\"submit\">")
        html.markup(isNew ? "Create item" : "Save changes")
        html.markup("</button>\n")
        if let id = form.id {
            html.markup(
                "<a href=\"/manage\">Cancel</a> <a class=\"button secondary danger-text push\" href=\"/manage?confirm_delete="
            )
            html.text(id)
            html.markup("\">Delete…</a>\n")
        }
        html.markup("</div>\n</form>\n</section>\n")
    }

    /// A field's message after a refusal, if it has one.
    private static func fieldError(_ html: inout HTMLWriter, _ error: String?, id: StaticString) {
        guard let error else { return }
        html.markup("<p class=\"field-error\" id=\"")
        html.markup(id)
        html.markup("\">")
        html.text(error)
        html.markup("</p>\n")
    }

    private static func confirmDelete(_ html: inout HTMLWriter, _ item: Item) {
        html.markup("<p class=\"crumbs\"><a href=\"/manage\">All items</a></p>\n<h1>Delete “")
        html.text(item.name)
        html.markup(
            """
            ”?</h1>
            <section class="card narrow" aria-labelledby="confirm-title">
            <h2 id="confirm-title">This cannot be undone</h2>
            <p>The item is removed from both nodes.</p>
            <dl class="summary">
            <div><dt>Name</dt><dd>
            """)
        html.text(item.name)
        html.markup("</dd></div>\n<div><dt>Content</dt><dd>")
        excerpt(&html, item)
        html.markup("</dd></div>\n<div><dt>Updated</dt><dd>")
        time(&html, item)
        html.markup(
            """
            </dd></div>
            </dl>
            <form method="post" action="/manage" class="buttons">
            <input type="hidden" name="action" value="delete"><input type="hidden" name="id" value="
            """)
        html.text(item.id)
        html.markup("\">\n<button type=\"submit\" class=\"danger\" id=\"confirm-delete\">Delete “")
        html.text(item.name)
        html.markup("”</button>\n<a href=\"/manage\">Cancel</a>\n</form>\n</section>\n")
    }
}

/// A small HTML error page.
enum ErrorPage {
    static func render(title: String, message: String) -> [UInt8] {
        var html = HTMLWriter(capacity: 2048)
        PageLayout.head(&html, title: title, section: .other)
        html.markup("<h1>")
        html.text(title)
        html.markup("</h1>\n<p class=\"lead\">")
        html.text(message)
        html.markup(
            """
            </p>
            <p><a href="/">Back to your session</a> or <a href="/manage">the items</a>.</p>

            """)
        PageLayout.foot(&html, servedBy: nil)
        return html.bytes
    }
}
