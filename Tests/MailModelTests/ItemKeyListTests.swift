import MailModel
import Testing

/// The compact list gives back every key exactly as appended: archive ids shared or not, entry paths of any length
/// (one longer than the arena keeps in its chunks), and hashes in every form (lowercase hex kept as bytes; uppercase,
/// short or empty kept as written).
struct ItemKeyListTests {
    @Test func givesBackEveryKeyAsAppended() {
        let hex = String(repeating: "0a", count: 32)
        var keys: [ItemKey] = []
        for i in 0..<3_000 {
            let archive = i % 3 == 0 ? String(repeating: "ab", count: 16) : String(repeating: "c\(i % 7)", count: 16)
            let path = i == 17 ? String(repeating: "long/", count: 30_000) : "u/1/m/\(i % 4)/\(i).eml"
            let hash = [hex, hex.uppercased(), "", "xyz", String(hex.dropLast())][i % 5]
            keys.append(ItemKey(archiveID: archive, entryPath: path, sha256: hash, size: Int64(i) * 1_000_003))
        }
        let list = ItemKeyList(keys)
        #expect(list.count == keys.count)
        #expect(Array(list) == keys)
        var grown = ItemKeyList()
        for key in keys.prefix(10) { grown.append(key) }
        #expect(Array(grown) == Array(keys.prefix(10)))
        #expect(ItemKeyList().isEmpty)
    }
}
