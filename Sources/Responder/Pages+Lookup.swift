import Mustache

// The page views answer swift-mustache's lookups by name. Without this, swift-mustache finds
// every `{{field}}` by reflection (`Mirror`), which was most of the CPU time of `GET /`.
// A nil optional field answers nil, as swift-mustache's reflection does (the lookup goes on in
// the outer contexts, none of which has a field of the same name).
// `PagesLookupTests` checks every view against `Mirror` field by field.

extension PageContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "page": page
        case "stylesheet": stylesheet
        default: nil
        }
    }
}

extension ErrorContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "message": message
        default: nil
        }
    }
}

extension IndexView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "onIndex": onIndex
        case "servedBy": servedBy
        case "visits": visits
        case "fingerprint": fingerprint
        case "sessionPools": sessionPools
        case "sessionPoolCount": sessionPoolCount
        case "nodes": nodes
        case "queuedChanges": queuedChanges
        case "oldestQueuedSeconds": oldestQueuedSeconds
        case "hasQueue": hasQueue
        case "values": values
        case "hasValues": hasValues
        case "pools": pools
        case "hasPools": hasPools
        case "poolsNote": poolsNote
        default: nil
        }
    }
}

extension IndexView.Node: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "state": state
        case "latency": latency
        case "isUp": isUp
        default: nil
        }
    }
}

extension IndexView.Value: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "value": value
        case "removable": removable
        default: nil
        }
    }
}

extension IndexView.Pool: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "address": address
        case "state": state
        case "isActive": isActive
        case "lastSeen": lastSeen
        case "lastSeenText": lastSeenText
        case "hasLastSeen": hasLastSeen
        case "isThisPool": isThisPool
        case "servedThisSession": servedThisSession
        default: nil
        }
    }
}

extension ManageContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "onManage": onManage
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
