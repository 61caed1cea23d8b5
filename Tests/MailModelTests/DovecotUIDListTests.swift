import MailModel
import Testing

struct DovecotUIDListTests {
    @Test func readsVersion3WithFieldsAndSkipsBrokenLines() throws {
        let text = """
            3 V1796576511 N9 G78fb0509ff94156bf30b000083ecc375
            1 :1796576511.M151387P3059.vm,S=253,W=264
            4 W300 G0123456789abcdef0123456789abcdef :1796576512.M2.vm,S=290:2,S
            3 :out.of.order
            x :not.a.uid
            5 no-colon
            4 :uid.again

            """
        let parsed = DovecotUIDList.parse(Array(text.utf8))
        let list = try #require(parsed.list)
        #expect(list.header == .init(version: 3, uidValidity: 1_796_576_511, nextUID: 9, guid: "78fb0509ff94156bf30b000083ecc375"))
        #expect(list.records.count == 2)
        #expect(list.records["1796576511.M151387P3059.vm,S=253,W=264"]?.guid == "1796576511.M151387P3059.vm,S=253,W=264")
        #expect(list.records["1796576512.M2.vm,S=290"] == .init(uid: 4, baseName: "1796576512.M2.vm,S=290", storedGUID: "0123456789abcdef0123456789abcdef"))
        #expect(list.nextUID == 9)
        #expect(parsed.problems == [
            "line 4: UID 3 is not above the UID before it; skipped",
            "line 5: not a message line",
            "line 6: not a message line",
            "line 7: UID 4 is not above the UID before it; skipped",
        ])
    }

    @Test func readsVersion1AndRefusesOtherHeaders() throws {
        let list = try #require(DovecotUIDList.parse(Array("1 77 3\n2 1.M1.host:2,S\n".utf8)).list)
        #expect(list.header.uidValidity == 77)
        #expect(list.records["1.M1.host"]?.uid == 2)
        #expect(list.nextUID == 3)
        #expect(DovecotUIDList.parse(Array("2 V1 N1\n".utf8)).list == nil)
        #expect(DovecotUIDList.parse(Array("3 N5\n".utf8)).list == nil)  // no UIDVALIDITY
        #expect(DovecotUIDList.parse([]).list == nil)
    }

    @Test func nextUIDIsPastTheListEvenWhenTheHeaderLags() throws {
        // Dovecot leaves N1 in the header until it rewrites the file.
        let list = try #require(DovecotUIDList.parse(Array("3 V1 N1 G00\n1 :a\n2 :b\n".utf8)).list)
        #expect(list.nextUID == 3)
    }

    @Test func aListThatGaveTheLargestUIDHasNoNextOne() throws {
        let list = try #require(DovecotUIDList.parse(Array("3 V1 N9\n4294967295 :a\n".utf8)).list)
        #expect(list.nextUID == nil)
    }

    @Test func writesLinesDovecotReads() {
        #expect(DovecotUIDList.headerLine(.init(uidValidity: 5, nextUID: 10, guid: "ab")) == "3 V5 N10 Gab")
        #expect(DovecotUIDList.recordLine(uid: 3, baseName: "1.M1.host", guid: "1.M1.host") == "3 :1.M1.host")
        #expect(DovecotUIDList.recordLine(uid: 3, baseName: "1.M1.host", guid: "feed") == "3 Gfeed :1.M1.host")
        #expect(DovecotUIDList.recordLine(uid: 3, baseName: "1.M1.host", guid: "has space") == "3 :1.M1.host")
        #expect(DovecotUIDList.recordLine(uid: 3, baseName: "1.M1.host", guid: "a:b") == "3 :1.M1.host")
        #expect(DovecotUIDList.isFolderGUID("00112233445566778899aabbccddeeff"))
        #expect(!DovecotUIDList.isFolderGUID("00112233445566778899AABBCCDDEEFF0"))
    }
}

/// The list's records kept compactly: each found by its name with its UID and G field, a record added again
/// replacing the first, and two lists equal when they hold the same records.
@Suite struct UIDListRecordsTests {
    @Test func recordsAreFoundByNameAndReplaced() throws {
        var list = DovecotUIDList(header: .init(uidValidity: 1, nextUID: 1, guid: nil))
        for uid in UInt32(1)...5_000 {
            list.add(.init(uid: uid, baseName: "\(1_700_000_000 + uid).M\(uid).host", storedGUID: uid % 3 == 0 ? "g\(uid)" : nil))
        }
        #expect(list.records.count == 5_000)
        #expect(list.records["1700000003.M3.host"] == .init(uid: 3, baseName: "1700000003.M3.host", storedGUID: "g3"))
        #expect(list.records["1700004999.M4999.host"]?.guid == "1700004999.M4999.host")
        #expect(list.records["1700005001.M5001.host"] == nil)
        #expect(list.records.values.map(\.uid) == Array(UInt32(1)...5_000))

        var again = UIDListRecords()
        for record in list.records.values.reversed() { again.insert(record) }
        #expect(again == list.records)
        again.insert(.init(uid: 9_999, baseName: "1700000003.M3.host", storedGUID: nil))
        #expect(again.count == 5_000)
        #expect(again["1700000003.M3.host"] == .init(uid: 9_999, baseName: "1700000003.M3.host", storedGUID: nil))
        #expect(again != list.records)
    }
}
