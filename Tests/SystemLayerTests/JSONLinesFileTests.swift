import Foundation
import SystemLayer
import Testing

struct JSONLinesFileTests {
    struct Record: Codable, Equatable {
        var n: Int
        var text: String
    }

    let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "jsonl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func contents(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    func appendRaw(_ text: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test func createsAppendsAndReplaysAfterReopening() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.jsonl"
        do {
            let (file, records) = try JSONLinesFile.open(path, replaying: Record.self)
            #expect(records.isEmpty)
            try file.append(Record(n: 1, text: "one"), encoder: encoder)
            try file.append(contentsOf: [Record(n: 2, text: "two/2"), Record(n: 3, text: "three")], encoder: encoder)
            #expect(file.unsyncedLines == 0)
            try file.append(Record(n: 4, text: "four"), encoder: encoder, durably: false)
            #expect(file.unsyncedLines == 1)
        }
        #expect(contents(path) == """
            {"n":1,"text":"one"}
            {"n":2,"text":"two\\/2"}
            {"n":3,"text":"three"}
            {"n":4,"text":"four"}

            """)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let (again, records) = try JSONLinesFile.open(path, replaying: Record.self)
        #expect(records.map(\.n) == [1, 2, 3, 4])
        try again.append(Record(n: 5, text: "five"), encoder: encoder)
        #expect(try JSONLinesFile.read(path, as: Record.self)?.map(\.n) == [1, 2, 3, 4, 5])
        #expect(try JSONLinesFile.read(dir + "/missing.jsonl", as: Record.self) == nil)
    }

    /// A crash in the middle of an append leaves half a line: the reader skips it, a writer cuts it off, and the
    /// next line starts clean.
    @Test func aTornLastLineIsCutOff() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/torn.jsonl"
        do {
            let (file, _) = try JSONLinesFile.open(path, replaying: Record.self)
            try file.append(Record(n: 1, text: "one"), encoder: encoder)
        }
        try appendRaw("{\"n\":2,\"te", to: path)
        #expect(try JSONLinesFile.read(path, as: Record.self)?.map(\.n) == [1])
        #expect(contents(path).hasSuffix("{\"n\":2,\"te"), "a reader does not change the file")
        let (file, records) = try JSONLinesFile.open(path, replaying: Record.self)
        #expect(records.map(\.n) == [1])
        #expect(contents(path) == "{\"n\":1,\"text\":\"one\"}\n")
        try file.append(Record(n: 3, text: "three"), encoder: encoder)
        #expect(try JSONLinesFile.read(path, as: Record.self)?.map(\.n) == [1, 3])

        // A last line that ends but is garbage (a crash's unwritten tail) goes the same way.
        try appendRaw("\0\0\0\n", to: path)
        let (_, cut) = try JSONLinesFile.open(path, replaying: Record.self)
        #expect(cut.map(\.n) == [1, 3])
        #expect(contents(path) == "{\"n\":1,\"text\":\"one\"}\n{\"n\":3,\"text\":\"three\"}\n")
    }

    @Test func aDamagedLineInTheMiddleIsRefusedWithItsNumber() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/damaged.jsonl"
        try Data("{\"n\":1,\"text\":\"one\"}\n\n{\"n\":\"x\"}\n{\"n\":3,\"text\":\"three\"}\n".utf8).write(to: URL(fileURLWithPath: path))
        let before = contents(path)
        for open in [
            { _ = try JSONLinesFile.open(path, replaying: Record.self) },
            { _ = try JSONLinesFile.read(path, as: Record.self) },
        ] as [() throws -> Void] {
            do {
                try open()
                Issue.record("a damaged line was accepted")
            } catch let damaged as JSONLinesFile.DamagedLine {
                #expect(damaged.path == path)
                #expect(damaged.line == 3)
                #expect(damaged.description.hasPrefix("\(path) line 3: "))
            }
        }
        #expect(contents(path) == before, "a refused file is left as it was")
        // Stores whose older writers glued torn bytes to the next line pass such lines over.
        let (_, records) = try JSONLinesFile.open(path, replaying: Record.self, skippingDamagedLines: true)
        #expect(records.map(\.n) == [1, 3])
    }

    @Test func holdsTheLockItIsGivenUntilReleased() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lock = try #require(try FileLock.acquire(dir + "/lock", wait: false))
        do {
            let (file, _) = try JSONLinesFile.open(dir + "/locked.jsonl", holding: lock, replaying: Record.self)
            let second = try FileLock.acquire(dir + "/lock", wait: false)
            #expect(second == nil)
            withExtendedLifetime(file) {}
        }
        #expect(try FileLock.acquire(dir + "/lock", wait: false) != nil)
    }

    /// A holder that lets go within the grace (a child between its fork and its exec) does not make the lock
    /// look taken; `flock(1)` plays the holder.
    @Test func aLockHeldForAMomentIsTakenWithinTheGrace() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lock"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [path, "sleep", "0.5"]
        try holder.run()
        defer { holder.waitUntilExit() }
        // Until flock(1) has it: a lock taken here is dropped at once (deinit), and flock(1) gets it next.
        while try FileLock.acquire(path, wait: false, grace: .zero) != nil { usleep(5_000) }
        #expect(try FileLock.acquire(path, wait: false, grace: .seconds(60)) != nil)
    }
}
