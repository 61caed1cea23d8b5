import MailModel
import Testing

/// Placements kept on disk come back exactly, in order, across the write buffer's flushes, and are found by entry
/// (a later placement of an entry wins; an entry never placed is not found).
@Suite struct PlacementLogTests {
    static func placement(_ i: Int) -> ItemPlacement {
        ItemPlacement(
            entry: "u/1/m/\(i).eml", guid: i % 3 == 0 ? nil : "g\(i)", folder: i % 2 == 0 ? "INBOX" : "Archive/2026 ✓",
            uidValidity: i % 5 == 0 ? nil : 1234, uid: i % 7 == 0 ? nil : UInt32(i), file: i % 4 == 0 ? nil : "\(i).M\(i).host",
            targetGUID: i % 6 == 0 ? "" : "t\(i)")
    }

    @Test func placementsComeBackExactlyAndInOrder() throws {
        let log = PlacementLog()
        #expect(try log.all().isEmpty)
        // Enough to flush the 64 KiB write buffer many times, so records are cut across reads too.
        let placements = (0..<20_000).map(Self.placement)
        for p in placements { try log.append(p) }
        #expect(log.count == placements.count)
        #expect(try log.all() == placements)
        let copy = PlacementLog()
        try copy.append(contentsOf: log)
        try copy.append(Self.placement(5))
        #expect(try copy.all() == placements + [Self.placement(5)])
    }

    @Test func anIndexFindsEachEntryAndTheLatestWins() throws {
        let log = try PlacementLog((0..<3_000).map(Self.placement))
        var moved = Self.placement(17)
        moved.folder = "Elsewhere"
        try log.append(moved)
        let index = try log.index()
        for i in stride(from: 0, to: 3_000, by: 97) where i != 17 {
            #expect(try index.placement(of: "u/1/m/\(i).eml") == Self.placement(i))
        }
        #expect(try index.placement(of: "u/1/m/17.eml")?.folder == "Elsewhere")
        #expect(try index.placement(of: "u/1/m/3000.eml") == nil)
    }
}
