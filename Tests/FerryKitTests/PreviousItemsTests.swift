@testable import FerryArchive
import MailModel
import Testing

@testable import FerryKit

/// A delta export's previous items are held by the hash of their source key; what a hash finds is only a
/// candidate. With a hash under which every key collides, each item is still found, taken out alone, and what is
/// left comes out in manifest order.
@Suite struct PreviousItemsTests {
    static func item(_ offset: Int64, size: Int64 = 10) -> PreviousState.Item {
        PreviousState.Item(kind: .message, size: size, container: 0, uid: 0, line: ManifestLineRef(offset: offset, length: 5))
    }

    @Test func collidingKeysStayApartAndTheRestComesOutInManifestOrder() {
        var items = PreviousItems(hash: { _ in 7 })
        items.add(Self.item(300), key: "maildir:c")
        items.add(Self.item(100), key: "maildir:a")
        items.add(Self.item(200), key: "maildir:b")
        #expect(items.candidates("maildir:a").map(\.line.offset) == [300, 100, 200])
        #expect(items.candidates("anything").count == 3)
        items.remove(Self.item(100), key: "maildir:a")
        #expect(items.all.map(\.line.offset) == [200, 300])
        items.remove(Self.item(100), key: "maildir:a")  // gone already: nothing changes
        #expect(items.all.map(\.line.offset) == [200, 300])
        items.remove(Self.item(300), key: "maildir:c")
        items.remove(Self.item(200), key: "maildir:b")
        #expect(items.isEmpty)
    }

    @Test func withTheProcessHashEachKeyFindsItsOwnItems() {
        var items = PreviousItems()
        for n in 0..<1000 { items.add(Self.item(Int64(n) * 10), key: "maildir:\(n)") }
        items.add(Self.item(99_999), key: "maildir:5")  // a repeated key keeps both
        #expect(items.candidates("maildir:5").map(\.line.offset) == [50, 99_999])
        #expect(items.candidates("maildir:1000").isEmpty)
        #expect(items.all.count == 1001)
        #expect(items.all.map(\.line.offset) == items.all.map(\.line.offset).sorted())
    }
}
