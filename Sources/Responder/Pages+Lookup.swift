import Mustache

// The manage and error pages' views answer swift-mustache's lookups by name. Without this,
// swift-mustache finds every `{{field}}` by reflection (`Mirror`), which is slower still.
// A nil optional field answers nil, as swift-mustache's reflection does (the lookup goes on in
// the outer contexts, none of which has a field of the same name).
// `PagesLookupTests` checks every view against `Mirror` field by field.

extension ErrorContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "message": message
        default: nil
        }
    }
}

extension ManageContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "servedBy": servedBy
        case "notice": notice
        case "isList": isList
        case "isEdit": isEdit
        case "isConfirmDelete": isConfirmDelete
        case "form": form
        case "items": items
        case "hasItems": hasItems
        case "olderPage": olderPage
        case "isPaged": isPaged
        case "hasPager": hasPager
        case "target": target
        default: nil
        }
    }
}

extension ManageContext.Row: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "name": self.name
        case "excerpt": excerpt
        case "hasContent": hasContent
        case "updatedAt": updatedAt
        case "updatedText": updatedText
        default: nil
        }
    }
}

extension ManageContext.Form: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "isNew": isNew
        case "id": id
        case "name": self.name
        case "content": content
        case "nameError": nameError
        case "contentError": contentError
        case "hasErrors": hasErrors
        case "headingID": headingID
        default: nil
        }
    }
}
