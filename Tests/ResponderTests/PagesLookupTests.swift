import Cluster
import Mustache
import Testing

@testable import Responder

/// The hand-written `child(named:)` of every page view must answer exactly what reflection
/// (swift-mustache's fallback) would: same names, same values, nothing else.
@Suite struct PagesLookupTests {
    static func expectMatchesReflection(_ view: some MustacheParent, sourceLocation: SourceLocation = #_sourceLocation) {
        let fields = Mirror(reflecting: view).children.compactMap { child in child.label.map { ($0, child.value) } }
        #expect(!fields.isEmpty, sourceLocation: sourceLocation)
        for (label, value) in fields {
            let answered = view.child(named: label)
            // Reflection answers an optional field by what it holds, and nil when it is empty.
            let mirror = Mirror(reflecting: value)
            let expected: Any? = mirror.displayStyle == .optional ? mirror.children.first?.value : value
            #expect((answered == nil) == (expected == nil), "\(type(of: view)).\(label)", sourceLocation: sourceLocation)
            #expect(
                answered.map { String(describing: $0) } == expected.map { String(describing: $0) },
                "\(type(of: view)).\(label) differs from reflection", sourceLocation: sourceLocation)
        }
        #expect(view.child(named: "noSuchField") == nil, sourceLocation: sourceLocation)
    }

    static let item = Item(id: 7, name: "Seven <b>", content: "text", updatedAt: "2026-11-26T19:00:00Z")

    @Test func errorContext() {
        Self.expectMatchesReflection(ErrorContext(title: "404 Not Found", message: "No such page."))
    }

    @Test(arguments: [ManageView.Mode.list, .edit, .confirmDelete])
    func manageContextAndItsParts(mode: ManageView.Mode) {
        let views = [
            ManageView(mode: mode, items: [Self.item], olderPage: "/manage?before=7", isPaged: true, notice: .created,
                form: ItemForm(id: 7, name: "x", content: "", nameError: "too long", contentError: nil),
                target: Self.item),
            ManageView(mode: mode),
        ]
        for view in views {
            let context = ManageContext(view, servedBy: "pool-2")
            Self.expectMatchesReflection(context)
            Self.expectMatchesReflection(context.form)
            for row in context.items { Self.expectMatchesReflection(row) }
            if let target = context.target { Self.expectMatchesReflection(target) }
        }
    }
}
