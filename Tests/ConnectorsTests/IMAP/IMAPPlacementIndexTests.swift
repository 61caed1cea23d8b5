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
}
