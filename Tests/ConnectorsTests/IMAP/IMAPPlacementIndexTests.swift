import Testing

@testable import Connectors

/// The compact index gives back every journal location exactly as written: folders, UIDs, and the held size and
/// hash in every form (lowercase hex kept as bytes, anything else kept as text, none).
struct IMAPPlacementIndexTests {
    @Test func givesBackEveryLocationAsWritten() {
        let lower = String(repeating: "0123456789abcdef", count: 4)
        var locations: [String: IMAPImportJournal.Location] = [:]
        for i in 0..<300 {
            var l = IMAPImportJournal.Location(
                folder: ["INBOX", "Archive/2019", "Ünïcode & more"][i % 3], uidValidity: i % 5 == 0 ? nil : 77,
                uid: i % 7 == 0 ? nil : UInt32(i + 1))
            switch i % 4 {
            case 0: break
            case 1: (l.size, l.sha256) = (Int64(i * 10), lower)
            case 2: (l.size, l.sha256) = (Int64(i), String(lower.reversed()))
            default: (l.size, l.sha256) = (Int64(i), lower.uppercased())
            }
            locations["u/1/m/\(i % 3 + 1)/\(i).eml"] = l
        }
        var index = IMAPPlacementIndex()
        for (entry, location) in locations { index[entry] = location }
        // A later line for the same entry wins.
        var moved = locations["u/1/m/1/0.eml"]!
        moved.folder = "Elsewhere"
        index["u/1/m/1/0.eml"] = moved
        locations["u/1/m/1/0.eml"] = moved
        #expect(index.count == locations.count)
        for (entry, location) in locations { #expect(index[entry] == location, "\(entry)") }
        #expect(index["u/1/m/9/1.eml"] == nil)
    }

    /// Paths that share a hash are told apart by the path itself; replacing or removing one (first, middle or last
    /// of its chain) leaves the others as they were.
    @Test func pathsSharingAHashStayApart() {
        var index = IMAPPlacementIndex(hash: { _ in 7 })
        let entries = (0..<6).map { "u/1/m/1/\($0).eml" }
        for (n, e) in entries.enumerated() { index[e] = .init(folder: "F\(n)", uidValidity: 1, uid: UInt32(n + 1)) }
        #expect(index.count == 6)
        index[entries[2]] = .init(folder: "Moved", uidValidity: 2, uid: 99)
        index[entries[5]] = nil  // the chain's first (added last)
        index[entries[3]] = nil  // a middle one
        index[entries[0]] = nil  // the last
        index[entries[0]] = nil  // gone already
        #expect(index.count == 3)
        #expect(index[entries[1]] == .init(folder: "F1", uidValidity: 1, uid: 2))
        #expect(index[entries[2]] == .init(folder: "Moved", uidValidity: 2, uid: 99))
        #expect(index[entries[4]] == .init(folder: "F4", uidValidity: 1, uid: 5))
        for gone in [0, 3, 5] { #expect(index[entries[gone]] == nil) }
        #expect(index.keys.sorted() == [entries[1], entries[2], entries[4]])
        index[entries[3]] = .init(folder: "Back", uidValidity: 1, uid: 4)
        #expect(index[entries[3]]?.folder == "Back" && index.count == 4)
    }
}
