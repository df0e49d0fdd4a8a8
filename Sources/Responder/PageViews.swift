import Cluster

/// What the pages show, as plain values: the page writers escape every field.

/// One session value as the index page shows it.
struct DisplayValue {
    let key: String
    let value: String
}

/// What the index page shows. Every field is plain text: `IndexPage` escapes it.
struct IndexView {
    /// One database node.
    struct Node {
        let name: String
        let state: String
        let latency: String
        let isUp: Bool
    }

    /// One session value; `removable` when the route accepts its key.
    struct Value {
        let key: String
        let value: String
        let removable: Bool
    }

    /// One responder pool, from the `servers` table or this process alone.
    struct Pool {
        let name: String
        let address: String
        let state: String
        let isActive: Bool
        /// ISO 8601, or empty when unknown.
        let lastSeen: String
        /// The pool that rendered this page.
        let isThisPool: Bool
        /// Named in the session's `served_by_pools`.
        let servedThisSession: Bool
    }

    let title = "Your session"
    let servedBy: String
    let visits: Int64
    /// A short, non-reversible tag of the session id: it changes when the id does.
    let fingerprint: String
    let sessionPools: [String]
    let nodes: [Node]
    let queuedChanges: Int
    let oldestQueuedSeconds: Int
    let values: [Value]
    let pools: [Pool]
    /// Why the list of pools is short or missing, when it is.
    let poolsNote: String?
}

/// The form of one item, as typed: kept with its messages when the server refused it.
struct ItemForm {
    /// nil for a new item.
    let id: Int64?
    let name: String
    let content: String
    let nameError: String?
    let contentError: String?

    init(
        id: Int64? = nil, name: String = "", content: String = "", nameError: String? = nil,
        contentError: String? = nil
    ) {
        self.id = id
        self.name = name
        self.content = content
        self.nameError = nameError
        self.contentError = contentError
    }

    init(_ item: Item) { self.init(id: item.id, name: item.name, content: item.content) }

    var hasErrors: Bool { nameError != nil || contentError != nil }
}

/// What the manage page shows: the list with its create form, one item's edit form, or the
/// confirmation of a delete.
struct ManageView {
    enum Mode { case list, edit, confirmDelete }

    var mode: Mode = .list
    var items: [Item] = []
    /// `/manage?before=ID` of the next (older) page.
    var olderPage: String?
    /// True when this is not the first page.
    var isPaged = false
    var notice: ManageNotice?
    var form = ItemForm()
    /// The item a delete asks about.
    var target: Item?
}
