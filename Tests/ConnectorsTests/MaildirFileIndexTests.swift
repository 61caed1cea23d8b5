import Testing

@testable import Connectors

/// The Maildir target's index of its files gives back each path exactly: names in its own form from their parts,
/// others as they are, and changes made after the scan over both.
@Suite struct MaildirFileIndexTests {
    static func digest(_ i: Int) -> String {
        let hex = String(i, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }

    @Test func everyScannedFileIsFoundAtItsPath() {
        var index = MaildirFileIndex()
        var expected: [String: String] = [:]
        for i in (0..<2_000).reversed() {
            let d = Self.digest(i)
            let directory = i % 3 == 0 ? "/m/.Archive/cur" : i % 3 == 1 ? "/m/cur" : "/m/new"
            let name: String
            switch i % 5 {
            case 0: name = "\(1_700_000_000 + i).MF\(d).mailferry,S=\(i * 7)"  // new/: no info part
            case 1: name = "\(1_700_000_000 + i).MF\(d).mailferry,S=\(i * 7):2,FRSabc"
            case 2: name = "\(1_700_000_000 + i).MF\(d).mailferry,S=\(i * 7):2,"
            case 3: name = "\(1_700_000_000 + i).MF\(d).mailferry,S=\(i * 7),W=\(i * 8):2,S"  // another program's field
            default: name = "0\(i).MF\(d).mailferry,S=\(i):2,abcdefghijklmnopqrstuvwxyz"  // leading zero, long letters
            }
            index.scanned(digest: d, directory: directory, name: name)
            expected[d] = "\(directory)/\(name)"
        }
        index.scanned(digest: "not-hex-not-hex-not-hex-not-hex!", directory: "/m/cur", name: "odd")
        expected["not-hex-not-hex-not-hex-not-hex!"] = "/m/cur/odd"
        index.finishScan()
        for (d, path) in expected { #expect(index[d] == path) }
        #expect(index[Self.digest(5_000)] == nil)
    }

    @Test func changesAfterTheScanWin() {
        var index = MaildirFileIndex()
        let d = Self.digest(42)
        index.scanned(digest: d, directory: "/m/cur", name: "1.MF\(d).mailferry,S=3:2,S")
        index.finishScan()
        index[d] = "/m/.Trash/cur/1.MF\(d).mailferry,S=3:2,ST"
        #expect(index[d] == "/m/.Trash/cur/1.MF\(d).mailferry,S=3:2,ST")
        index[d] = nil
        #expect(index[d] == nil)
        index[Self.digest(7)] = "/m/cur/x"
        #expect(index[Self.digest(7)] == "/m/cur/x")
    }
}
