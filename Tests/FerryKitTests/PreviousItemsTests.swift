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

    /// The delta sink's UID index names items by place: a place taken by its key is gone from the index's view
    /// too, and one taken by its place is gone from its key's candidates.
    @Test func placesAndKeysTakeTheSameItems() {
        var items = PreviousItems(hash: { _ in 7 })
        for n in 0..<5 { items.add(Self.item(Int64(n) * 10), key: "k\(n)") }
        var places: [PreviousItems.Place] = []
        items.forEachLeft { place, item in places.append(place) }
        #expect(places.count == 5)
        items.remove(Self.item(20), key: "k2")
        #expect(items.item(at: places[2]) == nil)
        #expect(items.item(at: places[3])?.line.offset == 30)
        items.remove(at: places[3])
        items.remove(at: places[3])  // twice: nothing more
        #expect(!items.candidates("k3").contains { $0.line.offset == 30 })
        var left: [Int64] = []
        items.forEachLeft { _, item in left.append(item.line.offset) }
        #expect(left == [0, 10, 40])
        #expect(items.all.map(\.line.offset) == [0, 10, 40])
        for place in places { items.remove(at: place) }
        #expect(items.isEmpty)
    }
}
