import TestSupport
import Foundation
import MailModel
import SystemLayer
import Testing
@testable import FerryArchive

/// The import's reader: chunks in recycled buffers, and items of `consumerHashedSize` or more hashed on the
/// consumer's side. Both sides must give exactly the archived bytes and refuse an altered one by name.
@Suite struct PrefetchingItemStreamTests {
    /// Every item through the prefetching stream: its bytes hashed here, and `check()` passing.
    func readAll(_ path: String, key: SigningKey) throws -> [String: String] {
        let (archive, reader) = try VerifiedArchive.open(path, trusting: key.publicKey)
        let items = archive.items(try reader.loadManifest())
        var hashes: [String: String] = [:]
        while let (record, body) = try items.next() {
            let hasher = SHA256()
            try body.stream { hasher.update($0) }
            try body.check()
            hashes[record.path] = hasher.finalizeHex()
        }
        return hashes
    }

    @Test func smallAndLargeItemsArriveExactly() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir, bigMessage: Int(PrefetchingItemStream.consumerHashedSize) + 300_001)
        let big = parts.members.max(by: { $0.data.count < $1.data.count })!
        #expect(Int64(big.data.count) >= PrefetchingItemStream.consumerHashedSize)
        let path = dir.file("ok.mfa")
        try parts.write(to: path)
        let hashes = try readAll(path, key: key)
        for member in parts.members where hashes[member.name] != nil {
            #expect(hashes[member.name] == SHA256.hex(member.data), "\(member.name)")
        }
        #expect(hashes[big.name] != nil)
    }

    @Test func anAlteredLargeItemIsRefusedByNameBeforeItCounts() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir, bigMessage: Int(PrefetchingItemStream.consumerHashedSize) + 300_001)
        let i = parts.members.indices.max(by: { parts.members[$0].data.count < parts.members[$1].data.count })!
        var tampered = parts
        tampered.members[i].data = parts.members[i].data.flipping(parts.members[i].data.count - 10)
        let path = dir.file("altered.mfa")
        try tampered.write(to: path)  // the statement still matches; only the item's bytes differ from the manifest
        let error = #expect(throws: ArchiveError.self) { try readAll(path, key: key) }
        #expect(error?.message.contains("SHA-256") == true, "\(String(describing: error))")
        #expect(error?.location.contains(parts.members[i].name) == true, "\(String(describing: error))")
    }

    @Test func aConsumerThatStopsEarlyDoesNotHangTheReader() throws {
        let dir = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let parts = try ArchiveParts.sample(key: key, in: dir, bigMessage: Int(PrefetchingItemStream.consumerHashedSize) * 3)
        let path = dir.file("stop.mfa")
        try parts.write(to: path)
        for _ in 0..<3 {
            let (archive, reader) = try VerifiedArchive.open(path, trusting: key.publicKey)
            var items: PrefetchingItemStream? = archive.items(try reader.loadManifest())
            // Read the first item only, then drop the stream while the reader may be blocked on a full pool.
            if let (_, body) = try items!.next() { try body.stream { _ in } }
            items = nil
            #expect(items == nil)
        }
    }
}
